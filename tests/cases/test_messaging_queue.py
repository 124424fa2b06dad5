"""Queueing, sending and receipts of outbound messages (cases.services.messages)."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from cases.messaging.file import read_outbox
from cases.models import Message, MessageTemplate
from cases.selectors.work import case_timeline
from cases.services.dunning import install_default_templates
from cases.services.holds import place_hold
from cases.services.messages import (
    MAX_SEND_ATTEMPTS,
    MessageDeferred,
    preview_template,
    queue_message,
    send_due_messages,
    send_message,
)
from customers.models import ContactPoint
from tests.factories import ContactPointFactory, UserFactory, make_debt

SHANGHAI = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def debt_with_contacts(**kwargs):
    """A CN debt whose customer has a verified primary phone and email and a postal address."""
    debt = make_debt(**kwargs)
    customer = debt.customer
    ContactPointFactory(customer=customer, kind=ContactPoint.Kind.PHONE, value="+8613800138000")
    ContactPointFactory(customer=customer, kind=ContactPoint.Kind.EMAIL, value="debtor@example.com")
    ContactPointFactory(
        customer=customer, kind=ContactPoint.Kind.ADDRESS, value="1 Nanjing Road, Shanghai", verified=False
    )
    return debt


@pytest.fixture
def templates():
    return install_default_templates()


@pytest.fixture
def sms_file(settings, tmp_path):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = tmp_path / "sms.jsonl"
    return settings.SMS_FILE_PATH


@pytest.fixture
def actor():
    return UserFactory(username="queue-admin", is_superuser=True)


def queue_sms(debt, actor, *, at=None, key="k-1", code="overdue-day-1"):
    return queue_message(
        case=debt.case,
        debt=debt,
        channel="sms",
        template_code=code,
        actor=actor,
        at=at or local(date(2026, 2, 2), 10),
        idempotency_key=key,
        now=local(date(2026, 2, 2), 9),
    )


def test_queued_sms_is_rendered_in_the_customers_language_with_opt_out(templates, actor):
    debt = debt_with_contacts()

    message = queue_sms(debt, actor)

    assert message.status == Message.Status.QUEUED
    assert message.language == "zh-hans" and message.recipient == "+8613800138000"
    assert debt.account_number in message.body and "回复TD退订" in message.body
    assert message.scheduled_for == local(date(2026, 2, 2), 10)


def test_second_queue_with_the_same_key_returns_the_first_message(templates, actor):
    debt = debt_with_contacts()

    first = queue_sms(debt, actor)
    again = queue_sms(debt, actor, at=local(date(2026, 2, 3), 10))

    assert again.pk == first.pk
    assert Message.objects.count() == 1


def test_message_outside_contact_hours_is_blocked_with_the_rule_and_next_time(templates, actor):
    debt = debt_with_contacts()

    message = queue_sms(debt, actor, at=local(date(2026, 2, 2), 23))

    assert message.status == Message.Status.BLOCKED
    assert message.rules == ["hours"]
    assert "Outside contact hours" in message.blocked_reason
    assert message.decision.next_allowed_at == local(date(2026, 2, 3), 8)


def test_message_on_a_held_case_is_blocked_and_kept(templates, actor):
    debt = debt_with_contacts()
    place_hold(case=debt.case, hold="dispute", actor=actor, reason="test")

    message = queue_sms(debt, actor)

    assert message.status == Message.Status.BLOCKED and "hold" in message.rules
    assert Message.objects.filter(pk=message.pk).exists()


def test_template_syntax_error_fails_the_message_with_a_clear_error_and_keeps_it(actor):
    debt = debt_with_contacts()
    MessageTemplate.objects.create(code="broken", channel="sms", language="zh-hans", body="Hi {% if %}")

    message = queue_sms(debt, actor, code="broken")

    assert message.status == Message.Status.FAILED
    assert "Template 'broken' (sms, zh-hans)" in message.last_error
    assert Message.objects.filter(idempotency_key="k-1").count() == 1


def test_unknown_variable_fails_the_message_naming_the_variable(actor):
    debt = debt_with_contacts()
    MessageTemplate.objects.create(code="typo", channel="sms", language="zh-hans", body="Pay {{ amout }}")

    message = queue_sms(debt, actor, code="typo")

    assert message.status == Message.Status.FAILED and "amout" in message.last_error


def test_fixed_template_lets_the_failed_message_be_retried_under_the_same_key(actor):
    debt = debt_with_contacts()
    template = MessageTemplate.objects.create(
        code="typo", channel="sms", language="zh-hans", body="{{ amout }}"
    )
    failed = queue_sms(debt, actor, code="typo")
    template.body = "Pay {{ amount_overdue }}"
    template.save()

    again = queue_message(
        case=debt.case,
        debt=debt,
        channel="sms",
        template_code="typo",
        actor=actor,
        at=local(date(2026, 2, 2), 10),
        idempotency_key="k-1",
        retry=True,
    )

    assert again.pk == failed.pk and again.status == Message.Status.QUEUED


def test_missing_template_is_refused_naming_it_and_saves_nothing(actor):
    debt = debt_with_contacts()

    with pytest.raises(ValidationError) as error:
        queue_sms(debt, actor, code="nope")

    assert "'nope'" in str(error.value)
    assert not Message.objects.exists()


def test_customer_without_a_verified_phone_gets_no_sms(templates, actor):
    debt = make_debt()

    with pytest.raises(ValidationError) as error:
        queue_sms(debt, actor)

    assert "contact_point" in error.value.message_dict


def test_sending_twice_sends_once(templates, actor, sms_file):
    debt = debt_with_contacts()
    message = queue_sms(debt, actor)
    now = local(date(2026, 2, 2), 10, 5)

    first = send_message(message_id=message.pk, now=now)
    second = send_message(message_id=message.pk, now=now)

    assert first.status == second.status == Message.Status.SENT
    assert len(read_outbox(sms_file)) == 1
    assert read_outbox(sms_file)[0]["reference"] == "k-1"
    assert first.provider_id == read_outbox(sms_file)[0]["id"]


def test_a_message_is_not_sent_before_its_time(templates, actor, sms_file):
    debt = debt_with_contacts()
    message = queue_sms(debt, actor)

    result = send_message(message_id=message.pk, now=local(date(2026, 2, 2), 9, 59))

    assert result.status == Message.Status.QUEUED and read_outbox(sms_file) == []


def test_hold_placed_after_queueing_blocks_the_send(templates, actor, sms_file):
    debt = debt_with_contacts()
    message = queue_sms(debt, actor)
    place_hold(case=debt.case, hold="cease", actor=actor, reason="asked us to stop")

    result = send_message(message_id=message.pk, now=local(date(2026, 2, 2), 10, 5))

    assert result.status == Message.Status.BLOCKED and result.rules == ["hold"]
    assert read_outbox(sms_file) == []


def test_send_outside_hours_is_rescheduled_not_lost(templates, actor, sms_file):
    debt = debt_with_contacts()
    message = queue_sms(debt, actor)

    late = send_message(message_id=message.pk, now=local(date(2026, 2, 2), 22, 30))

    assert late.status == Message.Status.QUEUED
    assert late.scheduled_for == local(date(2026, 2, 3), 8)
    assert send_due_messages(now=local(date(2026, 2, 3), 8, 1))["sent"] == 1
    assert len(read_outbox(sms_file)) == 1


class FlakyBackend:
    calls = 0
    fail_with = None

    def __init__(self):
        pass

    def send(self, *, to, body, reference):
        from cases.messaging import SendResult

        type(self).calls += 1
        if type(self).fail_with is not None:
            raise type(self).fail_with
        return SendResult(provider_id=f"flaky-{type(self).calls}")


@pytest.fixture
def flaky(settings):
    settings.SMS_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.calls = 0
    FlakyBackend.fail_with = None
    return FlakyBackend


def test_transient_failure_keeps_the_message_queued_with_backoff_then_sends(templates, actor, flaky):
    from cases.messaging import TransientSendError

    debt = debt_with_contacts()
    message = queue_sms(debt, actor)
    now = local(date(2026, 2, 2), 10, 5)
    flaky.fail_with = TransientSendError("provider 503")

    with pytest.raises(MessageDeferred) as deferred:
        send_message(message_id=message.pk, now=now)

    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED and message.attempts == 1
    assert "provider 503" in message.last_error
    assert deferred.value.retry_at == message.scheduled_for > now
    flaky.fail_with = None
    sent = send_message(message_id=message.pk, now=deferred.value.retry_at)
    assert sent.status == Message.Status.SENT and sent.attempts == 2 and flaky.calls == 2


def test_message_fails_after_the_last_transient_attempt(templates, actor, flaky):
    from cases.messaging import TransientSendError

    debt = debt_with_contacts()
    message = queue_sms(debt, actor)
    flaky.fail_with = TransientSendError("timeout")
    moment = local(date(2026, 2, 2), 10, 5)
    for _ in range(MAX_SEND_ATTEMPTS - 1):
        with pytest.raises(MessageDeferred) as deferred:
            send_message(message_id=message.pk, now=moment)
        moment = deferred.value.retry_at

    last = send_message(message_id=message.pk, now=moment)

    assert last.status == Message.Status.FAILED and last.attempts == MAX_SEND_ATTEMPTS
    assert last.last_error.startswith(f"Gave up after {MAX_SEND_ATTEMPTS} attempts")


def test_permanent_failure_fails_at_once(templates, actor, flaky):
    from cases.messaging import PermanentSendError

    debt = debt_with_contacts()
    message = queue_sms(debt, actor)
    flaky.fail_with = PermanentSendError("HTTP 400: bad number")

    failed = send_message(message_id=message.pk, now=local(date(2026, 2, 2), 10, 5))

    assert failed.status == Message.Status.FAILED and "bad number" in failed.last_error
    assert send_message(message_id=message.pk, now=local(date(2026, 2, 2), 11)).status == "failed"
    assert flaky.calls == 1


def test_task_retried_after_a_transient_failure_sends_once(templates, actor, flaky):
    from cases.messaging import TransientSendError
    from cases.tasks.messaging import send_message_task

    debt = debt_with_contacts()
    message = queue_sms(debt, actor, at=datetime(2026, 1, 1, 2, tzinfo=UTC))  # 10:00 in Shanghai
    flaky.fail_with = TransientSendError("connection reset")

    with time_machine.travel(datetime(2026, 1, 1, 2, 5, tzinfo=UTC), tick=False):
        send_message_task.apply(args=(message.pk,), throw=False)
    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED and message.attempts == 1
    assert "connection reset" in message.last_error

    flaky.fail_with = None
    with time_machine.travel(datetime(2026, 1, 1, 3, tzinfo=UTC), tick=False):
        send_message_task.apply(args=(message.pk,))
        send_message_task.apply(args=(message.pk,))  # a duplicate delivery of the task
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and flaky.calls == 2


def test_email_goes_through_the_django_mailer(templates, actor, mailoutbox):
    debt = debt_with_contacts()
    message = queue_message(
        case=debt.case,
        debt=debt,
        channel="email",
        template_code="overdue-day-3",
        actor=actor,
        at=local(date(2026, 2, 4), 10),
        idempotency_key="mail-1",
        language="en",
    )

    sent = send_message(message_id=message.pk, now=local(date(2026, 2, 4), 10, 1))

    assert sent.status == Message.Status.SENT
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["debtor@example.com"]
    assert mailoutbox[0].subject == f"Payment overdue on account {debt.account_number}"
    assert "reply with the word STOP" in mailoutbox[0].body


def test_letter_is_sent_to_the_address_without_hours(templates, actor, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    debt = debt_with_contacts()
    message = queue_message(
        case=debt.case,
        debt=debt,
        channel="letter",
        template_code="demand-letter",
        actor=actor,
        at=local(date(2026, 3, 3), 23),
        idempotency_key="letter-1",
    )

    sent = send_message(message_id=message.pk, now=local(date(2026, 3, 3), 23, 30))

    assert sent.status == Message.Status.SENT and sent.recipient == "1 Nanjing Road, Shanghai"
    assert "催收函" in sent.body


def test_preview_renders_a_template_against_a_real_debt(templates):
    debt = debt_with_contacts()
    template = MessageTemplate.objects.get(code="overdue-day-1", channel="sms", language="en")

    rendered = preview_template(template=template, debt=debt, today=date(2026, 2, 2))

    assert debt.account_number in rendered.body and "2026-02-09" in rendered.body
    assert not Message.objects.exists()


def test_messages_appear_on_the_case_timeline(templates, actor):
    debt = debt_with_contacts()
    queue_sms(debt, actor)
    queue_sms(debt, actor, key="k-2", at=local(date(2026, 2, 2), 23))

    events = [e for e in case_timeline(debt.case) if e["kind"] == "message"]

    assert len(events) == 2
    assert any("blocked" in e["summary"] and "[hours]" in e["summary"] for e in events)
    assert any("queued" in e["summary"] for e in events)
