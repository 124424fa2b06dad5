"""Reads about outside agencies shared by the admin screens, the CSV
download and the API: commission lines and statements, and performance.

Commission (issue #9): money is counted from the ledger, never from a
stored commission table, so a statement always agrees with
``verify_ledger``:

- a payment counts for a placement when its ledger entries (kind
  ``payment``, every component, the credit leftover included) belong to a
  debt of the placed case and its received date (the entries' effective
  date) falls in the placement's window, first to last day included
  (``start_on`` … ``closed_on`` once closed, ``end_on`` while open);
- its commission is ``collected × rate at placement ÷ 100`` rounded half-up
  to 0.01, once per payment;
- a reversal of such a payment (kind ``reversal``, same payment) is a
  negative line in the month of the reversal's effective date, the exact
  negative of the original commission, whenever it happens (also after
  the placement ended or in a later month);
- a statement for a month lists the lines whose effective date is in the
  month; its total is the sum of its lines.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce

from backoffice.kpis import SETTLED_PROMISES, rate
from backoffice.money import ZERO, round_half_up
from cases.agencies.models import Agency, AgencyPlacement
from cases.models import LedgerEntry, PromiseToPay

HUNDRED = Decimal("100")
_P = "debt__case__agency_placements__"


@dataclass(frozen=True)
class CommissionLine:
    agency_id: int
    placement_id: int
    case_id: int
    account_number: str
    payment_id: int
    reference: str
    effective_on: date
    kind: str  # "payment" or "reversal"
    collected: Decimal  # signed: payments +, reversals −
    rate_percent: Decimal
    commission: Decimal  # signed like ``collected``


def month_bounds(month: date) -> tuple[date, date]:
    """First and last day of the month containing ``month``."""
    first = month.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    return first, nxt - timedelta(days=1)


def commission_lines(*, start: date, end: date, agencies=None) -> list[CommissionLine]:
    """Every commission line effective ``start`` … ``end`` (both included),
    for ``agencies`` (a queryset or list of agencies; ``None``: every one),
    oldest first. One query."""
    entries = LedgerEntry.objects.filter(
        kind__in=[LedgerEntry.Kind.PAYMENT, LedgerEntry.Kind.REVERSAL],
        payment__isnull=False,
        effective_on__gte=start,
        effective_on__lte=end,
    )
    # One filter() call: the window conditions and the agency apply to the
    # same placement row of the join.
    in_window = Q(
        **{
            f"{_P}id__isnull": False,
            "payment__received_on__gte": F(f"{_P}start_on"),
            "payment__received_on__lte": Coalesce(F(f"{_P}closed_on"), F(f"{_P}end_on")),
        }
    )
    if agencies is not None:
        in_window &= Q(**{f"{_P}agency__in": agencies})
    rows = (
        entries.filter(in_window)
        .values(
            "payment_id",
            "kind",
            "effective_on",
            "debt__case_id",
            "debt__account_number",
            "payment__reference",
            f"{_P}id",
            f"{_P}agency_id",
            f"{_P}commission_rate",
        )
        .annotate(amount=Sum("amount"))
        .order_by("effective_on", "payment_id", "kind")
    )
    lines = []
    for row in rows:
        # Payments are negative entries; SQLite sums decimals loosely.
        collected = round_half_up(-row["amount"])
        rate_percent = row[f"{_P}commission_rate"]
        lines.append(
            CommissionLine(
                agency_id=row[f"{_P}agency_id"],
                placement_id=row[f"{_P}id"],
                case_id=row["debt__case_id"],
                account_number=row["debt__account_number"],
                payment_id=row["payment_id"],
                reference=row["payment__reference"],
                effective_on=row["effective_on"],
                kind=row["kind"],
                collected=collected,
                rate_percent=rate_percent,
                commission=round_half_up(collected * rate_percent / HUNDRED),
            )
        )
    return lines


@dataclass(frozen=True)
class CommissionStatement:
    agency: Agency
    first_day: date
    last_day: date
    lines: list[CommissionLine]

    @property
    def collected(self) -> Decimal:
        return sum((line.collected for line in self.lines), ZERO)

    @property
    def commission(self) -> Decimal:
        return sum((line.commission for line in self.lines), ZERO)


def commission_statement(*, agency: Agency, month: date) -> CommissionStatement:
    """The agency's statement for the month containing ``month``."""
    first, last = month_bounds(month)
    return CommissionStatement(
        agency=agency,
        first_day=first,
        last_day=last,
        lines=commission_lines(start=first, end=last, agencies=[agency]),
    )


STATEMENT_HEADER = [
    "agency",
    "placement",
    "case",
    "account_number",
    "payment_reference",
    "effective_on",
    "kind",
    "collected",
    "rate_percent",
    "commission",
]


def statement_rows(statement: CommissionStatement) -> list[list[str]]:
    """The CSV download's rows (header first, a total line last)."""
    rows = [STATEMENT_HEADER]
    for line in statement.lines:
        rows.append(
            [
                statement.agency.name,
                str(line.placement_id),
                str(line.case_id),
                line.account_number,
                line.reference,
                line.effective_on.isoformat(),
                line.kind,
                str(line.collected),
                str(line.rate_percent),
                str(line.commission),
            ]
        )
    rows.append(
        [
            statement.agency.name,
            "",
            "",
            "",
            "",
            "",
            "total",
            str(statement.collected),
            "",
            str(statement.commission),
        ]
    )
    return rows


# --- performance ------------------------------------------------------------------------


@dataclass(frozen=True)
class AgencyPerformance:
    agency: Agency
    placements: int
    placed_balance: Decimal
    collected: Decimal
    commission: Decimal
    recovery_rate: Decimal | None
    promises_due: Decimal
    promise_kept_rate: Decimal | None


def agency_performance(*, start: date, end: date, agencies=None) -> list[AgencyPerformance]:
    """Each agency side by side for ``start`` … ``end`` (both included).

    - placed balance: the balance at placement of every placement active at
      some point of the period (started on or before ``end``, last day on or
      after ``start``);
    - collected: net money of the commission lines of the period (payments
      minus reversals), and the commission on it;
    - recovery rate = collected / placed balance (RULES §8, per agency);
    - promise-kept rate: promises taken by the agency's staff, due in the
      period and settled, weighted by amount (RULES §8, as ``backoffice.kpis``).

    A few queries whatever the number of agencies.
    """
    agencies = list(Agency.objects.order_by("name") if agencies is None else agencies)
    ids = [a.pk for a in agencies]
    active = (
        AgencyPlacement.objects.filter(agency_id__in=ids, start_on__lte=end)
        .filter(Q(closed_on__gte=start) | Q(closed_on__isnull=True, end_on__gte=start))
        .values("agency_id")
        .annotate(balance=Sum("balance_at_placement"), count=Count("id"))
    )
    placed = {row["agency_id"]: (row["balance"], row["count"]) for row in active}
    collected: dict[int, Decimal] = defaultdict(lambda: ZERO)
    commission: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for line in commission_lines(start=start, end=end, agencies=ids):
        collected[line.agency_id] += line.collected
        commission[line.agency_id] += line.commission
    promise_rows = (
        PromiseToPay.objects.filter(
            created_by__agency_membership__agency_id__in=ids,
            due_on__gte=start,
            due_on__lte=end,
            status__in=SETTLED_PROMISES,
        )
        .values("created_by__agency_membership__agency_id")
        .annotate(
            due=Sum("amount"),
            kept=Coalesce(Sum("amount", filter=Q(status=PromiseToPay.Status.KEPT)), ZERO),
            partly=Coalesce(Sum("paid_amount", filter=Q(status=PromiseToPay.Status.PARTIALLY_KEPT)), ZERO),
        )
    )
    promises = {row["created_by__agency_membership__agency_id"]: row for row in promise_rows}
    result = []
    for agency in agencies:
        balance, count = placed.get(agency.pk, (ZERO, 0))
        balance = round_half_up(balance)
        row = promises.get(agency.pk)
        due = round_half_up(row["due"]) if row else ZERO
        kept = round_half_up(row["kept"] + row["partly"]) if row else ZERO
        result.append(
            AgencyPerformance(
                agency=agency,
                placements=count,
                placed_balance=balance,
                collected=collected[agency.pk],
                commission=commission[agency.pk],
                recovery_rate=rate(collected[agency.pk], balance),
                promises_due=due,
                promise_kept_rate=rate(kept, due),
            )
        )
    return result
