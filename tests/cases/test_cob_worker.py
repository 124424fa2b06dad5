"""Close of business through Celery (DESIGN.md: Scale, Tasks).

The ``celery_worker`` tests start a real worker subprocess on the same broker
and test database: it closes a small portfolio in several chunks, and the
outcome must be exactly what an in-process run gives for an identical
portfolio, and a second run must change nothing. They run in CI (.ci/run
sets CELERY_BROKER_URL and a PostgreSQL DATABASE_URL) and are skipped
elsewhere. The other tests run the same tasks eagerly, on any database.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import OperationalError
from django.db.models import Sum
from django_celery_beat.models import PeriodicTask

import cases.tasks.business_day
from backoffice.celery import app
from cases.models import BALANCE_FIELD, Debt, LedgerEntry
from cases.services import post_payment, run_close_of_business
from cases.tasks import close_of_business, close_of_business_chunk, run_close_of_business_via_workers
from tests.celery_worker import start_worker, stop_worker, worker_skip_reason
from tests.factories import make_debt

_skip_reason = worker_skip_reason()


def needs_worker(test):
    """Mark a test that runs through a real worker (and skip it where none can run)."""
    for mark in (
        pytest.mark.skipif(_skip_reason is not None, reason=f"real Celery worker: {_skip_reason}"),
        pytest.mark.django_db(transaction=True),
        pytest.mark.postgres,
        pytest.mark.celery_worker,
    ):
        test = mark(test)
    return test


CHUNK_SIZE = 2
WORKER_TIMEOUT = 120
DAYS = (date(2026, 2, 9), date(2026, 3, 15), date(2026, 8, 15))
PAYMENT_RECEIVED_ON = date(2026, 2, 10)


@pytest.fixture
def worker(transactional_db):
    """A running worker on the test database; tasks go to it, not eagerly."""
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    running = start_worker(concurrency=2)
    try:
        yield running
    finally:
        stop_worker(running)
        app.conf.task_always_eager = eager


def place_portfolio() -> list[Debt]:
    """Six accounts that exercise ageing, penalty, fees, the cost cap, a
    payment, a late opening and a charge-off."""
    return [
        make_debt(),
        make_debt(opened_on=date(2026, 2, 15)),
        make_debt(jurisdiction="US"),
        make_debt(late_fee_fixed=Decimal("30.00"), grace_days=5),
        make_debt(cost_cap_annual_rate=Decimal("0.0500")),
        make_debt(
            instalments=[
                {"due_on": date(2026, 1, 20), "principal": Decimal("500.00"), "interest": Decimal("0")}
            ]
        ),
    ]


def outcome(debts: list[Debt]) -> list[dict]:
    """What close of business decided for each debt, free of ids and references."""
    rows = []
    for debt in debts:
        debt.refresh_from_db()
        entries = sorted(
            (
                e.effective_on,
                e.component,
                e.kind,
                e.amount,
                e.instalment.number if e.instalment_id else None,
                e.source.split(":")[0],
            )
            for e in debt.ledger_entries.select_related("instalment")
        )
        rows.append(
            {
                "status": debt.status,
                "days_past_due": debt.days_past_due,
                "bucket": debt.bucket,
                "date_of_first_delinquency": debt.date_of_first_delinquency,
                "delinquent_30_on": debt.delinquent_30_on,
                "charged_off_on": debt.charged_off_on,
                "closed_through": debt.closed_through,
                "balances": {c: debt.balance(c) for c in BALANCE_FIELD},
                "entries": entries,
            }
        )
    return rows


def assert_balances_match_ledger(debts: list[Debt]) -> None:
    for debt in debts:
        debt.refresh_from_db()
        sums = dict(
            LedgerEntry.objects.filter(debt=debt)
            .values("component")
            .annotate(s=Sum("amount"))
            .values_list("component", "s")
        )
        for component in BALANCE_FIELD:
            assert debt.balance(component) == sums.get(component, Decimal("0.00")), (debt.pk, component)
        for inst in debt.instalments.all():
            for component in ("principal", "interest"):
                total = inst.ledger_entries.filter(component=component).aggregate(s=Sum("amount"))["s"]
                assert getattr(inst, f"{component}_balance") == (total or Decimal("0.00")), (
                    inst.pk,
                    component,
                )


def close_via_workers(day: date) -> dict:
    return run_close_of_business_via_workers(day, chunk_size=CHUNK_SIZE, timeout=WORKER_TIMEOUT)


@needs_worker
def test_worker_closes_the_portfolio_like_an_in_process_run_and_a_rerun_changes_nothing(worker):
    through_workers = place_portfolio()
    reports = []
    for day in DAYS:
        if day == DAYS[1]:
            post_payment(
                debt=through_workers[3], amount="700.00", received_on=PAYMENT_RECEIVED_ON, reference="W-1"
            )
        reports.append(close_via_workers(day))
    assert reports[0]["chunks"] == 3  # five debts open by 2026-02-09, two per chunk
    assert reports[-1]["debts"] == 6
    first_outcome = outcome(through_workers)
    entries_before = LedgerEntry.objects.count()

    rerun = close_via_workers(DAYS[-1])

    assert rerun["debts"] == 0 and rerun["entries"] == 0 and rerun["chunks"] == 0
    assert LedgerEntry.objects.count() == entries_before
    assert outcome(through_workers) == first_outcome

    in_process = place_portfolio()
    for day in DAYS:
        if day == DAYS[1]:
            post_payment(
                debt=in_process[3], amount="700.00", received_on=PAYMENT_RECEIVED_ON, reference="P-1"
            )
        run_close_of_business(business_date=day, chunk_size=CHUNK_SIZE)
    assert outcome(through_workers) == outcome(in_process)
    assert_balances_match_ledger(through_workers)
    assert "cases.tasks.close_of_business_chunk" in worker.log()  # the worker did the work
    default = first_outcome[0]
    assert default["status"] == Debt.Status.CHARGED_OFF
    assert default["charged_off_on"] == date(2026, 7, 30)  # 180 days after the first due date


@needs_worker
def test_worker_ages_a_default_debt_to_hand_computed_numbers(worker):
    debt = make_debt()  # CN preset; 3 × (1000.00 + 50.00) due 01-31, 03-02, 03-31

    summary = close_via_workers(date(2026, 3, 15))

    debt.refresh_from_db()
    assert summary["debts"] == 1
    assert debt.days_past_due == 43
    assert debt.bucket == "M2"
    assert debt.date_of_first_delinquency == date(2026, 2, 1)
    assert debt.delinquent_30_on == date(2026, 3, 2)
    # 0.50 a day from 02-04 (past 3 grace days) to 03-02, 1.00 a day from 03-03 to 03-15.
    assert debt.penalty_balance == Decimal("26.50")
    assert debt.interest_balance == Decimal("100.00")
    assert debt.fees_balance == Decimal("0.00")
    assert summary["penalty"] == "26.50" and summary["interest"] == "100.00"
    assert_balances_match_ledger([debt])


@needs_worker
def test_beat_entry_task_fans_out_through_a_chord_and_records_the_summary(worker):
    debts = [make_debt() for _ in range(3)]

    dispatched = close_of_business.delay("2026-03-15", CHUNK_SIZE).get(timeout=WORKER_TIMEOUT)
    summary = app.AsyncResult(dispatched["summary_task_id"]).get(timeout=WORKER_TIMEOUT)

    assert dispatched["chunks"] == 2
    assert summary["debts"] == 3 and summary["chunks"] == 2
    assert summary["penalty"] == str(Decimal("26.50") * 3)
    for debt in debts:
        debt.refresh_from_db()
        assert debt.closed_through == date(2026, 3, 15)
    again = close_of_business.delay("2026-03-15", CHUNK_SIZE).get(timeout=WORKER_TIMEOUT)
    assert again["chunks"] == 0 and again["summary_task_id"] is None


@pytest.fixture
def eager_celery():
    """Tasks run in this process even where a broker is configured (CI)."""
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = eager


@pytest.mark.django_db
@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 3, 15, 16, 30, tzinfo=UTC),  # 00:30 on the 16th in Asia/Shanghai
        datetime(2026, 3, 16, 15, 59, tzinfo=UTC),  # 23:59 on the 16th in Asia/Shanghai
    ],
)
def test_beat_task_closes_yesterday_in_the_project_time_zone(eager_celery, settings, now):
    settings.TIME_ZONE = "Asia/Shanghai"
    debt = make_debt()

    with time_machine.travel(now, tick=False):
        dispatched = close_of_business.delay().get()

    debt.refresh_from_db()
    assert dispatched["business_date"] == "2026-03-15"
    assert debt.closed_through == date(2026, 3, 15)
    assert dispatched["summary"]["penalty"] == "26.50"


@pytest.mark.django_db
def test_eager_fan_out_gives_the_same_summary_as_an_in_process_run(eager_celery):
    for _ in range(5):
        make_debt()

    summary = run_close_of_business_via_workers(date(2026, 3, 15), chunk_size=CHUNK_SIZE)

    assert summary["chunks"] == 3
    assert summary["debts"] == 5
    assert summary["penalty"] == "132.50" and summary["interest"] == "500.00"
    assert run_close_of_business(business_date=date(2026, 3, 15)).debts == 0


@pytest.mark.django_db
def test_chunk_that_hits_a_database_error_is_retried_and_closes_its_debts(monkeypatch):
    debt = make_debt()
    real_close_chunk = cases.tasks.business_day.close_chunk
    calls = []

    def deadlock_once(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise OperationalError("deadlock detected")
        return real_close_chunk(**kwargs)

    monkeypatch.setattr(cases.tasks.business_day, "close_chunk", deadlock_once)

    # ``apply`` runs the task here the way a worker would, retries included.
    result = close_of_business_chunk.apply(args=(debt.pk, debt.pk, "2026-03-15"), throw=False)

    debt.refresh_from_db()
    assert len(calls) == 2
    assert result.get()["debts"] == 1
    assert debt.closed_through == date(2026, 3, 15)


@pytest.mark.django_db
def test_nightly_beat_entry_runs_close_of_business_at_half_past_midnight():
    task = PeriodicTask.objects.select_related("crontab").get(name="Nightly close of business")

    assert task.task == close_of_business.name == "cases.tasks.close_of_business"
    assert task.enabled and task.args == "[]" and task.kwargs == "{}"
    assert (task.crontab.minute, task.crontab.hour) == ("30", "0")
    assert str(task.crontab.timezone) == "Asia/Shanghai"
