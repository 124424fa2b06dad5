"""From our state to Metro 2 accounts (RULES.md §6), streamed per chunk.

``export_accounts`` walks one creditor's debts with ``.iterator(chunk_size)``
and, for each chunk, loads everything the records need with a fixed number
of bulk queries (instalment ledger entries, disputes, letters, co-borrowers,
contact points, charge-off amounts, the period's payments), so the number of
queries grows with the number of chunks, never with the number of accounts.

What each field says (the rules, in one place):

- account status (17A): ``DA`` recalled or marked reported in error; ``97``
  charged off or written off unpaid; ``64`` paid/settled after charge-off;
  ``62`` paid collection account (one with an original creditor, K1);
  ``13`` paid/closed; otherwise by DPD: ``11`` 0–29, ``71`` 30–59, ``78``
  60–89, ``80`` 90–119, ``82`` 120–149, ``83`` 150–179, ``84`` 180+;
- payment rating (17B), for ``13``: the DPD band the day before the last payment;
- payment history profile (18): the 24 months before the reported month,
  newest first: ``0`` 0–29 DPD, ``1``–``6`` per further 30 days, ``L`` once
  charged off, ``B`` before the account was opened. DPD at each month end is
  rebuilt from the ledger (RULES §1: the oldest instalment still owing more
  than the tolerance), because simple-history does not keep the daily DPD
  (``days_past_due`` is excluded from ``HistoricalDebt``);
- field 25 (DOFD): the day the unbroken delinquency reached 30 DPD
  (``Debt.delinquent_30_on``) for every delinquent or derogatory status and
  for 13/62/64 closing such a chain; empty otherwise;
- compliance condition (20): ``XB`` open dispute, ``XC`` resolved but the
  consumer disagrees, ``XH`` resolved in the reported month;
- special comment (19): ``AU`` settled for less than the full balance;
- consumer information indicator (39): the account's own value, else ``Z``
  (bankruptcy, chapter undesignated) while a bankruptcy hold is on;
- ECOA (38): ``X`` deceased hold, ``W`` a company, ``2`` when a co-borrower
  shares liability, else ``1``.

Who is not reported (counted by reason on the submission): US accounts
without a collection letter sent at least 14 days before the month's end;
CN accounts with negative data before the pre-notification message was
sent; accounts closed in an earlier month; deletions already reported; US
negative items 7 years + 180 days after field 25.
"""

import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import batched

from django.db.models import F, Q, Sum

from cases.bureau.metro2 import Account, Consumer
from cases.bureau.models import AssociatedConsumer, FurnisherProfile
from cases.models import Debt, Dispute, Instalment, LedgerEntry, Message, Payment
from customers.models import ContactPoint

ZERO = Decimal("0")
DEFAULT_CHUNK_SIZE = 2000
US_FIRST_CONTACT_DAYS = 14
NEGATIVE_STATUSES = frozenset({"71", "78", "80", "82", "83", "84", "97"})
CLOSED_STATUSES = frozenset({"13", "62", "64"})
SENT_STATUSES = (Message.Status.SENT, Message.Status.DELIVERED)


def month_end(day: date) -> date:
    following = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return following - timedelta(days=1)


def months_back(period: date, count: int) -> date:
    """First day of the month ``count`` months before ``period``'s month."""
    index = period.year * 12 + period.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def status_for_dpd(dpd: int) -> str:
    for limit, code in ((30, "11"), (60, "71"), (90, "78"), (120, "80"), (150, "82"), (180, "83")):
        if dpd < limit:
            return code
    return "84"


def history_code(dpd: int) -> str:
    """0 for 0–29 DPD, 1–6 for each further 30 days (RULES §6)."""
    return "0" if dpd < 30 else str(min(dpd // 30, 6))


# --- names and addresses ------------------------------------------------------

_GENERATIONS = {"JR": "J", "SR": "S", "II": "2", "III": "3", "IV": "4"}


def _romanize(text: str) -> str:
    """Latin letters for a name written in Chinese characters (Metro 2 is ASCII)."""
    if all(ord(c) < 128 for c in text):
        return text
    from pypinyin import lazy_pinyin

    return " ".join(lazy_pinyin(text))


def split_name(name: str, *, company: bool = False) -> dict:
    if company:
        return {"surname": _romanize(name), "first_name": "", "middle_name": "", "generation_code": ""}
    if name and all(ord(c) >= 0x2E80 for c in name.replace(" ", "")):
        # Chinese order: family name first (one character; compound names are rare).
        syllables = _romanize(name.replace(" ", "")).split()
        return {
            "surname": syllables[0] if syllables else "",
            "first_name": "".join(syllables[1:]),
            "middle_name": "",
            "generation_code": "",
        }
    tokens = _romanize(name).replace(",", " ").split()
    generation = ""
    if len(tokens) > 2 and tokens[-1].upper().rstrip(".") in _GENERATIONS:
        generation = _GENERATIONS[tokens.pop().upper().rstrip(".")]
    if len(tokens) == 1:
        return {"surname": tokens[0], "first_name": "", "middle_name": "", "generation_code": generation}
    return {
        "surname": tokens[-1] if tokens else "",
        "first_name": tokens[0] if tokens else "",
        "middle_name": " ".join(tokens[1:-1]),
        "generation_code": generation,
    }


_STATE_ZIP = re.compile(r"^([A-Za-z]{2})\s+(\d{5})(?:-?(\d{4}))?$")


def split_address(value: str, *, jurisdiction: str) -> dict:
    """``line1[, line2], city, ST 12345`` (US) or free text (CN, first 2 lines)."""
    parts = [p.strip() for p in (value or "").replace("\n", ",").split(",") if p.strip()]
    match = _STATE_ZIP.match(parts[-1]) if parts else None
    if match and len(parts) >= 3:
        return {
            "country": "US" if jurisdiction == "US" else "",
            "line1": parts[0],
            "line2": " ".join(parts[1:-2]),
            "city": parts[-2],
            "state": match.group(1),
            "postal_code": match.group(2) + (match.group(3) or ""),
        }
    text = _romanize(" ".join(parts))
    return {
        "country": "CN" if jurisdiction == "CN" else "",
        "line1": text[:32],
        "line2": text[32:64],
        "city": "",
        "state": "",
        "postal_code": "",
    }


def digits(text: str) -> str:
    return "".join(c for c in (text or "") if c.isdigit())


def ssn_of(customer) -> str:
    """Only a US social security number goes in the SSN field."""
    number = digits(customer.national_id)
    return number if customer.jurisdiction == "US" and len(number) == 9 else ""


def phone_of(value: str) -> str:
    number = digits(value)
    if number.startswith("1") and len(number) == 11:
        number = number[1:]
    return number[-10:] if len(number) >= 10 else ""


# --- per chunk ------------------------------------------------------------------


@dataclass
class ChunkData:
    instalments: dict  # debt id → [(id, due_on, principal, interest)]
    entries: dict  # instalment id → [(effective_on, amount)]
    disputes: dict  # debt id → [(status, consumer_disagrees, resolved_on)]
    lettered: set  # debt ids with a collection letter sent in time (US)
    associated: dict  # debt id → [AssociatedConsumer]
    points: dict  # customer id → {"address": value, "phone": value}
    charge_off_amounts: dict  # debt id → Decimal
    paid_in_period: dict  # debt id → Decimal

    @classmethod
    def load(cls, debts: list[Debt], *, period: date, period_end: date) -> "ChunkData":
        ids = [d.pk for d in debts]
        instalments: dict = defaultdict(list)
        for row in (
            Instalment.objects.filter(debt_id__in=ids)
            .order_by("debt_id", "due_on", "number")
            .values_list("pk", "debt_id", "due_on", "principal", "interest")
        ):
            instalments[row[1]].append((row[0], row[2], row[3], row[4]))
        entries: dict = defaultdict(list)
        for inst_id, effective_on, amount in (
            LedgerEntry.objects.filter(
                debt_id__in=ids,
                instalment__isnull=False,
                component__in=("principal", "interest"),
                effective_on__lte=period_end,
            )
            .order_by()
            .values_list("instalment_id", "effective_on", "amount")
        ):
            entries[inst_id].append((effective_on, amount))
        case_debts = defaultdict(list)
        for d in debts:
            if d.case_id:
                case_debts[d.case_id].append(d.pk)
        disputes: dict = defaultdict(list)
        for debt_id, case_id, status, disagrees, resolved_on in (
            Dispute.objects.filter(Q(debt_id__in=ids) | Q(debt__isnull=True, case_id__in=list(case_debts)))
            .filter(opened_on__lte=period_end)
            .order_by()
            .values_list("debt_id", "case_id", "status", "consumer_disagrees", "resolved_on")
        ):
            for target in [debt_id] if debt_id else case_debts[case_id]:
                disputes[target].append((status, disagrees, resolved_on))
        cutoff = period_end - timedelta(days=US_FIRST_CONTACT_DAYS)
        lettered = set(
            Message.objects.filter(
                debt_id__in=ids, channel="letter", status__in=SENT_STATUSES, sent_at__date__lte=cutoff
            )
            .order_by()
            .values_list("debt_id", flat=True)
            .distinct()
        )
        associated: dict = defaultdict(list)
        for row in (
            AssociatedConsumer.objects.filter(debt_id__in=ids).select_related("customer").order_by("id")
        ):
            associated[row.debt_id].append(row)
        customer_ids = {d.customer_id for d in debts} | {
            a.customer_id for rows in associated.values() for a in rows
        }
        points: dict = defaultdict(dict)
        for customer_id, kind, value in (
            ContactPoint.objects.filter(
                customer_id__in=customer_ids, kind__in=(ContactPoint.Kind.ADDRESS, ContactPoint.Kind.PHONE)
            )
            .order_by("customer_id", "-primary", "-verified", "id")
            .values_list("customer_id", "kind", "value")
        ):
            points[customer_id].setdefault(kind, value)
        charged = [d.pk for d in debts if d.charged_off_on]
        charge_off_amounts = {}
        if charged:
            charge_off_amounts = dict(
                LedgerEntry.objects.filter(debt_id__in=charged, effective_on__lte=F("debt__charged_off_on"))
                .exclude(component="credit")
                .order_by()
                .values("debt_id")
                .annotate(total=Sum("amount"))
                .values_list("debt_id", "total")
            )
        paid_in_period = dict(
            Payment.objects.filter(
                debt_id__in=ids, status=Payment.Status.POSTED, received_on__range=(period, period_end)
            )
            .order_by()
            .values("debt_id")
            .annotate(total=Sum("amount"))
            .values_list("debt_id", "total")
        )
        return cls(
            instalments, entries, disputes, lettered, associated, points, charge_off_amounts, paid_in_period
        )

    def dpd_at(self, debt: Debt, day: date, tolerance: Decimal) -> int:
        """RULES §1 on ``day`` from the ledger: day − due date of the oldest
        instalment due before ``day`` that still owes more than the tolerance."""
        for inst_id, due_on, _principal, _interest in self.instalments.get(debt.pk, ()):
            if due_on >= day:
                break
            owed = sum((amount for on, amount in self.entries.get(inst_id, ()) if on <= day), ZERO)
            if owed > tolerance:
                return (day - due_on).days
        return 0


# --- one account ------------------------------------------------------------------


def compliance_code(disputes: list, *, period: date, period_end: date) -> str:
    if any(status == Dispute.Status.OPEN for status, _d, _r in disputes):
        return "XB"
    if any(disagrees for _s, disagrees, _r in disputes):
        return "XC"
    if any(resolved and period <= resolved <= period_end for _s, _d, resolved in disputes):
        return "XH"
    return ""


def account_status(debt: Debt, state, dpd: int) -> str:
    if debt.status == Debt.Status.RECALLED or (state is not None and state.reported_in_error):
        return "DA"
    if debt.status in (Debt.Status.CHARGED_OFF, Debt.Status.WRITTEN_OFF):
        return "97"
    if debt.status in (Debt.Status.PAID, Debt.Status.SETTLED):
        if debt.charged_off_on:
            return "64"
        if state is not None and state.original_creditor_name:
            return "62"
        return "13"
    return status_for_dpd(dpd)


def _state(debt: Debt):
    try:
        return debt.furnishing
    except Debt.furnishing.RelatedObjectDoesNotExist:
        return None


def skip_reason(
    debt: Debt, state, status: str, *, period: date, period_end: date, data: ChunkData
) -> str | None:
    """Why this account stays out of the month's file, or ``None``."""
    jurisdiction = debt.product.policy.jurisdiction
    if status == "DA":
        if state is not None and state.deletion_period and state.deletion_period != f"{period:%Y-%m}":
            return "deleted earlier"
        return None
    if status in CLOSED_STATUSES and (debt.last_payment_on is None or debt.last_payment_on < period):
        return "closed earlier"
    if jurisdiction == "US" and debt.pk not in data.lettered:
        return "US: no letter sent 14 days before"
    negative = status in NEGATIVE_STATUSES or (status in CLOSED_STATUSES and debt.delinquent_30_on)
    if jurisdiction == "CN" and negative:
        prenotice = state.prenotice if state is not None else None
        if prenotice is None or prenotice.status not in SENT_STATUSES:
            return "CN: pre-notification not sent"
    if jurisdiction == "US" and debt.delinquent_30_on:
        if add_years(debt.delinquent_30_on, 7) + timedelta(days=180) < period_end:
            return "US: aged off (7 years + 180 days)"
    return None


def payment_history(debt: Debt, data: ChunkData, *, period: date, tolerance: Decimal) -> str:
    codes = []
    for back in range(1, 25):
        end = month_end(months_back(period, back))
        if end < debt.opened_on:
            codes.append("B")
        elif debt.charged_off_on and debt.charged_off_on <= end:
            codes.append("L")
        else:
            codes.append(history_code(data.dpd_at(debt, end, tolerance)))
    return "".join(codes)


def _terms(rows: list) -> tuple[str, str, Decimal, tuple | None]:
    """Terms duration and frequency, the scheduled payment, and a K4 balloon."""
    if not rows:
        return "001", "P", ZERO, None
    amounts = [principal + interest for _i, _d, principal, interest in rows]
    regular = amounts[0]
    frequency = "M"
    if len(rows) > 1:
        gap = (rows[1][1] - rows[0][1]).days
        frequency = "W" if gap <= 8 else "B" if gap <= 16 else "M" if gap <= 31 else "Q" if gap <= 92 else "Y"
    balloon = None
    if len(rows) > 1 and amounts[-1] >= 2 * regular:
        balloon = ("01", None, rows[-1][1], amounts[-1])
    return f"{min(len(rows), 999):03d}", frequency, regular, balloon


def build_account(
    debt: Debt,
    data: ChunkData,
    *,
    profile,
    period: date,
    period_end: date,
    stamp: datetime,
) -> tuple[Account | None, str | None]:
    """The Metro 2 account for ``debt``, or ``(None, why)`` when it is not reported."""
    state = _state(debt)
    dpd = debt.days_past_due if debt.status == Debt.Status.OPEN else 0
    status = account_status(debt, state, dpd)
    why = skip_reason(debt, state, status, period=period, period_end=period_end, data=data)
    if why:
        return None, why
    customer = debt.customer
    tolerance = debt.product.policy.tolerance
    company = customer.kind == customer.Kind.COMPANY
    holds = set(debt.case.holds) if debt.case_id else set()
    rows = data.instalments.get(debt.pk, [])
    duration, frequency, scheduled, balloon = _terms(rows)
    balance = max(debt.total_balance, ZERO) if status != "DA" else ZERO
    past_due = ZERO
    if status == "97":
        past_due = balance
    elif status in {"11", *NEGATIVE_STATUSES} and dpd > 0:
        today = debt.closed_through or period_end
        owed_overdue = ZERO
        for inst_id, due_on, _p, _i in rows:
            if due_on < today:
                owed = sum((a for on, a in data.entries.get(inst_id, ()) if on <= today), ZERO)
                if owed > tolerance:
                    owed_overdue += owed
        past_due = min(
            balance, owed_overdue + debt.penalty_balance + debt.fees_balance + debt.legal_cost_balance
        )
    dofd = None
    if status in NEGATIVE_STATUSES or status in CLOSED_STATUSES:
        dofd = debt.delinquent_30_on
    rating = ""
    if status == "13":
        before = (debt.last_payment_on or period_end) - timedelta(days=1)
        rating = history_code(data.dpd_at(debt, before, tolerance))
    associated = []
    for row in data.associated.get(debt.pk, []):
        person = row.customer
        pts = data.points.get(person.pk, {})
        address = None
        if row.own_address:
            address = split_address(pts.get(ContactPoint.Kind.ADDRESS, ""), jurisdiction=person.jurisdiction)
        associated.append(
            Consumer(
                **split_name(person.name, company=person.kind == person.Kind.COMPANY),
                ssn=ssn_of(person),
                date_of_birth=person.date_of_birth,
                telephone=phone_of(pts.get(ContactPoint.Kind.PHONE, "")),
                ecoa_code=row.ecoa_code,
                address=address,
            )
        )
    ecoa = "1"
    if "deceased" in holds:
        ecoa = "X"
    elif company:
        ecoa = "W"
    elif any(a.ecoa_code == AssociatedConsumer.Ecoa.JOINT for a in associated):
        ecoa = "2"
    cii = state.consumer_information_indicator if state is not None else ""
    if not cii and "bankruptcy" in holds:
        cii = "Z"
    pts = data.points.get(customer.pk, {})
    original_creditor = purchased = None
    if state is not None and state.original_creditor_name:
        original_creditor = (state.original_creditor_name, state.creditor_classification or "01")
    if state is not None and state.purchased_sold:
        purchased = (state.purchased_sold, state.purchased_sold_name)
    account = Account(
        identification_number=profile.identification_number,
        account_number=debt.account_number,
        portfolio_type=profile.portfolio_type,
        account_type=profile.account_type,
        date_opened=debt.opened_on,
        highest_credit=debt.original_principal,
        terms_duration=duration,
        terms_frequency=frequency,
        scheduled_monthly_payment=scheduled if status not in ("DA", "97", *CLOSED_STATUSES) else ZERO,
        actual_payment_amount=data.paid_in_period.get(debt.pk) or ZERO,
        account_status=status,
        payment_rating=rating,
        payment_history_profile=payment_history(debt, data, period=period, tolerance=tolerance),
        special_comment="AU" if debt.status == Debt.Status.SETTLED and status != "DA" else "",
        compliance_condition_code=compliance_code(
            data.disputes.get(debt.pk, []), period=period, period_end=period_end
        )
        if status != "DA"
        else "",
        current_balance=balance,
        amount_past_due=past_due,
        original_charge_off_amount=data.charge_off_amounts.get(debt.pk) or ZERO
        if debt.charged_off_on and status != "DA"
        else ZERO,
        date_of_account_information=period_end,
        date_of_first_delinquency=dofd,
        date_closed=debt.last_payment_on if status in CLOSED_STATUSES else None,
        date_of_last_payment=debt.last_payment_on,
        ssn=ssn_of(customer),
        date_of_birth=customer.date_of_birth,
        telephone=phone_of(pts.get(ContactPoint.Kind.PHONE, "")),
        ecoa_code=ecoa,
        consumer_information_indicator=cii,
        address=split_address(pts.get(ContactPoint.Kind.ADDRESS, ""), jurisdiction=customer.jurisdiction),
        associated=associated,
        original_creditor=original_creditor,
        purchased_sold=purchased,
        specialized_payment=balloon,
        time_stamp=stamp,
        **split_name(customer.name, company=company),
    )
    return account, None


@dataclass
class Defaults:
    """A creditor without a ``FurnisherProfile``: its short code as identifier."""

    identification_number: str
    portfolio_type: str = "I"
    account_type: str = "01"


def profile_for(creditor):
    profile = FurnisherProfile.objects.filter(creditor=creditor).first()
    return profile or Defaults(identification_number=creditor.short_code)


def export_queryset(creditor, period_end: date):
    return (
        Debt.objects.filter(creditor=creditor, opened_on__lte=period_end)
        .select_related("customer", "product__policy", "case", "furnishing__prenotice")
        .order_by("id")
    )


def export_accounts(
    *,
    creditor,
    period: date,
    stamp: datetime,
    skipped: Counter,
    deletions: list,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Iterator[Account]:
    """Yield the month's accounts of ``creditor`` in id order; count the
    accounts left out by reason in ``skipped`` and collect the ids reported
    as ``DA`` in ``deletions``."""
    period_end = month_end(period)
    profile = profile_for(creditor)
    debts = export_queryset(creditor, period_end).iterator(chunk_size=chunk_size)
    for chunk in batched(debts, chunk_size):
        data = ChunkData.load(list(chunk), period=period, period_end=period_end)
        for debt in chunk:
            account, why = build_account(
                debt, data, profile=profile, period=period, period_end=period_end, stamp=stamp
            )
            if account is None:
                skipped[why] += 1
                continue
            if account.account_status == "DA":
                deletions.append(debt.pk)
            yield account
