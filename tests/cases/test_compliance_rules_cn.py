"""RULES §4 for the CN preset, rule by rule, on the pure engine (no database)."""

from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cases.compliance import ContactRequest, decide
from cases.policy_presets import preset

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 2, 2)
YESTERDAY = TODAY - timedelta(days=1)
NOON = datetime(2026, 2, 2, 12, 0, tzinfo=SHANGHAI)
TOMORROW_8 = datetime(2026, 2, 3, 8, 0, tzinfo=SHANGHAI)
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


def cn(**facts) -> ContactRequest:
    """A call to a Shanghai debtor at noon under the CN preset's limits."""
    limits = {name: preset("CN")[name] for name in LIMIT_FIELDS}
    values = {
        "at": NOON,
        "channel": "call",
        "jurisdiction": "CN",
        "time_zones": ("Asia/Shanghai",),
        "home_zone": "Asia/Shanghai",
        **limits,
    }
    values.update(facts)
    return ContactRequest(**values)


# (rule, facts, allowed): at the limit allowed, one over refused.
CASES = [
    ("hours", {"at": datetime(2026, 2, 2, 8, 0, tzinfo=SHANGHAI)}, True),
    ("hours", {"at": datetime(2026, 2, 2, 21, 59, tzinfo=SHANGHAI)}, True),
    ("hours", {"at": datetime(2026, 2, 2, 22, 0, tzinfo=SHANGHAI)}, False),
    ("hours", {"at": datetime(2026, 2, 2, 7, 59, tzinfo=SHANGHAI)}, False),
    ("hours", {"at": datetime(2026, 2, 2, 21, 0, tzinfo=SHANGHAI), "contact_hours_end": 21}, False),
    ("calls.answered", {"answered_calls_by_day": {TODAY: 2}}, True),
    ("calls.answered", {"answered_calls_by_day": {TODAY: 3}}, False),
    ("calls.answered", {"answered_calls_by_day": {YESTERDAY: 3}}, True),
    ("calls.answered", {"answered_calls_by_day": {TODAY: 3}, "channel": "sms"}, True),
    ("calls.answered", {"answered_calls_by_day": {TODAY: 3}, "calls_answered_per_day": 4}, True),
    ("calls.attempts", {"unanswered_calls_by_day": {TODAY: 5}}, True),
    ("calls.attempts", {"unanswered_calls_by_day": {TODAY: 6}}, False),
    ("calls.attempts", {"unanswered_calls_by_day": {YESTERDAY: 6}}, True),
    ("calls.attempts", {"call_attempts_by_day": {TODAY: 30}}, True),  # no weekly cap in CN
    ("messages.daily", {"channel": "sms", "messages_by_day": {TODAY: 2}}, True),
    ("messages.daily", {"channel": "sms", "messages_by_day": {TODAY: 3}}, False),
    ("messages.daily", {"channel": "email", "messages_by_day": {TODAY: 3}}, False),
    ("messages.daily", {"channel": "letter", "messages_by_day": {TODAY: 9}}, True),
    ("messages.daily", {"channel": "sms", "has_opt_out_text": False}, True),  # a US rule
    ("third_party", {"party": "third_party", "third_party_relationship": "relative"}, True),
    ("third_party", {"party": "third_party", "third_party_relationship": "other"}, False),
    (
        "third_party",
        {"party": "third_party", "last_right_party_contact_at": NOON - timedelta(days=6, hours=23)},
        False,
    ),
    ("third_party", {"party": "third_party", "last_right_party_contact_at": NOON - timedelta(days=7)}, True),
    ("workplace", {"point_is_workplace": True, "employer_forbids_contact": True}, True),  # US only
    ("hold", {"holds": ("dispute",)}, False),
    ("contact_point", {"point_do_not_contact": True}, False),
    ("contact_point", {"point_consent": False, "channel": "sms"}, False),
    ("validation", {"first_communication_at": NOON - timedelta(days=30)}, True),  # US only
    ("calls.after_conversation", {"last_conversation_at": NOON - timedelta(hours=1)}, True),  # US only
    ("time_barred", {"channel": "legal", "limitation_on": TODAY}, True),
    ("time_barred", {"channel": "legal", "limitation_on": YESTERDAY}, False),
    ("time_barred", {"channel": "letter", "limitation_on": YESTERDAY}, True),
]


@pytest.mark.parametrize(("rule", "facts", "allowed"), CASES)
def test_cn_rule_allows_at_the_limit_and_refuses_one_over(rule, facts, allowed):
    decision = decide(cn(**facts))
    assert decision.allowed is allowed, decision.reason
    if allowed:
        assert decision.rules == [] and decision.reason == ""
    else:
        assert decision.rules == [rule]
        assert decision.reason.endswith(".") and len(decision.reason) > 20


def test_answered_cap_reason_names_the_count_and_the_next_morning():
    decision = decide(cn(answered_calls_by_day={TODAY: 3}))
    assert "3 times on 2026-02-02" in decision.reason and "every collector and agency" in decision.reason
    assert decision.next_allowed_at == TOMORROW_8


def test_unanswered_cap_reopens_next_morning_in_the_customers_zone():
    decision = decide(cn(unanswered_calls_by_day={TODAY: 6}, at=datetime(2026, 2, 2, 21, 0, tzinfo=SHANGHAI)))
    assert decision.rules == ["calls.attempts"]
    assert "6 unanswered calls" in decision.reason
    assert decision.next_allowed_at == TOMORROW_8


def test_message_cap_reopens_next_morning():
    decision = decide(cn(channel="sms", messages_by_day={TODAY: 3}))
    assert "3 SMS/email" in decision.reason
    assert decision.next_allowed_at == TOMORROW_8


def test_the_local_day_decides_which_count_applies():
    # 23:30 UTC on the 1st is 07:30 on the 2nd in Shanghai: today's count is the 2nd's.
    late_utc = datetime(2026, 2, 2, 1, 0, tzinfo=ZoneInfo("UTC"))  # 09:00 Shanghai on the 2nd
    assert decide(cn(at=late_utc, answered_calls_by_day={YESTERDAY: 3})).allowed
    assert decide(cn(at=late_utc, answered_calls_by_day={TODAY: 3})).rules == ["calls.answered"]


def test_calls_left_today_is_the_smaller_of_conversations_and_unanswered_calls_left():
    assert decide(cn()).calls_left_today == 3
    assert (
        decide(cn(answered_calls_by_day={TODAY: 1}, unanswered_calls_by_day={TODAY: 5})).calls_left_today == 1
    )
    assert decide(cn(answered_calls_by_day={TODAY: 3})).calls_left_today == 0
    assert decide(cn(channel="sms")).calls_left_today is None


def test_every_refusing_rule_is_reported_and_the_next_time_satisfies_all():
    decision = decide(
        cn(
            at=datetime(2026, 2, 2, 23, 0, tzinfo=SHANGHAI),
            answered_calls_by_day={TODAY: 3},
            unanswered_calls_by_day={TODAY: 6},
        )
    )
    assert decision.rules == ["hours", "calls.answered", "calls.attempts"]
    assert decision.next_allowed_at == TOMORROW_8
    assert decide(cn(at=decision.next_allowed_at)).allowed


@pytest.mark.parametrize("rule", ["calls.answered", "calls.attempts", "hours", "third_party"])
def test_cn_rules_ignore_advise_mode(rule):
    request = cn(
        first_party=True,
        rule_modes={rule: "advise"},
        answered_calls_by_day={TODAY: 3},
        unanswered_calls_by_day={TODAY: 6},
        at=datetime(2026, 2, 2, 23, 0, tzinfo=SHANGHAI),
    )
    decision = decide(request)
    assert not decision.allowed and decision.advisories == []


def test_cn_time_barred_letters_need_no_disclosure():
    assert decide(cn(channel="letter", limitation_on=YESTERDAY)).requires_disclosure is False


def test_cn_rules_before_the_convention_are_not_in_force():
    old = datetime(2017, 6, 1, 12, 0, tzinfo=SHANGHAI)
    assert decide(cn(at=old, answered_calls_by_day={old.date(): 5})).allowed
    assert decide(cn(at=old, holds=("cease",))).rules == ["hold"]


def test_a_third_party_call_does_not_use_the_debtors_conversation_cap():
    request = cn(party="third_party", third_party_relationship="relative", answered_calls_by_day={TODAY: 3})
    assert decide(request).allowed
    assert not decide(replace(request, unanswered_calls_by_day={TODAY: 6})).allowed
