"""Start and stop a real Celery worker for tests marked ``celery_worker``.

The worker is a subprocess of the same virtualenv (``sys.executable``) that
talks to the configured broker and result backend and to the pytest-django
*test* database, so work it commits is visible to the test and the other way
round; the test must therefore use ``django_db(transaction=True)``.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

from backoffice.celery import app

REPO_ROOT = Path(__file__).resolve().parent.parent


def worker_skip_reason() -> str | None:
    """Why a real worker cannot run here, or ``None`` when it can."""
    if not settings.CELERY_BROKER_URL:
        return "needs a real broker: set CELERY_BROKER_URL (and CELERY_RESULT_BACKEND), as .ci/run does"
    if not settings.CELERY_RESULT_BACKEND:
        return "needs CELERY_RESULT_BACKEND to wait for the worker's results"
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return "the worker shares the test database: needs PostgreSQL (DATABASE_URL=postgres://…)"
    return None


def database_url_for_worker() -> str:
    """A ``DATABASE_URL`` for the database this test process uses (the test DB
    pytest-django created, once the ``db`` fixture has run)."""
    conf = connection.settings_dict
    user = quote(conf.get("USER") or "", safe="")
    password = quote(conf.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = conf.get("HOST") or "127.0.0.1"
    port = f":{conf['PORT']}" if conf.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{quote(conf['NAME'], safe='')}"


def _celery_command() -> list[str]:
    celery = Path(sys.executable).parent / "celery"
    return [str(celery)] if celery.exists() else [sys.executable, "-m", "celery"]


@dataclass
class Worker:
    process: subprocess.Popen
    hostname: str
    log_path: Path

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def start_worker(*, concurrency: int = 2, ready_timeout: float = 60.0) -> Worker:
    """Purge the default queue, start a worker on the test database, and wait
    until it answers a ping. Raises ``RuntimeError`` (with the worker's log)
    when it exits or stays silent."""
    app.control.purge()
    hostname = f"ledgerline-test-{uuid.uuid4().hex[:8]}@%h"
    log_dir = Path(tempfile.mkdtemp(prefix="celery-worker-"))
    log_path = log_dir / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backoffice.settings",
        "DATABASE_URL": database_url_for_worker(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        *_celery_command(),
        "-A",
        "backoffice",
        "worker",
        "--loglevel=INFO",
        "--pool=prefork",
        f"--concurrency={concurrency}",
        f"--hostname={hostname}",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    worker = Worker(process=process, hostname=hostname.split("@")[0], log_path=log_path)
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = worker.log()
            stop_worker(worker)
            raise RuntimeError(f"the Celery worker exited with {process.returncode}:\n{log}")
        replies = app.control.ping(timeout=0.5)
        if any(name.startswith(worker.hostname) for reply in replies for name in reply):
            return worker
    log = worker.log()
    stop_worker(worker)
    raise RuntimeError(f"the Celery worker did not answer a ping within {ready_timeout} s:\n{log}")


def stop_worker(worker: Worker, *, grace: float = 20.0) -> None:
    """Warm shutdown (SIGTERM), then kill the worker's process group if it hangs."""
    process = worker.process
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=10)
    # Pool children left behind by a killed parent share its process group.
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    shutil.rmtree(worker.log_path.parent, ignore_errors=True)
