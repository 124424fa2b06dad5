"""Disputes (RULES.md §5): the consumer says the debt is wrong.

Raising a dispute puts the case on the ``dispute`` hold (no collection
contact, RULES §3) in the same transaction; it must be resolved within 30
days. The hold is released when the last open dispute on the case is
resolved. For a US customer, a dispute resolved by verifying the debt needs
the date verification was mailed (collection stays paused until then).
"""

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet

from backoffice.audit import record
from backoffice.errors import Conflict
from cases.models import CollectionCase, Debt, Dispute, Hold
from cases.services import events
from cases.services.holds import clean_reason, lock_case, place_hold, release_hold

RESOLVE_WITHIN = timedelta(days=30)


def raise_dispute(
    *,
    case: CollectionCase,
    raised_via: str,
    reason: str,
    opened_on: date,
    actor,
    debt: Debt | None = None,
) -> Dispute:
    """Open a dispute (due in 30 days) and put the case on the dispute hold.

    ``reason`` is the consumer's complaint (kept whole on the dispute).
    ``ValidationError`` (nothing saved) for an unknown channel, an empty
    reason or a debt of another case.
    """
    errors: dict[str, str] = {}
    if raised_via not in Dispute.Via.values:
        errors["raised_via"] = f"Unknown channel {raised_via!r}."
    if not (reason or "").strip():
        errors["reason"] = "Say what the consumer disputes."
    if not isinstance(opened_on, date):
        errors["opened_on"] = "Give the date the dispute was received."
    if debt is not None and debt.case_id != case.pk:
        errors["debt"] = "This debt is not on the case."
    if errors:
        raise ValidationError(errors)
    history_reason = f"dispute raised via {raised_via}"
    with transaction.atomic():
        locked = lock_case(case)
        dispute = Dispute(
            case=locked,
            debt=debt,
            raised_via=raised_via,
            reason=reason.strip(),
            opened_on=opened_on,
            due_on=opened_on + RESOLVE_WITHIN,
            created_by=actor,
        )
        record(dispute, actor=actor, reason=history_reason)
        dispute.save()
        if Hold.DISPUTE not in (locked.holds or []):
            place_hold(case=locked, hold=Hold.DISPUTE, actor=actor, reason=history_reason)
        # A disputed case comes back from an outside agency at once (issue #9).
        events.dispute_raised.send(sender=Dispute, case_id=locked.pk, on=opened_on, actor=actor)
        return dispute


def resolve_dispute(
    *,
    dispute: Dispute,
    outcome: str,
    resolved_on: date,
    actor,
    reason: str,
    consumer_disagrees: bool = False,
    verification_sent_on: date | None = None,
) -> Dispute:
    """Resolve an open dispute; release the case's dispute hold when no other
    dispute on the case is still open.

    ``reason`` (the resolution note) is required. ``Conflict`` when the
    dispute is already resolved.
    """
    reason = clean_reason(reason)
    errors: dict[str, str] = {}
    if outcome not in Dispute.Outcome.values:
        errors["outcome"] = f"Unknown outcome {outcome!r}."
    if not isinstance(resolved_on, date) or resolved_on < dispute.opened_on:
        errors["resolved_on"] = "A dispute cannot be resolved before it was opened."
    if verification_sent_on is not None and verification_sent_on < dispute.opened_on:
        errors["verification_sent_on"] = "Verification cannot predate the dispute."
    if (
        outcome == Dispute.Outcome.VERIFIED
        and verification_sent_on is None
        and dispute.case.customer.jurisdiction == "US"
    ):
        errors["verification_sent_on"] = "A verified US dispute needs the date verification was mailed."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        case = lock_case(dispute.case_id)
        locked = Dispute.objects.select_for_update().get(pk=dispute.pk)
        if locked.status != Dispute.Status.OPEN:
            raise Conflict({"status": "The dispute is already resolved."})
        locked.status = Dispute.Status.RESOLVED
        locked.outcome = outcome
        locked.resolution_note = reason
        locked.resolved_on = resolved_on
        locked.consumer_disagrees = consumer_disagrees
        locked.verification_sent_on = verification_sent_on
        record(locked, actor=actor, reason=reason)
        locked.save()
        still_open = Dispute.objects.filter(case=case, status=Dispute.Status.OPEN).exists()
        if not still_open and Hold.DISPUTE in (case.holds or []):
            release_hold(case=case, hold=Hold.DISPUTE, actor=actor, reason=reason)
        return locked


def overdue_disputes(business_date: date) -> QuerySet[Dispute]:
    """Open disputes past their resolve-by date on ``business_date``."""
    return Dispute.objects.filter(status=Dispute.Status.OPEN, due_on__lt=business_date).order_by(
        "due_on", "id"
    )
