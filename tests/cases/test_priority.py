"""Queue priority with reasons and the next action date."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from backoffice.audit import system_user
from cases.models import CollectionCase, ContactAttempt, PromiseToPay
from cases.services.close_of_business import close_chunk
from cases.services.priority import (
    CaseSignals,
    fallback_probability,
    refresh_priorities,
    score_case,
)
from cases.services.promises import BROKEN_PROMISE_PRIORITY_BUMP
from tests.factories import make_debt

pytestmark = pytest.mark.django_db
TODAY = date(2026, 2, 10)


def aged_case(day=TODAY, **kwargs):
    """A case whose debt (3 × 1050.00, first due 2026-01-31) is closed through ``day``."""
    debt = make_debt(**kwargs)
    close_chunk(first_id=debt.pk, last_id=debt.pk, business_date=day)
    debt.refresh_from_db()
    return debt.case, debt


def at(day, hour=10):
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour))


@pytest.mark.parametrize(
    ("dpd", "probability"),
    [(0, "0.60"), (30, "0.60"), (31, "0.35"), (60, "0.35"), (90, "0.20"), (180, "0.10"), (181, "0.05")],
)
def test_fallback_scorecard_by_days_past_due(dpd, probability):
    assert fallback_probability(dpd) == Decimal(probability)


def test_expected_recovery_uses_the_scorecard_and_says_so():
    score = score_case(CaseSignals(balance=Decimal("1000.00"), worst_dpd=45), today=TODAY)
    assert score.priority == Decimal("350.00")
    assert score.reasons == ["Expected recovery 350.00 = 35% (scorecard at DPD 45) × balance 1,000.00"]
    assert score.next_action_on == TODAY


def test_a_risk_score_replaces_the_scorecard():
    score = score_case(
        CaseSignals(balance=Decimal("1000.00"), worst_dpd=45, risk_score=Decimal("0.9")), today=TODAY
    )
    assert score.priority == Decimal("900.00")
    assert "(risk score)" in score.reasons[0]


def test_bumps_for_promise_due_today_callback_due_and_broken_promises():
    score = score_case(
        CaseSignals(
            balance=Decimal("100.00"),
            worst_dpd=10,
            broken_promises=2,
            promises_due_today=[Decimal("50.00")],
            promise_dates=[TODAY],
            callback_dates=[date(2026, 2, 8)],
        ),
        today=TODAY,
    )
    assert score.priority == Decimal("60.00") + 1000 + 500 + 2 * BROKEN_PROMISE_PRIORITY_BUMP
    assert score.reasons[1:] == [
        "Promise of 50.00 due today",
        "Callback due since 2026-02-08",
        "2 broken promises",
    ]
    assert score.next_action_on == date(2026, 2, 8)


def test_a_case_on_hold_has_no_priority_and_no_next_action():
    score = score_case(CaseSignals(balance=Decimal("5000.00"), worst_dpd=40, holds=["dispute"]), today=TODAY)
    assert (score.priority, score.next_action_on) == (Decimal("0.00"), None)
    assert score.reasons == ["On hold (dispute): no contact"]


def test_a_current_case_has_no_next_action():
    score = score_case(CaseSignals(balance=Decimal("3000.00"), worst_dpd=0), today=TODAY)
    assert score.next_action_on is None


def test_refresh_writes_priority_reasons_and_next_action_with_history():
    case, debt = aged_case()
    actor = system_user()
    summary = refresh_priorities(today=TODAY, actor=actor)
    assert summary.changed == 1
    case.refresh_from_db()
    # DPD 10: 60 % of the whole balance.
    assert debt.days_past_due == 10
    assert case.priority == (Decimal("0.60") * debt.total_balance).quantize(Decimal("0.01"))
    assert case.priority_reasons[0].startswith("Expected recovery")
    assert case.next_action_on == TODAY
    latest = case.history.first()
    assert (latest.history_user, latest.history_change_reason) == (actor, "priority refresh 2026-02-10")
    assert latest.priority == case.priority


def test_a_second_refresh_the_same_day_writes_nothing():
    case, _ = aged_case()
    refresh_priorities(today=TODAY, actor=system_user())
    rows = case.history.count()
    summary = refresh_priorities(today=TODAY, actor=system_user())
    assert (summary.changed, summary.unchanged) == (0, 1)
    assert case.history.count() == rows


def test_a_promise_due_today_raises_priority_and_says_so():
    plain, _ = aged_case()
    promised, _ = aged_case()
    PromiseToPay.objects.create(case=promised, amount=Decimal("300.00"), due_on=TODAY)
    # Promises due another day, or no longer pending, do not count.
    PromiseToPay.objects.create(case=plain, amount=Decimal("300.00"), due_on=date(2026, 2, 11))
    PromiseToPay.objects.create(
        case=plain, amount=Decimal("300.00"), due_on=TODAY, status=PromiseToPay.Status.CANCELLED
    )
    refresh_priorities(today=TODAY, actor=system_user())
    plain.refresh_from_db()
    promised.refresh_from_db()
    assert promised.priority - plain.priority == Decimal("1000.00")
    assert promised.priority_reasons[1] == "Promise of 300.00 due today"
    assert not any("Promise" in r for r in plain.priority_reasons)
    assert (promised.next_action_on, plain.next_action_on) == (TODAY, date(2026, 2, 11))


def test_next_action_is_the_earliest_promise_or_callback():
    case, _ = aged_case()
    PromiseToPay.objects.create(case=case, amount=Decimal("100.00"), due_on=date(2026, 2, 20))
    PromiseToPay.objects.create(case=case, amount=Decimal("100.00"), due_on=date(2026, 2, 15))
    ContactAttempt.objects.create(
        case=case,
        channel="call",
        outcome="callback",
        started_at=at(date(2026, 2, 9)),
        callback_at=at(date(2026, 2, 12), 15),
    )
    refresh_priorities(today=TODAY, actor=system_user())
    case.refresh_from_db()
    assert case.next_action_on == date(2026, 2, 12)
    assert not any("Callback" in r for r in case.priority_reasons)


def test_a_callback_made_later_is_no_longer_due():
    case, _ = aged_case()
    ContactAttempt.objects.create(
        case=case,
        channel="call",
        outcome="callback",
        started_at=at(date(2026, 2, 8)),
        callback_at=at(date(2026, 2, 9)),
    )
    refresh_priorities(today=TODAY, actor=system_user())
    case.refresh_from_db()
    assert "Callback due since 2026-02-09" in case.priority_reasons
    ContactAttempt.objects.create(
        case=case, channel="call", outcome="no_answer", started_at=at(date(2026, 2, 9), 16)
    )
    refresh_priorities(today=TODAY, actor=system_user())
    case.refresh_from_db()
    assert not any("Callback" in r for r in case.priority_reasons)


def test_broken_promises_raise_priority():
    plain, _ = aged_case()
    broken, _ = aged_case()
    CollectionCase.objects.filter(pk=broken.pk).update(broken_promises=1)
    refresh_priorities(today=TODAY, actor=system_user())
    plain.refresh_from_db()
    broken.refresh_from_db()
    assert broken.priority - plain.priority == BROKEN_PROMISE_PRIORITY_BUMP
    assert "1 broken promise" in broken.priority_reasons


def test_refresh_can_be_limited_to_some_cases():
    first, _ = aged_case()
    second, _ = aged_case()
    summary = refresh_priorities(today=TODAY, actor=system_user(), cases=[first.pk])
    assert summary.changed == 1
    second.refresh_from_db()
    assert second.priority == 0


@pytest.mark.parametrize("count", [3, 10])
def test_refresh_runs_a_constant_number_of_queries(count, django_assert_max_num_queries):
    for _ in range(count):
        aged_case()
    actor = system_user()
    with django_assert_max_num_queries(10):
        summary = refresh_priorities(today=TODAY, actor=actor)
    assert summary.changed == count


def test_the_priority_and_stage_tasks_take_iso_dates_and_are_idempotent():
    from cases.tasks.assignment import refresh_case_priorities, refresh_case_stages

    case, _ = aged_case()
    assert refresh_case_stages.delay("2026-02-10").get()["escalated"] == 1
    assert refresh_case_priorities.delay("2026-02-10").get()["changed"] == 1
    assert refresh_case_priorities.delay("2026-02-10").get()["changed"] == 0
    case.refresh_from_db()
    assert (case.stage, case.next_action_on) == (CollectionCase.Stage.SOFT, TODAY)
