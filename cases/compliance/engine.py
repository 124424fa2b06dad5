"""The contact-rules engine (RULES.md §4): may we contact this person now?

Two halves, so the rules can be tested without a database and called from
anywhere (a collector's screen, the API's ``contacts/check/``, the dunning
run, letters, legal referrals):

- ``decide(request)`` is pure: it reads only the ``ContactRequest`` it is
  given, never the database or the clock, and returns a ``Decision``.
- ``gather_facts(...)`` (``cases.compliance.facts``) is the I/O side: it
  reads the case, the customer, the contact point, the policies and earlier
  attempts and messages, and builds the ``ContactRequest``.

Each rule is one function in ``cases.compliance.rules`` registered with
``@rule("<RULES §4 id>")``; ``RULE_TABLE`` there says in which jurisdiction
and from/until which date each rule is law. When several rules refuse, all
their IDs are reported (the strictest wins: one enforced refusal is enough).

Modes (RULES §4): every rule is enforced, except that a first-party creditor
(``CollectionPolicy.first_party``) may set a US rule to ``advise`` in
``rule_modes``: the contact is then allowed and the rule is listed in
``Decision.advisories`` so the caller logs it. Never a CN rule, never
``hold``.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime

from cases.compliance.clock import JURISDICTION_ZONES, UNKNOWN_ZONE, candidate_zones
from cases.compliance.facts import gather_facts, is_legal_staff
from cases.compliance.rules import (
    ADVISE,
    CONSENT_UNKNOWN,
    CONTACT_POINT,
    DEBTOR,
    DIGITAL_ONLY,
    HOLD,
    HOURS,
    LEGAL_HOLD,
    RULE_TABLE,
    RULES,
    THIRD_PARTY,
    THIRD_PARTY_PARTY,
    TIMED_CHANNELS,
    ContactRequest,
    Refusal,
    blocking_holds,
    calls_left_today,
    in_force,
    requires_time_barred_disclosure,
    rule,
)

__all__ = [
    "CONTACT_POINT",
    "DEBTOR",
    "HOLD",
    "HOURS",
    "JURISDICTION_ZONES",
    "LEGAL_HOLD",
    "RULES",
    "RULE_TABLE",
    "THIRD_PARTY",
    "THIRD_PARTY_PARTY",
    "TIMED_CHANNELS",
    "UNKNOWN_ZONE",
    "ContactRequest",
    "Decision",
    "Refusal",
    "blocking_holds",
    "candidate_zones",
    "decide",
    "gather_facts",
    "is_legal_staff",
    "mode_of",
    "rule",
]

# How often ``next_allowed_at`` re-asks every rule at a later moment.
NEXT_ALLOWED_ROUNDS = 10


@dataclass(frozen=True)
class Decision:
    """The engine's answer.

    ``rules``/``reason``: the enforced rules that refuse (empty when allowed).
    ``next_allowed_at``: the earliest moment at which every refusing rule
    would allow the same contact; ``None`` when allowed now or when a rule
    has no foreseeable end (a hold, a do-not-contact point, validation).
    ``advisories``/``advisory_reason``: rules in ``advise`` mode that would
    have refused; the contact is allowed and the caller logs them.
    ``requires_disclosure``: a US letter about a time-barred debt must carry
    the time-barred disclosure. ``calls_left_today``: calls still within the
    call caps today (see ``rules.calls_left_today``), ``None`` when no cap
    applies.
    """

    allowed: bool
    rules: list[str]
    reason: str
    next_allowed_at: datetime | None
    advisories: list[str] = field(default_factory=list)
    advisory_reason: str = ""
    requires_disclosure: bool = False
    calls_left_today: int | None = None


def mode_of(request: ContactRequest, rule_id: str) -> str:
    """``advise`` only for a US rule other than ``hold`` (and our own
    ``LL-DIGITAL-ONLY`` and ``LL-CONSENT-UNKNOWN``) that a first-party
    creditor's policy sets to advise; ``enforce`` otherwise."""
    if (
        rule_id in (HOLD, DIGITAL_ONLY, CONSENT_UNKNOWN)
        or request.jurisdiction != "US"
        or not request.first_party
    ):
        return "enforce"
    return ADVISE if request.rule_modes.get(rule_id) == ADVISE else "enforce"


def _evaluate(request: ContactRequest) -> list[Refusal]:
    if request.at.tzinfo is None:
        raise ValueError("ContactRequest.at must be timezone-aware")
    day = request.local_day
    return [
        refusal
        for rule_id, check in RULES.items()
        if in_force(rule_id, request.jurisdiction, day) and (refusal := check(request)) is not None
    ]


def _enforced(request: ContactRequest, refusals: list[Refusal]) -> list[Refusal]:
    return [r for r in refusals if mode_of(request, r.rule) != ADVISE]


def decide(request: ContactRequest) -> Decision:
    """Apply every rule in force to ``request``. Pure: no database, no clock."""
    refusals = _evaluate(request)
    enforced = _enforced(request, refusals)
    advised = [r for r in refusals if mode_of(request, r.rule) == ADVISE]
    common = {
        "advisories": [r.rule for r in advised],
        "advisory_reason": " ".join(r.reason for r in advised),
        "requires_disclosure": requires_time_barred_disclosure(request),
        "calls_left_today": calls_left_today(request),
    }
    if not enforced:
        return Decision(allowed=True, rules=[], reason="", next_allowed_at=None, **common)
    return Decision(
        allowed=False,
        rules=[r.rule for r in enforced],
        reason=" ".join(r.reason for r in enforced),
        next_allowed_at=_next_allowed(request, enforced),
        **common,
    )


def _next_allowed(request: ContactRequest, refusals: list[Refusal]) -> datetime | None:
    # One rule's next moment may fall foul of another (7 days on is 23:00):
    # move to the latest of them and ask every rule again, a few times.
    for _ in range(NEXT_ALLOWED_ROUNDS):
        if any(r.next_allowed_at is None for r in refusals):
            return None
        moment = max(r.next_allowed_at for r in refusals)
        later = replace(request, at=moment)
        refusals = _enforced(later, _evaluate(later))
        if not refusals:
            return moment
    return None
