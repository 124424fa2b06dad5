"""The scheduled refresh on a real Celery worker (Redis broker, PostgreSQL),
calling the fake bureau on 127.0.0.1 from the worker's processes.

The same chunk sent twice at once (two worker processes) still stores one
report and one attempt per customer: the period's unique constraint decides
and the loser returns the winner's attempt. Runs in CI; skipped without a
broker or PostgreSQL.
"""

import time
from datetime import date

import pytest

from backoffice.celery import app
from cases.bureau_inquiry.models import BureauInquiryAttempt, BureauReport, Outcome
from cases.bureau_inquiry.tasks import refresh_bureau_chunk, refresh_due_bureau_reports
from customers.models import ContactPoint
from tests.bureau_inquiry.conftest import aged_debt
from tests.bureau_inquiry.fake_bureau import FakeBureau
from tests.celery_worker import start_worker, stop_worker, worker_skip_reason

_skip_reason = worker_skip_reason()
WORKER_TIMEOUT = 120
DAY = date(2026, 11, 20)


@pytest.fixture
def bureau_on_worker(transactional_db, monkeypatch):
    server = FakeBureau().start()
    env = {
        "BUREAU_NAME": "worker-bureau",
        "BUREAU_BASE_URL": server.url,
        "BUREAU_API_KEY": "k",
        "BUREAU_READ_TIMEOUT": "5",
        "BUREAU_MAX_RETRIES": "0",
        "BUREAU_RATE_LIMIT_PER_MINUTE": "600",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    worker = start_worker(concurrency=2)
    try:
        yield server, worker
    finally:
        stop_worker(worker)
        app.conf.task_always_eager = eager
        server.stop()


def wait_for(count: int, worker) -> list[BureauInquiryAttempt]:
    deadline = time.monotonic() + WORKER_TIMEOUT
    while time.monotonic() < deadline:
        attempts = list(BureauInquiryAttempt.objects.order_by("id"))
        if len(attempts) >= count:
            return attempts
        time.sleep(0.5)
    raise AssertionError(f"{BureauInquiryAttempt.objects.count()} attempts\n{worker.log()[-4000:]}")


@pytest.mark.skipif(_skip_reason is not None, reason=f"real Celery worker: {_skip_reason}")
@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
@pytest.mark.celery_worker
def test_the_worker_refreshes_the_due_customers_once(bureau_on_worker):
    server, worker = bureau_on_worker
    debts = [aged_debt(dpd=45 + n, bucket="M2") for n in range(3)]
    aged_debt(dpd=5, bucket="M1")  # not due

    summary = refresh_due_bureau_reports.delay(DAY.isoformat()).get(timeout=WORKER_TIMEOUT)
    assert summary == {"business_date": DAY.isoformat(), "due": 3, "chunks": 1}
    attempts = wait_for(3, worker)
    assert {a.outcome for a in attempts} == {Outcome.OK}
    assert {a.customer_id for a in attempts} == {d.customer_id for d in debts}
    assert BureauReport.objects.filter(period=DAY.isoformat(), bureau="worker-bureau").count() == 3
    assert ContactPoint.objects.filter(source="bureau").count() == 9
    hits = server.hits()
    assert hits == 6

    # Again, and the same chunk twice at once: nothing new is stored.
    pairs = [[d.customer_id, d.pk] for d in debts]
    assert refresh_due_bureau_reports.delay(DAY.isoformat()).get(timeout=WORKER_TIMEOUT)["due"] == 0
    results = [refresh_bureau_chunk.delay(pairs, DAY.isoformat()) for _ in range(2)]
    assert [r.get(timeout=WORKER_TIMEOUT) for r in results] == [{"ok": 3}, {"ok": 3}]
    assert BureauReport.objects.count() == 3
    assert BureauInquiryAttempt.objects.count() == 3
    assert ContactPoint.objects.filter(source="bureau").count() == 9
    assert server.hits() == hits

    # A new period, the same chunk on both worker processes at once: whoever
    # stores first wins, the other returns its attempt (one of each per customer).
    period = "2026-11-21"
    racing = [refresh_bureau_chunk.delay(pairs, period) for _ in range(2)]
    assert [r.get(timeout=WORKER_TIMEOUT) for r in racing] == [{"ok": 3}, {"ok": 3}]
    assert BureauReport.objects.filter(period=period).count() == 3
    assert BureauInquiryAttempt.objects.filter(period=period).count() == 3
    assert ContactPoint.objects.filter(source="bureau").count() == 9
    assert "bureau_inquiry.refresh_bureau_chunk" in worker.log()
