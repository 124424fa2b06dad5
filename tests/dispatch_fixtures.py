"""Uploads are handed to a worker after commit (``backoffice.dispatch``).

A test's transaction never commits, so ``on_commit`` callbacks would never
run and an upload would stay ``queued``. ``worker_runs_when_enqueued``
(autouse in the placement and statement tests) runs the task as soon as it
is enqueued, which is what eager Celery does after a real commit in the
admin and the API (they enqueue outside any transaction). A test that
wants to see the file queued asks for ``workers_idle``.
"""

from types import SimpleNamespace

import pytest

from backoffice import dispatch


@pytest.fixture
def workers_idle():
    """Leave enqueued tasks to ``transaction.on_commit`` (they never run in a test)."""


@pytest.fixture(autouse=True)
def worker_runs_when_enqueued(request, monkeypatch):
    if "workers_idle" in request.fixturenames:
        return
    monkeypatch.setattr(dispatch, "transaction", SimpleNamespace(on_commit=lambda func, **_kw: func()))
