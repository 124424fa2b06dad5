"""post_payment and reverse_payment: waterfall, idempotency, bad input (RULES §2)."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from cases.models import Debt, LedgerEntry, Payment
from cases.selectors import ledger_mismatches
from cases.services import PaymentConflict, post_payment, reverse_payment
from cases.services.close_of_business import close_chunk
from tests.factories import make_debt

pytestmark = pytest.mark.django_db


def closed(debt, day):
    close_chunk(first_id=debt.pk, last_id=debt.pk, business_date=day)
    debt.refresh_from_db()
    return debt


def alloc(payment):
    return {k: Decimal(v) for k, v in payment.allocation.items()}


def test_cn_waterfall_pays_penalty_then_overdue_interest_then_overdue_principal_then_current():
    debt = closed(make_debt(), date(2026, 3, 15))
    # penalty 26.50, overdue interest 100.00 (#1, #2), overdue principal 2000.00, current #3 principal.
    result = post_payment(debt=debt, amount="2200.00", received_on=date(2026, 3, 16), reference="W1")
    assert alloc(result.payment) == {
        "penalty": Decimal("26.50"),
        "interest": Decimal("100.00"),
        "principal": Decimal("2073.50"),
    }
    debt.refresh_from_db()
    first, second, third = debt.instalments.order_by("number")
    assert first.principal_balance == 0 and second.principal_balance == 0
    # 73.50 went to the current instalment #3 as a prepayment.
    assert third.principal_balance == Decimal("926.50")
    assert debt.penalty_balance == 0 and debt.interest_balance == 0


def test_cn_waterfall_pays_overdue_interest_of_all_instalments_before_any_overdue_principal():
    debt = closed(make_debt(), date(2026, 3, 5))
    penalty = debt.penalty_balance
    result = post_payment(debt=debt, amount="120.00", received_on=date(2026, 3, 5), reference="W2")
    assert alloc(result.payment) == {
        "penalty": penalty,
        "interest": Decimal("100.00"),
        "principal": Decimal("20.00") - penalty,
    }
    first = debt.instalments.get(number=1)
    assert first.interest_balance == 0
    assert first.principal_balance == Decimal("1000.00") - (Decimal("20.00") - penalty)


def test_us_waterfall_pays_interest_then_principal_oldest_first():
    debt = closed(make_debt(jurisdiction="US", currency="USD"), date(2026, 3, 15))
    result = post_payment(debt=debt, amount="1100.00", received_on=date(2026, 3, 15), reference="US1")
    assert alloc(result.payment) == {"interest": Decimal("100.00"), "principal": Decimal("1000.00")}
    first, second, _ = debt.instalments.order_by("number")
    assert first.principal_balance == 0
    assert second.principal_balance == Decimal("1000.00")


def test_every_payment_entry_is_in_the_ledger_and_balances_follow():
    debt = closed(make_debt(), date(2026, 2, 10))
    before = debt.total_balance
    result = post_payment(debt=debt, amount="300.00", received_on=date(2026, 2, 10), reference="L1")
    debt.refresh_from_db()
    assert debt.total_balance == before - Decimal("300.00")
    entries = LedgerEntry.objects.filter(payment=result.payment)
    assert sum(e.amount for e in entries) == Decimal("-300.00")
    assert all(e.kind == "payment" and e.effective_on == date(2026, 2, 10) for e in entries)


def test_second_posting_with_same_reference_returns_first_payment():
    debt = make_debt()
    first = post_payment(debt=debt, amount="100.00", received_on=date(2026, 1, 10), reference="R1")
    again = post_payment(debt=debt, amount="100.00", received_on=date(2026, 1, 10), reference="R1")
    assert first.created and not again.created
    assert again.payment.pk == first.payment.pk
    assert Payment.objects.count() == 1
    assert LedgerEntry.objects.filter(kind="payment").count() == 1


def test_same_idempotency_key_returns_first_payment():
    debt = make_debt()
    first = post_payment(
        debt=debt, amount="100.00", received_on=date(2026, 1, 10), reference="K1", idempotency_key="abc"
    )
    again = post_payment(
        debt=debt, amount="100.00", received_on=date(2026, 1, 10), reference="K1", idempotency_key="abc"
    )
    assert again.payment.pk == first.payment.pk and not again.created


def test_reusing_a_reference_for_a_different_amount_is_a_conflict():
    debt = make_debt()
    post_payment(debt=debt, amount="100.00", received_on=date(2026, 1, 10), reference="R2")
    with pytest.raises(PaymentConflict):
        post_payment(debt=debt, amount="101.00", received_on=date(2026, 1, 10), reference="R2")
    assert Payment.objects.count() == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"amount": "-5.00"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"currency": "USD"}, "currency"),
        ({"reference": "  "}, "reference"),
        ({"channel": "carrier-pigeon"}, "channel"),
        ({"received_on": date(2025, 12, 1)}, "received_on"),
        ({"amount": "999999.00"}, "amount"),
    ],
)
def test_bad_payment_is_refused_and_changes_nothing(kwargs, field):
    debt = make_debt()
    args = {"debt": debt, "amount": "100.00", "received_on": date(2026, 1, 10), "reference": "BAD", **kwargs}
    entries = LedgerEntry.objects.count()
    with pytest.raises(ValidationError) as raised:
        post_payment(**args)
    assert field in raised.value.message_dict
    assert Payment.objects.count() == 0
    assert LedgerEntry.objects.count() == entries
    debt.refresh_from_db()
    assert debt.principal_balance == Decimal("3000.00")


def test_unknown_debt_is_refused():
    with pytest.raises(ValidationError) as raised:
        post_payment(debt=987654, amount="1.00", received_on=date(2026, 1, 1), reference="X")
    assert "debt" in raised.value.message_dict
    assert Payment.objects.count() == 0


def test_float_amounts_are_refused():
    debt = make_debt()
    with pytest.raises(ValidationError):
        post_payment(debt=debt, amount=10.5, received_on=date(2026, 1, 10), reference="F")


def test_overpayment_within_tolerance_becomes_a_credit_balance():
    debt = make_debt(instalments=[{"due_on": date(2026, 1, 31), "principal": "100.00", "interest": "0"}])
    result = post_payment(debt=debt, amount="100.80", received_on=date(2026, 1, 10), reference="O1")
    debt.refresh_from_db()
    assert alloc(result.payment) == {"principal": Decimal("100.00"), "credit": Decimal("0.80")}
    assert debt.credit_balance == Decimal("-0.80")
    assert debt.status == Debt.Status.PAID


def test_overpayment_beyond_tolerance_is_allowed_only_with_credit_balances():
    debt = make_debt(
        instalments=[{"due_on": date(2026, 1, 31), "principal": "100.00", "interest": "0"}],
        allow_credit_balance=True,
    )
    post_payment(debt=debt, amount="150.00", received_on=date(2026, 1, 10), reference="O2")
    debt.refresh_from_db()
    assert debt.credit_balance == Decimal("-50.00")


def test_payment_on_a_paid_debt_is_refused():
    debt = make_debt(instalments=[{"due_on": date(2026, 1, 31), "principal": "100.00", "interest": "0"}])
    post_payment(debt=debt, amount="100.00", received_on=date(2026, 1, 10), reference="P1")
    with pytest.raises(ValidationError):
        post_payment(debt=debt, amount="1.00", received_on=date(2026, 1, 11), reference="P2")


def test_reversal_posts_the_exact_negative_and_reopens_the_debt():
    debt = make_debt(instalments=[{"due_on": date(2026, 1, 31), "principal": "100.00", "interest": "0"}])
    payment = post_payment(debt=debt, amount="100.00", received_on=date(2026, 1, 10), reference="RV").payment
    reverse_payment(payment=payment, reversed_on=date(2026, 1, 12), reason="returned transfer")
    debt.refresh_from_db()
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REVERSED
    assert debt.status == Debt.Status.OPEN
    assert debt.principal_balance == Decimal("100.00")
    reversal = LedgerEntry.objects.get(kind="reversal")
    assert reversal.amount == Decimal("100.00") and reversal.effective_on == date(2026, 1, 12)
    assert debt.last_payment_on is None


def test_reversing_twice_is_refused():
    debt = make_debt()
    payment = post_payment(debt=debt, amount="10.00", received_on=date(2026, 1, 10), reference="RV2").payment
    reverse_payment(payment=payment, reversed_on=date(2026, 1, 10), reason="bounced")
    with pytest.raises(ValidationError):
        reverse_payment(payment=payment, reversed_on=date(2026, 1, 10), reason="bounced")
    assert LedgerEntry.objects.filter(kind="reversal").count() == 1


def test_reversal_needs_a_reason():
    debt = make_debt()
    payment = post_payment(debt=debt, amount="10.00", received_on=date(2026, 1, 10), reference="RV3").payment
    with pytest.raises(ValidationError):
        reverse_payment(payment=payment, reversed_on=date(2026, 1, 10), reason="")


def test_payment_history_records_actor_and_reason(admin_user):
    debt = make_debt()
    payment = post_payment(
        debt=debt, amount="10.00", received_on=date(2026, 1, 10), reference="H1", actor=admin_user
    ).payment
    record = payment.history.get()
    assert record.history_user == admin_user
    assert record.history_change_reason == "payment received"
    entry = payment.ledger_entries.get()
    assert entry.created_by == admin_user


def test_posting_in_a_gap_first_accrues_the_days_before_the_payment():
    debt = make_debt(instalments=[{"due_on": date(2026, 1, 31), "principal": "1000.00", "interest": "0"}])
    result = post_payment(debt=debt, amount="100.00", received_on=date(2026, 2, 10), reference="G1")
    # Days 4..9 past due (4–9 Feb) accrued 6 × 0.50 before the payment was allocated.
    assert Decimal(result.payment.allocation["penalty"]) == Decimal("3.00")
    debt.refresh_from_db()
    assert debt.closed_through == date(2026, 2, 9)


def test_paying_an_instalment_in_full_on_its_due_date_keeps_the_account_current():
    debt = make_debt()
    result = post_payment(debt=debt, amount="1050.00", received_on=date(2026, 1, 31), reference="ONTIME")
    # The interest falling due that day is charged first, so the payment
    # covers exactly instalment #1: interest, then its principal.
    assert alloc(result.payment) == {"interest": Decimal("50.00"), "principal": Decimal("1000.00")}
    debt = closed(debt, date(2026, 2, 10))
    assert debt.days_past_due == 0 and debt.bucket == "current"
    first = debt.instalments.get(number=1)
    assert first.owed == 0
    # Close of business found that interest charged and did not charge it again.
    assert debt.ledger_entries.filter(component="interest", instalment=first, kind="charge").count() == 1
    assert list(ledger_mismatches()) == []
