"""Reads of statement files shared by the admin, the command and tests."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Sum

from backoffice.money import ZERO
from cases.statements.models import StatementFile, StatementLine


@dataclass(frozen=True)
class Figure:
    count: int
    amount: Decimal


@dataclass(frozen=True)
class Reconciliation:
    """A file's figures as imported (fixed) and now (after hand decisions).

    As imported: imported = posted + suspense + rejected. Now: imported =
    posted + matched by hand + still in suspense + rejected (returned lines
    included), in lines and in money.
    """

    imported: Figure
    at_import: dict[str, Figure]
    now: dict[str, Figure]

    @property
    def balanced_at_import(self) -> bool:
        return _balanced(self.imported, self.at_import)

    @property
    def balanced_now(self) -> bool:
        return _balanced(self.imported, self.now)


def _balanced(total: Figure, parts: dict[str, Figure]) -> bool:
    return total.count == sum(f.count for f in parts.values()) and total.amount == sum(
        (f.amount for f in parts.values()), ZERO
    )


def reconciliation(statement: StatementFile) -> Reconciliation:
    rows = (
        StatementLine.objects.filter(file=statement)
        .values("status")
        .annotate(count=Count("id"), amount=Sum("amount"))
        .order_by()
    )
    found = {row["status"]: Figure(row["count"], row["amount"] or ZERO) for row in rows}
    now = {status: found.get(status, Figure(0, ZERO)) for status in StatementLine.Status.values}
    return Reconciliation(
        imported=Figure(statement.line_count, statement.total_amount),
        at_import={
            "posted": Figure(statement.posted_count, statement.posted_amount),
            "suspense": Figure(statement.suspense_count, statement.suspense_amount),
            "rejected": Figure(statement.rejected_count, statement.rejected_amount),
        },
        now=now,
    )


def summary_lines(statement: StatementFile) -> list[str]:
    """The reconciliation as text (the command prints it)."""
    rec = reconciliation(statement)
    lines = [
        f"Statement file #{statement.pk} {statement.original_name} ({statement.source.name}, "
        f"{statement.encoding or 'XLSX'})",
        f"  imported  {rec.imported.count:>7} lines  {rec.imported.amount:>16}",
    ]
    for name, figure in rec.at_import.items():
        lines.append(f"  {name:<9} {figure.count:>7} lines  {figure.amount:>16}")
    if statement.already_posted_count:
        lines.append(f"  (of the rejected, {statement.already_posted_count} were already imported)")
    verdict = "reconciles" if rec.balanced_at_import else "DOES NOT RECONCILE"
    lines.append(f"  imported = posted + suspense + rejected: {verdict}")
    return lines
