"""Holds on a collection case (RULES.md §3).

A hold stops all collection contact while it is active; ``legal`` lets legal
staff still contact the debtor. ``CollectionCase.holds`` is the list of
active ``Hold`` values; placing and releasing go through here so every change
is a history row with the acting user and a reason.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from backoffice.audit import record
from backoffice.errors import Conflict
from cases.compliance.engine import blocking_holds, is_legal_staff
from cases.models import CollectionCase, Hold

__all__ = ["clean_reason", "ensure_not_on_hold", "is_legal_staff", "lock_case", "place_hold", "release_hold"]

REASON_MAX = 100  # simple-history's change reason column


def clean_reason(reason: str) -> str:
    """The audit reason a service writes: required, at most 100 characters."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why."})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": f"Keep the reason to {REASON_MAX} characters."})
    return reason


def lock_case(case: CollectionCase | int) -> CollectionCase:
    """Re-read and lock a case row inside the caller's transaction."""
    case_id = case.pk if isinstance(case, CollectionCase) else case
    try:
        return CollectionCase.objects.select_for_update().get(pk=case_id)
    except CollectionCase.DoesNotExist:
        raise ValidationError({"case": "Unknown case."}) from None


def ensure_not_on_hold(case: CollectionCase, *, actor, action: str) -> None:
    """Raise ``Conflict`` when a hold on ``case`` stops ``action`` for ``actor``."""
    held = blocking_holds(case.holds or [], actor_is_legal=is_legal_staff(actor))
    if held:
        names = ", ".join(str(Hold(h).label) if h in Hold.values else h for h in held)
        raise Conflict({"case": f"The case is on hold ({names}): cannot {action}."})


def _check_hold(hold: str) -> str:
    if hold not in Hold.values:
        raise ValidationError({"hold": f"Unknown hold {hold!r}."})
    return hold


def place_hold(*, case: CollectionCase | int, hold: str, actor, reason: str) -> CollectionCase:
    """Put ``hold`` on the case. ``Conflict`` if it is already on it."""
    hold = _check_hold(hold)
    reason = clean_reason(reason)
    with transaction.atomic():
        locked = lock_case(case)
        holds = list(locked.holds or [])
        if hold in holds:
            raise Conflict({"hold": f"The case is already on the {hold} hold."})
        locked.holds = [*holds, hold]
        record(locked, actor=actor, reason=reason)
        locked.save(update_fields=["holds"])
        return locked


def release_hold(*, case: CollectionCase | int, hold: str, actor, reason: str) -> CollectionCase:
    """Take ``hold`` off the case. ``Conflict`` if the case is not on it."""
    hold = _check_hold(hold)
    reason = clean_reason(reason)
    with transaction.atomic():
        locked = lock_case(case)
        holds = list(locked.holds or [])
        if hold not in holds:
            raise Conflict({"hold": f"The case is not on the {hold} hold."})
        locked.holds = [h for h in holds if h != hold]
        record(locked, actor=actor, reason=reason)
        locked.save(update_fields=["holds"])
        return locked
