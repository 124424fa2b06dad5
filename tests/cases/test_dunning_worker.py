"""The ladder through the close of business on a real Celery worker.

A debt is walked through close of business dates (on the worker) to
1 → 3 → 7 → 15 → 30 → 60 days past due; after each date the ladder runs
on the worker, which also sends the messages its queueing starts after
commit. Every message must be sent exactly once (the SMS file has one line
per message), and a second run of every date changes nothing. Runs in CI
(PostgreSQL + a broker); skipped elsewhere.
"""

import sys
import time
from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

import tests.celery_worker as celery_worker
from backoffice.celery import app
from cases.messaging.file import read_outbox
from cases.models import DunningFiring, Message
from cases.services.dunning import install_default_ladder
from cases.tasks import run_close_of_business_via_workers
from cases.tasks.messaging import run_ladder_via_workers
from customers.models import ContactPoint
from tests.celery_worker import start_worker, stop_worker, worker_skip_reason
from tests.factories import ContactPointFactory, CustomerFactory, make_debt

_skip_reason = worker_skip_reason()
WORKER_TIMEOUT = 120

# Makes the worker import the messaging tasks even before ``cases.tasks`` does.
_INCLUDE = (
    "import sys; from celery.__main__ import main; i = sys.argv.index('worker'); "
    "sys.argv[i + 1:i + 1] = ['--include=cases.tasks.messaging']; sys.argv[0] = 'celery'; sys.exit(main())"
)


def zone_at_midday() -> str:
    """A fixed-offset zone in which it is now between 11:00 and 13:00, so the
    worker (which sends at the real time) is inside contact hours."""
    now = timezone.now()
    offset = (12 - now.hour) % 24
    offset = offset - 24 if offset > 12 else offset
    # Etc/GMT signs are inverted: Etc/GMT-8 is UTC+8.
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


@pytest.fixture
def worker(transactional_db, monkeypatch, tmp_path):
    outbox = tmp_path / "sms.jsonl"
    monkeypatch.setenv("SMS_BACKEND", "file")
    monkeypatch.setenv("SMS_FILE_PATH", str(outbox))
    monkeypatch.setenv("MEDIA_ROOT", str(tmp_path / "media"))
    monkeypatch.setattr(celery_worker, "_celery_command", lambda: [sys.executable, "-c", _INCLUDE])
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    running = start_worker(concurrency=2)
    running.outbox = outbox
    try:
        yield running
    finally:
        stop_worker(running)
        app.conf.task_always_eager = eager


def wait_until_sent(worker, expected: int, timeout: float = WORKER_TIMEOUT) -> list[Message]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = list(Message.objects.order_by("id"))
        if len(messages) >= expected and all(m.status != Message.Status.QUEUED for m in messages):
            return messages
        time.sleep(0.5)
    state = [(m.pk, m.status, m.scheduled_for, m.last_error) for m in Message.objects.all()]
    raise AssertionError(f"messages not sent in time: {state}\n{worker.log()[-4000:]}")


@pytest.mark.skipif(_skip_reason is not None, reason=f"real Celery worker: {_skip_reason}")
@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
@pytest.mark.celery_worker
def test_worker_runs_close_of_business_and_the_ladder_and_sends_each_message_once(worker):
    # Dates in the past (the worker sends "now"), shaped like the default demo debt.
    first_due = timezone.localdate() - timedelta(days=90)
    opened = first_due - timedelta(days=30)
    customer = CustomerFactory(time_zone=zone_at_midday())
    ContactPointFactory(customer=customer, kind=ContactPoint.Kind.PHONE, value="+8613800138000")
    ContactPointFactory(customer=customer, kind=ContactPoint.Kind.EMAIL, value="debtor@example.com")
    ContactPointFactory(customer=customer, kind=ContactPoint.Kind.ADDRESS, value="1 Road", verified=False)
    # The worker sends every date's messages today, in real time: the
    # policy's daily message cap (RULES §4 messages.daily) would rightly hold
    # the fourth one until tomorrow, so this policy has none.
    debt = make_debt(customer=customer, opened_on=opened, messages_per_day=None)
    install_default_ladder(debt.product.policy)
    days = [first_due - timedelta(days=3)] + [first_due + timedelta(days=n) for n in (1, 3, 7, 15, 30, 60)]

    for day in days:
        run_close_of_business_via_workers(day, chunk_size=2, timeout=WORKER_TIMEOUT)
        run_ladder_via_workers(day, chunk_size=2, timeout=WORKER_TIMEOUT)

    messages = wait_until_sent(worker, 5)
    debt.refresh_from_db()
    assert debt.days_past_due == 60
    assert [(m.dunning_step.offset_days, m.channel, m.status) for m in messages] == [
        (-3, "sms", "sent"),
        (1, "sms", "sent"),
        (3, "email", "sent"),
        (15, "sms", "sent"),
        (30, "letter", "sent"),
    ]
    assert sorted(line["reference"] for line in read_outbox(worker.outbox)) == sorted(
        m.idempotency_key for m in messages if m.channel == "sms"
    )
    firings = DunningFiring.objects.count()

    for day in days:  # a second run of every date
        run_ladder_via_workers(day, chunk_size=2, timeout=WORKER_TIMEOUT)
    time.sleep(2)

    assert DunningFiring.objects.count() == firings
    assert Message.objects.count() == 5
    assert len(read_outbox(worker.outbox)) == 3
    assert "cases.tasks.send_message" in worker.log()
    assert isinstance(days[0], date) and isinstance(timezone.now(), datetime)
