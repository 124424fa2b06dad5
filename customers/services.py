"""Deliberate reveals of masked personal data, and searches by it (issue #15).

Lists, details and history show national IDs and dates of birth masked for
every role. A holder of ``customers.view_full_id`` reveals one value at a
time, with a reason, from the customer's admin page or through
``POST /api/v1/customers/{id}/reveal/``; each reveal and each search by a
whole personal value is written to the access records. The records name the
field, the reason and where the request came from, never the value.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from backoffice.access import can_view_full_id, writable_cases_for
from backoffice.audit import record
from backoffice.errors import NotAllowed
from backoffice.models import AccessRecord
from backoffice.services import record_access
from customers.models import ContactPoint, Customer

# The masked fields a reveal can show, and how a value is written out.
REVEALABLE_FIELDS: dict[str, str] = {
    "national_id": _("national ID"),
    "date_of_birth": _("date of birth"),
}
REASON_MAX_LENGTH = 200


def _checked_reason(reason, errors: dict, *, limit: int, missing) -> str:
    """The reason with its white space folded; a missing or too long one is
    added to ``errors`` (the caller raises them together with its own)."""
    reason = " ".join((reason or "").split())
    if not reason:
        errors["reason"] = missing
    elif len(reason) > limit:
        errors["reason"] = _("At most %(n)d characters.") % {"n": limit}
    return reason


def _reveal_detail(*, field: str, reason: str, where: str) -> str:
    return f"field={field}; reason={reason}; from={where}"


def reveal_personal_value(*, user, customer: Customer, field: str, reason: str, where: str) -> str:
    """Return the full value of ``field`` of ``customer`` ("" when there is
    none) and write one ``REVEAL_PERSONAL_DATA`` access record naming the
    field, the reason and ``where`` ("admin 10.0.0.1", "api 10.0.0.1").

    The caller has found ``customer`` among the rows the user may see.
    Raises ``NotAllowed`` without ``customers.view_full_id`` and
    ``ValidationError`` for an unknown field or a missing reason; nothing is
    written then.
    """
    if not can_view_full_id(user):
        raise NotAllowed(_("You may not reveal personal data."))
    errors = {}
    if field not in REVEALABLE_FIELDS:
        errors["field"] = _("Choose one of: %(fields)s.") % {"fields": ", ".join(REVEALABLE_FIELDS)}
    reason = _checked_reason(
        reason, errors, limit=REASON_MAX_LENGTH, missing=_("Say why you need the full value.")
    )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        record_access(
            user=user,
            action=AccessRecord.Action.REVEAL_PERSONAL_DATA,
            obj=customer,
            detail=_reveal_detail(field=field, reason=reason, where=where),
        )
    value = getattr(customer, field)
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def record_personal_search(*, user, fields: tuple[str, ...], model_label: str, where: str) -> AccessRecord:
    """One ``SEARCH_PERSONAL_DATA`` record: ``user`` searched ``model_label``
    by a whole value of ``fields``. The searched value is never written."""
    return record_access(
        user=user,
        action=AccessRecord.Action.SEARCH_PERSONAL_DATA,
        detail=f"fields={', '.join(fields)}; in={model_label}; from={where}",
    )


# -- Verifying a contact point (skip-traced numbers, issue #15) ------------------------------

# The history row's reason (``backoffice.api.REASON``).
VERIFY_REASON_MAX_LENGTH = 100


def verify_contact_point(*, contact_point, consent: bool, actor, reason: str):
    """Mark ``contact_point`` verified with the debtor's answer on consent
    (``True``: may be contacted there; ``False``: opted out) and return it.

    A skip-traced point starts with consent unknown and the contact rules
    refuse to dial or message it (``LL-CONSENT-UNKNOWN``) until this is done.
    The actor needs ``customers.verify_contactpoint`` and a case of the
    customer they may work on (``backoffice.access.writable_cases_for``);
    otherwise ``NotAllowed`` and nothing is written. The row is re-read and
    locked inside the transaction; the history row carries the actor and
    the reason (at most 100 characters, required).
    """

    errors = {}
    if not isinstance(consent, bool):
        errors["consent"] = _("Say whether the debtor consents to be contacted there (true or false).")
    reason = _checked_reason(reason, errors, limit=VERIFY_REASON_MAX_LENGTH, missing=_("Say why."))
    if errors:
        raise ValidationError(errors)
    may_verify = actor is not None and actor.is_active and actor.has_perm("customers.verify_contactpoint")
    if not may_verify or not (
        writable_cases_for(actor).filter(customer_id=contact_point.customer_id).exists()
    ):
        raise NotAllowed(_("You may not verify this customer's contact points."))
    with transaction.atomic():
        point = ContactPoint.objects.select_for_update().get(pk=contact_point.pk)
        point.verified = True
        point.consent = consent
        record(point, actor=actor, reason=reason).save(update_fields=["verified", "consent"])
    return point
