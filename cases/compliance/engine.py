"""The contact-rules engine (RULES.md §4): may we contact this person now?

Two halves, so the rules can be tested without a database and called from
anywhere (a collector's screen, the API's ``contacts/check/``, the dunning
run):

- ``decide(request)`` is pure: it reads only the ``ContactRequest`` it is
  given, never the database or the clock, and returns a ``Decision``.
- ``gather_facts(...)`` is the I/O side: it reads the case, the customer,
  the contact point and earlier attempts and builds the ``ContactRequest``.

Each rule is one function registered with ``@rule("<RULES §4 id>")``; it
returns a ``Refusal`` or ``None``. Adding a rule (e.g. the call caps
``calls.answered``/``calls.attempts``) is one more such function plus the
facts it needs on ``ContactRequest``. When several rules refuse, all their
IDs are reported (the strictest wins: one refusal is enough).

Not here yet: per-rule ``advise`` mode (the policy has no setting for it) and
effective date ranges; every rule is enforced.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from django.db.models import Max, Min
from phonenumbers import timezone as phone_timezone

from backoffice.roles import LEGAL
from cases.models import CollectionCase, CollectionPolicy, ContactAttempt
from cases.policy_presets import preset

# RULES §4 rule IDs.
HOURS = "hours"
HOLD = "hold"
CONTACT_POINT = "contact_point"
THIRD_PARTY = "third_party"

LEGAL_HOLD = "legal"
DEBTOR = "debtor"
THIRD_PARTY_PARTY = "third_party"

# Channels whose timing reaches the person (a letter is read when it arrives).
TIMED_CHANNELS = frozenset({"call", "sms", "email", "visit"})

# Where a customer of a jurisdiction may be when nothing better is known
# (RULES §4 ``hours``: the window must hold in every zone they could be in).
JURISDICTION_ZONES: dict[str, tuple[str, ...]] = {
    "CN": ("Asia/Shanghai",),
    "US": ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"),
}
UNKNOWN_ZONE = "Etc/Unknown"

# CN: a third party may be contacted only to locate a debtor we cannot reach;
# a right-party contact this recent means the debtor can be reached.
CN_THIRD_PARTY_AFTER_RIGHT_PARTY = timedelta(days=7)


@dataclass(frozen=True)
class ContactRequest:
    """Everything the rules need to know about one intended contact.

    ``at`` must be timezone-aware. ``time_zones`` are the candidate IANA zones
    of the person (see ``candidate_zones``). ``point_*`` describe the contact
    point (or the third party) being used.
    """

    at: datetime
    channel: str
    jurisdiction: str
    party: str = DEBTOR
    holds: tuple[str, ...] = ()
    actor_is_legal: bool = False
    point_do_not_contact: bool = False
    point_consent: bool = True
    time_zones: tuple[str, ...] = ()
    contact_hours_start: int = 8
    contact_hours_end: int = 22
    last_right_party_contact_at: datetime | None = None
    third_party_prior_contacts: int = 0
    third_party_asked_again: bool = False


@dataclass(frozen=True)
class Refusal:
    rule: str
    reason: str
    next_allowed_at: datetime | None = None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    rules: list[str]
    reason: str
    next_allowed_at: datetime | None


RuleCheck = Callable[[ContactRequest], Refusal | None]
RULES: dict[str, RuleCheck] = {}


def rule(rule_id: str) -> Callable[[RuleCheck], RuleCheck]:
    """Register a rule check under its RULES §4 ID (order = report order)."""

    def register(check: RuleCheck) -> RuleCheck:
        if rule_id in RULES:
            raise ValueError(f"rule {rule_id!r} registered twice")
        RULES[rule_id] = check
        return check

    return register


def blocking_holds(holds: Iterable[str], *, actor_is_legal: bool) -> list[str]:
    """The holds that stop contact (RULES §3): all of them, except ``legal``
    for legal staff."""
    return [h for h in holds if not (h == LEGAL_HOLD and actor_is_legal)]


@rule(HOLD)
def check_hold(request: ContactRequest) -> Refusal | None:
    held = blocking_holds(request.holds, actor_is_legal=request.actor_is_legal)
    if not held:
        return None
    if held == [LEGAL_HOLD]:
        return Refusal(HOLD, "The case is on a legal hold: only legal staff may contact the debtor.")
    return Refusal(HOLD, f"The case is on hold ({', '.join(held)}): no collection contact.")


@rule(CONTACT_POINT)
def check_contact_point(request: ContactRequest) -> Refusal | None:
    if request.point_do_not_contact:
        return Refusal(CONTACT_POINT, "This contact point is marked do-not-contact.")
    if not request.point_consent:
        return Refusal(CONTACT_POINT, "Consent for this contact point has been revoked.")
    return None


def _inside(local: datetime, start: int, end: int) -> bool:
    moment = local.time()
    return time(start) <= moment and (end >= 24 or moment < time(end))


def _all_inside(at: datetime, zones: list[ZoneInfo], start: int, end: int) -> bool:
    return all(_inside(at.astimezone(zone), start, end) for zone in zones)


def _next_window(at: datetime, zones: list[ZoneInfo], start: int, end: int) -> datetime | None:
    """The first moment ≥ ``at`` inside the window in every zone, or ``None``
    when the zones' windows never overlap. Such a moment is always the start
    of some zone's window, so only those instants need testing."""
    candidates = set()
    for zone in zones:
        local_day = at.astimezone(zone).date()
        for offset in range(3):
            day = local_day + timedelta(days=offset)
            opening = datetime.combine(day, time(start), tzinfo=zone)
            if opening > at:
                candidates.add(opening.astimezone(at.tzinfo))
    for moment in sorted(candidates):
        if _all_inside(moment, zones, start, end):
            return moment
    return None


@rule(HOURS)
def check_hours(request: ContactRequest) -> Refusal | None:
    if request.channel not in TIMED_CHANNELS:
        return None
    if request.at.tzinfo is None:
        raise ValueError("ContactRequest.at must be timezone-aware")
    start, end = request.contact_hours_start, request.contact_hours_end
    zones = [ZoneInfo(name) for name in request.time_zones]
    if not zones:
        return Refusal(HOURS, "The customer's time zone is unknown.")
    if _all_inside(request.at, zones, start, end):
        return None
    window = f"{start:02d}:00–{end:02d}:00"
    where = request.time_zones[0] if len(zones) == 1 else f"every zone of {', '.join(request.time_zones)}"
    return Refusal(
        HOURS,
        f"Outside contact hours {window} in {where}.",
        _next_window(request.at, zones, start, end),
    )


@rule(THIRD_PARTY)
def check_third_party(request: ContactRequest) -> Refusal | None:
    if request.party != THIRD_PARTY_PARTY:
        return None
    if request.jurisdiction == "US":
        # Location information only, once per person unless they asked.
        if request.third_party_prior_contacts and not request.third_party_asked_again:
            return Refusal(THIRD_PARTY, "This third party was already contacted and did not ask to be again.")
        return None
    last = request.last_right_party_contact_at
    if last is not None and request.at - last < CN_THIRD_PARTY_AFTER_RIGHT_PARTY:
        return Refusal(
            THIRD_PARTY,
            "The debtor was reached within the last 7 days: third parties may only be used to locate "
            "a debtor who cannot be reached.",
            last + CN_THIRD_PARTY_AFTER_RIGHT_PARTY,
        )
    return None


def _evaluate(request: ContactRequest) -> list[Refusal]:
    return [refusal for check in RULES.values() if (refusal := check(request)) is not None]


def decide(request: ContactRequest) -> Decision:
    """Apply every registered rule to ``request``. Pure: no database, no clock.

    ``next_allowed_at`` is the earliest moment at which every rule would
    allow the same contact, or ``None`` when allowed now or when a refusing
    rule has no foreseeable end (a hold, a do-not-contact point).
    """
    refusals = _evaluate(request)
    if not refusals:
        return Decision(allowed=True, rules=[], reason="", next_allowed_at=None)
    return Decision(
        allowed=False,
        rules=[r.rule for r in refusals],
        reason=" ".join(r.reason for r in refusals),
        next_allowed_at=_next_allowed(request, refusals),
    )


def _next_allowed(request: ContactRequest, refusals: list[Refusal]) -> datetime | None:
    # One rule's next moment may fall foul of another (7 days on is 23:00):
    # move to the latest of them and ask again, a few times at most.
    for _ in range(5):
        if any(r.next_allowed_at is None for r in refusals):
            return None
        moment = max(r.next_allowed_at for r in refusals)
        refusals = _evaluate(replace(request, at=moment))
        if not refusals:
            return moment
    return None


def candidate_zones(
    *, time_zone: str | None, phone_numbers: Iterable[str], jurisdiction: str
) -> tuple[str, ...]:
    """The zones a customer could be in (RULES §4 ``hours``).

    A known time zone is used alone. Otherwise every zone any of their phone
    numbers could be in (``phonenumbers``); when no number says anything, the
    jurisdiction's zones. Pure.
    """
    if time_zone:
        try:
            ZoneInfo(time_zone)
            return (time_zone,)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    zones: set[str] = set()
    for value in phone_numbers:
        try:
            number = phonenumbers.parse(value, jurisdiction)
        except phonenumbers.NumberParseException:
            continue
        zones.update(z for z in phone_timezone.time_zones_for_number(number) if z != UNKNOWN_ZONE)
    if not zones:
        zones.update(JURISDICTION_ZONES.get(jurisdiction, JURISDICTION_ZONES["CN"]))
    return tuple(sorted(zones))


# -- the I/O side -----------------------------------------------------------------------------


def is_legal_staff(user) -> bool:
    """Members of the Legal group may contact a debtor on a ``legal`` hold."""
    return bool(user is not None and user.is_authenticated and user.groups.filter(name=LEGAL).exists())


def gather_facts(*, case, party: str, contact_point, third_party, channel: str, at: datetime, actor):
    """Build the ``ContactRequest`` for a contact from the database.

    Re-reads the case's holds (a hold placed a second ago counts). The
    contact hours are the strictest window of the policies of the case's
    debts; the jurisdiction is the customer's. For a third party, their phone
    adds its zones (the strictest window wins).
    """
    case = CollectionCase.objects.select_related("customer").get(pk=case.pk)
    customer = case.customer
    jurisdiction = customer.jurisdiction
    hours = CollectionPolicy.objects.filter(products__debts__case=case).aggregate(
        start=Max("contact_hours_start"), end=Min("contact_hours_end")
    )
    if hours["start"] is None:
        defaults = preset(jurisdiction)
        hours = {"start": defaults["contact_hours_start"], "end": defaults["contact_hours_end"]}

    phones = list(customer.contact_points.filter(kind="phone").values_list("value", flat=True))
    if contact_point is not None and contact_point.kind == "phone":
        phones.append(contact_point.value)
    zones = candidate_zones(time_zone=customer.time_zone, phone_numbers=phones, jurisdiction=jurisdiction)
    if party == THIRD_PARTY_PARTY and third_party is not None and third_party.phone:
        extra = candidate_zones(time_zone=None, phone_numbers=[third_party.phone], jurisdiction=jurisdiction)
        zones = tuple(sorted(set(zones) | set(extra)))

    if party == THIRD_PARTY_PARTY and third_party is not None:
        do_not_contact, consent = third_party.do_not_contact, True
    elif contact_point is not None:
        do_not_contact, consent = contact_point.do_not_contact, contact_point.consent
    else:
        do_not_contact, consent = False, True

    last_rpc = (
        ContactAttempt.objects.filter(
            case=case, party=DEBTOR, outcome__in=ContactAttempt.REACHED, started_at__lte=at
        )
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )
    prior_count, asked_again = 0, False
    if third_party is not None:
        prior = ContactAttempt.objects.filter(
            third_party=third_party, direction=ContactAttempt.Direction.OUTBOUND, started_at__lt=at
        ).exclude(outcome__in=["refused", "no_answer", "busy", "wrong_number"])
        prior_count = prior.count()
        latest = prior.order_by("-started_at").values_list("outcome", flat=True).first()
        asked_again = latest == ContactAttempt.Outcome.CALLBACK

    return ContactRequest(
        at=at,
        channel=channel,
        jurisdiction=jurisdiction,
        party=party,
        holds=tuple(case.holds or ()),
        actor_is_legal=is_legal_staff(actor),
        point_do_not_contact=do_not_contact,
        point_consent=consent,
        time_zones=zones,
        contact_hours_start=hours["start"],
        contact_hours_end=hours["end"],
        last_right_party_contact_at=last_rpc,
        third_party_prior_contacts=prior_count,
        third_party_asked_again=asked_again,
    )
