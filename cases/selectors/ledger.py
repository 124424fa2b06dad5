"""Reads about debts and money used by more than one caller."""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum

from backoffice.money import to_money
from cases.models import BALANCE_FIELD, Debt, Instalment, LedgerEntry


@dataclass(frozen=True)
class LedgerMismatch:
    debt_id: int
    account_number: str
    what: str
    cached: Decimal
    ledger: Decimal


def ledger_mismatches(*, chunk_size: int = 5000):
    """Yield every place where a cached balance differs from its entries.

    Checks each component of every debt and the principal/interest balance
    of every instalment, in id-ordered chunks so it runs in constant memory.
    Sums are re-quantised to the cent because SQLite adds decimals as floats;
    on PostgreSQL they are exact already.
    """
    last_id = 0
    fields = ["id", "account_number", *BALANCE_FIELD.values()]
    while True:
        debts = list(Debt.objects.filter(id__gt=last_id).order_by("id").values(*fields)[:chunk_size])
        if not debts:
            return
        ids = [d["id"] for d in debts]
        last_id = ids[-1]
        sums: dict[tuple[int, str], Decimal] = defaultdict(lambda: Decimal("0"))
        for row in (
            LedgerEntry.objects.filter(debt_id__in=ids)
            .values("debt_id", "component")
            .annotate(total=Sum("amount"))
        ):
            sums[(row["debt_id"], row["component"])] = to_money(row["total"])
        for debt in debts:
            for component, field in BALANCE_FIELD.items():
                ledger = sums[(debt["id"], component)]
                if debt[field] != ledger:
                    yield LedgerMismatch(debt["id"], debt["account_number"], component, debt[field], ledger)
        inst_sums: dict[tuple[int, str], Decimal] = defaultdict(lambda: Decimal("0"))
        for row in (
            LedgerEntry.objects.filter(
                debt_id__in=ids, instalment__isnull=False, component__in=("principal", "interest")
            )
            .values("instalment_id", "component")
            .annotate(total=Sum("amount"))
        ):
            inst_sums[(row["instalment_id"], row["component"])] = to_money(row["total"])
        for inst in (
            Instalment.objects.filter(debt_id__in=ids)
            .select_related("debt")
            .only("id", "number", "principal_balance", "interest_balance", "debt__id", "debt__account_number")
        ):
            for component in ("principal", "interest"):
                cached = getattr(inst, f"{component}_balance")
                ledger = inst_sums[(inst.pk, component)]
                if cached != ledger:
                    yield LedgerMismatch(
                        inst.debt.pk,
                        inst.debt.account_number,
                        f"instalment {inst.number} {component}",
                        cached,
                        ledger,
                    )
