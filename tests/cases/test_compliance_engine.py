"""The contact-rules engine: pure decisions and the facts gathered for them (RULES §4)."""

from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group

from cases.compliance import ContactRequest, decide, gather_facts
from cases.compliance.engine import JURISDICTION_ZONES, RULES, candidate_zones
from cases.models import CollectionCase, ContactAttempt, Debt, Message, MessageTemplate
from tests.factories import (
    ContactPointFactory,
    CustomerFactory,
    ProductFactory,
    ThirdPartyContactFactory,
    UserFactory,
    make_debt,
)

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def cn_call(at=datetime(2026, 2, 2, 10, 0, tzinfo=SHANGHAI), **kwargs) -> ContactRequest:
    values = {
        "at": at,
        "channel": "call",
        "jurisdiction": "CN",
        "time_zones": ("Asia/Shanghai",),
        "contact_hours_start": 8,
        "contact_hours_end": 22,
    }
    values.update(kwargs)
    return ContactRequest(**values)


def test_rule_ids_are_the_ones_in_rules_section_4():
    assert set(RULES) == {
        "hours",
        "calls.answered",
        "calls.attempts",
        "calls.after_conversation",
        "messages.daily",
        "third_party",
        "workplace",
        "hold",
        "contact_point",
        "validation",
        "time_barred",
        "LL-DIGITAL-ONLY",  # ours, not RULES §4: small balances (docs/small-balances.md)
        "LL-CONSENT-UNKNOWN",  # ours: skip-traced numbers not yet verified (issue #15)
    }


def test_call_at_10_shanghai_is_allowed():
    decision = decide(cn_call())
    assert decision.allowed and decision.rules == [] and decision.next_allowed_at is None


@pytest.mark.parametrize(("hour", "allowed"), [(7, False), (8, True), (21, True), (22, False), (23, False)])
def test_hours_window_is_from_start_up_to_end(hour, allowed):
    decision = decide(cn_call(at=datetime(2026, 2, 2, hour, 0, tzinfo=SHANGHAI)))
    assert decision.allowed is allowed
    if not allowed:
        assert decision.rules == ["hours"]


def test_call_at_23_shanghai_is_refused_until_8_next_morning():
    decision = decide(cn_call(at=datetime(2026, 2, 2, 23, 0, tzinfo=SHANGHAI)))
    assert decision.rules == ["hours"]
    assert decision.next_allowed_at == datetime(2026, 2, 3, 8, 0, tzinfo=SHANGHAI)


def test_hours_are_judged_in_the_customers_zone_not_the_callers():
    # 10:00 in New York is 23:00 in Shanghai.
    at = datetime(2026, 2, 2, 10, 0, tzinfo=NEW_YORK)
    assert decide(cn_call(at=at)).rules == ["hours"]


def test_letters_are_not_bound_by_contact_hours():
    assert decide(cn_call(at=datetime(2026, 2, 2, 23, 0, tzinfo=SHANGHAI), channel="letter")).allowed


def test_every_candidate_zone_must_be_inside_the_window():
    request = cn_call(
        at=datetime(2026, 2, 2, 9, 0, tzinfo=NEW_YORK),
        jurisdiction="US",
        time_zones=JURISDICTION_ZONES["US"],
        contact_hours_end=21,
    )
    decision = decide(request)
    assert decision.rules == ["hours"]  # 06:00 in Los Angeles
    assert decision.next_allowed_at == datetime(2026, 2, 2, 8, 0, tzinfo=LOS_ANGELES)


def test_zones_whose_windows_never_overlap_give_no_next_time():
    decision = decide(cn_call(time_zones=("Asia/Shanghai", "America/New_York"), contact_hours_end=12))
    assert decision.rules == ["hours"] and decision.next_allowed_at is None


@pytest.mark.parametrize("hold", ["dispute", "cease", "bankruptcy", "deceased", "complaint", "legal"])
def test_any_hold_refuses(hold):
    decision = decide(cn_call(holds=(hold,)))
    assert decision.rules == ["hold"] and decision.next_allowed_at is None


def test_legal_hold_allows_legal_staff_but_other_holds_do_not():
    assert decide(cn_call(holds=("legal",), actor_is_legal=True)).allowed
    assert decide(cn_call(holds=("legal", "dispute"), actor_is_legal=True)).rules == ["hold"]


def test_do_not_contact_and_revoked_consent_refuse_by_contact_point():
    assert decide(cn_call(point_do_not_contact=True)).rules == ["contact_point"]
    assert decide(cn_call(point_consent=False)).rules == ["contact_point"]


def test_cn_third_party_waits_7_days_after_a_right_party_contact():
    reached = datetime(2026, 2, 1, 10, 0, tzinfo=SHANGHAI)
    request = cn_call(party="third_party", last_right_party_contact_at=reached)
    decision = decide(request)
    assert decision.rules == ["third_party"]
    assert decision.next_allowed_at == reached + timedelta(days=7)
    assert decide(replace(request, at=reached + timedelta(days=7))).allowed


def test_next_allowed_time_satisfies_every_rule_at_once():
    # Seven days after a 21:30 contact is 21:30 again: inside hours until 22:00,
    # but a contact at 23:00 must wait for the window of the next morning.
    reached = datetime(2026, 2, 1, 23, 30, tzinfo=SHANGHAI)
    decision = decide(cn_call(party="third_party", last_right_party_contact_at=reached))
    assert decision.next_allowed_at == datetime(2026, 2, 9, 8, 0, tzinfo=SHANGHAI)


def test_us_third_party_once_unless_they_asked_to_be_contacted_again():
    request = cn_call(jurisdiction="US", party="third_party", time_zones=("America/New_York",))
    request = replace(request, at=datetime(2026, 2, 2, 10, 0, tzinfo=NEW_YORK))
    assert decide(request).allowed
    assert decide(replace(request, previous_third_party_contacts=1)).rules == ["third_party"]
    assert decide(
        replace(request, previous_third_party_contacts=1, third_party_asked_to_call_back=True)
    ).allowed


def test_debtor_contact_ignores_the_third_party_rule():
    reached = datetime(2026, 2, 1, 10, 0, tzinfo=SHANGHAI)
    assert decide(cn_call(last_right_party_contact_at=reached)).allowed


def test_candidate_zones_prefer_the_known_zone_then_phones_then_the_jurisdiction():
    assert candidate_zones(time_zone="Asia/Shanghai", phone_numbers=["+12125550123"], jurisdiction="CN") == (
        "Asia/Shanghai",
    )
    assert candidate_zones(time_zone=None, phone_numbers=["+12125550123"], jurisdiction="US") == (
        "America/New_York",
    )
    assert candidate_zones(time_zone=None, phone_numbers=["+8613800000001"], jurisdiction="CN") == (
        "Asia/Shanghai",
    )
    assert candidate_zones(time_zone=None, phone_numbers=[], jurisdiction="US") == tuple(
        sorted(JURISDICTION_ZONES["US"])
    )
    assert candidate_zones(time_zone=None, phone_numbers=["not a number"], jurisdiction="CN") == (
        "Asia/Shanghai",
    )


def test_gather_facts_reads_holds_flags_zones_and_the_strictest_hours():
    customer = CustomerFactory(time_zone=None, jurisdiction="US")
    debt = make_debt(customer=customer, jurisdiction="US")
    make_debt(
        customer=customer, product=ProductFactory(policy__jurisdiction="US", policy__contact_hours_start=9)
    )
    point = ContactPointFactory(customer=customer, value="+12125550123", consent=False)
    case = debt.case
    case.holds = ["complaint"]
    case.save()
    lawyer = UserFactory(username="lawyer", password=None)
    lawyer.groups.add(Group.objects.create(name="Legal"))
    at = datetime(2026, 2, 2, 10, 0, tzinfo=NEW_YORK)

    request = gather_facts(
        case=case, party="debtor", contact_point=point, third_party=None, channel="call", at=at, actor=lawyer
    )
    assert request.holds == ("complaint",)
    assert request.actor_is_legal
    assert request.point_consent is False and request.point_do_not_contact is False
    assert request.time_zones == ("America/New_York",)
    assert (request.contact_hours_start, request.contact_hours_end) == (9, 21)
    assert request.jurisdiction == "US"


def test_gather_facts_for_a_third_party_uses_their_flags_and_phone_zone():
    customer = CustomerFactory()
    debt = make_debt(customer=customer)
    relative = ThirdPartyContactFactory(customer=customer, phone="+14155550123", do_not_contact=True)
    at = datetime(2026, 2, 2, 16, 0, tzinfo=SHANGHAI)  # midnight in San Francisco
    request = gather_facts(
        case=debt.case,
        party="third_party",
        contact_point=None,
        third_party=relative,
        channel="call",
        at=at,
        actor=None,
    )
    assert request.point_do_not_contact
    assert request.time_zones == ("America/Los_Angeles", "Asia/Shanghai")
    assert set(decide(request).rules) == {"contact_point", "hours"}


# -- gathering counts from the database ----------------------------------------------------

UTC_ZONE = ZoneInfo("UTC")


def attempt(case, at, *, outcome="no_answer", channel="call", **kwargs):
    kwargs.setdefault("party", "debtor")
    kwargs.setdefault("direction", "outbound")
    return ContactAttempt.objects.create(case=case, started_at=at, outcome=outcome, channel=channel, **kwargs)


def facts_for(on, at, *, point=None, channel="call", **kwargs):
    return gather_facts(
        case=on.case,
        party=kwargs.pop("party", "debtor"),
        contact_point=point,
        third_party=kwargs.pop("third_party", None),
        channel=channel,
        at=at,
        actor=None,
        **kwargs,
    )


def test_answered_calls_count_across_every_case_collector_and_agency_of_the_customer():
    debt = make_debt()
    customer = debt.customer
    other_case = CollectionCase.objects.create(customer=customer, opened_on=date(2025, 6, 1), stage="closed")
    agent = UserFactory(username="agency-agent", password=None)
    at = datetime(2026, 2, 2, 15, 0, tzinfo=SHANGHAI)
    attempt(debt.case, at - timedelta(hours=6), outcome="right_party")  # 09:00
    attempt(debt.case, at - timedelta(hours=5), outcome="promise")
    attempt(other_case, at - timedelta(hours=4), outcome="callback", created_by=agent)
    attempt(debt.case, at - timedelta(hours=3), outcome="refused")  # refused: never counted
    attempt(debt.case, at - timedelta(hours=2), outcome="right_party", direction="inbound")
    attempt(debt.case, datetime(2026, 2, 1, 23, 59, tzinfo=SHANGHAI), outcome="right_party")  # yesterday

    request = facts_for(debt, at)
    assert request.answered_calls_by_day == {date(2026, 2, 2): 3}
    assert request.calls_answered_per_day == 3
    decision = decide(request)
    assert decision.rules == ["calls.answered"] and decision.calls_left_today == 0


def test_unanswered_calls_count_per_number():
    debt = make_debt()
    first = ContactPointFactory(customer=debt.customer)
    second = ContactPointFactory(customer=debt.customer, primary=False)
    at = datetime(2026, 2, 2, 20, 0, tzinfo=SHANGHAI)
    for hour in range(9, 15):
        attempt(debt.case, at.replace(hour=hour), contact_point=first, outcome="no_answer")
    attempt(debt.case, at.replace(hour=16), contact_point=second, outcome="busy")
    attempt(debt.case, at.replace(hour=17), contact_point=first, outcome="wrong_number")  # someone answered

    assert facts_for(debt, at, point=first).unanswered_calls_by_day == {date(2026, 2, 2): 6}
    assert decide(facts_for(debt, at, point=first)).rules == ["calls.attempts"]
    assert decide(facts_for(debt, at, point=second)).allowed


@pytest.mark.parametrize(
    ("attempts", "expected"),
    [
        # Spring forward, 8 March 2026: a 23-hour day.
        (
            [
                datetime(2026, 3, 7, 23, 59, tzinfo=NEW_YORK),
                datetime(2026, 3, 8, 0, 30, tzinfo=NEW_YORK),  # EST
                datetime(2026, 3, 8, 23, 30, tzinfo=NEW_YORK),  # EDT, 03:30 UTC on the 9th
                datetime(2026, 3, 9, 0, 30, tzinfo=NEW_YORK),  # 04:30 UTC: on the 8th at a fixed EST offset
            ],
            {date(2026, 3, 7): 1, date(2026, 3, 8): 2, date(2026, 3, 9): 1},
        ),
        # Fall back, 1 November 2026: a 25-hour day.
        (
            [
                datetime(2026, 11, 1, 0, 30, tzinfo=NEW_YORK),  # EDT
                datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=NEW_YORK),  # the second 01:30, EST
                datetime(2026, 11, 1, 23, 30, tzinfo=NEW_YORK),  # EST, 04:30 UTC on the 2nd
                datetime(2026, 11, 2, 0, 10, tzinfo=NEW_YORK),
            ],
            {date(2026, 11, 1): 3, date(2026, 11, 2): 1},
        ),
    ],
)
def test_us_attempts_are_counted_on_the_customers_local_days_across_dst(attempts, expected):
    customer = CustomerFactory(jurisdiction="US", time_zone="America/New_York")
    debt = make_debt(customer=customer, jurisdiction="US")
    for moment in attempts:
        attempt(debt.case, moment.astimezone(UTC_ZONE))
    at = datetime.combine(max(expected), datetime.min.time(), tzinfo=NEW_YORK).replace(hour=12)
    request = facts_for(debt, at.astimezone(SHANGHAI))  # asked in the server's zone
    assert request.call_attempts_by_day == expected
    assert request.home_zone == "America/New_York"


def test_seven_in_seven_is_counted_per_debt_and_case_wide_calls_count_for_each_debt():
    customer = CustomerFactory(jurisdiction="US", time_zone="America/Los_Angeles")
    debt = make_debt(customer=customer, jurisdiction="US")
    other = make_debt(customer=customer, jurisdiction="US")
    assert other.case_id == debt.case_id
    day_1 = datetime(2026, 2, 1, 10, 0, tzinfo=LOS_ANGELES)
    for n in range(4):
        attempt(debt.case, day_1 + timedelta(days=n), debt=debt)
    for n in range(4, 6):
        attempt(debt.case, day_1 + timedelta(days=n))  # about the case: every debt
    attempt(debt.case, day_1 + timedelta(days=6), debt=other)
    at = day_1 + timedelta(days=6, hours=2)

    assert sum(facts_for(debt, at, debt=debt).call_attempts_by_day.values()) == 6
    assert sum(facts_for(debt, at, debt=other).call_attempts_by_day.values()) == 3
    assert decide(facts_for(debt, at, debt=debt)).calls_left_today == 1
    assert decide(facts_for(debt, at)).rules == ["calls.attempts"]  # no debt: the whole case


def test_last_conversation_is_the_latest_call_that_reached_the_debtor():
    customer = CustomerFactory(jurisdiction="US", time_zone="America/New_York")
    debt = make_debt(customer=customer, jurisdiction="US", validation_notice_days=None)
    spoke = datetime(2026, 2, 3, 9, 0, tzinfo=NEW_YORK)
    attempt(debt.case, spoke - timedelta(days=1), outcome="right_party")
    attempt(debt.case, spoke, outcome="dispute", direction="inbound")
    attempt(debt.case, spoke + timedelta(hours=2), outcome="voicemail")
    at = datetime(2026, 2, 9, 12, 0, tzinfo=NEW_YORK)
    request = facts_for(debt, at)
    assert request.last_conversation_at == spoke
    decision = decide(request)
    assert decision.rules == ["calls.after_conversation"]
    assert decision.next_allowed_at == datetime(2026, 2, 10, 8, 0, tzinfo=NEW_YORK)


def make_message(debt, *, channel="sms", status="sent", sent_at=None, template=None, key=None):
    make_message.counter += 1
    return Message.objects.create(
        case=debt.case,
        debt=debt,
        channel=channel,
        language="zh-hans",
        recipient="+8613800000001",
        body="…",
        status=status,
        sent_at=sent_at,
        template=template,
        idempotency_key=key or f"test:{make_message.counter}",
    )


make_message.counter = 0


def test_messages_per_day_count_sent_messages_and_logged_texts_but_not_blocked_ones():
    debt = make_debt()
    at = datetime(2026, 2, 2, 18, 0, tzinfo=SHANGHAI)
    make_message(debt, sent_at=at.replace(hour=9))
    make_message(debt, channel="email", status="delivered", sent_at=at.replace(hour=10))
    make_message(debt, status="blocked", sent_at=at.replace(hour=11))
    make_message(debt, sent_at=at - timedelta(days=1))
    make_message(debt, channel="letter", sent_at=at.replace(hour=12))
    attempt(debt.case, at.replace(hour=13), channel="sms", outcome="no_answer")

    request = facts_for(debt, at, channel="sms")
    assert request.messages_by_day == {date(2026, 2, 2): 3}
    assert decide(request).rules == ["messages.daily"]
    assert decide(facts_for(debt, at, channel="letter")).allowed


def test_us_validation_notice_due_five_days_after_the_first_communication():
    customer = CustomerFactory(jurisdiction="US", time_zone="America/Chicago")
    debt = make_debt(customer=customer, jurisdiction="US")
    chicago = ZoneInfo("America/Chicago")
    first = datetime(2026, 2, 2, 10, 0, tzinfo=chicago)
    attempt(debt.case, first - timedelta(days=1), outcome="no_answer")  # not a communication
    attempt(debt.case, first, outcome="right_party")
    on_time = datetime(2026, 2, 7, 12, 0, tzinfo=chicago)
    late = datetime(2026, 2, 8, 12, 0, tzinfo=chicago)

    assert facts_for(debt, on_time).first_communication_at == first
    assert decide(facts_for(debt, on_time, channel="email")).allowed
    assert decide(facts_for(debt, late, channel="email")).rules == ["validation"]
    assert decide(facts_for(debt, late, channel="letter", template_code="validation-notice")).allowed

    template = MessageTemplate.objects.create(
        code="validation-notice", channel="letter", language="en", body="…"
    )
    make_message(debt, channel="letter", status="queued", template=template)
    assert facts_for(debt, late).validation_notice_sent
    assert decide(facts_for(debt, late, channel="email")).allowed


def test_a_workplace_point_marked_do_not_contact_means_the_employer_forbids_contact_at_work():
    customer = CustomerFactory(jurisdiction="US", time_zone="America/New_York")
    debt = make_debt(customer=customer, jurisdiction="US")
    office = ContactPointFactory(customer=customer, value="+12125550100", is_workplace=True)
    at = datetime(2026, 2, 2, 10, 0, tzinfo=NEW_YORK)
    assert decide(facts_for(debt, at, point=office)).allowed
    ContactPointFactory(customer=customer, value="+12125550101", is_workplace=True, do_not_contact=True)
    request = facts_for(debt, at, point=office)
    assert request.point_is_workplace and request.employer_forbids_contact
    assert decide(request).rules == ["workplace"]


def test_us_third_party_facts_prior_contacts_callbacks_and_wrong_answers():
    customer = CustomerFactory(jurisdiction="US", time_zone="America/New_York")
    debt = make_debt(customer=customer, jurisdiction="US")
    neighbour = ThirdPartyContactFactory(customer=customer, phone="+12125550199")
    at = datetime(2026, 2, 10, 10, 0, tzinfo=NEW_YORK)
    asked = {"party": "third_party", "third_party": neighbour}
    attempt(
        debt.case, at - timedelta(days=5), party="third_party", third_party=neighbour, outcome="no_answer"
    )
    assert facts_for(debt, at, **asked).previous_third_party_contacts == 0

    attempt(
        debt.case, at - timedelta(days=4), party="third_party", third_party=neighbour, outcome="third_party"
    )
    request = facts_for(debt, at, **asked)
    assert request.previous_third_party_contacts == 1 and not request.third_party_asked_to_call_back
    assert decide(request).rules == ["third_party"]

    attempt(debt.case, at - timedelta(days=3), outcome="wrong_number")  # the address they gave was wrong
    assert facts_for(debt, at, **asked).third_party_earlier_answer_wrong
    assert decide(facts_for(debt, at, **asked)).allowed


def test_cn_third_party_marked_other_is_an_unrelated_third_party():
    debt = make_debt()
    stranger = ThirdPartyContactFactory(customer=debt.customer, relationship="other")
    at = datetime(2026, 2, 2, 10, 0, tzinfo=SHANGHAI)
    assert decide(facts_for(debt, at, party="third_party", third_party=stranger)).rules == ["third_party"]


def test_policy_limits_modes_and_limitation_come_from_the_cases_debts():
    customer = CustomerFactory(jurisdiction="US", time_zone="America/New_York")
    debt = make_debt(
        customer=customer,
        jurisdiction="US",
        first_party=True,
        rule_modes={"calls.attempts": "advise", "hold": "advise"},
        call_attempts_per_7_days=5,
    )
    Debt.objects.filter(pk=debt.pk).update(limitation_on=date(2026, 1, 31))
    at = datetime(2026, 2, 2, 10, 0, tzinfo=NEW_YORK)
    request = facts_for(debt, at)
    assert request.first_party and request.rule_modes == {"calls.attempts": "advise", "hold": "advise"}
    assert request.call_attempts_per_7_days == 5
    assert request.limitation_on == date(2026, 1, 31)
    assert decide(facts_for(debt, at, channel="letter")).requires_disclosure
    assert decide(facts_for(debt, at, channel="legal")).rules == ["time_barred"]

    # A second, third-party-collector policy on the case: no advise any more.
    make_debt(customer=customer, jurisdiction="US")
    request = facts_for(debt, at)
    assert not request.first_party and request.rule_modes == {}
    assert request.call_attempts_per_7_days == 5  # the strictest cap


def test_gather_facts_reads_a_handful_of_queries(django_assert_max_num_queries):
    customer = CustomerFactory(jurisdiction="US", time_zone="America/New_York")
    debt = make_debt(customer=customer, jurisdiction="US")
    point = ContactPointFactory(customer=customer, value="+12125550123")
    neighbour = ThirdPartyContactFactory(customer=customer, phone="+12125550199")
    start = datetime(2026, 2, 1, 10, 0, tzinfo=NEW_YORK)
    for n in range(30):
        attempt(debt.case, start + timedelta(hours=5 * n), contact_point=point)
    at = start + timedelta(days=8)
    with django_assert_max_num_queries(8):
        facts_for(debt, at, point=point, debt=debt)
    with django_assert_max_num_queries(11):
        facts_for(debt, at, party="third_party", third_party=neighbour)
