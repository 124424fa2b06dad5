"""Each account status case through the real export, read back field by
field with our own reader (RULES.md §6)."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.bureau.services import add_associated_consumer, mark_reported_in_error, set_account_details
from cases.models import Debt
from cases.services.close_of_business import run_close_of_business
from cases.services.disputes import raise_dispute, resolve_dispute
from cases.services.holds import place_hold
from tests.bureau.factories import (
    PERIOD_END,
    cn_product,
    letter_sent,
    pay,
    pay_off,
    us_customer,
    us_debt,
    us_product,
)
from tests.bureau.helpers import export_text, records_by_account
from tests.factories import CustomerFactory, UserFactory, make_debt

pytestmark = pytest.mark.django_db

NEVER = "B" * 24


@pytest.fixture
def actor():
    return UserFactory(username="bureau-actor")


def only(creditor) -> dict:
    records, _skipped = records_by_account(creditor)
    assert len(records) == 1
    return next(iter(records.values())).fields


def placed(opened_on: date, letter_on: date, through: date = PERIOD_END, **kw):
    """A US debt opened on ``opened_on`` with a letter sent on ``letter_on``."""
    product = kw.pop("product", None) or us_product()
    debt = make_debt(product=product, customer=us_customer(), opened_on=opened_on, **kw)
    letter_sent(debt, letter_on)
    if through is not None:
        run_close_of_business(business_date=through)
    debt.refresh_from_db()
    return debt


def test_a_current_account_is_11_with_no_dofd_and_nothing_past_due():
    debt = placed(date(2026, 6, 1), date(2026, 6, 1))
    v = only(debt.creditor)
    assert v["account_status"] == "11"
    assert v["payment_history_profile"] == NEVER  # opened this month
    assert v["date_of_first_delinquency"] is None
    assert v["amount_past_due"] == 0
    assert v["current_balance"] == 3000
    assert v["scheduled_monthly_payment"] == 1050
    assert v["terms_duration"] == "003" and v["terms_frequency"] == "M"
    assert v["highest_credit"] == 3000
    assert v["date_opened"] == date(2026, 6, 1)
    assert v["date_of_account_information"] == PERIOD_END
    assert (v["surname"], v["first_name"], v["middle_name"]) == ("PUBLIC", "JOHN", "QUINCY")
    assert v["social_security_number"] == 123456789
    assert v["date_of_birth"] == date(1980, 5, 17)
    assert v["telephone_number"] == 2175550100
    assert (v["first_line_of_address"], v["second_line_of_address"]) == ("12 MAIN ST", "APT 4")
    assert (v["city"], v["state"], v["postal_code"], v["country_code"]) == (
        "SPRINGFIELD",
        "IL",
        "62704",
        "US",
    )
    assert v["ecoa_code"] == "1"
    assert v["portfolio_type"] == "I" and v["account_type"] == "01"


def test_1_to_29_days_past_due_is_still_11_with_the_amount_past_due():
    debt = placed(date(2026, 5, 20), date(2026, 5, 25))
    assert debt.days_past_due == 11
    v = only(debt.creditor)
    assert v["account_status"] == "11"
    assert v["payment_history_profile"] == "0" + "B" * 23
    assert v["date_of_first_delinquency"] is None
    assert v["amount_past_due"] == 1050
    assert v["current_balance"] == 3050  # principal and the first instalment's interest


def test_150_days_past_due_is_83_with_history_from_the_ledger_and_field_25():
    debt = us_debt()
    assert debt.days_past_due == 150
    v = only(debt.creditor)
    assert v["account_status"] == "83"
    # May 31: 120 DPD, Apr 30: 89, Mar 31: 59, Feb 28: 28, Jan 31: 0, before opening: B.
    assert v["payment_history_profile"] == "42100" + "B" * 19
    assert v["date_of_first_delinquency"] == date(2026, 3, 2)  # the day DPD reached 30
    assert v["current_balance"] == 3150
    assert v["amount_past_due"] == 3150  # every instalment is overdue
    assert v["payment_rating"] == ""
    assert v["original_charge_off_amount"] == 0


def test_46_days_past_due_is_71():
    debt = placed(date(2026, 4, 15), date(2026, 5, 1))
    v = only(debt.creditor)
    assert v["account_status"] == "71"
    assert v["date_of_first_delinquency"] == date(2026, 6, 14)
    assert v["payment_history_profile"] == "00" + "B" * 22
    assert v["amount_past_due"] == 2100  # the two overdue instalments (principal and interest)


@pytest.mark.parametrize(
    ("through", "status"),
    [
        (date(2026, 3, 31), "71"),
        (date(2026, 4, 30), "78"),
        (date(2026, 5, 5), "80"),
        (date(2026, 6, 5), "82"),
    ],
)
def test_dpd_bands_map_to_their_status(through, status):
    debt = us_debt(through=through)
    v = only(debt.creditor)
    assert v["account_status"] == status
    assert v["date_of_first_delinquency"] == date(2026, 3, 2)


def test_180_days_is_84_before_charge_off():
    debt = us_debt(us_product(charge_off_dpd=400), through=date(2026, 7, 30))
    records, _ = records_by_account(debt.creditor, period=date(2026, 7, 1))
    assert next(iter(records.values())).fields["account_status"] == "84"


def charged_off_debt():
    """Charged off at 120 DPD on 2026-05-31 (policy), US: no accrual after."""
    debt = us_debt(us_product(charge_off_dpd=120))
    assert debt.status == Debt.Status.CHARGED_OFF and debt.charged_off_on == date(2026, 5, 31)
    return debt


def test_charged_off_is_97_with_l_in_the_history_and_the_charge_off_amount():
    debt = charged_off_debt()
    v = only(debt.creditor)
    assert v["account_status"] == "97"
    assert v["payment_history_profile"] == "L2100" + "B" * 19
    assert v["original_charge_off_amount"] == 3150
    assert v["current_balance"] == 3150
    assert v["amount_past_due"] == 3150
    assert v["date_of_first_delinquency"] == date(2026, 3, 2)
    assert v["scheduled_monthly_payment"] == 0


def test_paid_after_charge_off_is_64_and_keeps_field_25():
    debt = charged_off_debt()
    pay_off(debt, date(2026, 6, 20))
    assert debt.status == Debt.Status.PAID
    v = only(debt.creditor)
    assert v["account_status"] == "64"
    assert v["current_balance"] == 0
    assert v["original_charge_off_amount"] == 3150
    assert v["date_of_first_delinquency"] == date(2026, 3, 2)
    assert v["date_closed"] == date(2026, 6, 20)
    assert v["date_of_last_payment"] == date(2026, 6, 20)
    assert v["actual_payment_amount"] == 3150


def test_paid_after_a_delinquency_is_13_with_its_rating_and_field_25():
    debt = placed(date(2026, 4, 15), date(2026, 5, 1), through=None)
    pay_off(debt, date(2026, 6, 20))  # 36 DPD the day before
    v = only(debt.creditor)
    assert v["account_status"] == "13"
    assert v["payment_rating"] == "1"
    assert v["date_of_first_delinquency"] == date(2026, 6, 14)
    assert v["date_closed"] == date(2026, 6, 20)


def test_paid_while_current_is_13_rated_0_with_no_field_25():
    debt = placed(date(2026, 6, 1), date(2026, 6, 2), through=None)
    pay_off(debt, date(2026, 6, 25))
    v = only(debt.creditor)
    assert v["account_status"] == "13"
    assert v["payment_rating"] == "0"
    assert v["date_of_first_delinquency"] is None


def test_a_paid_collection_account_is_62_with_its_original_creditor(actor):
    debt = us_debt(through=date(2026, 5, 31))
    set_account_details(
        debt=debt,
        actor=actor,
        reason="collection account",
        original_creditor_name="First Bank",
        creditor_classification="02",
    )
    pay_off(debt, date(2026, 6, 10))
    records, _ = records_by_account(debt.creditor)
    record = records[debt.account_number]
    assert record.fields["account_status"] == "62"
    assert record.fields["date_of_first_delinquency"] == date(2026, 3, 2)
    assert record.segment("K1")["original_creditor_name"] == "FIRST BANK"
    assert record.segment("K1")["creditor_classification"] == 2


def test_a_settled_account_says_au(actor):
    debt = us_debt(through=date(2026, 5, 31))
    pay(debt, "1000.00", date(2026, 6, 5))
    # The settlement feature closes the debt as settled; only its outcome matters here.
    Debt.objects.filter(pk=debt.pk).update(status=Debt.Status.SETTLED)
    v = only(debt.creditor)
    assert v["account_status"] == "13"
    assert v["special_comment"] == "AU"
    assert v["date_closed"] == date(2026, 6, 5)


def test_a_recalled_account_is_deleted_with_da():
    debt = us_debt()
    # Recall belongs to the placements feature; the debt's status is what we read.
    Debt.objects.filter(pk=debt.pk).update(status=Debt.Status.RECALLED)
    v = only(debt.creditor)
    assert v["account_status"] == "DA"
    assert v["current_balance"] == 0
    assert v["compliance_condition_code"] == ""


def test_an_account_marked_reported_in_error_is_deleted_with_da(actor):
    debt = us_debt()
    state = mark_reported_in_error(
        debt=debt, actor=actor, reason="identity theft confirmed", on=date(2026, 6, 3)
    )
    assert state.reported_in_error and state.error_marked_by == actor
    last = state.history.latest()
    assert last.history_user == actor and "identity theft" in last.history_change_reason
    assert only(debt.creditor)["account_status"] == "DA"


def test_disputes_set_the_compliance_condition_code(actor):
    debt = us_debt()
    dispute = raise_dispute(
        case=debt.case,
        raised_via="phone",
        reason="not mine",
        opened_on=date(2026, 6, 2),
        actor=actor,
        debt=debt,
    )
    assert only(debt.creditor)["compliance_condition_code"] == "XB"
    resolve_dispute(
        dispute=dispute,
        outcome="verified",
        resolved_on=date(2026, 6, 20),
        actor=actor,
        reason="verified",
        verification_sent_on=date(2026, 6, 20),
    )
    assert only(debt.creditor)["compliance_condition_code"] == "XH"
    records, _ = records_by_account(debt.creditor, period=date(2026, 7, 1))
    assert next(iter(records.values())).fields["compliance_condition_code"] == ""


def test_a_consumer_who_still_disagrees_is_xc(actor):
    debt = us_debt()
    dispute = raise_dispute(
        case=debt.case,
        raised_via="letter",
        reason="wrong amount",
        opened_on=date(2026, 6, 2),
        actor=actor,
        debt=debt,
    )
    resolve_dispute(
        dispute=dispute,
        outcome="verified",
        resolved_on=date(2026, 6, 10),
        actor=actor,
        reason="verified",
        consumer_disagrees=True,
        verification_sent_on=date(2026, 6, 10),
    )
    assert only(debt.creditor)["compliance_condition_code"] == "XC"


def test_co_borrowers_are_j1_and_j2_with_their_ecoa_codes(actor):
    debt = us_debt()
    spouse = us_customer(name="Mary Public", ssn="987654321")
    other = us_customer(name="Zed Cosigner Jr", ssn="111223333")
    add_associated_consumer(
        debt=debt, customer=spouse, ecoa_code="2", own_address=False, actor=actor, reason="joint"
    )
    add_associated_consumer(
        debt=debt, customer=other, ecoa_code="5", own_address=True, actor=actor, reason="co-maker"
    )
    records, _ = records_by_account(debt.creditor)
    record = records[debt.account_number]
    assert record.fields["ecoa_code"] == "2"
    j1 = record.segment("J1")
    assert (j1["surname"], j1["first_name"], j1["ecoa_code"], j1["social_security_number"]) == (
        "PUBLIC",
        "MARY",
        "2",
        987654321,
    )
    j2 = record.segment("J2")
    assert (j2["surname"], j2["generation_code"], j2["ecoa_code"], j2["city"]) == (
        "COSIGNER",
        "J",
        "5",
        "SPRINGFIELD",
    )


def test_purchased_accounts_get_k2_and_balloon_schedules_get_k4(actor):
    product = us_product()
    instalments = [
        {"due_on": date(2026, 7, 1), "principal": Decimal("500.00"), "interest": Decimal("0")},
        {"due_on": date(2026, 8, 1), "principal": Decimal("500.00"), "interest": Decimal("0")},
        {"due_on": date(2026, 9, 1), "principal": Decimal("4000.00"), "interest": Decimal("0")},
    ]
    debt = us_debt(product, instalments=instalments, letter_on=date(2026, 6, 1))
    set_account_details(
        debt=debt, actor=actor, reason="bought", purchased_sold="1", purchased_sold_name="Old Owner LLC"
    )
    records, _ = records_by_account(product.creditor)
    record = records[debt.account_number]
    assert record.segment("K2") == {
        "segment_identifier": "K2",
        "purchased_sold_indicator": 1,
        "purchased_sold_name": "OLD OWNER LLC",
        "reserved": "",
    }
    k4 = record.segment("K4")
    assert (
        k4["specialized_payment_indicator"],
        k4["balloon_payment_due_date"],
        k4["balloon_payment_amount"],
    ) == (
        1,
        date(2026, 9, 1),
        4000,
    )


def test_holds_set_ecoa_deceased_and_the_bankruptcy_indicator(actor):
    debt = us_debt()
    place_hold(case=debt.case, hold="bankruptcy", actor=actor, reason="petition filed")
    assert only(debt.creditor)["consumer_information_indicator"] == "Z"
    place_hold(case=debt.case, hold="deceased", actor=actor, reason="death certificate")
    assert only(debt.creditor)["ecoa_code"] == "X"


def test_chinese_names_are_romanised():
    product = cn_product()
    make_debt(product=product, customer=CustomerFactory(name="张伟"), opened_on=date(2026, 6, 1))
    run_close_of_business(business_date=PERIOD_END)
    v = only(product.creditor)
    assert (v["surname"], v["first_name"], v["social_security_number"]) == ("ZHANG", "WEI", 0)


def test_export_queries_do_not_grow_with_the_number_of_accounts(actor):
    product = us_product()
    customer = us_customer()
    for _ in range(3):
        us_debt(product, customer, through=None)
    run_close_of_business(business_date=PERIOD_END)

    def count(chunk_size: int) -> int:
        with CaptureQueriesContext(connection) as ctx:
            export_text(product.creditor, chunk_size=chunk_size)
        return len(ctx.captured_queries)

    few = count(chunk_size=100)
    for _ in range(6):
        debt = us_debt(product, customer, through=None)
        add_associated_consumer(
            debt=debt,
            customer=us_customer(name="Co Borrower"),
            ecoa_code="2",
            own_address=True,
            actor=actor,
            reason="joint",
        )
    run_close_of_business(business_date=PERIOD_END)
    assert count(chunk_size=100) == few  # one chunk: same queries for 3 or 9 accounts
    assert count(chunk_size=3) <= few * 3 + 2  # three chunks: the same per chunk
    assert few <= 12
