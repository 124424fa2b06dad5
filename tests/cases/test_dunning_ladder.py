"""The dunning ladder through the close of business (cases.services.dunning)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cases.messaging.file import read_outbox
from cases.models import DunningFiring, DunningStep, Message
from cases.selectors.work import case_timeline
from cases.services import run_close_of_business
from cases.services.close_of_business import close_chunk
from cases.services.disputes import raise_dispute
from cases.services.dunning import evaluate_ladder, install_default_ladder, preview_step, retry_waiting
from cases.services.messages import send_due_messages
from tests.cases.test_messaging_queue import debt_with_contacts

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")

# The default debt: instalments due 2026-01-31, 03-02, 03-31; DPD 1 on 02-01.
PRE_DUE = date(2026, 1, 28)
DPD = {1: date(2026, 2, 1), 3: date(2026, 2, 3), 7: date(2026, 2, 7), 15: date(2026, 2, 15)}
DPD |= {30: date(2026, 3, 2), 60: date(2026, 4, 1)}
WALK = [PRE_DUE, *DPD.values()]
EXPECTED = [
    (-3, "sms"),
    (1, "sms"),
    (3, "email"),
    (7, "call_task"),
    (15, "sms"),
    (30, "letter"),
    (60, "stage_change"),
    (60, "call_task"),
]


@pytest.fixture(autouse=True)
def outboxes(settings, tmp_path):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = tmp_path / "sms.jsonl"
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.SMS_FILE_PATH


def close_day(day: date, *, send: bool = True) -> None:
    """Close of business, the day's finishing steps and the ladder for ``day``;
    then the morning's sending run."""
    # Close of business runs the day's finishing steps, the ladder included.
    run_close_of_business(business_date=day)
    if send:
        send_due_messages(
            now=datetime.combine(day + timedelta(days=1), datetime.min.time(), SHANGHAI).replace(hour=10)
        )


def fired(debt) -> list[tuple[int, str]]:
    rows = DunningFiring.objects.filter(debt=debt).select_related("step").order_by("step__order")
    return [(f.step.offset_days, f.step.action) for f in rows if f.status == DunningFiring.Status.DONE]


def test_debt_walked_to_60_dpd_gets_exactly_the_ladder(outboxes, mailoutbox):
    debt = debt_with_contacts()
    install_default_ladder(debt.product.policy)

    for day in WALK:
        close_day(day)
        debt.refresh_from_db()
    assert debt.days_past_due == 60

    assert fired(debt) == EXPECTED
    messages = list(Message.objects.filter(debt=debt).order_by("scheduled_for"))
    assert [(m.dunning_step.offset_days, m.channel, m.status) for m in messages] == [
        (-3, "sms", "sent"),
        (1, "sms", "sent"),
        (3, "email", "sent"),
        (15, "sms", "sent"),
        (30, "letter", "sent"),
    ]
    assert len(read_outbox(outboxes)) == 3 and len(mailoutbox) == 1
    for m in messages:  # all inside 08:00–22:00 in Shanghai
        assert 8 <= m.sent_at.astimezone(SHANGHAI).hour < 22
        assert m.sent_at.astimezone(SHANGHAI).hour == 10 or m.channel == "letter"
    debt.case.refresh_from_db()
    assert debt.case.stage == "hard"
    timeline = [e for e in case_timeline(debt.case) if e["kind"] == "message"]
    assert len(timeline) == 5


def test_running_the_ladder_twice_fires_nothing_more(outboxes):
    debt = debt_with_contacts()
    install_default_ladder(debt.product.policy)
    for day in WALK:
        close_day(day)
    before = (DunningFiring.objects.count(), Message.objects.count(), len(read_outbox(outboxes)))

    for day in WALK:
        evaluate_ladder(business_date=day)
    send_due_messages(now=datetime(2026, 4, 2, 10, tzinfo=SHANGHAI))

    assert (DunningFiring.objects.count(), Message.objects.count(), len(read_outbox(outboxes))) == before


def test_catch_up_after_a_gap_fires_each_missed_step_once_in_order(outboxes):
    debt = debt_with_contacts()
    install_default_ladder(debt.product.policy)

    close_day(DPD[7])

    assert fired(debt) == [(1, "sms"), (3, "email"), (7, "call_task")]


def test_no_messages_while_disputed(outboxes):
    debt = debt_with_contacts()
    install_default_ladder(debt.product.policy)
    for day in [PRE_DUE, DPD[1], DPD[3], DPD[7], date(2026, 2, 10)]:
        close_day(day)
    raise_dispute(
        case=debt.case, raised_via="phone", reason="Not my loan", opened_on=date(2026, 2, 10), actor=None
    )

    for day in [DPD[15], DPD[30]]:
        close_day(day)

    skipped = DunningFiring.objects.filter(debt=debt, status=DunningFiring.Status.SKIPPED)
    assert sorted(f.step.offset_days for f in skipped) == [15, 30]
    assert all("dispute" in f.note for f in skipped)
    assert not Message.objects.filter(dunning_step__offset_days__in=[15, 30]).exists()
    assert len(read_outbox(outboxes)) == 2  # pre-due and day 1 only
    assert retry_waiting(now=datetime(2026, 3, 10, 10, tzinfo=SHANGHAI)).done == 0


def test_step_blocked_by_hours_waits_and_is_sent_by_retry_waiting(outboxes):
    debt = debt_with_contacts()
    install_default_ladder(debt.product.policy)
    # Close the debt only (no finishing steps), so the ladder runs late below.
    close_chunk(first_id=debt.pk, last_id=debt.pk, business_date=DPD[1])
    late_evening = datetime(2026, 2, 1, 23, 30, tzinfo=SHANGHAI)

    evaluate_ladder(business_date=DPD[1], send_at=late_evening)

    firing = DunningFiring.objects.get(debt=debt, step__offset_days=1)
    assert firing.status == DunningFiring.Status.WAITING
    assert firing.retry_at == datetime(2026, 2, 2, 8, tzinfo=SHANGHAI)
    assert firing.message.status == Message.Status.BLOCKED and firing.message.rules == ["hours"]
    assert retry_waiting(now=datetime(2026, 2, 2, 7, 59, tzinfo=SHANGHAI)).done == 0

    retry_waiting(now=datetime(2026, 2, 2, 8, 1, tzinfo=SHANGHAI))
    send_due_messages(now=datetime(2026, 2, 2, 8, 1, tzinfo=SHANGHAI))

    firing.refresh_from_db()
    firing.message.refresh_from_db()
    assert firing.status == DunningFiring.Status.DONE
    assert firing.message.status == Message.Status.SENT
    assert len(read_outbox(outboxes)) == 1
    assert Message.objects.filter(debt=debt).count() == 1


def test_missing_template_waits_instead_of_losing_the_step(outboxes):
    debt = debt_with_contacts()
    install_default_ladder(debt.product.policy)
    step = DunningStep.objects.get(policy=debt.product.policy, offset_days=1)
    step.template_code = "not-written-yet"
    step.save()
    run_close_of_business(business_date=DPD[1])

    evaluate_ladder(business_date=DPD[1])

    firing = DunningFiring.objects.get(step=step, debt=debt)
    assert firing.status == DunningFiring.Status.WAITING and "not-written-yet" in firing.note
    step.template_code = "overdue-day-1"
    step.save()
    retry_waiting(now=firing.retry_at)
    firing.refresh_from_db()
    assert firing.status == DunningFiring.Status.DONE and firing.message.status == "queued"


def test_preview_lists_the_debts_a_step_would_hit_today():
    hit = debt_with_contacts()
    policy = hit.product.policy
    install_default_ladder(policy)
    close_chunk(first_id=hit.pk, last_id=hit.pk, business_date=DPD[3])
    step = DunningStep.objects.get(policy=policy, offset_days=3)

    assert list(preview_step(step, DPD[3])) == [hit]
    evaluate_ladder(business_date=DPD[3])
    assert list(preview_step(step, DPD[3])) == []
