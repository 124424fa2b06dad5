"""The I/O half of the contact-rules engine: build a ``ContactRequest``.

``gather_facts`` reads the case, the customer, the policies of the case's
debts and the history of contacts and messages, and turns them into the
facts the pure rules need. Counting happens in the database with a few
aggregate queries; the customer's local days (``clock.home_zone``) are
turned into UTC ranges with ``zoneinfo`` first, so a count is right on a
DST change and whatever the server's own zone is.

What counts (RULES §4), refused attempts never:

- ``calls.answered`` (CN): outbound calls to the debtor that reached them
  (``ContactAttempt.REACHED``), on any case of the customer, by anyone.
- ``calls.attempts``: CN, unanswered calls (no answer, busy, voicemail) to
  the same phone number (or the same third party); US, outbound calls to the
  debtor about the debt. "About the debt": attempts on that debt or on the
  case without a debt; a request without a debt counts the whole case
  (strictest).
- ``calls.after_conversation`` (US): the latest call, either direction, that
  reached the debtor, on the same debt scope.
- ``messages.daily``: ``Message`` rows (SMS/email that went out: ``sent``
  or ``delivered``, dated by ``sent_at``) plus SMS/email ``ContactAttempt``
  rows logged by collectors; a send must be recorded as one of the two, not
  both. A queued message is not counted yet (it would count itself when
  checked again at send time); the send-time check is what holds the cap.
- ``validation`` (US): the first communication is the earliest call or
  visit that reached the debtor, letter logged as sent, or message
  sent/delivered; the notice is a letter ``Message`` (not blocked or failed)
  whose template or dunning-step template code starts with ``validation``.

The policy is the strictest of the policies of the case's debts: the latest
start and earliest end of the contact hours, the smallest caps, the longest
quiet period; a rule is in ``advise`` mode only if every policy is
first-party and sets it to advise.
"""

from datetime import date, datetime, timedelta

from django.db.models import Count, Max, Min, Q
from django.db.models.functions import Coalesce

from backoffice.roles import LEGAL
from cases.compliance.clock import candidate_zones, home_zone, local_date, utc_range
from cases.compliance.rules import (
    ADVISE,
    DEBTOR,
    LETTER,
    THIRD_PARTY_PARTY,
    WINDOW_DAYS,
    ContactRequest,
)
from cases.models import BALANCE_FIELD, CollectionCase, ContactAttempt, Debt, Message
from cases.policy_presets import preset

CALL = ContactAttempt.Channel.CALL
ELECTRONIC = [ContactAttempt.Channel.SMS, ContactAttempt.Channel.EMAIL]
REFUSED = ContactAttempt.Outcome.REFUSED
OUTBOUND = ContactAttempt.Direction.OUTBOUND
# A call nobody picked up (a wrong number or a third party did pick up).
UNANSWERED = ["no_answer", "busy", "voicemail"]
VALIDATION_PREFIX = "validation"

POLICY_FIELDS = {
    "contact_hours_start": max,
    "contact_hours_end": min,
    "calls_answered_per_day": min,
    "unanswered_calls_per_number_per_day": min,
    "call_attempts_per_7_days": min,
    "quiet_days_after_conversation": max,
    "messages_per_day": min,
    "validation_notice_days": min,
}


def is_legal_staff(user) -> bool:
    """Members of the Legal group may contact a debtor on a ``legal`` hold."""
    return bool(user is not None and user.is_authenticated and user.groups.filter(name=LEGAL).exists())


def strictest_policy(policies: list[dict]) -> dict:
    """Combine policy rows (dicts of ``POLICY_FIELDS``, ``rule_modes``,
    ``first_party``) into the strictest one. Pure."""
    combined: dict = {}
    for name, pick in POLICY_FIELDS.items():
        values = [p[name] for p in policies if p[name] is not None]
        combined[name] = pick(values) if values else None
    first_party = bool(policies) and all(p["first_party"] for p in policies)
    advised = set.intersection(
        *({r for r, mode in (p["rule_modes"] or {}).items() if mode == ADVISE} for p in policies)
    )
    combined["first_party"] = first_party
    combined["rule_modes"] = {r: ADVISE for r in sorted(advised)} if first_party else {}
    return combined


BALANCE_VALUES = tuple(BALANCE_FIELD.values())
DIGITAL_ONLY_BELOW = "product__policy__digital_only_below"


def is_digital_only(rows: list[dict]) -> bool:
    """The case is on the small-balance digital-only track (docs/small-balances.md).

    ``rows``: one dict per debt of the case with ``status``, the cached
    balance fields and ``product__policy__digital_only_below``. True when the
    case has an open debt that owes something and every such debt owes less
    than its policy's threshold (a threshold of ``None`` is off). Pure."""
    owing = [
        (sum(row[name] for name in BALANCE_VALUES), row[DIGITAL_ONLY_BELOW])
        for row in rows
        if row["status"] in Debt.ACTIVE_STATUSES
    ]
    owing = [(total, below) for total, below in owing if total > 0]
    return bool(owing) and all(below is not None and total < below for total, below in owing)


def _policies(case: CollectionCase, jurisdiction: str) -> tuple[dict, list[dict]]:
    fields = [f"product__policy__{name}" for name in (*POLICY_FIELDS, "rule_modes", "first_party")]
    rows = list(
        Debt.objects.filter(case_id=case.pk).values(
            "id", "status", "limitation_on", *fields, *BALANCE_VALUES, DIGITAL_ONLY_BELOW
        )
    )
    policies = [{name.removeprefix("product__policy__"): row[name] for name in fields} for row in rows]
    if not policies:
        policies = [preset(jurisdiction)]
    return strictest_policy(policies), rows


def _limitation_on(rows: list[dict], debt) -> date | None:
    if debt is not None:
        rows = [row for row in rows if row["id"] == debt.pk]
    else:
        rows = [row for row in rows if row["status"] in Debt.ACTIVE_STATUSES]
    dates = [row["limitation_on"] for row in rows if row["limitation_on"] is not None]
    return min(dates) if dates else None


def _on_debt(case: CollectionCase, debt) -> Q:
    """Contacts "about the debt": on the debt, or on its case without one."""
    if debt is None:
        return Q(case_id=case.pk)
    return Q(case_id=case.pk) & (Q(debt_id=debt.pk) | Q(debt__isnull=True))


def _day(day: date, zone: str, field: str = "started_at") -> Q:
    start, end = utc_range(day, day, zone)
    return Q(**{f"{field}__gte": start, f"{field}__lt": end})


def _attempt_facts(*, case, customer, debt, contact_point, third_party, party, at, zone, quiet_days):
    """One aggregate query over the customer's attempts around ``at``."""
    today = local_date(at, zone)
    lookback = max(WINDOW_DAYS, quiet_days or 0)  # also covers CN's 7 days since a right-party contact
    start, end = utc_range(today - timedelta(days=lookback), today + timedelta(days=WINDOW_DAYS - 1), zone)
    attempts = ContactAttempt.objects.filter(
        case__customer_id=customer.pk, started_at__gte=start, started_at__lt=end
    ).exclude(outcome=REFUSED)

    debtor_call = Q(channel=CALL, party=DEBTOR)
    reached = Q(outcome__in=ContactAttempt.REACHED)
    about_debt = _on_debt(case, debt)
    outbound = Q(direction=OUTBOUND)
    week = [today + timedelta(days=n) for n in range(-(WINDOW_DAYS - 1), WINDOW_DAYS)]
    aggregates = {
        "answered": Count("id", filter=debtor_call & outbound & reached & _day(today, zone)),
        "electronic": Count(
            "id", filter=Q(channel__in=ELECTRONIC) & outbound & about_debt & _day(today, zone)
        ),
        "conversation": Max("started_at", filter=debtor_call & reached & about_debt & Q(started_at__lt=at)),
        "right_party": Max("started_at", filter=Q(party=DEBTOR) & reached & Q(started_at__lte=at)),
    }
    for index, day in enumerate(week):
        aggregates[f"week_{index}"] = Count(
            "id", filter=debtor_call & outbound & about_debt & _day(day, zone)
        )
    number = None
    if party == THIRD_PARTY_PARTY and third_party is not None:
        number = Q(third_party_id=third_party.pk)
    elif contact_point is not None and contact_point.kind == "phone":
        number = Q(contact_point_id=contact_point.pk)
    if number is not None:
        aggregates["unanswered"] = Count(
            "id", filter=number & Q(channel=CALL, outcome__in=UNANSWERED) & outbound & _day(today, zone)
        )
    counts = attempts.aggregate(**aggregates)
    return {
        "answered_calls_by_day": {today: counts["answered"]},
        "unanswered_calls_by_day": {today: counts.get("unanswered") or 0},
        "call_attempts_by_day": {
            day: counts[f"week_{i}"] for i, day in enumerate(week) if counts[f"week_{i}"]
        },
        "last_conversation_at": counts["conversation"],
        "last_right_party_contact_at": counts["right_party"],
        "electronic_today": counts["electronic"],
    }


def _message_facts(*, case, debt, at, zone, validation: bool) -> dict:
    """One aggregate query over the case's messages."""
    today = local_date(at, zone)
    start, end = utc_range(today, today, zone)
    status = Message.Status
    gone_out = [status.SENT, status.DELIVERED]
    aggregates = {
        "today": Count(
            "id", filter=Q(channel__in=ELECTRONIC, status__in=gone_out, when__gte=start, when__lt=end)
        )
    }
    if validation:
        aggregates["notices"] = Count(
            "id",
            filter=Q(channel=LETTER)
            & ~Q(status__in=[status.BLOCKED, status.FAILED])
            & (
                Q(template__code__startswith=VALIDATION_PREFIX)
                | Q(dunning_step__template_code__startswith=VALIDATION_PREFIX)
            ),
        )
        aggregates["first_sent"] = Min("when", filter=Q(status__in=gone_out))
    messages = Message.objects.filter(_on_debt(case, debt)).annotate(when=Coalesce("sent_at", "created_at"))
    return messages.aggregate(**aggregates)


def _first_communication(*, case, debt, messages: dict) -> datetime | None:
    first_contact = (
        ContactAttempt.objects.filter(_on_debt(case, debt), party=DEBTOR)
        .filter(Q(outcome__in=ContactAttempt.REACHED) | Q(channel=LETTER, direction=OUTBOUND))
        .exclude(outcome=REFUSED)
        .aggregate(first=Min("started_at"))["first"]
    )
    moments = [m for m in (first_contact, messages.get("first_sent")) if m is not None]
    return min(moments) if moments else None


def _third_party_facts(*, customer, third_party, at) -> dict:
    prior = ContactAttempt.objects.filter(
        third_party=third_party, direction=OUTBOUND, started_at__lt=at
    ).exclude(outcome__in=[REFUSED, "no_answer", "busy", "wrong_number"])
    latest = prior.order_by("-started_at").values_list("outcome", "started_at").first()
    count = prior.count() if latest else 0
    wrong_since = latest is not None and (
        ContactAttempt.objects.filter(
            case__customer_id=customer.pk,
            party=DEBTOR,
            outcome=ContactAttempt.Outcome.WRONG_NUMBER,
            started_at__gt=latest[1],
            started_at__lt=at,
        ).exists()
    )
    return {
        "third_party_relationship": third_party.relationship,
        "previous_third_party_contacts": count,
        "third_party_asked_to_call_back": latest is not None and latest[0] == ContactAttempt.Outcome.CALLBACK,
        "third_party_earlier_answer_wrong": wrong_since,
    }


def gather_facts(
    *,
    case,
    party: str,
    contact_point,
    third_party,
    channel: str,
    at: datetime,
    actor,
    debt=None,
    has_opt_out_text: bool | None = None,
    template_code: str | None = None,
) -> ContactRequest:
    """Build the ``ContactRequest`` for a contact from the database.

    Re-reads the case's holds (a hold placed a second ago counts). ``debt``
    narrows the per-debt counts (none: the whole case). ``has_opt_out_text``
    is for automated SMS/email (``False`` is refused in the US);
    ``template_code`` marks a letter as the validation notice when it starts
    with ``validation``. For a third party, their phone adds its zones (the
    strictest window wins). About eight queries, none of them per attempt.
    """
    case = CollectionCase.objects.select_related("customer").get(pk=case.pk)
    customer = case.customer
    jurisdiction = customer.jurisdiction
    policy, debt_rows = _policies(case, jurisdiction)

    points = list(customer.contact_points.values("kind", "value", "is_workplace", "do_not_contact"))
    phones = [p["value"] for p in points if p["kind"] == "phone"]
    if contact_point is not None and contact_point.kind == "phone":
        phones.append(contact_point.value)
    zones = candidate_zones(time_zone=customer.time_zone, phone_numbers=phones, jurisdiction=jurisdiction)
    home = home_zone(time_zone=customer.time_zone, candidates=zones, jurisdiction=jurisdiction)
    if party == THIRD_PARTY_PARTY and third_party is not None and third_party.phone:
        extra = candidate_zones(time_zone=None, phone_numbers=[third_party.phone], jurisdiction=jurisdiction)
        zones = tuple(sorted(set(zones) | set(extra)))

    if party == THIRD_PARTY_PARTY and third_party is not None:
        do_not_contact, consent, workplace = third_party.do_not_contact, True, False
    elif contact_point is not None:
        do_not_contact, consent = contact_point.do_not_contact, contact_point.consent
        workplace = contact_point.is_workplace
    else:
        do_not_contact, consent, workplace = False, True, False
    # No model field records "the employer forbids contact at work": a
    # workplace contact point marked do-not-contact stands for it, and then
    # covers every workplace point of the customer.
    employer_forbids = any(p["is_workplace"] and p["do_not_contact"] for p in points)

    history = _attempt_facts(
        case=case,
        customer=customer,
        debt=debt,
        contact_point=contact_point,
        third_party=third_party,
        party=party,
        at=at,
        zone=home,
        quiet_days=policy["quiet_days_after_conversation"],
    )
    validation = jurisdiction == "US" and policy["validation_notice_days"] is not None
    messages = _message_facts(case=case, debt=debt, at=at, zone=home, validation=validation)
    today = local_date(at, home)
    extra_facts: dict = {}
    if validation:
        extra_facts["first_communication_at"] = _first_communication(case=case, debt=debt, messages=messages)
        extra_facts["validation_notice_sent"] = bool(messages["notices"])
    if party == THIRD_PARTY_PARTY and third_party is not None:
        extra_facts.update(_third_party_facts(customer=customer, third_party=third_party, at=at))

    return ContactRequest(
        at=at,
        channel=channel,
        jurisdiction=jurisdiction,
        party=party,
        holds=tuple(case.holds or ()),
        actor_is_legal=is_legal_staff(actor),
        point_do_not_contact=do_not_contact,
        point_consent=consent,
        point_is_workplace=workplace,
        employer_forbids_contact=employer_forbids,
        time_zones=zones,
        home_zone=home,
        contact_hours_start=policy["contact_hours_start"],
        contact_hours_end=policy["contact_hours_end"],
        calls_answered_per_day=policy["calls_answered_per_day"],
        unanswered_calls_per_number_per_day=policy["unanswered_calls_per_number_per_day"],
        call_attempts_per_7_days=policy["call_attempts_per_7_days"],
        quiet_days_after_conversation=policy["quiet_days_after_conversation"],
        messages_per_day=policy["messages_per_day"],
        validation_notice_days=policy["validation_notice_days"],
        rule_modes=policy["rule_modes"],
        first_party=policy["first_party"],
        answered_calls_by_day=history["answered_calls_by_day"],
        unanswered_calls_by_day=history["unanswered_calls_by_day"],
        call_attempts_by_day=history["call_attempts_by_day"],
        last_conversation_at=history["last_conversation_at"],
        messages_by_day={today: history["electronic_today"] + messages["today"]},
        has_opt_out_text=has_opt_out_text,
        last_right_party_contact_at=history["last_right_party_contact_at"],
        is_validation_notice=channel == LETTER and (template_code or "").startswith(VALIDATION_PREFIX),
        limitation_on=_limitation_on(debt_rows, debt),
        digital_only=is_digital_only(debt_rows),
        **extra_facts,
    )
