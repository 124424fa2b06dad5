"""Feature rows per debt as of a date (cases.risk.features), rebuilt from the
ledger, payments, promises and contacts of a small portfolio."""

import math
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cases.models import ContactAttempt, Debt, PromiseToPay
from cases.risk.features import FEATURE_NAMES, NEVER_PAID_DAYS, feature_rows, load_history
from cases.services.close_of_business import close_chunk
from cases.services.payments import post_payment
from tests.factories import make_debt

pytestmark = pytest.mark.django_db

# make_debt: opened 2026-01-01, 3 × (1000.00 + 50.00 interest) due 01-31, 03-02, 04-01.
DAY = date(2026, 2, 10)


def at(day, hour=10):
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour))


@pytest.fixture
def portfolio():
    payer = make_debt(penalty_daily_rate=Decimal("0"))
    idle = make_debt(product=payer.product)
    for debt in (payer, idle):
        close_chunk(first_id=debt.pk, last_id=debt.pk, business_date=DAY)
    post_payment(debt=payer, amount=Decimal("1050.00"), received_on=DAY, reference="PAY-1")
    case = payer.case
    ContactAttempt.objects.create(
        case=case, channel="call", outcome="wrong_number", started_at=at(date(2026, 2, 5))
    )
    ContactAttempt.objects.create(
        case=case, channel="call", outcome="right_party", started_at=at(date(2026, 2, 8))
    )
    ContactAttempt.objects.create(
        case=case, channel="call", outcome="no_answer", started_at=at(DAY - timedelta(days=90))
    )  # outside the 90-day window
    PromiseToPay.objects.create(
        case=case,
        amount=Decimal("100"),
        due_on=date(2026, 2, 4),
        status="broken",
        settled_on=date(2026, 2, 7),
    )
    PromiseToPay.objects.create(
        case=case,
        amount=Decimal("100"),
        due_on=date(2026, 2, 12),
        status="kept",
        settled_on=date(2026, 2, 12),
    )
    return payer, idle


def by_debt(rows):
    return {row.debt_id: row for row in rows}


def test_features_on_the_day_of_a_payment_are_exact(portfolio):
    payer, idle = portfolio
    rows = by_debt(feature_rows(load_history(), as_of=DAY))
    assert set(rows) == {payer.pk, idle.pk}
    assert list(rows[payer.pk].values) == FEATURE_NAMES
    assert rows[payer.pk].balance == Decimal("2000.00")
    assert rows[payer.pk].values == {
        "dpd": 0.0,
        "bucket_index": 0.0,
        "due_in_30d": 1.0,
        "log_balance": math.log1p(2000.0),
        "payments_90d": 1.0,
        "days_since_payment": 0.0,
        "ever_paid": 1.0,
        "broken_promises": 1.0,
        "kept_promises": 0.0,  # settled after the date
        "reached_contacts_90d": 1.0,
        "failed_contacts_90d": 1.0,
    }
    assert rows[idle.pk].balance == Decimal("3050.00")
    assert rows[idle.pk].values == {
        "dpd": 10.0,
        "bucket_index": 1.0,
        "due_in_30d": 1.0,
        "log_balance": math.log1p(3050.0),
        "payments_90d": 0.0,
        "days_since_payment": float(NEVER_PAID_DAYS),
        "ever_paid": 0.0,
        "broken_promises": 0.0,
        "kept_promises": 0.0,
        "reached_contacts_90d": 0.0,
        "failed_contacts_90d": 0.0,
    }


def test_days_past_due_agree_with_close_of_business(portfolio):
    # The payment came after DAY was closed; the next close ages it in.
    day = DAY + timedelta(days=1)
    for debt in portfolio:
        close_chunk(first_id=debt.pk, last_id=debt.pk, business_date=day)
    rows = by_debt(feature_rows(load_history(), as_of=day))
    for debt in Debt.objects.all():
        assert rows[debt.pk].values["dpd"] == debt.days_past_due


def test_a_past_date_sees_only_what_was_known_then(portfolio):
    payer, _ = portfolio
    before = by_debt(feature_rows(load_history(), as_of=DAY - timedelta(days=1)))[payer.pk]
    assert before.balance == Decimal("3050.00")
    assert before.values["dpd"] == 9.0
    assert before.values["ever_paid"] == 0.0
    assert before.values["payments_90d"] == 0.0
    assert before.values["reached_contacts_90d"] == 1.0
    assert feature_rows(load_history(), as_of=date(2025, 12, 31)) == []


def test_label_is_paid_within_30_days_once_known(portfolio):
    payer, idle = portfolio
    known = DAY + timedelta(days=29)
    rows = by_debt(feature_rows(load_history(), as_of=DAY - timedelta(days=1), known_through=known))
    assert rows[payer.pk].label is True
    assert rows[idle.pk].label is False
    later = by_debt(feature_rows(load_history(), as_of=DAY, known_through=known))
    assert later[payer.pk].label is None  # the 30 days after DAY are not over yet
