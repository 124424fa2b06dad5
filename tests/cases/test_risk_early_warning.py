"""Early warning (cases.services.risk.early_warning): current debts whose
customer shows risk signs go on the watch list and get the pre-due reminder."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cases.models import (
    ContactAttempt,
    DunningFiring,
    PaymentPlan,
    PlanInstalment,
    PromiseToPay,
    WatchListEntry,
)
from cases.services import run_close_of_business
from cases.services.close_of_business import close_chunk
from cases.services.dunning import install_default_ladder
from cases.services.risk import early_warning, risk_signs
from customers.models import ContactPoint
from tests.cases.test_messaging_queue import debt_with_contacts
from tests.factories import make_debt

pytestmark = pytest.mark.django_db
DAY = date(2026, 2, 10)
Reason = WatchListEntry.Reason


@pytest.fixture(autouse=True)
def outboxes(settings, tmp_path):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = tmp_path / "sms.jsonl"
    settings.MEDIA_ROOT = tmp_path / "media"


def at(day, hour=10):
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour))


@pytest.fixture
def debts():
    """A delinquent debt (due 2026-01-31) and a current one of the same
    customer whose next instalment falls due 2026-03-07, far beyond the
    3-day pre-due reminder; both closed through DAY."""
    delinquent = debt_with_contacts(penalty_daily_rate=Decimal("0"))
    current = make_debt(customer=delinquent.customer, product=delinquent.product, opened_on=date(2026, 2, 5))
    install_default_ladder(delinquent.product.policy)
    for debt in (delinquent, current):
        close_chunk(first_id=debt.pk, last_id=debt.pk, business_date=DAY - timedelta(days=1))
    return delinquent, current


def pre_due_firings(debt):
    return list(
        DunningFiring.objects.filter(debt=debt, step__offset_days__lt=0).values_list("cycle", "status")
    )


def test_broken_promise_on_another_debt_puts_a_current_debt_on_the_watch_list_and_reminds_it(debts):
    delinquent, current = debts
    run_close_of_business(business_date=DAY)
    assert pre_due_firings(current) == []  # not watched: no reminder 25 days ahead
    PromiseToPay.objects.create(
        case=delinquent.case,
        debt=delinquent,
        amount=Decimal("100"),
        due_on=date(2026, 2, 8),
        status=PromiseToPay.Status.BROKEN,
        settled_on=DAY,
    )
    next_day = date(2026, 2, 11)
    run_close_of_business(business_date=next_day)
    entry = WatchListEntry.objects.get(cleared_on__isnull=True)
    assert (entry.debt, entry.reasons, entry.since) == (current, [Reason.BROKEN_PROMISE_OTHER_DEBT], next_day)
    assert pre_due_firings(current) == [("pre:2026-03-07", DunningFiring.Status.DONE)]
    # The delinquent debt itself is not "current": not on the watch list.
    assert not WatchListEntry.objects.filter(debt=delinquent).exists()
    # Once per due date: the usual 3-day reminder does not fire again.
    run_close_of_business(business_date=date(2026, 3, 4))
    assert pre_due_firings(current) == [("pre:2026-03-07", DunningFiring.Status.DONE)]


def test_a_missed_plan_instalment_is_a_risk_sign(debts):
    delinquent, current = debts
    plan = PaymentPlan.objects.create(case=delinquent.case, debt=delinquent, total=Decimal("500"))
    PlanInstalment.objects.create(
        plan=plan,
        number=1,
        due_on=date(2026, 2, 5),
        amount=Decimal("250"),
        status=PlanInstalment.Status.MISSED,
    )
    assert risk_signs(business_date=DAY) == {current.pk: [Reason.MISSED_PLAN_INSTALMENT]}


def test_failing_contact_points_are_a_risk_sign_until_one_answers(debts):
    delinquent, current = debts
    phones = list(ContactPoint.objects.filter(customer=current.customer, kind="phone"))
    for n, phone in enumerate(phones):
        ContactAttempt.objects.create(
            case=current.case,
            contact_point=phone,
            channel="call",
            outcome="wrong_number",
            started_at=at(DAY, 9 + n),
        )
    summary = early_warning(business_date=DAY)
    assert (summary.added, summary.watched) == (1, 1)
    entry = WatchListEntry.objects.get(debt=current)
    assert entry.reasons == [Reason.CONTACT_POINTS_FAILING]
    assert early_warning(business_date=DAY).as_dict() == {
        "business_date": DAY.isoformat(),
        "added": 0,
        "updated": 0,
        "cleared": 0,
        "watched": 1,
    }
    ContactAttempt.objects.create(
        case=current.case,
        contact_point=phones[0],
        channel="call",
        outcome="right_party",
        started_at=at(DAY, 16),
    )
    assert early_warning(business_date=date(2026, 2, 11)).cleared == 1
    entry.refresh_from_db()
    assert entry.cleared_on == date(2026, 2, 11)
    assert entry.history.first().history_change_reason == "early warning 2026-02-11"


def test_no_signs_no_watch_list(debts):
    assert early_warning(business_date=DAY).watched == 0
    assert not WatchListEntry.objects.exists()
