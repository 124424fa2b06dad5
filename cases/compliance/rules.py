"""The contact rules of RULES.md §4, one pure function each.

Each check reads only the ``ContactRequest`` it is given (the facts gathered
by ``cases.compliance.facts``) and returns a ``Refusal`` or ``None``. The
limits come from the product's ``CollectionPolicy`` through the request; a
limit of ``None`` means the policy does not have that rule (RULES §4 "—").

``RULE_TABLE`` is the registry of where and when each rule is law: one row
per (rule ID, jurisdiction) with an effective date range. A rule is checked
only when a row covers the request's jurisdiction and the customer's local
date; a jurisdiction with no row at all gets every rule (strictest).

Counts are facts keyed by the customer's *local* date in ``home_zone``
(``answered_calls_by_day[date(2026, 3, 8)] == 2``), so the same request can
be re-asked at a later moment (``next_allowed_at``) and a day the facts do
not mention has no attempts yet.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from cases.compliance.clock import inside_every_window, local_date, next_window, opening_on

# RULES §4 rule IDs.
HOURS = "hours"
CALLS_ANSWERED = "calls.answered"
CALLS_ATTEMPTS = "calls.attempts"
CALLS_AFTER_CONVERSATION = "calls.after_conversation"
MESSAGES_DAILY = "messages.daily"
THIRD_PARTY = "third_party"
WORKPLACE = "workplace"
HOLD = "hold"
CONTACT_POINT = "contact_point"
VALIDATION = "validation"
TIME_BARRED = "time_barred"
# Ledgerline's own rule (not RULES §4): small balances are worked digitally
# (docs/small-balances.md).
DIGITAL_ONLY = "LL-DIGITAL-ONLY"
# Ledgerline's own rule (issue #15): a number or address whose consent is
# unknown (found by a skip trace, not yet verified) is not dialled or
# messaged until a collector verifies it.
CONSENT_UNKNOWN = "LL-CONSENT-UNKNOWN"

ENFORCE = "enforce"
ADVISE = "advise"

LEGAL_HOLD = "legal"
DEBTOR = "debtor"
THIRD_PARTY_PARTY = "third_party"

CALL = "call"
LETTER = "letter"
LEGAL_ACTION = "legal"  # a suit, a referral, a filing: not a ContactAttempt channel
ELECTRONIC_CHANNELS = frozenset({"sms", "email"})
# Contact made by a person, refused on the digital-only track.
MANUAL_CHANNELS = frozenset({"call", "visit"})
# Channels that dial or message a contact point (``LL-CONSENT-UNKNOWN``).
DIALLED_CHANNELS = frozenset({"call", "sms", "email"})
# Channels whose timing reaches the person (a letter is read when it arrives).
TIMED_CHANNELS = frozenset({"call", "sms", "email", "visit"})

# CN: a third party may be contacted only to locate a debtor we cannot reach;
# a right-party contact this recent means the debtor can be reached.
CN_THIRD_PARTY_AFTER_RIGHT_PARTY = timedelta(days=7)
# CN: never an unrelated third party (RULES §4 ``third_party``).
UNRELATED_RELATIONSHIPS = frozenset({"other"})
WINDOW_DAYS = 7  # "any 7 consecutive days" (US ``calls.attempts``)

# Where the rules come from. CN rows start with the internet-finance
# collection self-discipline convention (2018-03-28); US rows with the FDCPA
# (1978-03-20) or, for Regulation F's call and electronic-message rules, its
# effective date (2021-11-30). ``hold`` and ``contact_point`` are the
# business's own rules and always apply.
FDCPA = date(1978, 3, 20)
REG_F = date(2021, 11, 30)
CN_CONVENTION = date(2018, 3, 28)


@dataclass(frozen=True)
class RuleRow:
    rule: str
    jurisdiction: str
    valid_from: date | None = None
    valid_to: date | None = None

    def covers(self, jurisdiction: str, on: date) -> bool:
        return (
            self.jurisdiction == jurisdiction
            and (self.valid_from is None or self.valid_from <= on)
            and (self.valid_to is None or on <= self.valid_to)
        )


RULE_TABLE: tuple[RuleRow, ...] = (
    RuleRow(HOLD, "CN"),
    RuleRow(HOLD, "US"),
    RuleRow(CONTACT_POINT, "CN"),
    RuleRow(CONTACT_POINT, "US"),
    RuleRow(HOURS, "CN", CN_CONVENTION),
    RuleRow(HOURS, "US", FDCPA),
    RuleRow(CALLS_ANSWERED, "CN", CN_CONVENTION),
    RuleRow(CALLS_ATTEMPTS, "CN", CN_CONVENTION),
    RuleRow(CALLS_ATTEMPTS, "US", REG_F),
    RuleRow(CALLS_AFTER_CONVERSATION, "US", REG_F),
    RuleRow(MESSAGES_DAILY, "CN", CN_CONVENTION),
    RuleRow(MESSAGES_DAILY, "US", REG_F),
    RuleRow(THIRD_PARTY, "CN", CN_CONVENTION),
    RuleRow(THIRD_PARTY, "US", FDCPA),
    RuleRow(WORKPLACE, "US", FDCPA),
    RuleRow(VALIDATION, "US", FDCPA),
    RuleRow(TIME_BARRED, "CN"),
    RuleRow(TIME_BARRED, "US"),
    RuleRow(DIGITAL_ONLY, "CN"),
    RuleRow(DIGITAL_ONLY, "US"),
    RuleRow(CONSENT_UNKNOWN, "CN"),
    RuleRow(CONSENT_UNKNOWN, "US"),
)
KNOWN_JURISDICTIONS = frozenset(row.jurisdiction for row in RULE_TABLE)


def in_force(rule_id: str, jurisdiction: str, on: date) -> bool:
    """Whether ``rule_id`` applies to a customer of ``jurisdiction`` on ``on``."""
    if jurisdiction not in KNOWN_JURISDICTIONS:
        return True
    return any(row.rule == rule_id and row.covers(jurisdiction, on) for row in RULE_TABLE)


def jurisdictions_of(rule_id: str) -> tuple[str, ...]:
    return tuple(sorted({row.jurisdiction for row in RULE_TABLE if row.rule == rule_id}))


@dataclass(frozen=True)
class ContactRequest:
    """Everything the rules need to know about one intended contact.

    ``at`` must be timezone-aware. ``time_zones`` are the candidate IANA zones
    of the person (``clock.candidate_zones``); ``home_zone`` is the one whose
    calendar the daily and weekly counts use (default: the first candidate).
    ``point_*`` describe the contact point (or the third party) being used.
    The ``*_by_day`` facts map a local date to the number of earlier,
    not-refused contacts on that date (see each field).
    """

    at: datetime
    channel: str
    jurisdiction: str
    party: str = DEBTOR
    holds: tuple[str, ...] = ()
    actor_is_legal: bool = False
    point_do_not_contact: bool = False
    # True consented, False revoked, None unknown (skip-traced, unverified).
    point_consent: bool | None = True
    point_is_workplace: bool = False
    # The debtor said their employer forbids contact at work.
    employer_forbids_contact: bool = False
    time_zones: tuple[str, ...] = ()
    home_zone: str | None = None

    # The policy (strictest of the case's policies); ``None``: no such rule.
    contact_hours_start: int = 8
    contact_hours_end: int = 22
    calls_answered_per_day: int | None = None
    unanswered_calls_per_number_per_day: int | None = None
    call_attempts_per_7_days: int | None = None
    quiet_days_after_conversation: int | None = None
    messages_per_day: int | None = None
    validation_notice_days: int | None = None
    rule_modes: Mapping[str, str] = field(default_factory=dict)
    first_party: bool = False

    # History. CN ``calls.answered``: outbound calls that reached the debtor,
    # any case of the customer, any collector or agency.
    answered_calls_by_day: Mapping[date, int] = field(default_factory=dict)
    # CN ``calls.attempts``: unanswered outbound calls to this phone number.
    unanswered_calls_by_day: Mapping[date, int] = field(default_factory=dict)
    # US ``calls.attempts``: outbound call attempts to the debtor about this debt.
    call_attempts_by_day: Mapping[date, int] = field(default_factory=dict)
    # US ``calls.after_conversation``: the latest call that reached the debtor.
    last_conversation_at: datetime | None = None
    # ``messages.daily``: SMS and email about this debt that were not blocked.
    messages_by_day: Mapping[date, int] = field(default_factory=dict)
    # ``None``: not an automated message (not checked); ``False`` refuses (US).
    has_opt_out_text: bool | None = None
    last_right_party_contact_at: datetime | None = None
    third_party_relationship: str = ""
    previous_third_party_contacts: int = 0
    third_party_asked_to_call_back: bool = False
    third_party_earlier_answer_wrong: bool = False
    # US ``validation``.
    first_communication_at: datetime | None = None
    validation_notice_sent: bool = False
    is_validation_notice: bool = False
    # ``time_barred``: the earliest limitation date of the debts concerned.
    limitation_on: date | None = None
    # ``LL-DIGITAL-ONLY``: every open debt of the case owes less than its
    # policy's ``digital_only_below`` (``facts.is_digital_only``).
    digital_only: bool = False

    @property
    def counting_zone(self) -> str | None:
        return self.home_zone or (self.time_zones[0] if self.time_zones else None)

    @property
    def local_day(self) -> date:
        return local_date(self.at, self.counting_zone)

    def opening(self, day: date) -> datetime:
        """The start of the contact window on local ``day``."""
        return opening_on(day, self.contact_hours_start, self.counting_zone)


@dataclass(frozen=True)
class Refusal:
    rule: str
    reason: str
    next_allowed_at: datetime | None = None


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


def blocking_holds(holds, *, actor_is_legal: bool) -> list[str]:
    """The holds that stop contact (RULES §3): all of them, except ``legal``
    for legal staff."""
    return [h for h in holds if not (h == LEGAL_HOLD and actor_is_legal)]


def _is_call_to_debtor(request: ContactRequest) -> bool:
    return request.channel == CALL and request.party == DEBTOR


def _window_total(by_day: Mapping[date, int], last: date) -> int:
    """Attempts in the 7 local days ending on ``last`` (inclusive)."""
    return sum(by_day.get(last - timedelta(days=n), 0) for n in range(WINDOW_DAYS))


def busiest_window(by_day: Mapping[date, int], day: date) -> int:
    """The most attempts in any 7-day window that contains ``day``: an
    attempt on ``day`` must fit in every one of them (a call logged late
    still counts in the windows that end after it)."""
    return max(_window_total(by_day, day + timedelta(days=n)) for n in range(WINDOW_DAYS))


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
    if request.point_consent is False:
        return Refusal(CONTACT_POINT, "Consent for this contact point has been revoked (opted out).")
    return None


@rule(CONSENT_UNKNOWN)
def check_consent_unknown(request: ContactRequest) -> Refusal | None:
    # Letters and visits go to addresses, where no consent is asked; a call,
    # SMS or email to a skip-traced point could reach a stranger.
    if request.point_consent is not None or request.channel not in DIALLED_CHANNELS:
        return None
    return Refusal(
        CONSENT_UNKNOWN,
        "Consent of this number is unknown (skip-traced); verify it with the debtor first.",
    )


@rule(HOURS)
def check_hours(request: ContactRequest) -> Refusal | None:
    if request.channel not in TIMED_CHANNELS:
        return None
    start, end = request.contact_hours_start, request.contact_hours_end
    zones = [ZoneInfo(name) for name in request.time_zones]
    if not zones:
        return Refusal(HOURS, "The customer's time zone is unknown.")
    if inside_every_window(request.at, zones, start, end):
        return None
    window = f"{start:02d}:00–{end:02d}:00"
    where = request.time_zones[0] if len(zones) == 1 else f"every zone of {', '.join(request.time_zones)}"
    return Refusal(
        HOURS, f"Outside contact hours {window} in {where}.", next_window(request.at, zones, start, end)
    )


@rule(CALLS_ANSWERED)
def check_calls_answered(request: ContactRequest) -> Refusal | None:
    # Checked before dialling: the next call may reach the debtor, so none
    # is allowed once today's conversations are used up.
    cap = request.calls_answered_per_day
    if cap is None or not _is_call_to_debtor(request):
        return None
    day = request.local_day
    reached = request.answered_calls_by_day.get(day, 0)
    if reached < cap:
        return None
    return Refusal(
        CALLS_ANSWERED,
        f"The debtor has already been reached {reached} times on {day} (at most {cap} a day, "
        "counted across every collector and agency).",
        request.opening(day + timedelta(days=1)),
    )


def _unanswered_refusal(request: ContactRequest) -> Refusal | None:
    cap = request.unanswered_calls_per_number_per_day
    if cap is None:
        return None
    day = request.local_day
    unanswered = request.unanswered_calls_by_day.get(day, 0)
    if unanswered < cap:
        return None
    return Refusal(
        CALLS_ATTEMPTS,
        f"This number has had {unanswered} unanswered calls on {day} (at most {cap} a day per number).",
        request.opening(day + timedelta(days=1)),
    )


def _weekly_refusal(request: ContactRequest) -> Refusal | None:
    cap = request.call_attempts_per_7_days
    if cap is None or request.party != DEBTOR:
        return None
    day = request.local_day
    by_day = request.call_attempts_by_day
    made = busiest_window(by_day, day)
    if made < cap:
        return None
    reopens = next(
        (
            day + timedelta(days=n)
            for n in range(1, 8 * WINDOW_DAYS)
            if busiest_window(by_day, day + timedelta(days=n)) < cap
        ),
        None,
    )
    first = day - timedelta(days=WINDOW_DAYS - 1)
    return Refusal(
        CALLS_ATTEMPTS,
        f"{made} call attempts about this debt in 7 consecutive days ({first} – {day}); at most {cap}."
        + (f" Calls are possible again on {reopens}." if reopens else ""),
        request.opening(reopens) if reopens else None,
    )


@rule(CALLS_ATTEMPTS)
def check_calls_attempts(request: ContactRequest) -> Refusal | None:
    if request.channel != CALL:
        return None
    refusals = [r for r in (_unanswered_refusal(request), _weekly_refusal(request)) if r is not None]
    if not refusals:
        return None
    if len(refusals) == 1:
        return refusals[0]
    moments = [r.next_allowed_at for r in refusals]
    return Refusal(
        CALLS_ATTEMPTS,
        " ".join(r.reason for r in refusals),
        None if None in moments else max(moments),
    )


@rule(CALLS_AFTER_CONVERSATION)
def check_calls_after_conversation(request: ContactRequest) -> Refusal | None:
    quiet = request.quiet_days_after_conversation
    if quiet is None or not _is_call_to_debtor(request) or request.last_conversation_at is None:
        return None
    spoke_on = local_date(request.last_conversation_at, request.counting_zone)
    # The conversation's day is day 1: a conversation on the 1st blocks the
    # 1st–7th and allows the 8th (RULES §4).
    allowed_from = spoke_on + timedelta(days=quiet)
    if request.local_day >= allowed_from:
        return None
    return Refusal(
        CALLS_AFTER_CONVERSATION,
        f"The debtor had a telephone conversation about the debt on {spoke_on}: no calls for {quiet} days "
        f"(that day counts as day 1); next call on {allowed_from}.",
        request.opening(allowed_from),
    )


@rule(MESSAGES_DAILY)
def check_messages_daily(request: ContactRequest) -> Refusal | None:
    if request.channel not in ELECTRONIC_CHANNELS:
        return None
    if request.jurisdiction == "US" and request.has_opt_out_text is False:
        return Refusal(MESSAGES_DAILY, "Every electronic message must say how to opt out; this one does not.")
    cap = request.messages_per_day
    if cap is None:
        return None
    day = request.local_day
    sent = request.messages_by_day.get(day, 0)
    if sent < cap:
        return None
    return Refusal(
        MESSAGES_DAILY,
        f"{sent} SMS/email about this debt on {day} already (at most {cap} a day).",
        request.opening(day + timedelta(days=1)),
    )


@rule(THIRD_PARTY)
def check_third_party(request: ContactRequest) -> Refusal | None:
    if request.party != THIRD_PARTY_PARTY:
        return None
    if request.jurisdiction == "US":
        # Location information only, once per person unless they asked to be
        # contacted again or their earlier answer was wrong.
        if (
            request.previous_third_party_contacts
            and not request.third_party_asked_to_call_back
            and not request.third_party_earlier_answer_wrong
        ):
            return Refusal(
                THIRD_PARTY,
                "This third party was already contacted for location information; only again if "
                "they asked to be or their earlier answer was wrong.",
            )
        return None
    if request.third_party_relationship in UNRELATED_RELATIONSHIPS:
        return Refusal(
            THIRD_PARTY, "Never an unrelated third party: only relatives, the employer or references."
        )
    last = request.last_right_party_contact_at
    if last is not None and request.at - last < CN_THIRD_PARTY_AFTER_RIGHT_PARTY:
        return Refusal(
            THIRD_PARTY,
            "The debtor was reached within the last 7 days: third parties may only be used to locate "
            "a debtor who cannot be reached.",
            last + CN_THIRD_PARTY_AFTER_RIGHT_PARTY,
        )
    return None


@rule(WORKPLACE)
def check_workplace(request: ContactRequest) -> Refusal | None:
    if request.party != DEBTOR or not request.point_is_workplace or not request.employer_forbids_contact:
        return None
    return Refusal(WORKPLACE, "The debtor said their employer forbids contact at work.")


@rule(VALIDATION)
def check_validation(request: ContactRequest) -> Refusal | None:
    days = request.validation_notice_days
    first = request.first_communication_at
    if (
        days is None
        or first is None
        or request.party != DEBTOR
        or request.validation_notice_sent
        or request.is_validation_notice
    ):
        return None
    first_day = local_date(first, request.counting_zone)
    deadline = first_day + timedelta(days=days)
    if request.local_day <= deadline:
        return None
    return Refusal(
        VALIDATION,
        f"No validation notice was sent within {days} days of the first communication ({first_day}, "
        f"due by {deadline}): send it before any further collection communication.",
    )


@rule(DIGITAL_ONLY)
def check_digital_only(request: ContactRequest) -> Refusal | None:
    # Automated SMS, email and letters go on; a person calling or visiting
    # does not (anyone: the debtor or a third party).
    if not request.digital_only or request.channel not in MANUAL_CHANNELS:
        return None
    return Refusal(
        DIGITAL_ONLY,
        "Small balance on the digital-only track (below the policy's threshold): automated SMS, email "
        "and letters only, no calls or visits.",
    )


def is_time_barred(request: ContactRequest) -> bool:
    return request.limitation_on is not None and request.local_day > request.limitation_on


@rule(TIME_BARRED)
def check_time_barred(request: ContactRequest) -> Refusal | None:
    if request.channel != LEGAL_ACTION or not is_time_barred(request):
        return None
    if request.jurisdiction == "US":
        text = "no suit or threat of suit"
    else:
        text = "no legal action"
    return Refusal(TIME_BARRED, f"The debt is time-barred since {request.limitation_on}: {text}.")


def requires_time_barred_disclosure(request: ContactRequest) -> bool:
    """US letters about a time-barred debt carry the time-barred disclosure
    (RULES §1, §4 ``time_barred``): a letter is allowed, with this flag."""
    return (
        request.channel == LETTER
        and request.jurisdiction == "US"
        and in_force(TIME_BARRED, request.jurisdiction, request.local_day)
        and is_time_barred(request)
    )


def calls_left_today(request: ContactRequest) -> int | None:
    """For the collector's screen: how many more calls today stay within the
    caps whatever their outcome (``None``: not a call, or no cap applies).
    CN: the smaller of conversations left and unanswered calls left on this
    number; US: attempts left in the 7-day window."""
    if request.channel != CALL:
        return None
    day = request.local_day
    jurisdiction = request.jurisdiction
    left = []
    if (
        request.party == DEBTOR
        and request.calls_answered_per_day is not None
        and in_force(CALLS_ANSWERED, jurisdiction, day)
    ):
        left.append(request.calls_answered_per_day - request.answered_calls_by_day.get(day, 0))
    if in_force(CALLS_ATTEMPTS, jurisdiction, day):
        if request.unanswered_calls_per_number_per_day is not None:
            cap = request.unanswered_calls_per_number_per_day
            left.append(cap - request.unanswered_calls_by_day.get(day, 0))
        if request.party == DEBTOR and request.call_attempts_per_7_days is not None:
            left.append(request.call_attempts_per_7_days - busiest_window(request.call_attempts_by_day, day))
    return max(0, min(left)) if left else None
