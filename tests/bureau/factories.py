"""Debts in every reporting situation, built through the real services
(placement, close of business, payments) plus test-only shortcuts for what
other features own (a letter already sent, a recall)."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from cases.bureau.services import generate_submission
from cases.models import Debt, Message
from cases.services.close_of_business import run_close_of_business
from cases.services.payments import post_payment
from customers.models import ContactPoint
from tests.factories import CreditorFactory, CustomerFactory, PolicyFactory, ProductFactory, make_debt

PERIOD = date(2026, 6, 1)
PERIOD_END = date(2026, 6, 30)
OPENED = date(2026, 1, 1)  # instalments due 2026-01-31, 2026-03-02, 2026-04-01
UTC = ZoneInfo("UTC")


def at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def us_product(creditor=None, **policy):
    return ProductFactory(
        creditor=creditor or CreditorFactory(), policy=PolicyFactory(jurisdiction="US", **policy)
    )


def cn_product(creditor=None, **policy):
    return ProductFactory(
        creditor=creditor or CreditorFactory(), policy=PolicyFactory(jurisdiction="CN", **policy)
    )


def us_customer(name: str = "John Quincy Public", ssn: str = "123456789", **extra):
    customer = CustomerFactory(
        name=name,
        national_id=ssn,
        jurisdiction="US",
        preferred_language="en",
        time_zone="America/Chicago",
        date_of_birth=date(1980, 5, 17),
        **extra,
    )
    ContactPoint.objects.create(
        customer=customer, kind="address", value="12 Main St, Apt 4, Springfield, IL 62704", primary=True
    )
    ContactPoint.objects.create(
        customer=customer, kind="phone", value="+12175550100", verified=True, primary=True
    )
    return customer


def letter_sent(debt: Debt, on: date) -> Message:
    """A collection letter that went out on ``on`` (the letters feature's row)."""
    return Message.objects.create(
        case_id=debt.case_id,
        debt=debt,
        channel="letter",
        language="en",
        recipient="postal address",
        body="demand letter",
        status=Message.Status.SENT,
        idempotency_key=f"test-letter:{debt.pk}:{on}",
        sent_at=at(on),
    )


def us_debt(
    product=None,
    customer=None,
    *,
    through: date = PERIOD_END,
    letter_on: date | None = date(2026, 2, 1),
    **kw,
):
    """A US debt placed on ``OPENED``, closed through ``through``, with a letter sent."""
    debt = make_debt(
        product=product or us_product(), customer=customer or us_customer(), opened_on=OPENED, **kw
    )
    if letter_on is not None:
        letter_sent(debt, letter_on)
    if through is not None:
        run_close_of_business(business_date=through)
    debt.refresh_from_db()
    return debt


def pay(debt: Debt, amount, on: date, ref: str | None = None):
    result = post_payment(
        debt=debt, amount=Decimal(amount), received_on=on, reference=ref or f"pay-{debt.pk}-{on}-{amount}"
    )
    debt.refresh_from_db()
    return result


def pay_off(debt: Debt, on: date):
    debt.refresh_from_db()
    run_close_of_business(business_date=on - timedelta(days=1))
    debt.refresh_from_db()
    return pay(debt, debt.total_balance, on)


def generate(creditor, period: date = PERIOD, actor=None, **kw):
    return generate_submission(
        creditor=creditor, period=period, actor=actor, generated_at=timezone.now(), **kw
    )
