"""Payment plans: the sum rule, payments, missed instalments and default (RULES §5)."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from backoffice.errors import Conflict
from cases.models import PaymentPlan, PlanInstalment
from cases.services import post_payment
from cases.services.plans import apply_payment_to_plans, create_plan, mark_missed_plan_instalments
from tests.factories import UserFactory, make_debt

pytestmark = pytest.mark.django_db

TODAY = date(2026, 2, 1)
SCHEDULE = [
    {"due_on": date(2026, 2, 10), "amount": "300.00"},
    {"due_on": date(2026, 3, 10), "amount": "300.00"},
    {"due_on": date(2026, 4, 10), "amount": "300.00"},
]


@pytest.fixture
def collector():
    return UserFactory(username="collector", password=None)


@pytest.fixture
def debt():
    return make_debt()


def plan_for(debt, actor, total="900.00", instalments=SCHEDULE, **kwargs):
    return create_plan(
        case=debt.case, debt=debt, total=total, instalments=instalments, today=TODAY, actor=actor, **kwargs
    )


def pay(debt, amount, received_on, reference, actor):
    payment = post_payment(
        debt=debt, amount=amount, received_on=received_on, reference=reference, actor=actor
    ).payment
    return payment


def nothing_saved():
    return (
        PaymentPlan.objects.count() == 0
        and PlanInstalment.objects.count() == 0
        and PaymentPlan.history.count() == 0
        and PlanInstalment.history.count() == 0
    )


def test_create_plan_saves_the_plan_and_numbered_instalments(debt, collector):
    plan = plan_for(debt, collector, reason="agreed on the phone")
    assert plan.status == PaymentPlan.Status.ACTIVE and plan.total == Decimal("900.00")
    rows = list(plan.instalments.order_by("number"))
    assert [(r.number, r.due_on, r.amount) for r in rows] == [
        (1, date(2026, 2, 10), Decimal("300.00")),
        (2, date(2026, 3, 10), Decimal("300.00")),
        (3, date(2026, 4, 10), Decimal("300.00")),
    ]
    entry = plan.history.get()
    assert entry.history_user == collector and entry.history_change_reason == "agreed on the phone"


def test_instalments_that_do_not_add_up_to_the_total_name_the_difference(debt, collector):
    with pytest.raises(ValidationError) as excinfo:
        plan_for(debt, collector, total="1000.00")
    message = excinfo.value.message_dict["instalments"][0]
    assert "900.00" in message and "100.00 less" in message
    assert nothing_saved()


@pytest.mark.parametrize(
    "instalments",
    [
        [
            {"due_on": date(2026, 3, 10), "amount": "450.00"},
            {"due_on": date(2026, 2, 10), "amount": "450.00"},
        ],
        [
            {"due_on": date(2026, 2, 10), "amount": "450.00"},
            {"due_on": date(2026, 2, 10), "amount": "450.00"},
        ],
        [
            {"due_on": date(2026, 1, 31), "amount": "450.00"},
            {"due_on": date(2026, 2, 10), "amount": "450.00"},
        ],
        [{"due_on": date(2026, 2, 10), "amount": "0"}, {"due_on": date(2026, 3, 10), "amount": "900.00"}],
        [],
    ],
    ids=["decreasing", "same-day", "in-the-past", "zero-amount", "empty"],
)
def test_bad_schedules_are_refused_and_nothing_is_saved(debt, collector, instalments):
    with pytest.raises(ValidationError) as excinfo:
        plan_for(debt, collector, instalments=instalments)
    assert "instalments" in excinfo.value.message_dict
    assert nothing_saved()


def test_total_above_the_debt_balance_is_refused(debt, collector):
    big = [{"due_on": date(2026, 2, 10), "amount": "3000.01"}]
    with pytest.raises(ValidationError) as excinfo:
        plan_for(debt, collector, total="3000.01", instalments=big)
    assert "total" in excinfo.value.message_dict
    assert nothing_saved()


def test_debt_of_another_case_is_refused(debt, collector):
    other = make_debt()
    with pytest.raises(ValidationError) as excinfo:
        create_plan(
            case=debt.case, debt=other, total="900.00", instalments=SCHEDULE, today=TODAY, actor=collector
        )
    assert "debt" in excinfo.value.message_dict
    assert nothing_saved()


def test_second_active_plan_on_a_debt_is_a_conflict(debt, collector):
    plan_for(debt, collector)
    with pytest.raises(Conflict):
        plan_for(debt, collector)
    assert PaymentPlan.objects.count() == 1


def test_payments_pay_instalments_oldest_first_and_complete_the_plan(debt, collector):
    plan = plan_for(debt, collector)
    pay(debt, "400.00", date(2026, 2, 8), "PL1", collector)
    first, second, third = plan.instalments.order_by("number")
    assert first.status == PlanInstalment.Status.PAID
    assert second.paid_amount == Decimal("100.00") and second.status == PlanInstalment.Status.DUE
    pay(debt, "500.00", date(2026, 3, 9), "PL2", collector)
    plan.refresh_from_db()
    assert plan.status == PaymentPlan.Status.COMPLETED
    assert set(plan.instalments.values_list("status", flat=True)) == {PlanInstalment.Status.PAID}


def test_counting_the_same_payment_twice_changes_nothing(debt, collector):
    plan = plan_for(debt, collector)
    payment = pay(debt, "100.00", date(2026, 2, 8), "PL3", collector)
    assert apply_payment_to_plans(payment=payment, actor=collector) == []
    assert plan.instalments.get(number=1).paid_amount == Decimal("100.00")


def test_one_missed_instalment_is_counted_and_the_plan_stays_active(debt, collector):
    plan = plan_for(debt, collector)
    counts = mark_missed_plan_instalments(business_date=date(2026, 2, 11), actor=collector)
    assert counts == {"missed": 1, "defaulted": 0}
    plan.refresh_from_db()
    assert plan.missed_count == 1 and plan.status == PaymentPlan.Status.ACTIVE
    assert plan.instalments.get(number=1).status == PlanInstalment.Status.MISSED


def test_instalment_due_on_the_business_date_is_not_missed_yet(debt, collector):
    plan = plan_for(debt, collector)
    mark_missed_plan_instalments(business_date=date(2026, 2, 10), actor=collector)
    plan.refresh_from_db()
    assert plan.missed_count == 0


def test_plan_defaults_after_the_policys_number_of_missed_instalments(debt, collector):
    plan = plan_for(debt, collector)
    mark_missed_plan_instalments(business_date=date(2026, 2, 11), actor=collector)
    counts = mark_missed_plan_instalments(business_date=date(2026, 3, 11), actor=collector)
    assert counts == {"missed": 1, "defaulted": 1}
    plan.refresh_from_db()
    assert plan.missed_count == 2 and plan.status == PaymentPlan.Status.DEFAULTED


def test_marking_missed_twice_changes_nothing(debt, collector):
    plan = plan_for(debt, collector)
    mark_missed_plan_instalments(business_date=date(2026, 2, 11), actor=collector)
    rows = PaymentPlan.history.count() + PlanInstalment.history.count()
    assert mark_missed_plan_instalments(business_date=date(2026, 2, 11), actor=collector) == {
        "missed": 0,
        "defaulted": 0,
    }
    plan.refresh_from_db()
    assert plan.missed_count == 1
    assert PaymentPlan.history.count() + PlanInstalment.history.count() == rows


def test_a_paid_instalment_is_never_missed(debt, collector):
    plan = plan_for(debt, collector)
    pay(debt, "300.00", date(2026, 2, 10), "PL4", collector)
    mark_missed_plan_instalments(business_date=date(2026, 2, 11), actor=collector)
    plan.refresh_from_db()
    assert plan.missed_count == 0
