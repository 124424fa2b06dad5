"""Deadlines computed from events and reminded at T−7, T−1 and T (RULES §7)."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from legal.models import Deadline, LegalMatter, LegalNotification
from legal.services import (
    add_deadline,
    appeal_last_day,
    enforcement_window_end,
    schedule_hearing,
    send_deadline_reminders,
    transition_matter,
    update_deadline,
    update_judgment_dates,
)
from legal.tasks import send_deadline_reminders as reminders_task
from tests.legal.helpers import walk_to

Stage = LegalMatter.Stage


def test_appeal_period_counts_15_days_from_the_day_after_service():
    assert appeal_last_day(date(2026, 3, 4)) == date(2026, 3, 19)


def test_enforcement_window_is_two_years_from_the_effective_date():
    assert enforcement_window_end(date(2026, 3, 20)) == date(2028, 3, 20)
    assert enforcement_window_end(date(2028, 2, 29)) == date(2030, 2, 28)


def judge(matter, actor, **dates):
    walk_to(matter, Stage.HEARING, actor)
    return transition_matter(
        matter=matter,
        stage=Stage.JUDGMENT,
        on=date(2026, 3, 4),
        actor=actor,
        reason="judged",
        amount=Decimal("3150.00"),
        **dates,
    )


def test_judgment_served_on_the_4th_gives_an_appeal_deadline_on_the_19th(matter, legal_user):
    judge(matter, legal_user, served_on=date(2026, 3, 4), effective_on=date(2026, 3, 20))
    appeal = Deadline.objects.get(matter=matter, kind=Deadline.Kind.APPEAL)
    assert appeal.due_on == date(2026, 3, 19)
    assert appeal.computed
    assert appeal.reminders == ["2026-03-12", "2026-03-18", "2026-03-19"]
    window = Deadline.objects.get(matter=matter, kind=Deadline.Kind.ENFORCEMENT_WINDOW)
    assert window.due_on == date(2028, 3, 20)


def test_serving_the_judgment_later_computes_the_deadlines_then(matter, legal_user):
    judge(matter, legal_user)
    assert not Deadline.objects.filter(matter=matter, kind=Deadline.Kind.APPEAL).exists()
    update_judgment_dates(
        matter=matter, served_on=date(2026, 3, 4), effective_on=None, actor=legal_user, reason="served"
    )
    assert Deadline.objects.get(matter=matter, kind=Deadline.Kind.APPEAL).due_on == date(2026, 3, 19)
    update_judgment_dates(
        matter=matter, served_on=date(2026, 3, 5), effective_on=None, actor=legal_user, reason="corrected"
    )
    assert Deadline.objects.get(matter=matter, kind=Deadline.Kind.APPEAL).due_on == date(2026, 3, 20)


def test_a_hearing_adds_a_deadline_on_the_hearing_date(matter, legal_user):
    starts = timezone.make_aware(datetime(2026, 5, 6, 9, 30))
    hearing = schedule_hearing(
        matter=matter, starts_at=starts, court_room="3", actor=legal_user, reason="set"
    )
    deadline = Deadline.objects.get(hearing=hearing)
    assert (deadline.kind, deadline.due_on) == (Deadline.Kind.HEARING, date(2026, 5, 6))
    assert deadline.reminders == ["2026-04-29", "2026-05-05", "2026-05-06"]


@pytest.fixture
def deadline(matter, legal_user):
    return add_deadline(
        matter=matter,
        kind=Deadline.Kind.FILING,
        due_on=date(2026, 4, 20),
        actor=legal_user,
        reason="evidence due",
    )


def run(day: date, actor):
    return send_deadline_reminders(today=day, actor=actor)


def test_reminders_go_out_at_t_minus_7_t_minus_1_and_t_once_each(deadline, legal_user, mailoutbox):
    sent_days = []
    for day in range(10, 22):
        today = date(2026, 4, day)
        if run(today, legal_user).sent:
            sent_days.append(today)
        run(today, legal_user)  # the same day again: nothing more
    assert sent_days == [date(2026, 4, 13), date(2026, 4, 19), date(2026, 4, 20)]
    notes = LegalNotification.objects.filter(deadline=deadline).order_by("sent_for")
    assert [n.sent_for for n in notes] == sent_days
    assert {n.user for n in notes} == {legal_user}
    assert len(mailoutbox) == 3
    assert mailoutbox[0].to == ["lawyer@example.com"]
    deadline.refresh_from_db()
    assert deadline.reminded_on == ["2026-04-13", "2026-04-19", "2026-04-20"]


def test_the_celery_task_run_twice_sends_no_duplicate(deadline, mailoutbox):
    first = reminders_task.delay("2026-04-13").get()
    second = reminders_task.delay("2026-04-13").get()
    assert (first["sent"], second["sent"]) == (1, 0)
    assert LegalNotification.objects.filter(deadline=deadline).count() == 1
    assert len(mailoutbox) == 1


def test_a_done_deadline_is_not_reminded(deadline, legal_user, mailoutbox):
    update_deadline(deadline=deadline, done=True, on=date(2026, 4, 10), actor=legal_user, reason="filed")
    assert run(date(2026, 4, 13), legal_user).sent == 0
    assert not mailoutbox


def test_manual_reminder_dates_replace_the_defaults(matter, legal_user):
    deadline = add_deadline(
        matter=matter,
        kind=Deadline.Kind.OTHER,
        due_on=date(2026, 4, 20),
        reminders=["2026-04-01"],
        actor=legal_user,
        reason="x",
    )
    assert run(date(2026, 4, 1), legal_user).sent == 1
    assert run(date(2026, 4, 13), legal_user).sent == 0
    assert deadline.notifications.count() == 1


def test_overdue_is_a_deadline_not_done_past_its_date(deadline):
    assert not deadline.is_overdue(date(2026, 4, 20))
    assert deadline.is_overdue(date(2026, 4, 21))
