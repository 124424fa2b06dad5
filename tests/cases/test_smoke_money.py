from datetime import date
from decimal import Decimal

import pytest

from cases.services import post_payment, run_close_of_business
from tests.factories import make_debt

pytestmark = pytest.mark.django_db


def test_place_pay_close():
    debt = make_debt()
    assert debt.principal_balance == Decimal("3000.00")
    s = run_close_of_business(business_date=date(2026, 3, 15))
    debt.refresh_from_db()
    print(s, debt.days_past_due, debt.bucket, debt.penalty_balance, debt.interest_balance)
    r = post_payment(debt=debt, amount="500", received_on=date(2026, 3, 15), reference="X1")
    print(r.payment.allocation)
    assert r.created
