"""Property tests of the contact-rules engine over random timelines (RULES §4).

Each example is a timeline of call attempts (times, outcomes, numbers),
replayed in order through the pure ``decide``. The facts for each attempt are
computed from the attempts accepted so far by a deliberately simple reference
counter written here (a loop over the history, local dates by
``astimezone``). The reference then says whether the attempt, with the
outcome it actually had, breaks a rule. The engine must never allow such an
attempt; it must refuse exactly when a cap is already used up before dialling
(the outcome is unknown then); and its ``calls_left_today`` and US 7-in-7
count must equal the reference's. No database.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.compliance import ContactRequest, decide

pytestmark = pytest.mark.slow  # a scenario or property test: seconds each

SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

REACHED = {"right_party", "promise", "refused_to_pay", "dispute", "callback"}
UNANSWERED = {"no_answer", "busy", "voicemail"}
# Weighted so caps are reached: most calls go unanswered.
CN_OUTCOMES = ["right_party", "promise", "no_answer", "no_answer", "busy", "voicemail", "wrong_number"]
US_OUTCOMES = ["no_answer"] * 6 + ["voicemail", "busy", "wrong_number", "right_party"]
NUMBERS = ["+8613800000001", "+8613800000002", "+8613800000003"]
# Shown in a zone that is neither the customer's nor UTC, like the server's.
SERVER = ZoneInfo("Asia/Shanghai")


def timeline(outcomes: list[str], *, max_gap_minutes: int, max_size: int):
    step = st.tuples(
        st.integers(min_value=0, max_value=max_gap_minutes),
        st.sampled_from(outcomes),
        st.integers(min_value=0, max_value=len(NUMBERS) - 1),
    )
    return st.lists(step, min_size=1, max_size=max_size)


def replay_times(start: datetime, steps) -> list[tuple[datetime, str, int]]:
    moment, attempts = start, []
    for gap, outcome, number in steps:
        moment = moment + timedelta(minutes=gap)
        attempts.append((moment, outcome, number))
    return attempts


# -- CN -----------------------------------------------------------------------------------

CN_ZONE = ZoneInfo("Asia/Shanghai")
CN_ANSWERED, CN_UNANSWERED, CN_START, CN_END = 3, 6, 8, 22


def cn_request(moment: datetime, number: int, accepted) -> tuple[ContactRequest, int, int]:
    day = moment.astimezone(CN_ZONE).date()
    answered = sum(1 for t, o, _ in accepted if t.astimezone(CN_ZONE).date() == day and o in REACHED)
    unanswered = sum(
        1 for t, o, n in accepted if n == number and t.astimezone(CN_ZONE).date() == day and o in UNANSWERED
    )
    request = ContactRequest(
        at=moment.astimezone(SERVER),
        channel="call",
        jurisdiction="CN",
        time_zones=("Asia/Shanghai",),
        home_zone="Asia/Shanghai",
        contact_hours_start=CN_START,
        contact_hours_end=CN_END,
        calls_answered_per_day=CN_ANSWERED,
        unanswered_calls_per_number_per_day=CN_UNANSWERED,
        answered_calls_by_day={day: answered},
        unanswered_calls_by_day={day: unanswered},
    )
    return request, answered, unanswered


def cn_inside_hours(moment: datetime) -> bool:
    return CN_START <= moment.astimezone(CN_ZONE).hour < CN_END


@SETTINGS
@given(steps=timeline(CN_OUTCOMES, max_gap_minutes=150, max_size=80))
def test_cn_engine_never_allows_a_call_that_breaks_a_cap_or_the_hours(steps):
    accepted: list[tuple[datetime, str, int]] = []
    start = datetime(2026, 2, 1, 6, 0, tzinfo=CN_ZONE)
    for moment, outcome, number in replay_times(start, steps):
        request, answered, unanswered = cn_request(moment, number, accepted)
        decision = decide(request)

        breaks = (
            not cn_inside_hours(moment)
            or answered + (outcome in REACHED) > CN_ANSWERED
            or unanswered + (outcome in UNANSWERED) > CN_UNANSWERED
        )
        assert not (decision.allowed and breaks)
        may_dial = cn_inside_hours(moment) and answered < CN_ANSWERED and unanswered < CN_UNANSWERED
        assert decision.allowed is may_dial
        assert decision.calls_left_today == max(0, min(CN_ANSWERED - answered, CN_UNANSWERED - unanswered))
        assert ("calls.answered" in decision.rules) is (answered >= CN_ANSWERED)
        assert ("calls.attempts" in decision.rules) is (unanswered >= CN_UNANSWERED)

        if decision.allowed:
            accepted.append((moment, outcome, number))
        elif decision.next_allowed_at is not None:
            later = decision.next_allowed_at
            assert later > moment
            again, answered_then, unanswered_then = cn_request(later, number, accepted)
            assert decide(again).allowed
            assert cn_inside_hours(later) and answered_then < CN_ANSWERED and unanswered_then < CN_UNANSWERED


# -- US -----------------------------------------------------------------------------------

US_CAP, US_QUIET, US_START, US_END = 7, 7, 8, 21
US_ZONES = ["America/New_York", "America/Chicago", "America/Los_Angeles"]
# Two weeks around each DST change of 2026 and a plain winter fortnight.
US_STARTS = [date(2026, 3, 2), date(2026, 10, 27), date(2026, 1, 12)]


def us_window(accepted, zone: ZoneInfo, day: date) -> int:
    first = day - timedelta(days=6)
    return sum(1 for t, _, _ in accepted if first <= t.astimezone(zone).date() <= day)


def us_last_conversation(accepted) -> datetime | None:
    spoken = [t for t, o, _ in accepted if o in REACHED]
    return max(spoken) if spoken else None


def us_request(moment: datetime, zone_name: str, accepted) -> ContactRequest:
    zone = ZoneInfo(zone_name)
    by_day: dict[date, int] = {}
    for t, _, _ in accepted:
        local = t.astimezone(zone).date()
        by_day[local] = by_day.get(local, 0) + 1
    return ContactRequest(
        at=moment.astimezone(SERVER),
        channel="call",
        jurisdiction="US",
        time_zones=(zone_name,),
        home_zone=zone_name,
        contact_hours_start=US_START,
        contact_hours_end=US_END,
        call_attempts_per_7_days=US_CAP,
        quiet_days_after_conversation=US_QUIET,
        call_attempts_by_day=by_day,
        last_conversation_at=us_last_conversation(accepted),
    )


def us_may_dial(moment: datetime, zone: ZoneInfo, accepted) -> tuple[bool, int]:
    local = moment.astimezone(zone)
    made = us_window(accepted, zone, local.date())
    spoke = us_last_conversation(accepted)
    quiet_over = spoke is None or local.date() >= spoke.astimezone(zone).date() + timedelta(days=US_QUIET)
    return US_START <= local.hour < US_END and made < US_CAP and quiet_over, made


def local_timeline(first_day: date, zone: ZoneInfo, slots) -> list[tuple[datetime, str, int]]:
    """Attempts at local wall-clock times (07:00–22:59) on the days after
    ``first_day``, in order, so the evening hours that fall on the next UTC
    date are well covered."""
    attempts = []
    for offset, minute, outcome in sorted(slots):
        local = datetime.combine(first_day + timedelta(days=offset), datetime.min.time(), tzinfo=zone)
        local = local.replace(hour=minute // 60, minute=minute % 60)
        attempts.append((local.astimezone(UTC), outcome, 0))
    return attempts


US_SLOTS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=13),
        st.integers(min_value=7 * 60, max_value=23 * 60 - 1),
        st.sampled_from(US_OUTCOMES),
    ),
    min_size=1,
    max_size=90,
)


@SETTINGS
@given(slots=US_SLOTS, zone_name=st.sampled_from(US_ZONES), first_day=st.sampled_from(US_STARTS))
def test_us_engine_never_allows_a_call_that_breaks_7_in_7_quiet_days_or_hours(slots, zone_name, first_day):
    zone = ZoneInfo(zone_name)
    accepted: list[tuple[datetime, str, int]] = []
    for moment, outcome, number in local_timeline(first_day, zone, slots):
        decision = decide(us_request(moment, zone_name, accepted))
        may_dial, made = us_may_dial(moment, zone, accepted)

        # With the attempt added, the 7 days ending on its local date hold ≤ 7.
        assert not (decision.allowed and made + 1 > US_CAP)
        assert decision.allowed is may_dial
        # The 7-in-7 count is exact, at the window edges and across DST.
        assert ("calls.attempts" in decision.rules) is (made >= US_CAP)
        assert decision.calls_left_today == max(0, US_CAP - made)

        if decision.allowed:
            accepted.append((moment, outcome, number))
        elif decision.next_allowed_at is not None:
            later = decision.next_allowed_at
            assert later > moment
            assert decide(us_request(later, zone_name, accepted)).allowed
            assert us_may_dial(later, zone, accepted)[0]
            # Every refusal here reopens at a window opening on the customer's clock.
            assert later.astimezone(zone).time() == datetime(2026, 1, 1, US_START).time()
