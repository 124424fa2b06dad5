"""Who is reported (RULES.md §6): US first contact plus 14 days, the CN
pre-notification before the first negative report, deletions once, closed
accounts in their month, US age-off."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from cases.bureau.models import FurnishingState
from cases.bureau.services import mark_reported_in_error, run_month_for_creditor, send_prenotification
from cases.models import Debt, Message
from cases.services.close_of_business import run_close_of_business
from cases.services.holds import place_hold
from tests.bureau.factories import PERIOD, PERIOD_END, cn_product, generate, letter_sent, pay_off, us_debt
from tests.bureau.helpers import records_by_account
from tests.factories import ContactPointFactory, CustomerFactory, UserFactory, make_debt

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
MORNING = datetime.combine(date(2026, 6, 15), time(10), tzinfo=SHANGHAI)


@pytest.fixture
def actor():
    return UserFactory(username="bureau-rules")


def reported(creditor, period=PERIOD) -> tuple[set, dict]:
    records, skipped = records_by_account(creditor, period)
    return {r.fields["account_status"] for r in records.values()}, dict(skipped)


# --- US: a letter sent and 14 days passed -----------------------------------------


def test_us_account_without_a_letter_is_not_reported():
    debt = us_debt(letter_on=None)
    assert reported(debt.creditor) == (set(), {"US: no letter sent 14 days before": 1})


def test_us_letter_less_than_14_days_before_the_months_end_is_not_enough():
    debt = us_debt(letter_on=date(2026, 6, 17))
    assert reported(debt.creditor)[0] == set()


def test_us_letter_14_days_before_the_months_end_allows_reporting():
    debt = us_debt(letter_on=date(2026, 6, 16))
    assert reported(debt.creditor) == ({"83"}, {})


def test_a_returned_letter_does_not_count():
    debt = us_debt(letter_on=None)
    letter = letter_sent(debt, date(2026, 2, 1))
    Message.objects.filter(pk=letter.pk).update(status=Message.Status.FAILED)
    assert reported(debt.creditor)[0] == set()


def test_us_negative_items_age_off_7_years_and_180_days_after_field_25():
    debt = us_debt()
    Debt.objects.filter(pk=debt.pk).update(delinquent_30_on=date(2018, 12, 31))  # 7y+180d: 2026-06-29
    assert reported(debt.creditor) == (set(), {"US: aged off (7 years + 180 days)": 1})
    Debt.objects.filter(pk=debt.pk).update(delinquent_30_on=date(2019, 1, 2))  # 2026-07-01: not yet
    assert reported(debt.creditor)[0] == {"83"}


# --- closed accounts and deletions -----------------------------------------------------


def test_a_paid_account_is_reported_in_the_month_it_closed_only():
    debt = us_debt(through=date(2026, 5, 31))
    pay_off(debt, date(2026, 6, 10))
    assert reported(debt.creditor)[0] == {"13"}
    assert reported(debt.creditor, date(2026, 7, 1)) == (set(), {"closed earlier": 1})


def test_a_deletion_goes_out_once(actor):
    debt = us_debt()
    mark_reported_in_error(debt=debt, actor=actor, reason="not the consumer's", on=date(2026, 6, 5))
    submission = generate(debt.creditor, actor=actor)
    assert submission.status_counts == {"DA": 1}
    assert FurnishingState.objects.get(debt=debt).deletion_period == "2026-06"
    assert reported(debt.creditor, PERIOD)[0] == {"DA"}  # the same month again: still there
    assert reported(debt.creditor, date(2026, 7, 1)) == (set(), {"deleted earlier": 1})


# --- CN: pre-notification before the first negative report ---------------------------------


def cn_debt(*, phone=True, through=PERIOD_END):
    customer = CustomerFactory()
    if phone:
        ContactPointFactory(customer=customer)
    product = cn_product()
    debt = make_debt(product=product, customer=customer, opened_on=date(2026, 1, 1))
    run_close_of_business(business_date=through)
    debt.refresh_from_db()
    return debt


def test_cn_negative_data_waits_for_the_pre_notification():
    debt = cn_debt()
    assert debt.days_past_due == 150
    assert reported(debt.creditor) == (set(), {"CN: pre-notification not sent": 1})


def test_cn_current_accounts_need_no_pre_notification():
    debt = cn_debt(through=date(2026, 1, 20))
    records, _ = records_by_account(debt.creditor, date(2026, 1, 1))
    assert {r.fields["account_status"] for r in records.values()} == {"11"}


def test_cn_pre_notification_goes_through_messaging_then_negative_data_is_reported(
    actor, django_capture_on_commit_callbacks
):
    debt = cn_debt()
    with time_machine.travel(MORNING, tick=False), django_capture_on_commit_callbacks(execute=True):
        message = send_prenotification(debt=debt, at=MORNING, actor=actor)
    message.refresh_from_db()
    assert message.channel == "sms" and message.status == Message.Status.SENT
    assert message.template.code == "bureau-prenotice"
    assert debt.account_number in message.body
    state = FurnishingState.objects.get(debt=debt)
    assert state.prenotice == message and state.prenotified_on == date(2026, 6, 15)
    assert state.history.latest().history_change_reason == "bureau pre-notification queued"
    assert reported(debt.creditor)[0] == {"83"}
    # A second call is the same message, nothing new.
    assert send_prenotification(debt=debt, at=MORNING, actor=actor).pk == message.pk


def test_a_pre_notification_refused_by_the_contact_rules_keeps_the_data_back(actor):
    debt = cn_debt()
    place_hold(case=debt.case, hold="cease", actor=actor, reason="cease requested")
    message = send_prenotification(debt=debt, at=MORNING, actor=actor)
    assert message.status == Message.Status.BLOCKED
    assert reported(debt.creditor) == (set(), {"CN: pre-notification not sent": 1})


def test_a_customer_without_a_phone_gets_a_letter():
    debt = cn_debt(phone=False)
    ContactPointFactory(customer=debt.customer, kind="address", value="北京市朝阳区建国路1号", verified=False)
    message = send_prenotification(debt=debt, at=MORNING, actor=UserFactory())
    assert message.channel == "letter"


def test_the_monthly_run_pre_notifies_then_reports_next_month(actor, django_capture_on_commit_callbacks):
    debt = cn_debt()
    with time_machine.travel(MORNING, tick=False), django_capture_on_commit_callbacks(execute=True):
        submission = run_month_for_creditor(creditor=debt.creditor, period=PERIOD, actor=actor, at=MORNING)
    # The notice is sent after the file is written: this month's file holds the data back.
    assert submission.skipped == {"CN: pre-notification not sent": 1}
    assert Message.objects.filter(debt=debt, template__code="bureau-prenotice", status="sent").exists()
    run_close_of_business(business_date=date(2026, 7, 31))
    july = run_month_for_creditor(creditor=debt.creditor, period=date(2026, 7, 1), actor=actor, at=MORNING)
    assert july.status_counts == {"97": 1}  # charged off at 180 DPD on 2026-07-30
