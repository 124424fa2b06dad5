"""Commission from ledger payments received while a case was placed, to the
cent, with reversals reversing their commission across a month boundary."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from cases.agencies.selectors import commission_lines, commission_statement, statement_rows
from cases.agencies.services import place_with_agency, recall_placement
from cases.services.payments import post_payment, reverse_payment
from tests.agencies.conftest import case_with_debt, make_agency

pytestmark = pytest.mark.django_db


def pay(debt, amount: str, on: date, ref: str):
    return post_payment(debt=debt, amount=Decimal(amount), received_on=on, reference=ref).payment


@pytest.fixture
def book(product, agency, supervisor):
    """Case placed with Alpha (M2, 12.50 %) 2026-02-01 … 2026-04-30,
    recalled by hand on 2026-03-20; payments before, during and after."""
    case = case_with_debt(product, bucket="M2")
    debt = case.debts.get()
    (placement,) = place_with_agency(
        cases=[case],
        agency=agency,
        start_on=date(2026, 2, 1),
        end_on=date(2026, 4, 30),
        actor=supervisor,
        reason="February book",
    )
    payments = {
        "before": pay(debt, "100.00", date(2026, 1, 20), "BEFORE"),
        "feb_a": pay(debt, "333.33", date(2026, 2, 10), "FEB-A"),
        "feb_b": pay(debt, "200.01", date(2026, 2, 27), "FEB-B"),
    }
    reverse_payment(payment=payments["feb_b"], reversed_on=date(2026, 3, 3), reason="returned transfer")
    payments["mar"] = pay(debt, "99.99", date(2026, 3, 15), "MAR")
    recall_placement(placement=placement, on=date(2026, 3, 20), actor=supervisor, reason="recalled")
    payments["after"] = pay(debt, "50.00", date(2026, 3, 25), "AFTER")
    return placement


def test_february_statement_counts_payments_received_while_placed(book, agency):
    statement = commission_statement(agency=agency, month=date(2026, 2, 14))
    lines = [(line.reference, line.kind, line.collected, line.commission) for line in statement.lines]
    assert lines == [
        ("FEB-A", "payment", Decimal("333.33"), Decimal("41.67")),  # 41.66625 half-up
        ("FEB-B", "payment", Decimal("200.01"), Decimal("25.00")),  # 25.00125
    ]
    assert statement.collected == Decimal("533.34")
    assert statement.commission == Decimal("66.67")


def test_a_reversal_in_march_takes_back_februarys_commission(book, agency):
    statement = commission_statement(agency=agency, month=date(2026, 3, 1))
    lines = [
        (line.reference, line.kind, line.effective_on, line.collected, line.commission)
        for line in statement.lines
    ]
    assert lines == [
        ("FEB-B", "reversal", date(2026, 3, 3), Decimal("-200.01"), Decimal("-25.00")),
        ("MAR", "payment", date(2026, 3, 15), Decimal("99.99"), Decimal("12.50")),  # 12.49875
    ]
    assert statement.collected == Decimal("-100.02")
    assert statement.commission == Decimal("-12.50")


def test_payments_outside_the_placement_earn_nothing(book, agency):
    every = commission_lines(start=date(2026, 1, 1), end=date(2026, 12, 31), agencies=[agency])
    assert {line.reference for line in every} == {"FEB-A", "FEB-B", "MAR"}
    assert sum(line.commission for line in every) == Decimal("54.17")


def test_another_agency_sees_none_of_it(book):
    other = make_agency("Beta")
    assert commission_statement(agency=other, month=date(2026, 2, 1)).lines == []


def test_a_later_placement_with_another_agency_earns_only_its_own_days(book, product, supervisor):
    other = make_agency("Beta", rate="20.00")
    case = book.case
    place_with_agency(
        cases=[case],
        agency=other,
        start_on=date(2026, 3, 26),
        end_on=date(2026, 5, 31),
        actor=supervisor,
        reason="second agency",
    )
    debt = case.debts.get()
    pay(debt, "10.05", date(2026, 3, 28), "BETA-1")
    beta = commission_statement(agency=other, month=date(2026, 3, 1))
    # AFTER (2026-03-25) fell between the two placements: nobody's.
    assert not commission_lines(start=date(2026, 3, 25), end=date(2026, 3, 25))
    assert [(line.reference, line.commission) for line in beta.lines] == [("BETA-1", Decimal("2.01"))]


def test_the_csv_has_every_line_and_the_total(book, agency):
    statement = commission_statement(agency=agency, month=date(2026, 3, 1))
    buffer = io.StringIO()
    csv.writer(buffer).writerows(statement_rows(statement))
    rows = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert rows[0][:3] == ["agency", "placement", "case"]
    assert [row[-1] for row in rows[1:]] == ["-25.00", "12.50", "-12.50"]
    assert rows[-1][6:8] == ["total", "-100.02"]
