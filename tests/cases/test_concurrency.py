"""Money under concurrency (STYLE.md: rows money depends on are locked).

Two threads with their own database connections start together at a
barrier. PostgreSQL only: SQLite serialises whole-database writes and its
in-memory test database is not shared between connections.
"""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Sum

from cases.models import BALANCE_FIELD, Debt, LedgerEntry, Payment
from cases.services import close_chunk, post_payment
from tests.factories import make_debt

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="concurrent transactions need PostgreSQL (set DATABASE_URL=postgres://…)",
    ),
]

TIMEOUT = 30


def run_together(*calls):
    """Run each call in its own thread, released at the same moment; return
    their results in order, re-raising the first error."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=TIMEOUT)
            results[index] = call()
        except Exception as exc:  # handed back to the test thread
            errors[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
        assert not thread.is_alive(), "a concurrent call hung (deadlock?)"
    for error in errors:
        if error is not None:
            raise error
    return results


def assert_balances_match_ledger(debt: Debt) -> None:
    debt.refresh_from_db()
    sums = dict(
        LedgerEntry.objects.filter(debt=debt)
        .values("component")
        .annotate(total=Sum("amount"))
        .values_list("component", "total")
    )
    for component in BALANCE_FIELD:
        assert debt.balance(component) == sums.get(component, Decimal("0.00")), component
    for inst in debt.instalments.all():
        for component in ("principal", "interest"):
            total = inst.ledger_entries.filter(component=component).aggregate(total=Sum("amount"))["total"]
            assert getattr(inst, f"{component}_balance") == (total or Decimal("0.00")), (
                inst.number,
                component,
            )


def total_owed(debt: Debt) -> Decimal:
    debt.refresh_from_db()
    return sum(
        (debt.balance(c) for c in ("principal", "interest", "penalty", "fees", "legal_cost")), Decimal(0)
    )


def pay(debt: Debt, amount: str, reference: str, received_on: date = date(2026, 1, 10)):
    return lambda: post_payment(debt=debt.pk, amount=amount, received_on=received_on, reference=reference)


def test_same_payment_posted_twice_at_once_is_recorded_once():
    debt = make_debt()
    owed = total_owed(debt)

    first, second = run_together(pay(debt, "500.00", "SAME-1"), pay(debt, "500.00", "SAME-1"))

    assert first.payment.pk == second.payment.pk
    assert sorted([first.created, second.created]) == [False, True]
    assert Payment.objects.filter(reference="SAME-1").count() == 1
    assert LedgerEntry.objects.filter(debt=debt, kind=LedgerEntry.Kind.PAYMENT).count() == len(
        first.payment.allocation
    )
    assert total_owed(debt) == owed - Decimal("500.00")
    assert_balances_match_ledger(debt)


def test_two_different_payments_at_once_are_both_posted():
    debt = make_debt()
    owed = total_owed(debt)

    first, second = run_together(pay(debt, "300.00", "DIFF-1"), pay(debt, "200.00", "DIFF-2"))

    assert first.created and second.created
    assert first.payment.pk != second.payment.pk
    assert Payment.objects.filter(debt=debt).count() == 2
    assert total_owed(debt) == owed - Decimal("500.00")
    assert_balances_match_ledger(debt)


def _state(debt: Debt) -> dict:
    debt.refresh_from_db()
    return {
        "balances": {c: debt.balance(c) for c in BALANCE_FIELD},
        "days_past_due": debt.days_past_due,
        "bucket": debt.bucket,
        "closed_through": debt.closed_through,
        "entries": sorted(
            (e.effective_on, e.component, e.kind, e.amount) for e in LedgerEntry.objects.filter(debt=debt)
        ),
    }


def _close(debt: Debt, business_date: date):
    return lambda: close_chunk(first_id=debt.pk, last_id=debt.pk, business_date=business_date)


def test_close_of_business_and_a_payment_at_once_leave_the_debt_as_one_order_or_the_other():
    business_date = date(2026, 3, 15)
    received_on = date(2026, 3, 15)
    close_first, pay_first, racing = make_debt(), make_debt(), make_debt()
    _close(close_first, business_date)()
    pay(close_first, "1200.00", "ORDER-A", received_on)()
    pay(pay_first, "1200.00", "ORDER-B", received_on)()
    _close(pay_first, business_date)()

    summary, result = run_together(
        _close(racing, business_date), pay(racing, "1200.00", "RACE-1", received_on)
    )

    assert result.created
    assert_balances_match_ledger(racing)
    assert _state(racing) in (_state(close_first), _state(pay_first))
    assert summary.debts == 1
    assert total_owed(racing) in (total_owed(close_first), total_owed(pay_first))
