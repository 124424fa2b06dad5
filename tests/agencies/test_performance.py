"""Agency performance side by side, against a hand-made portfolio."""

from datetime import date
from decimal import Decimal

import pytest

from cases.agencies.selectors import agency_performance
from cases.agencies.services import place_with_agency, recall_placement
from cases.models import PromiseToPay
from cases.services.payments import post_payment
from tests.agencies.conftest import agency_staff, case_with_debt, make_agency

pytestmark = pytest.mark.django_db

MARCH = (date(2026, 3, 1), date(2026, 3, 31))


def place(case, agency, actor, start, end=date(2026, 6, 30)):
    return place_with_agency(
        cases=[case], agency=agency, start_on=start, end_on=end, actor=actor, reason="perf"
    )[0]


def promise(case, by, amount: str, due: date, status: str, paid: str = "0.00"):
    return PromiseToPay.objects.create(
        case=case,
        amount=Decimal(amount),
        due_on=due,
        status=status,
        paid_amount=Decimal(paid),
        created_by=by,
    )


def test_agencies_side_by_side_for_march(product, supervisor, role_groups):
    alpha, beta = make_agency("Alpha"), make_agency("Beta")
    make_agency("Idle")
    alpha_agent, beta_agent = agency_staff(alpha, "a1"), agency_staff(beta, "b1")
    one, two, three, old = (case_with_debt(product) for _ in range(4))
    place(one, alpha, supervisor, date(2026, 2, 1))
    place(two, alpha, supervisor, date(2026, 3, 1))
    place(three, beta, supervisor, date(2026, 3, 5))
    ended = place(old, alpha, supervisor, date(2026, 1, 5))
    recall_placement(placement=ended, on=date(2026, 2, 15), actor=supervisor, reason="ended before March")
    post_payment(
        debt=one.debts.get(), amount=Decimal("300.00"), received_on=date(2026, 3, 10), reference="A-1"
    )
    post_payment(
        debt=one.debts.get(), amount=Decimal("50.00"), received_on=date(2026, 2, 10), reference="A-0"
    )
    promise(one, alpha_agent, "100.00", date(2026, 3, 10), PromiseToPay.Status.KEPT, "100.00")
    promise(one, alpha_agent, "200.00", date(2026, 3, 12), PromiseToPay.Status.BROKEN)
    promise(two, alpha_agent, "100.00", date(2026, 3, 15), PromiseToPay.Status.PARTIALLY_KEPT, "40.00")
    promise(two, alpha_agent, "100.00", date(2026, 4, 2), PromiseToPay.Status.KEPT, "100.00")  # April
    promise(two, supervisor, "500.00", date(2026, 3, 15), PromiseToPay.Status.KEPT, "500.00")  # the lender's
    promise(three, beta_agent, "80.00", date(2026, 3, 30), PromiseToPay.Status.PENDING)  # not settled yet

    rows = {row.agency.name: row for row in agency_performance(start=MARCH[0], end=MARCH[1])}
    assert list(rows) == ["Alpha", "Beta", "Idle"]
    alpha_row, beta_row, idle_row = rows["Alpha"], rows["Beta"], rows["Idle"]
    assert (alpha_row.placements, alpha_row.placed_balance) == (2, Decimal("6000.00"))
    assert alpha_row.collected == Decimal("300.00")
    assert alpha_row.commission == Decimal("30.00")
    assert alpha_row.recovery_rate == Decimal("0.0500")
    assert alpha_row.promises_due == Decimal("400.00")
    assert alpha_row.promise_kept_rate == Decimal("0.3500")  # (100 + 40) / 400
    assert (beta_row.placements, beta_row.placed_balance, beta_row.collected) == (
        1,
        Decimal("3000.00"),
        Decimal("0"),
    )
    assert beta_row.recovery_rate == Decimal("0.0000") and beta_row.promise_kept_rate is None
    assert idle_row.placements == 0 and idle_row.recovery_rate is None


def test_performance_is_a_few_queries_whatever_the_agencies(
    product, supervisor, django_assert_max_num_queries
):
    for n in range(5):
        agency = make_agency(f"A{n}")
        place(case_with_debt(product), agency, supervisor, date(2026, 3, 1))
    with django_assert_max_num_queries(4):
        rows = agency_performance(start=MARCH[0], end=MARCH[1])
    assert len(rows) == 5
