"""RULES §4 for the US preset, rule by rule, on the pure engine (no database)."""

from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cases.compliance import ContactRequest, decide
from cases.compliance.rules import in_force
from cases.policy_presets import preset

NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
SHANGHAI = ZoneInfo("Asia/Shanghai")  # the server's zone
TODAY = date(2026, 2, 10)
NOON = datetime(2026, 2, 10, 12, 0, tzinfo=NEW_YORK)
LIMIT_FIELDS = (
    "contact_hours_start",
    "contact_hours_end",
    "calls_answered_per_day",
    "unanswered_calls_per_number_per_day",
    "call_attempts_per_7_days",
    "quiet_days_after_conversation",
    "messages_per_day",
    "validation_notice_days",
)


def us(**facts) -> ContactRequest:
    """A call to a New York debtor at noon under the US preset's limits."""
    limits = {name: preset("US")[name] for name in LIMIT_FIELDS}
    values = {
        "at": NOON,
        "channel": "call",
        "jurisdiction": "US",
        "time_zones": ("America/New_York",),
        "home_zone": "America/New_York",
        **limits,
    }
    values.update(facts)
    return ContactRequest(**values)


def days(first: date, count: int, per_day: int = 1) -> dict[date, int]:
    return {first + timedelta(days=n): per_day for n in range(count)}


def at(day: date, hour: int = 12, minute: int = 0, zone=NEW_YORK) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)


# (rule, facts, allowed): at the limit allowed, one over refused.
CASES = [
    ("hours", {"at": at(TODAY, 8)}, True),
    ("hours", {"at": at(TODAY, 20, 59)}, True),
    ("hours", {"at": at(TODAY, 21)}, False),
    ("hours", {"at": at(TODAY, 7, 59)}, False),
    ("calls.answered", {"answered_calls_by_day": {TODAY: 10}}, True),  # CN only
    ("calls.attempts", {"call_attempts_by_day": days(TODAY - timedelta(days=6), 6)}, True),
    ("calls.attempts", {"call_attempts_by_day": days(TODAY - timedelta(days=6), 7)}, False),
    ("calls.attempts", {"call_attempts_by_day": days(TODAY - timedelta(days=7), 7)}, True),
    ("calls.attempts", {"call_attempts_by_day": {TODAY: 7}}, False),
    ("calls.attempts", {"call_attempts_by_day": {TODAY: 7}, "channel": "sms"}, True),
    ("calls.attempts", {"unanswered_calls_by_day": {TODAY: 20}}, True),  # no per-number cap in the US
    ("calls.after_conversation", {"last_conversation_at": at(TODAY - timedelta(days=6), 9)}, False),
    ("calls.after_conversation", {"last_conversation_at": at(TODAY - timedelta(days=7), 20)}, True),
    ("calls.after_conversation", {"last_conversation_at": at(TODAY, 9), "channel": "email"}, True),
    ("messages.daily", {"channel": "sms", "has_opt_out_text": True}, True),
    ("messages.daily", {"channel": "email", "has_opt_out_text": None}, True),
    ("messages.daily", {"channel": "sms", "has_opt_out_text": False}, False),
    ("messages.daily", {"channel": "email", "has_opt_out_text": False}, False),
    ("messages.daily", {"channel": "sms", "messages_by_day": {TODAY: 50}}, True),  # no daily cap
    ("contact_point", {"channel": "email", "point_consent": False}, False),
    ("third_party", {"party": "third_party", "previous_third_party_contacts": 0}, True),
    ("third_party", {"party": "third_party", "previous_third_party_contacts": 1}, False),
    (
        "third_party",
        {"party": "third_party", "previous_third_party_contacts": 1, "third_party_asked_to_call_back": True},
        True,
    ),
    (
        "third_party",
        {
            "party": "third_party",
            "previous_third_party_contacts": 2,
            "third_party_earlier_answer_wrong": True,
        },
        True,
    ),
    ("workplace", {"point_is_workplace": True, "employer_forbids_contact": False}, True),
    ("workplace", {"point_is_workplace": False, "employer_forbids_contact": True}, True),
    ("workplace", {"point_is_workplace": True, "employer_forbids_contact": True}, False),
    ("workplace", {"point_is_workplace": True, "employer_forbids_contact": True, "channel": "letter"}, False),
    ("validation", {"first_communication_at": at(TODAY - timedelta(days=5), 9)}, True),
    ("validation", {"first_communication_at": at(TODAY - timedelta(days=6), 9)}, False),
    (
        "validation",
        {"first_communication_at": at(TODAY - timedelta(days=30)), "validation_notice_sent": True},
        True,
    ),
    (
        "validation",
        {
            "first_communication_at": at(TODAY - timedelta(days=30)),
            "channel": "letter",
            "is_validation_notice": True,
        },
        True,
    ),
    ("hold", {"holds": ("dispute",)}, False),
    ("time_barred", {"channel": "legal", "limitation_on": TODAY}, True),
    ("time_barred", {"channel": "legal", "limitation_on": TODAY - timedelta(days=1)}, False),
]


@pytest.mark.parametrize(("rule", "facts", "allowed"), CASES)
def test_us_rule_allows_at_the_limit_and_refuses_one_over(rule, facts, allowed):
    decision = decide(us(**facts))
    assert decision.allowed is allowed, decision.reason
    if allowed:
        assert decision.rules == [] and decision.reason == ""
    else:
        assert decision.rules == [rule]
        assert decision.reason.endswith(".") and len(decision.reason) > 20


# -- 7 in 7 -----------------------------------------------------------------------------

DAY_1 = date(2026, 2, 1)
DAY_7 = DAY_1 + timedelta(days=6)
DAY_8 = DAY_1 + timedelta(days=7)


def test_seven_attempts_on_days_1_to_7_refuse_an_eighth_on_day_7():
    decision = decide(us(at=at(DAY_7, 15), call_attempts_by_day=days(DAY_1, 7)))
    assert decision.rules == ["calls.attempts"]
    assert "7 call attempts" in decision.reason and "2026-02-01 – 2026-02-07" in decision.reason
    assert decision.next_allowed_at == at(DAY_8, 8)
    assert decision.calls_left_today == 0


def test_on_day_8_the_day_1_attempt_leaves_the_window():
    decision = decide(us(at=at(DAY_8, 8), call_attempts_by_day=days(DAY_1, 7)))
    assert decision.allowed and decision.calls_left_today == 1


def test_on_day_8_seven_attempts_on_days_2_to_7_still_refuse_until_day_9():
    history = {DAY_1 + timedelta(days=1): 2, **days(DAY_1 + timedelta(days=2), 5)}
    decision = decide(us(at=at(DAY_8, 10), call_attempts_by_day=history))
    assert decision.rules == ["calls.attempts"]
    assert decision.next_allowed_at == at(DAY_1 + timedelta(days=8), 8)
    assert decide(us(at=decision.next_allowed_at, call_attempts_by_day=history)).allowed


def test_a_late_logged_call_must_fit_the_windows_that_end_after_it():
    day_3 = DAY_1 + timedelta(days=2)
    # Seven attempts on days 5–11: every window holding day 3 has at most 5.
    assert decide(us(at=at(day_3), call_attempts_by_day=days(DAY_1 + timedelta(days=4), 7))).allowed
    # Seven attempts on days 4–9: days 3–9 would hold eight.
    later = {DAY_1 + timedelta(days=3): 2, **days(DAY_1 + timedelta(days=4), 5)}
    assert decide(us(at=at(day_3), call_attempts_by_day=later)).rules == ["calls.attempts"]


def test_seven_in_seven_across_the_spring_dst_change():
    # Days 2–8 March 2026; clocks go forward in New York on the 8th.
    first = date(2026, 3, 2)
    history = days(first, 7)
    last_day = date(2026, 3, 8)
    assert not decide(us(at=at(last_day, 20, 30), call_attempts_by_day=history)).allowed
    refused = decide(us(at=at(last_day, 20, 30), call_attempts_by_day=history))
    assert refused.next_allowed_at == datetime(2026, 3, 9, 8, 0, tzinfo=NEW_YORK)
    assert refused.next_allowed_at.astimezone(ZoneInfo("UTC")).hour == 12  # EDT, not EST
    assert decide(us(at=at(date(2026, 3, 9), 8), call_attempts_by_day=history)).allowed


def test_seven_in_seven_across_the_autumn_dst_change():
    first = date(2026, 10, 26)
    history = days(first, 7)  # 26 Oct – 1 Nov; clocks go back on the 1st
    assert not decide(us(at=at(date(2026, 11, 1), 20, 30), call_attempts_by_day=history)).allowed
    next_day = decide(us(at=at(date(2026, 11, 1), 20, 30), call_attempts_by_day=history)).next_allowed_at
    assert next_day == datetime(2026, 11, 2, 8, 0, tzinfo=NEW_YORK)
    assert next_day.astimezone(ZoneInfo("UTC")).hour == 13  # EST


def test_a_customer_in_los_angeles_counts_days_on_their_own_clock_whatever_the_callers_zone():
    # 09:30 on 8 Feb in Shanghai (the server) is 17:30 on 7 Feb in Los Angeles.
    caller_time = datetime(2026, 2, 8, 9, 30, tzinfo=SHANGHAI)
    request = us(
        at=caller_time,
        time_zones=("America/Los_Angeles",),
        home_zone="America/Los_Angeles",
        call_attempts_by_day=days(DAY_1, 7),
    )
    decision = decide(request)
    assert decision.rules == ["calls.attempts"]  # still day 7 there
    assert decision.next_allowed_at == datetime(2026, 2, 8, 8, 0, tzinfo=LOS_ANGELES)
    assert decide(replace(request, at=caller_time + timedelta(hours=24))).allowed


# -- after a conversation ----------------------------------------------------------------


def test_a_conversation_on_the_1st_blocks_calls_through_the_7th_and_allows_the_8th():
    spoke = at(date(2026, 3, 1), 10)
    blocked = decide(us(at=at(date(2026, 3, 7), 20, 59), last_conversation_at=spoke))
    assert blocked.rules == ["calls.after_conversation"]
    assert "2026-03-01" in blocked.reason and "2026-03-08" in blocked.reason
    assert blocked.next_allowed_at == datetime(2026, 3, 8, 8, 0, tzinfo=NEW_YORK)  # the DST day
    assert decide(us(at=at(date(2026, 3, 8), 8), last_conversation_at=spoke)).allowed


def test_the_conversation_day_is_the_customers_local_date_not_utc():
    # 23:30 on 1 March in New York is 04:30 UTC on the 2nd.
    spoke = datetime(2026, 3, 1, 23, 30, tzinfo=NEW_YORK)
    assert decide(us(at=at(date(2026, 3, 8), 8), last_conversation_at=spoke)).allowed


def test_another_call_the_same_day_as_the_conversation_is_refused():
    spoke = at(TODAY, 9)
    assert decide(us(at=at(TODAY, 15), last_conversation_at=spoke)).rules == ["calls.after_conversation"]


def test_next_allowed_time_satisfies_both_call_rules():
    spoke = at(DAY_1 + timedelta(days=2), 10)  # blocks until day 10
    history = days(DAY_1, 7)
    decision = decide(us(at=at(DAY_7, 12), last_conversation_at=spoke, call_attempts_by_day=history))
    assert decision.rules == ["calls.attempts", "calls.after_conversation"]
    assert decision.next_allowed_at == at(DAY_1 + timedelta(days=9), 8)


# -- advise mode, effective dates, disclosure ----------------------------------------------


def over_the_weekly_cap(**facts) -> ContactRequest:
    return us(call_attempts_by_day={TODAY: 7}, **facts)


def test_first_party_creditor_may_advise_a_us_rule_the_call_is_allowed_and_logged():
    decision = decide(over_the_weekly_cap(first_party=True, rule_modes={"calls.attempts": "advise"}))
    assert decision.allowed and decision.rules == []
    assert decision.advisories == ["calls.attempts"] and "7 call attempts" in decision.advisory_reason


def test_advise_without_first_party_is_enforced():
    decision = decide(over_the_weekly_cap(first_party=False, rule_modes={"calls.attempts": "advise"}))
    assert decision.rules == ["calls.attempts"] and decision.advisories == []


def test_a_hold_is_never_advised():
    decision = decide(us(holds=("cease",), first_party=True, rule_modes={"hold": "advise"}))
    assert decision.rules == ["hold"] and decision.advisories == []


def test_advised_and_enforced_rules_together_refuse_by_the_enforced_one_only():
    request = over_the_weekly_cap(at=at(TODAY, 22), first_party=True, rule_modes={"calls.attempts": "advise"})
    decision = decide(request)
    assert decision.rules == ["hours"] and decision.advisories == ["calls.attempts"]
    assert decision.next_allowed_at == at(TODAY + timedelta(days=1), 8)


def test_regulation_f_call_caps_start_on_30_november_2021():
    assert not in_force("calls.attempts", "US", date(2021, 11, 29))
    assert in_force("calls.attempts", "US", date(2021, 11, 30))
    before = datetime(2021, 11, 29, 12, 0, tzinfo=NEW_YORK)
    assert decide(us(at=before, call_attempts_by_day={before.date(): 20})).allowed
    assert not in_force("workplace", "CN", TODAY) and in_force("workplace", "US", TODAY)


def test_letter_on_a_time_barred_debt_is_allowed_with_the_disclosure():
    barred = decide(us(channel="letter", limitation_on=TODAY - timedelta(days=1)))
    assert barred.allowed and barred.requires_disclosure
    assert decide(us(channel="letter", limitation_on=TODAY)).requires_disclosure is False
    assert decide(us(channel="letter")).requires_disclosure is False


def test_legal_action_on_a_time_barred_debt_names_the_suit():
    decision = decide(us(channel="legal", limitation_on=TODAY - timedelta(days=1)))
    assert decision.rules == ["time_barred"] and "no suit or threat of suit" in decision.reason


def test_validation_refusal_has_no_next_time():
    decision = decide(us(first_communication_at=at(TODAY - timedelta(days=6), 9)))
    assert decision.rules == ["validation"] and decision.next_allowed_at is None
    assert "2026-02-09" in decision.reason  # the deadline


def test_validation_does_not_hold_back_locating_calls_to_third_parties():
    request = us(party="third_party", first_communication_at=at(TODAY - timedelta(days=20)))
    assert decide(request).allowed
