"""Contact attempts: checking the rules and logging calls, messages, visits.

Every outbound attempt goes through the contact-rules engine (RULES.md §4)
first. A refused attempt is still stored, with outcome ``refused``, the rule
IDs and the reason (RULES §4: "A refused attempt is stored with the rule IDs
that refused it"), and the caller gets ``ContactRefused`` (HTTP 409).

The refused row is committed by this service's own transaction before the
exception is raised outside it. A caller that wraps ``log_contact`` in a
transaction of its own (``ATOMIC_REQUESTS``, an outer ``atomic()``) and rolls
it back on the error also rolls back the refusal: such callers must let this
service own the transaction.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from backoffice.audit import record
from backoffice.errors import Conflict
from cases.compliance.engine import Decision, decide, gather_facts
from cases.models import CollectionCase, ContactAttempt, Debt
from cases.services.holds import clean_reason, lock_case
from customers.models import ContactPoint, ThirdPartyContact

# Which contact point kinds a channel can use.
CHANNEL_KINDS = {
    ContactAttempt.Channel.CALL: {ContactPoint.Kind.PHONE},
    ContactAttempt.Channel.SMS: {ContactPoint.Kind.PHONE},
    ContactAttempt.Channel.EMAIL: {ContactPoint.Kind.EMAIL},
    ContactAttempt.Channel.LETTER: {ContactPoint.Kind.ADDRESS},
    ContactAttempt.Channel.VISIT: {ContactPoint.Kind.ADDRESS},
}


class ContactRefused(Conflict):
    """The contact rules refused an attempt; the refused attempt is stored."""

    def __init__(self, *, attempt: ContactAttempt, decision: Decision):
        self.attempt = attempt
        self.decision = decision
        self.rules = list(decision.rules)
        self.reason = decision.reason
        super().__init__({"rules": self.rules, "reason": [decision.reason]})


def _check_parties(
    *,
    case: CollectionCase,
    party: str,
    channel: str,
    contact_point: ContactPoint | None,
    third_party: ThirdPartyContact | None,
    at: datetime,
) -> dict:
    errors: dict[str, str] = {}
    if party not in ContactAttempt.Party.values:
        errors["party"] = f"Unknown party {party!r}."
    if channel not in ContactAttempt.Channel.values:
        errors["channel"] = f"Unknown channel {channel!r}."
    if contact_point is not None:
        if contact_point.customer_id != case.customer_id:
            errors["contact_point"] = "This contact point belongs to another customer."
        elif channel in CHANNEL_KINDS and contact_point.kind not in CHANNEL_KINDS[channel]:
            errors["contact_point"] = f"A {channel} cannot use a {contact_point.get_kind_display()}."
    if party == ContactAttempt.Party.THIRD_PARTY:
        if third_party is None:
            errors["third_party"] = "Name the third party contacted."
        elif third_party.customer_id != case.customer_id:
            errors["third_party"] = "This third party belongs to another customer."
    elif third_party is not None:
        errors["third_party"] = "A third party is only named when the party is a third party."
    if not isinstance(at, datetime) or timezone.is_naive(at):
        errors["started_at"] = "Give a date and time with its time zone."
    return errors


def check_contact(
    *,
    case: CollectionCase,
    party: str,
    channel: str,
    at: datetime,
    actor,
    contact_point: ContactPoint | None = None,
    third_party: ThirdPartyContact | None = None,
    debt: Debt | None = None,
    has_opt_out_text: bool | None = None,
    template_code: str | None = None,
) -> Decision:
    """The engine's answer for a contact, without logging anything.

    ``debt`` narrows the per-debt counts (US 7-in-7, messages per day) to
    that debt; without it the whole case counts (strictest). Automated
    messages pass ``has_opt_out_text`` (US: ``False`` is refused) and their
    ``template_code`` (a letter whose code starts with ``validation`` is the
    US validation notice, never held back by the ``validation`` rule)."""
    errors = _check_parties(
        case=case, party=party, channel=channel, contact_point=contact_point, third_party=third_party, at=at
    )
    if debt is not None and debt.case_id != case.pk:
        errors["debt"] = "This debt is not on the case."
    if errors:
        if "started_at" in errors:
            errors["at"] = errors.pop("started_at")
        raise ValidationError(errors)
    request = gather_facts(
        case=case,
        party=party,
        contact_point=contact_point,
        third_party=third_party,
        channel=channel,
        at=at,
        actor=actor,
        debt=debt,
        has_opt_out_text=has_opt_out_text,
        template_code=template_code,
    )
    return decide(request)


def log_contact(
    *,
    case: CollectionCase,
    party: str,
    channel: str,
    outcome: str,
    started_at: datetime,
    actor,
    contact_point: ContactPoint | None = None,
    third_party: ThirdPartyContact | None = None,
    debt: Debt | None = None,
    direction: str = ContactAttempt.Direction.OUTBOUND,
    note: str = "",
    duration_s: int = 0,
    callback_at: datetime | None = None,
    reason: str = "contact logged",
) -> ContactAttempt:
    """Log a contact attempt and return it.

    Outbound attempts are checked by the contact rules first; a refused one is
    stored (outcome ``refused``) and ``ContactRefused`` is raised. An allowed
    or inbound attempt updates the case's ``last_contact_at``; a ``callback``
    outcome sets the case's next action to the callback's date.
    ``ValidationError`` (nothing saved) for bad input.
    """
    reason = clean_reason(reason)
    errors = _check_parties(
        case=case,
        party=party,
        channel=channel,
        contact_point=contact_point,
        third_party=third_party,
        at=started_at,
    )
    if direction not in ContactAttempt.Direction.values:
        errors["direction"] = f"Unknown direction {direction!r}."
    if outcome not in ContactAttempt.Outcome.values or outcome == ContactAttempt.Outcome.REFUSED:
        errors["outcome"] = f"Unknown outcome {outcome!r}."
    if not isinstance(duration_s, int) or duration_s < 0:
        errors["duration_s"] = "The duration cannot be negative."
    if debt is not None and debt.case_id != case.pk:
        errors["debt"] = "This debt is not on the case."
    if outcome == ContactAttempt.Outcome.CALLBACK:
        if callback_at is None:
            errors["callback_at"] = "A callback needs its date and time."
        elif timezone.is_naive(callback_at) or callback_at < started_at:
            errors["callback_at"] = "The callback must be an aware date and time after the attempt."
    if errors:
        raise ValidationError(errors)

    attempt = ContactAttempt(
        case_id=case.pk,
        debt=debt,
        party=party,
        contact_point=contact_point,
        third_party=third_party,
        channel=channel,
        direction=direction,
        outcome=outcome,
        note=note,
        duration_s=duration_s,
        started_at=started_at,
        callback_at=callback_at,
        created_by=actor,
    )
    with transaction.atomic():
        locked = lock_case(case)
        decision = None
        if direction == ContactAttempt.Direction.OUTBOUND:
            decision = decide(
                gather_facts(
                    case=locked,
                    party=party,
                    contact_point=contact_point,
                    third_party=third_party,
                    channel=channel,
                    at=started_at,
                    actor=actor,
                    debt=debt,
                )
            )
        if decision is not None and not decision.allowed:
            attempt.outcome = ContactAttempt.Outcome.REFUSED
            attempt.rules = list(decision.rules)
            attempt.refusal_reason = decision.reason[:500]
            attempt.duration_s = 0
            attempt.callback_at = None
            record(attempt, actor=actor, reason="contact refused by the contact rules")
            attempt.save()
        else:
            if decision is not None and decision.advisories:
                # Advise mode (RULES §4: warn, log, allow): the rules that
                # would have refused are kept with the allowed attempt.
                attempt.rules = list(decision.advisories)
                attempt.refusal_reason = f"Advisory, allowed: {decision.advisory_reason}"[:500]
            record(attempt, actor=actor, reason=reason)
            attempt.save()
            _touch_case(locked, attempt, actor=actor, reason=reason)
    if decision is not None and not decision.allowed:
        # Raised after the block so the refused attempt stays committed.
        raise ContactRefused(attempt=attempt, decision=decision)
    return attempt


def _touch_case(case: CollectionCase, attempt: ContactAttempt, *, actor, reason: str) -> None:
    fields = []
    if case.last_contact_at is None or attempt.started_at > case.last_contact_at:
        case.last_contact_at = attempt.started_at
        fields.append("last_contact_at")
    if attempt.outcome == ContactAttempt.Outcome.CALLBACK:
        case.next_action_on = timezone.localdate(attempt.callback_at)
        fields.append("next_action_on")
    if fields:
        record(case, actor=actor, reason=reason)
        case.save(update_fields=fields)
