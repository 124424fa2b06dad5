"""Promises to pay: making, settling by payments and by close of business (RULES §5)."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from backoffice.errors import Conflict
from cases.models import PromiseToPay
from cases.services import post_payment
from cases.services.holds import place_hold
from cases.services.promises import (
    BROKEN_PROMISE_PRIORITY_BUMP,
    apply_payment_to_promises,
    cancel_promise,
    make_promise,
    settle_due_promises,
)
from tests.factories import UserFactory, make_debt

pytestmark = pytest.mark.django_db

TODAY = date(2026, 2, 1)


@pytest.fixture
def collector():
    return UserFactory(username="collector", password=None)  # no hashing: faster


@pytest.fixture
def debt():
    return make_debt()


def promise(debt, collector, amount="300.00", due_on=date(2026, 2, 10), **kwargs):
    return make_promise(
        case=debt.case, debt=debt, amount=amount, due_on=due_on, today=TODAY, actor=collector, **kwargs
    )


def pay(debt, amount, received_on, reference, actor):
    payment = post_payment(
        debt=debt, amount=amount, received_on=received_on, reference=reference, actor=actor
    ).payment
    return payment


def history_rows():
    return PromiseToPay.history.count()


def test_make_promise_saves_a_pending_promise_with_its_author_and_reason(debt, collector):
    made = promise(debt, collector, reason="promised on the phone")
    assert made.status == PromiseToPay.Status.PENDING
    assert made.amount == Decimal("300.00") and made.paid_amount == 0
    assert made.created_by == collector
    entry = made.history.get()
    assert entry.history_user == collector
    assert entry.history_change_reason == "promised on the phone"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "-5.00"}, "amount"),
        ({"amount": "lots"}, "amount"),
        ({"due_on": date(2026, 1, 31)}, "due_on"),
        ({"due_on": date(2026, 5, 3)}, "due_on"),
    ],
)
def test_bad_promise_is_refused_per_field_and_nothing_is_saved(debt, collector, kwargs, field):
    with pytest.raises(ValidationError) as excinfo:
        promise(debt, collector, **kwargs)
    assert field in excinfo.value.message_dict
    assert PromiseToPay.objects.count() == 0
    assert history_rows() == 0


def test_promise_for_a_debt_of_another_case_is_refused(debt, collector):
    other = make_debt()
    with pytest.raises(ValidationError) as excinfo:
        make_promise(case=debt.case, debt=other, amount="10", due_on=TODAY, today=TODAY, actor=collector)
    assert "debt" in excinfo.value.message_dict
    assert PromiseToPay.objects.count() == 0


def test_promise_on_a_case_on_hold_is_a_conflict_and_nothing_is_saved(debt, collector):
    place_hold(case=debt.case, hold="cease", actor=collector, reason="cease letter received")
    with pytest.raises(Conflict):
        promise(debt, collector)
    assert PromiseToPay.objects.count() == 0
    assert history_rows() == 0


def test_payment_within_the_window_keeps_the_promise(debt, collector):
    made = promise(debt, collector)
    pay(debt, "300.00", date(2026, 2, 12), "P1", collector)  # due 10th + 2 grace days
    made.refresh_from_db()
    assert made.status == PromiseToPay.Status.KEPT
    assert made.paid_amount == Decimal("300.00")
    assert made.settled_on == date(2026, 2, 12)


def test_payments_settle_promises_oldest_first(debt, collector):
    later = promise(debt, collector, due_on=date(2026, 2, 20))
    earlier = promise(debt, collector, due_on=date(2026, 2, 10))
    pay(debt, "400.00", date(2026, 2, 5), "P2", collector)
    earlier.refresh_from_db()
    later.refresh_from_db()
    assert earlier.status == PromiseToPay.Status.KEPT and earlier.paid_amount == Decimal("300.00")
    assert later.status == PromiseToPay.Status.PENDING and later.paid_amount == Decimal("100.00")


def test_payment_after_the_window_does_not_count(debt, collector):
    made = promise(debt, collector)
    pay(debt, "300.00", date(2026, 2, 13), "P3", collector)
    made.refresh_from_db()
    assert made.status == PromiseToPay.Status.PENDING and made.paid_amount == 0


def test_counting_the_same_payment_twice_changes_nothing(debt, collector):
    made = promise(debt, collector)
    payment = pay(debt, "100.00", date(2026, 2, 5), "P4", collector)
    rows = history_rows()
    assert apply_payment_to_promises(payment=payment, actor=collector) == []
    made.refresh_from_db()
    assert made.paid_amount == Decimal("100.00")
    assert history_rows() == rows


def test_promise_is_not_settled_inside_its_grace_days(debt, collector):
    made = promise(debt, collector)
    settle_due_promises(business_date=date(2026, 2, 12), actor=collector)
    made.refresh_from_db()
    assert made.status == PromiseToPay.Status.PENDING


def test_unpaid_promise_is_broken_and_raises_the_case_priority(debt, collector):
    made = promise(debt, collector)
    counts = settle_due_promises(business_date=date(2026, 2, 13), actor=collector)
    assert counts["broken"] == 1
    made.refresh_from_db()
    assert made.status == PromiseToPay.Status.BROKEN
    case = debt.case
    case.refresh_from_db()
    assert case.broken_promises == 1
    assert case.priority == BROKEN_PROMISE_PRIORITY_BUMP
    assert case.priority_reasons == ["broken promise on 2026-02-10"]


def test_partly_paid_promise_is_partially_kept_and_counts_as_broken(debt, collector):
    made = promise(debt, collector)
    pay(debt, "100.00", date(2026, 2, 9), "P5", collector)
    settle_due_promises(business_date=date(2026, 2, 13), actor=collector)
    made.refresh_from_db()
    assert made.status == PromiseToPay.Status.PARTIALLY_KEPT
    debt.case.refresh_from_db()
    assert debt.case.broken_promises == 1


def test_settling_twice_changes_nothing(debt, collector):
    promise(debt, collector)
    settle_due_promises(business_date=date(2026, 2, 13), actor=collector)
    rows = history_rows()
    second = settle_due_promises(business_date=date(2026, 2, 14), actor=collector)
    assert second == {"kept": 0, "partially_kept": 0, "broken": 0}
    debt.case.refresh_from_db()
    assert debt.case.broken_promises == 1
    assert debt.case.priority == BROKEN_PROMISE_PRIORITY_BUMP
    assert history_rows() == rows


def test_cancel_a_pending_promise_but_not_a_settled_one(debt, collector):
    made = promise(debt, collector)
    cancelled = cancel_promise(promise=made, actor=collector, reason="customer changed their mind")
    assert cancelled.status == PromiseToPay.Status.CANCELLED
    with pytest.raises(Conflict):
        cancel_promise(promise=made, actor=collector, reason="again")
