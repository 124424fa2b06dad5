"""What a demand letter says: every value the templates print, computed once.

``letter_context`` reads the debt, its creditor, its customer and its ledger
and returns a plain dict. The templates (``cases/templates/letters/``) only
lay it out, so the amounts can be tested to the cent without a PDF.

Balances are summed from the ledger up to and including the business date
``today`` (RULES.md §2: the ledger is the truth; ``Debt``'s cached balances
equal these sums once close of business has run for that date). Days past due
and the date of first delinquency are the debt's ageing as of its last close
of business.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Sum

from backoffice.money import ZERO, round_half_up
from cases.models import OWED_COMPONENTS, Debt, LedgerEntry
from cases.services.disputes import RESOLVE_WITHIN
from customers.models import ContactPoint, Jurisdiction

LANGUAGES = ("zh-hans", "en")
DEFAULT_DEADLINE_DAYS = 14
# Regulation F (12 CFR 1006.34(b)(5)): the validation period ends 30 days
# after the consumer receives the notice; receipt is assumed 5 days after
# mailing, so 35 days from the letter date.
VALIDATION_PERIOD_DAYS = 35
# Ledger kinds that add to what is owed after the itemization date; every
# other kind (payments, reversals, adjustments, waivers, write-offs) is a
# "payment or credit" in the itemization (Regulation F 1006.34(c)(2)(vii)).
CHARGE_KINDS = (LedgerEntry.Kind.CHARGE, LedgerEntry.Kind.ACCRUAL)
# Balance lines always printed; legal costs and a credit balance only when
# not zero.
ALWAYS_SHOWN = ("principal", "interest", "penalty", "fees")
# How to pay, per jurisdiction; the templates word each channel.
PAYMENT_CHANNELS = {
    Jurisdiction.CN: ("bank_transfer", "alipay", "wechat"),
    Jurisdiction.US: ("bank_transfer", "check", "card"),
}


@dataclass(frozen=True)
class Line:
    """One row of a money table: ``key`` picks the label in the template."""

    key: str
    amount: Decimal
    display: str


def format_money(amount: Decimal, currency: str) -> str:
    """``CNY 3,150.00``: the ISO code, thousands separators, two decimals."""
    return f"{currency} {amount:,.2f}"


def has_contact_channel(creditor) -> bool:
    """Whether the letter can tell the debtor how to reach the creditor: a
    phone, an email or a postal address (blank strings do not count)."""
    return any((value or "").strip() for value in (creditor.phone, creditor.email, creditor.address))


def postal_address(debt: Debt) -> ContactPoint | None:
    """The customer's address to write to: the primary one first, never one
    marked do-not-contact (RULES.md §4 ``contact_point``)."""
    return (
        ContactPoint.objects.filter(
            customer_id=debt.customer_id, kind=ContactPoint.Kind.ADDRESS, do_not_contact=False
        )
        .order_by("-primary", "id")
        .first()
    )


def _sums(debt: Debt, **filters) -> dict[str, Decimal]:
    rows = (
        LedgerEntry.objects.filter(debt=debt, **filters)
        .values("component")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    # SQLite sums decimals as floats-in-text; every amount is shown to the cent.
    return {row["component"]: round_half_up(row["total"] or ZERO) for row in rows}


def balances_as_of(debt: Debt, day: date) -> dict[str, Decimal]:
    """Each owed component and the credit balance, from ledger entries
    effective on or before ``day``."""
    sums = _sums(debt, effective_on__lte=day)
    return {c: sums.get(c, ZERO) for c in (*OWED_COMPONENTS, "credit")}


def _line(key: str, amount: Decimal, currency: str) -> Line:
    return Line(key=key, amount=amount, display=format_money(amount, currency))


def balance_lines(balances: dict[str, Decimal], currency: str) -> list[Line]:
    lines = [
        _line(key, balances[key], currency)
        for key in (*OWED_COMPONENTS, "credit")
        if key in ALWAYS_SHOWN or balances[key]
    ]
    lines.append(_line("total", sum(balances.values(), ZERO), currency))
    return lines


def itemization(debt: Debt, *, today: date, total: Decimal) -> dict:
    """The validation notice's itemization (Regulation F 1006.34(c)(2)):
    the amount owed on the itemization date (the opening date), what was
    charged since, payments and credits since, and the amount owed now.

    "Payments and credits" is what reconciles the other lines with ``total``,
    so the table always adds up to the cent.
    """
    on = debt.opened_on
    at_itemization = sum(_sums(debt, effective_on__lte=on).values(), ZERO)
    charged = _sums(debt, effective_on__gt=on, effective_on__lte=today, kind__in=CHARGE_KINDS)
    since = {key: charged.get(key, ZERO) for key in ("interest", "penalty", "fees", "legal_cost")}
    credits = total - at_itemization - sum(since.values(), ZERO)
    currency = debt.currency
    lines = [_line("itemization_amount", at_itemization, currency)]
    lines += [_line(key, amount, currency) for key, amount in since.items() if key != "legal_cost" or amount]
    lines.append(_line("payments_and_credits", credits, currency))
    lines.append(_line("total", total, currency))
    return {"date": on, "lines": lines}


def letter_context(
    *, debt: Debt, language: str, today: date, deadline_days: int = DEFAULT_DEADLINE_DAYS
) -> dict:
    """Everything a demand letter prints for ``debt`` on business date ``today``.

    Keys the templates use (documented here for template authors):

    - ``language`` (``zh-hans``/``en``), ``jurisdiction`` (``CN``/``US``),
      ``today``, ``as_of`` (dates), ``page_size`` (``A4``/``letter``);
    - ``creditor`` (name, address, phone, email), ``customer`` (name),
      ``address`` (postal address text or ``""``), ``account_number``,
      ``currency``;
    - ``balances``: list of ``Line`` (key, amount, display) with keys
      ``principal``, ``interest``, ``penalty``, ``fees``, ``legal_cost``
      (when not zero), ``credit`` (when not zero) and ``total`` last;
      ``total`` / ``total_display`` repeat the last line;
    - ``days_past_due``, ``date_of_first_delinquency`` (date or ``None``);
    - ``deadline`` (date to pay by), ``payee``, ``payment_reference``,
      ``payment_channels`` (keys, laid out by the template);
    - ``dispute_within_days`` (RULES.md §5: 30);
    - ``validation`` (US only, else ``None``): ``end_date``,
      ``itemization`` (``date`` and ``lines`` with keys
      ``itemization_amount``, ``interest``, ``penalty``, ``fees``,
      ``legal_cost`` when not zero, ``payments_and_credits``, ``total``);
    - ``time_barred`` (US and the limitation date is before ``today``);
    - ``debt_collector_disclosure`` (US and the policy is not first-party);
    - ``has_contact_channel``: the creditor has a phone, an email or an
      address. Without one, the templates leave out every sentence that asks
      the debtor to contact us (the dispute paragraph keeps only how disputes
      are handled), instead of printing an empty list of channels
      ("请通过以下方式与我们联系：。", issue #16). The letter is still issued:
      a creditor without contact details is a data problem to fix on the
      creditor, not a reason to hold back a letter that states the debt.

    ``ValueError`` for an unknown language or a negative deadline.
    """
    if language not in LANGUAGES:
        raise ValueError(f"Unknown letter language {language!r}; use one of {', '.join(LANGUAGES)}.")
    if deadline_days < 0:
        raise ValueError("deadline_days cannot be negative.")
    debt = Debt.objects.select_related("creditor", "customer", "product__policy").get(pk=debt.pk)
    policy = debt.product.policy
    is_us = policy.jurisdiction == Jurisdiction.US
    balances = balances_as_of(debt, today)
    lines = balance_lines(balances, debt.currency)
    total = lines[-1].amount
    address = postal_address(debt)
    deadline = today + timedelta(days=deadline_days)
    validation = None
    if is_us:
        end_date = today + timedelta(days=VALIDATION_PERIOD_DAYS)
        validation = {"end_date": end_date, "itemization": itemization(debt, today=today, total=total)}
        # FDCPA §1692g(b): a payment date inside the validation period would
        # overshadow the consumer's right to dispute, so a US letter never
        # asks for payment before the validation period ends.
        deadline = max(deadline, end_date)
    return {
        "language": language,
        "jurisdiction": policy.jurisdiction,
        "page_size": "letter" if is_us else "A4",
        "today": today,
        "as_of": today,
        "creditor": debt.creditor,
        "customer": debt.customer,
        "address": address.value if address else "",
        "account_number": debt.account_number,
        "currency": debt.currency,
        "balances": lines,
        "total": total,
        "total_display": lines[-1].display,
        "days_past_due": debt.days_past_due,
        "date_of_first_delinquency": debt.date_of_first_delinquency,
        "deadline": deadline,
        "payee": debt.creditor.name,
        "payment_reference": debt.account_number,
        "payment_channels": PAYMENT_CHANNELS[policy.jurisdiction],
        "dispute_within_days": RESOLVE_WITHIN.days,
        "validation": validation,
        "time_barred": bool(is_us and debt.limitation_on and debt.limitation_on < today),
        "debt_collector_disclosure": is_us and not policy.first_party,
        "has_contact_channel": has_contact_channel(debt.creditor),
    }
