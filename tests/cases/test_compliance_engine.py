"""The contact-rules engine: pure decisions and the facts gathered for them (RULES §4)."""

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group

from cases.compliance import ContactRequest, decide, gather_facts
from cases.compliance.engine import JURISDICTION_ZONES, RULES, candidate_zones
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
    assert set(RULES) == {"hold", "contact_point", "hours", "third_party"}


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
    assert decide(replace(request, third_party_prior_contacts=1)).rules == ["third_party"]
    assert decide(replace(request, third_party_prior_contacts=1, third_party_asked_again=True)).allowed


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
