"""Property: any sequence of charges, payments, reversals and accruals keeps
every cached balance equal to its ledger entries and no component negative."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.models import OWED_COMPONENTS, Debt, Payment
from cases.selectors import ledger_mismatches
from cases.services import post_payment, reverse_payment
from cases.services.close_of_business import close_chunk
from tests.factories import PolicyFactory, ProductFactory, make_debt

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

OPENED = date(2026, 1, 1)

operations = st.lists(
    st.one_of(
        st.tuples(st.just("pay"), st.integers(1, 200), st.integers(1, 450_000)),
        st.tuples(st.just("reverse"), st.integers(0, 20), st.integers(0, 30)),
        st.tuples(st.just("close"), st.integers(1, 200), st.just(0)),
    ),
    min_size=1,
    max_size=14,
)


def assert_consistent(debt_id: int) -> None:
    assert list(ledger_mismatches()) == []
    debt = Debt.objects.get(pk=debt_id)
    for component in OWED_COMPONENTS:
        assert debt.balance(component) >= 0
    assert debt.credit_balance <= 0
    for inst in debt.instalments.all():
        assert inst.principal_balance >= 0 and inst.interest_balance >= 0


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    ops=operations,
    penalty_base=st.sampled_from(["principal", "principal_and_interest"]),
    waterfall=st.sampled_from(["CN", "US"]),
    late_fee=st.sampled_from(["0", "25.00"]),
)
def test_balances_always_equal_the_ledger(ops, penalty_base, waterfall, late_fee):
    with transaction.atomic():
        policy = PolicyFactory(
            penalty_base=penalty_base,
            late_fee_fixed=Decimal(late_fee),
            penalty_daily_rate=Decimal("0.003"),
            **(
                {"waterfall": ["legal_cost", "fees", "penalty", "interest", "principal"]}
                if waterfall == "US"
                else {}
            ),
        )
        debt = make_debt(product=ProductFactory(policy=policy), opened_on=OPENED)
        refs = 0
        for op, a, b in ops:
            if op == "pay":
                refs += 1
                try:
                    post_payment(
                        debt=debt.pk,
                        amount=Decimal(b) / 100,
                        received_on=OPENED + timedelta(days=a),
                        reference=f"P{refs}",
                    )
                except ValidationError:
                    pass
            elif op == "reverse":
                payments = list(Payment.objects.filter(debt=debt, status="posted").order_by("id"))
                if payments:
                    payment = payments[a % len(payments)]
                    reverse_payment(
                        payment=payment,
                        reversed_on=payment.received_on + timedelta(days=b),
                        reason="property test",
                    )
            else:
                close_chunk(first_id=debt.pk, last_id=debt.pk, business_date=OPENED + timedelta(days=a))
            assert_consistent(debt.pk)
        transaction.set_rollback(True)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amounts=st.lists(st.integers(1, 200_000), min_size=1, max_size=6))
def test_a_refused_payment_changes_nothing(amounts):
    with transaction.atomic():
        debt = make_debt(instalments=[{"due_on": date(2026, 1, 31), "principal": "1000.00", "interest": "0"}])
        for n, cents in enumerate(amounts):
            before = Debt.objects.values().get(pk=debt.pk)
            count = Payment.objects.count()
            try:
                post_payment(
                    debt=debt.pk, amount=Decimal(cents) / 100, received_on=date(2026, 1, 5), reference=f"A{n}"
                )
            except ValidationError:
                assert Payment.objects.count() == count
                assert Debt.objects.values().get(pk=debt.pk) == before
            assert_consistent(debt.pk)
        transaction.set_rollback(True)
