"""Writing to the ledger: the only code that changes cached balances.

Every balance change is a ``LedgerEntry``; ``apply_entries`` writes the
entries and moves the caches on ``Debt`` and ``Instalment`` by exactly the
same amounts, inside the caller's transaction, on rows the caller has
locked. A component can never go negative: the database refuses it by a
check constraint and this module refuses it first with a clear error.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from simple_history.utils import bulk_create_with_history

from backoffice.money import ZERO
from cases.models import BALANCE_FIELD, OWED_COMPONENTS, Debt, Instalment, LedgerEntry, Payment

INSTALMENT_FIELD = {"principal": "principal_balance", "interest": "interest_balance"}


@dataclass(frozen=True)
class EntrySpec:
    """An entry to be written; ``key`` makes it idempotent."""

    component: str
    amount: Decimal
    kind: str
    effective_on: date
    key: str
    source: str
    instalment: Instalment | None = None
    payment: Payment | None = None


def apply_entries(
    *,
    debt: Debt,
    specs: list[EntrySpec],
    actor,
    reason: str,
    instalments: dict[int, Instalment] | None = None,
    save: bool = True,
) -> list[LedgerEntry]:
    """Write ``specs`` for a locked ``debt`` and move its caches.

    ``instalments`` (id → row) lets a caller that already holds the locked
    instalment rows avoid re-reading them. With ``save=False`` the caller
    saves the debt and instalments itself (close of business does so in bulk).
    """
    if not specs:
        return []
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("apply_entries must run inside a transaction")
    debt_delta: dict[str, Decimal] = defaultdict(lambda: ZERO)
    inst_delta: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
    rows = []
    for spec in specs:
        if spec.amount == 0:
            continue
        if spec.component not in BALANCE_FIELD:
            raise ValidationError(f"Unknown ledger component {spec.component!r}.")
        if spec.component in INSTALMENT_FIELD and spec.instalment is None:
            raise ValidationError(f"A {spec.component} entry must name its instalment.")
        debt_delta[spec.component] += spec.amount
        if spec.instalment is not None and spec.component in INSTALMENT_FIELD:
            inst_delta[(spec.instalment.pk, spec.component)] += spec.amount
        rows.append(
            LedgerEntry(
                debt=debt,
                instalment=spec.instalment,
                payment=spec.payment,
                component=spec.component,
                amount=spec.amount,
                effective_on=spec.effective_on,
                kind=spec.kind,
                source=spec.source,
                idempotency_key=spec.key,
                reason=reason,
                created_by=actor,
            )
        )
    for component, delta in debt_delta.items():
        field = BALANCE_FIELD[component]
        new_value = getattr(debt, field) + delta
        if component in OWED_COMPONENTS and new_value < 0:
            raise ValidationError(f"This would make the {component} balance negative.")
        if component == "credit" and new_value > 0:
            raise ValidationError("A credit balance cannot become a debit.")
        setattr(debt, field, new_value)
    if inst_delta:
        if instalments is None:
            ids = {pk for pk, _ in inst_delta}
            instalments = {i.pk: i for i in Instalment.objects.select_for_update().filter(pk__in=ids)}
        for (pk, component), delta in inst_delta.items():
            inst = instalments[pk]
            field = INSTALMENT_FIELD[component]
            new_value = getattr(inst, field) + delta
            if new_value < 0:
                raise ValidationError(f"This would make instalment {inst.number}'s {component} negative.")
            setattr(inst, field, new_value)
    created = bulk_create_with_history(rows, LedgerEntry, default_user=actor, default_change_reason=reason)
    if save:
        # Balances are excluded from Debt's history (the entries are their
        # audit trail), so a plain UPDATE leaves no gap.
        Debt.objects.filter(pk=debt.pk).update(
            **{BALANCE_FIELD[c]: getattr(debt, BALANCE_FIELD[c]) for c in debt_delta}
        )
        if inst_delta:
            touched = [instalments[pk] for pk in {pk for pk, _ in inst_delta}]
            Instalment.objects.bulk_update(touched, ["principal_balance", "interest_balance"])
    return created


def lock_debt(debt_id: int) -> Debt:
    """Re-read and lock a debt row (policy joined, not locked)."""
    try:
        return Debt.objects.select_for_update(of=("self",)).select_related("product__policy").get(pk=debt_id)
    except Debt.DoesNotExist:
        raise ValidationError({"debt": "Unknown debt."}) from None
