"""Legal costs on a debt (RULES.md §7): court fees and lawyer fees.

The legal app records *why* a cost was incurred; this module is how it
reaches the money: one ``legal_cost`` charge through ``apply_entries`` on
the locked debt, so the cached balance and the ledger move together.
Idempotent by ``key``: a repeat returns the first entry and posts nothing.
"""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from backoffice.errors import Conflict
from backoffice.money import to_money
from cases.models import Debt, LedgerEntry
from cases.services.ledger import EntrySpec, apply_entries, lock_debt

CLOSED_STATUSES = frozenset(
    {Debt.Status.PAID, Debt.Status.SETTLED, Debt.Status.WRITTEN_OFF, Debt.Status.RECALLED}
)


def _check_repeat(entry: LedgerEntry, *, debt_id: int, amount: Decimal, incurred_on: date) -> LedgerEntry:
    if (
        entry.debt_id != debt_id
        or entry.component != "legal_cost"
        or entry.amount != amount
        or entry.effective_on != incurred_on
    ):
        raise Conflict({"key": f"Key {entry.idempotency_key} was already used for a different posting."})
    return entry


def post_legal_cost(
    *,
    debt: Debt | int,
    amount,
    incurred_on: date,
    kind: str,
    actor,
    reason: str,
    key: str,
) -> LedgerEntry:
    """Charge ``amount`` to the debt's ``legal_cost`` component.

    ``kind`` (``court_fee``/``lawyer_fee``) is kept in the entry's source.
    Raises ``ValidationError`` for a non-positive amount or a missing key,
    ``Conflict`` for a closed debt or a key reused with other details.
    """
    try:
        amount = to_money(amount)
    except (TypeError, ArithmeticError, ValueError):
        raise ValidationError({"amount": "Amount must be a decimal number."}) from None
    if amount <= 0:
        raise ValidationError({"amount": "Amount must be greater than zero."})
    if not key:
        raise ValidationError({"key": "A legal cost needs an idempotency key."})
    reason = (reason or "").strip() or f"legal cost: {kind}"
    debt_id = debt.pk if isinstance(debt, Debt) else debt
    with transaction.atomic():
        locked = lock_debt(debt_id)
        existing = LedgerEntry.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return _check_repeat(existing, debt_id=debt_id, amount=amount, incurred_on=incurred_on)
        if locked.status in CLOSED_STATUSES:
            raise Conflict({"debt": f"Debt {locked} is {locked.status}; no cost can be charged to it."})
        (entry,) = apply_entries(
            debt=locked,
            specs=[
                EntrySpec(
                    component="legal_cost",
                    amount=amount,
                    kind=LedgerEntry.Kind.CHARGE,
                    effective_on=incurred_on,
                    key=key,
                    source=f"legal:{kind}",
                )
            ],
            actor=actor,
            reason=reason[:255],
        )
    if isinstance(debt, Debt):
        debt.legal_cost_balance = locked.legal_cost_balance
    return entry
