"""Which debts are refreshed, how the run is chunked within the rate limit,
and that a run is idempotent by (customer, period)."""

import importlib
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from cases.bureau_inquiry.client import BureauClient
from cases.bureau_inquiry.models import BureauInquiryAttempt, BureauReport, Outcome, Trigger
from cases.bureau_inquiry.selectors import due_for_refresh, excluded_buckets
from cases.bureau_inquiry.tasks import refresh_bureau_chunk, refresh_due_bureau_reports
from cases.models import CollectionCase, Debt
from tests.bureau_inquiry.conftest import aged_debt
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
DAY = date(2026, 11, 20)


def report(customer, *, on: date, score=600, request_id=None, period=""):
    fetched = timezone.make_aware(datetime(on.year, on.month, on.day, 12, 0))
    return BureauReport.objects.create(
        bureau="test-bureau",
        customer=customer,
        fetched_at=fetched,
        request_id=request_id or f"R-{customer.pk}-{on.isoformat()}-{score}",
        score=score,
        period=period,
    )


def test_buckets_below_the_minimum_are_excluded():
    assert excluded_buckets(2) == ["current", "M1"]
    assert excluded_buckets(1) == ["current"]


def test_m2_and_worse_debts_without_a_recent_report_are_due(bureau_settings):
    m2 = aged_debt(dpd=45, bucket="M2")
    m4 = aged_debt(dpd=100, bucket="M4")
    aged_debt(dpd=10, bucket="M1")
    aged_debt(dpd=0, bucket="current")
    fresh = aged_debt(dpd=70, bucket="M3")
    report(fresh.customer, on=DAY - timedelta(days=29))
    stale = aged_debt(dpd=70, bucket="M3")
    report(stale.customer, on=DAY - timedelta(days=30))
    closed = aged_debt(dpd=70, bucket="M3")
    CollectionCase.objects.filter(pk=closed.case_id).update(stage=CollectionCase.Stage.CLOSED)
    paid = aged_debt(dpd=70, bucket="M3")
    Debt.objects.filter(pk=paid.pk).update(status=Debt.Status.PAID)
    due = due_for_refresh(business_date=DAY, every_days=30, min_bucket=2)
    assert due == sorted([(m2.customer_id, m2.pk), (m4.customer_id, m4.pk), (stale.customer_id, stale.pk)])


def test_a_customer_with_several_due_debts_is_fetched_once_for_the_worst(bureau_settings):
    customer = CustomerFactory()
    aged_debt(dpd=45, bucket="M2", customer=customer)
    worst = aged_debt(dpd=130, bucket="M5", customer=customer)
    assert due_for_refresh(business_date=DAY, every_days=30, min_bucket=2) == [(customer.pk, worst.pk)]


def test_the_policy_comes_from_settings(bureau_settings):
    debt = aged_debt(dpd=10, bucket="M1")
    bureau_settings.BUREAU_REFRESH_MIN_BUCKET = 1
    assert refresh_due_bureau_reports.delay(DAY.isoformat()).get()["due"] == 1
    assert BureauReport.objects.get().debt == debt


def test_the_run_is_chunked_by_the_rate_limit(bureau_settings, fake_bureau, monkeypatch):
    """Eager tasks ignore the chunks' countdowns, so the client waits for the
    next rate window itself. Its waits move a travelling clock instead of
    sleeping: the same three windows, without two real minutes."""
    for _ in range(5):
        aged_debt()
    bureau_settings.BUREAU_RATE_LIMIT_PER_MINUTE = 4  # two fetches a minute
    waits = []
    real_init = BureauClient.__init__
    with time_machine.travel(timezone.now(), tick=True) as clock:

        def shift_clock(seconds: float) -> None:
            waits.append(seconds)
            clock.shift(seconds)

        def init(self, config=None, *, sleep=None, session=None):
            real_init(self, config, sleep=shift_clock, session=session)

        monkeypatch.setattr(BureauClient, "__init__", init)
        summary = refresh_due_bureau_reports.delay(DAY.isoformat()).get()
    assert len(waits) >= 2 and all(0 < wait <= 60 for wait in waits)
    assert summary == {"business_date": DAY.isoformat(), "due": 5, "chunks": 3}
    assert BureauReport.objects.filter(period=DAY.isoformat()).count() == 5
    assert set(BureauInquiryAttempt.objects.values_list("trigger", "outcome")) == {
        (Trigger.SCHEDULED, Outcome.OK)
    }


def test_a_repeated_chunk_calls_the_bureau_once_per_customer_and_period(bureau_settings, fake_bureau):
    debt = aged_debt()
    pairs = [[debt.customer_id, debt.pk]]
    assert refresh_bureau_chunk.delay(pairs, DAY.isoformat()).get() == {"ok": 1}
    assert refresh_bureau_chunk.delay(pairs, DAY.isoformat()).get() == {"ok": 1}
    assert fake_bureau.hits() == 2  # one report + one skip trace, once
    assert BureauReport.objects.count() == 1
    assert BureauInquiryAttempt.objects.count() == 1
    # The next day the customer is no longer due (fetched within 30 days).
    assert refresh_due_bureau_reports.delay((DAY + timedelta(days=1)).isoformat()).get()["due"] == 0


def test_failures_are_recorded_and_the_customer_stays_due(bureau_settings, fake_bureau):
    debt = aged_debt()
    fake_bureau.stop()
    bureau_settings.BUREAU_MAX_RETRIES = 0
    refresh_due_bureau_reports.delay(DAY.isoformat()).get()
    attempt = BureauInquiryAttempt.objects.get()
    assert (attempt.outcome, attempt.debt, attempt.period) == (
        Outcome.CONNECTION_ERROR,
        debt,
        DAY.isoformat(),
    )
    assert due_for_refresh(business_date=DAY, every_days=30, min_bucket=2) == [(debt.customer_id, debt.pk)]


def test_the_daily_refresh_is_a_beat_entry_and_the_migration_reverses():
    """Run the data migration's functions directly (a transactional test
    elsewhere may have flushed the rows the migration wrote)."""
    from django.apps import apps

    migration = importlib.import_module("cases.bureau_inquiry.migrations.0002_daily_bureau_refresh")
    migration.create_task(apps, None)
    migration.create_task(apps, None)  # twice: still one entry
    task = PeriodicTask.objects.get(name="Daily credit bureau refresh")
    assert task.task == refresh_due_bureau_reports.name == "bureau_inquiry.refresh_due_bureau_reports"
    assert (task.crontab.hour, task.crontab.minute, task.enabled, task.args) == ("6", "0", True, "[]")
    migration.delete_task(apps, None)
    assert not PeriodicTask.objects.filter(name="Daily credit bureau refresh").exists()


def test_the_demo_seed_fetches_through_the_real_service(bureau_settings):
    from backoffice.audit import system_user
    from cases.bureau_inquiry.demo import seed

    aged_debt(dpd=45, bucket="M2")
    aged_debt(dpd=5, bucket="M1")
    assert seed(actor=system_user(), business_date=DAY) == 1
    report = BureauReport.objects.get(bureau="demo-bureau")
    assert report.attempt.outcome == Outcome.OK
    assert report.contact_points_added >= 2
