"""Outbound messages: queue, send, delivery receipts, template previews.

Every SMS, email and letter is a ``Message`` row first, and only then work
for a channel (DESIGN.md ``Message``; RULES.md §4: every message is kept,
refused ones too).

Lifecycle: ``queued`` → ``sent`` → ``delivered`` / ``failed``; or
``blocked`` (the contact rules refused it: ``rules`` and
``blocked_reason``); or ``failed`` straight away when its template cannot be
rendered (``last_error`` says why).

What callers can rely on:

- ``queue_message`` is idempotent by ``idempotency_key``: the same key
  returns the first message. A queued message that is due is sent by a
  Celery task started *after* the transaction commits, so a rolled-back
  write never sends anything (STYLE.md "tasks after commit"); one scheduled
  for later is picked up by ``send_due_messages`` (beat).
- ``send_message`` locks the row and sends only a ``queued`` message, so a
  task that is retried, redelivered or run twice never sends twice. The row
  lock is held across the provider call: a concurrent duplicate waits and
  then finds the message sent. The contact rules are checked again at send
  time (a hold placed since queueing blocks it; outside the allowed hours it
  is rescheduled to the next allowed moment, not dropped).
- A transient provider failure keeps the message queued with ``attempts``
  and ``last_error``, pushed back with exponential backoff, and raises
  ``TransientSendError`` for the task to retry; after ``MAX_SEND_ATTEMPTS``
  it fails. A permanent failure (4xx, an unreadable reply) fails at once.
  The provider gets our idempotency key as ``reference`` so a retry after a
  lost reply can be de-duplicated on its side.
- A message that never reached a provider (blocked, or failed on its
  template) may be evaluated again under the same key with
  ``queue_message(..., retry=True)`` (the dunning ladder does, after a hold
  on hours or a fixed template); the row is reused, its history shows both.

Letters: "sent" means the demand letter was generated (PDF from
``cases.letters.render_demand_letter`` when that module is installed, stored
on ``Message.document``) and handed to the print queue; printing and mailing
happen outside this system.
"""

import importlib
import importlib.util
import smtplib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid
from django.db import IntegrityError, transaction
from django.utils import timezone

from backoffice.audit import record
from backoffice.dispatch import enqueue_after_commit
from cases.messaging import PermanentSendError, TransientSendError, get_sms_backend
from cases.messaging.render import Rendered, TemplateRenderError, build_context, render_template
from cases.models import CollectionCase, Debt, Message, MessageTemplate
from cases.services.contacts import check_contact
from customers.models import ContactPoint

Status = Message.Status

CHANNEL_KIND = {
    "sms": ContactPoint.Kind.PHONE,
    "email": ContactPoint.Kind.EMAIL,
    "letter": ContactPoint.Kind.ADDRESS,
}
MAX_SEND_ATTEMPTS = 5
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600
ERROR_MAX = 500
SEND_MESSAGE_TASK = "cases.tasks.send_message"  # cases.tasks.messaging.send_message_task


def backoff_seconds(attempts: int) -> int:
    """Wait before attempt ``attempts + 1``: 30 s, 60 s, 120 s, … at most an hour."""
    return min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS)


class MessageDeferred(TransientSendError):
    """Raised by ``send_message`` after a transient failure; ``retry_at`` is
    when the message becomes due again."""

    def __init__(self, message: str, *, retry_at: datetime):
        super().__init__(message)
        self.retry_at = retry_at


def _clip(text: str, length: int = ERROR_MAX) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= length else text[: length - 1] + "…"


def default_contact_point(customer, channel: str) -> ContactPoint | None:
    """The primary verified phone (SMS) or email, or the primary address (letter)."""
    kind = CHANNEL_KIND[channel]
    points = ContactPoint.objects.filter(customer=customer, kind=kind)
    if kind != ContactPoint.Kind.ADDRESS:
        points = points.filter(verified=True)
    return points.order_by("-primary", "-verified", "id").first()


def find_template(*, code: str, channel: str, language: str) -> MessageTemplate:
    """The active template, or ``ValidationError`` naming what is missing."""
    template = MessageTemplate.objects.filter(
        code=code, channel=channel, language=language, active=True
    ).first()
    if template is None:
        raise ValidationError(
            {"template": f"No active message template '{code}' for channel {channel}, language {language}."}
        )
    return template


def _may_retry(message: Message) -> bool:
    """Never handed to a provider: safe to evaluate again under the same key."""
    return (
        message.status in (Status.BLOCKED, Status.FAILED)
        and not message.provider_id
        and message.sent_at is None
        and message.attempts == 0
    )


def _validate(*, case, debt, channel, at, idempotency_key, contact_point, language) -> dict:
    errors: dict[str, str] = {}
    if channel not in CHANNEL_KIND:
        errors["channel"] = f"Unknown channel {channel!r}."
    if not isinstance(at, datetime) or timezone.is_naive(at):
        errors["at"] = "Give a date and time with its time zone."
    key = (idempotency_key or "").strip()
    if not key or len(key) > 200:
        errors["idempotency_key"] = "An idempotency key of 1–200 characters is required."
    if debt is None:
        errors["debt"] = "Name the debt the message is about."
    elif debt.case_id != case.pk:
        errors["debt"] = "This debt is not on the case."
    if language not in dict(MessageTemplate._meta.get_field("language").choices):
        errors["language"] = f"Unknown language {language!r}."
    if contact_point is not None and channel in CHANNEL_KIND:
        if contact_point.customer_id != case.customer_id:
            errors["contact_point"] = "This contact point belongs to another customer."
        elif contact_point.kind != CHANNEL_KIND[channel]:
            errors["contact_point"] = f"A {channel} cannot go to a {contact_point.get_kind_display()}."
    return errors


def queue_message(
    *,
    case: CollectionCase,
    debt: Debt | None,
    channel: str,
    template_code: str,
    actor,
    at: datetime,
    idempotency_key: str,
    language: str | None = None,
    contact_point: ContactPoint | None = None,
    dunning_step=None,
    retry: bool = False,
    now: datetime | None = None,
) -> Message:
    """Render, check and queue one message meant to go out at ``at``.

    Returns the ``Message``: ``queued`` (a send task follows the commit when
    ``at`` has come), ``blocked`` (the contact rules refused it at ``at``;
    ``message.decision`` carries the engine's answer, including
    ``next_allowed_at``) or ``failed`` (the template does not render;
    ``last_error`` names the template and the problem). The same key returns
    the existing message; with ``retry=True`` a blocked or template-failed
    message that never reached a provider is evaluated again in place.

    ``ValidationError`` (nothing saved) for bad input, an unknown template or
    a customer with no usable contact point for the channel.
    """
    now = now or timezone.now()
    case = CollectionCase.objects.select_related("customer").get(pk=case.pk)
    language = language or case.customer.preferred_language
    errors = _validate(
        case=case,
        debt=debt,
        channel=channel,
        at=at,
        idempotency_key=idempotency_key,
        contact_point=contact_point,
        language=language,
    )
    if errors:
        raise ValidationError(errors)
    key = idempotency_key.strip()
    existing = Message.objects.filter(idempotency_key=key).first()
    if existing is not None and not (retry and _may_retry(existing)):
        return existing
    template = find_template(code=template_code, channel=channel, language=language)
    contact_point = contact_point or default_contact_point(case.customer, channel)
    if contact_point is None:
        kind = CHANNEL_KIND[channel]
        detail = f"The customer has no usable {kind} for {channel}"
        raise ValidationError({"contact_point": detail + " (verified, for phone and email)."})

    try:
        with transaction.atomic():
            if existing is not None:
                message = Message.objects.select_for_update().get(pk=existing.pk)
                if not _may_retry(message):
                    return message
            else:
                message = Message(idempotency_key=key, created_by=actor)
            message.case = case
            message.debt = debt
            message.channel = channel
            message.template = template
            message.language = language
            message.contact_point = contact_point
            message.recipient = contact_point.value
            message.dunning_step = dunning_step
            message.scheduled_for = at
            message.rules, message.blocked_reason, message.last_error = [], "", ""
            decision = None
            try:
                context = build_context(
                    debt=debt, language=language, channel=channel, today=timezone.localdate(at)
                )
                rendered = render_template(template, context=context)
            except TemplateRenderError as exc:
                message.status = Status.FAILED
                message.subject, message.body = template.subject[:200], template.body
                message.last_error = _clip(str(exc))
                reason = "message not rendered"
            else:
                message.subject, message.body = rendered.subject[:200], rendered.body
                decision = check_contact(
                    case=case,
                    party="debtor",
                    channel=channel,
                    at=at,
                    actor=actor,
                    contact_point=contact_point,
                    debt=debt,
                    has_opt_out_text=_has_opt_out(channel, rendered.body, context),
                    template_code=template.code,
                )
                if decision.allowed:
                    message.status = Status.QUEUED
                    reason = "message queued"
                else:
                    message.status = Status.BLOCKED
                    message.rules = list(decision.rules)
                    message.blocked_reason = _clip(decision.reason)
                    reason = "message blocked by the contact rules"
            if existing is not None:
                reason += " (retried)"
            record(message, actor=actor, reason=reason)
            message.save()
            if message.status == Status.QUEUED and at <= now:
                _send_after_commit(message.pk)
    except IntegrityError:
        # Another process queued the same key a moment ago: theirs is the message.
        winner = Message.objects.filter(idempotency_key=key).first()
        if winner is None:
            raise
        return winner
    message.decision = decision
    return message


def _send_after_commit(message_id: int) -> None:
    enqueue_after_commit(SEND_MESSAGE_TASK, message_id)


@dataclass(frozen=True)
class Delivery:
    provider_id: str
    document: bytes | None = None


def _letter_renderer():
    """``cases.letters.render_demand_letter`` when that module exists, else ``None``."""
    if importlib.util.find_spec("cases.letters") is None:
        return None
    return getattr(importlib.import_module("cases.letters"), "render_demand_letter", None)


def _deliver(message: Message, *, now: datetime) -> Delivery:
    if message.channel == "sms":
        try:
            backend = get_sms_backend()
        except ImproperlyConfigured as exc:
            raise TransientSendError(f"SMS backend not configured: {exc}") from exc
        result = backend.send(to=message.recipient, body=message.body, reference=message.idempotency_key)
        return Delivery(provider_id=result.provider_id)
    if message.channel == "email":
        message_id = make_msgid(domain="ledgerline")
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.recipient],
            headers={"Message-ID": message_id, "X-Ledgerline-Reference": message.idempotency_key},
        )
        try:
            email.send()
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
            raise PermanentSendError(f"Mail server refused the message: {exc}") from exc
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code >= 500:
                raise PermanentSendError(f"Mail server answered {exc.smtp_code}: {exc.smtp_error!r}") from exc
            raise TransientSendError(f"Mail server answered {exc.smtp_code}: {exc.smtp_error!r}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientSendError(f"Mail server unavailable: {exc}") from exc
        return Delivery(provider_id=message_id.strip("<>")[:120])
    if message.channel == "letter":
        if message.debt is None:
            raise PermanentSendError("A demand letter needs the debt it is about.")
        renderer = _letter_renderer()
        if renderer is None:
            return Delivery(provider_id=f"print-{message.pk}")
        try:
            pdf = renderer(debt=message.debt, language=message.language, today=timezone.localdate(now))
        except Exception as exc:  # the letter module's own error, reported on the message
            raise PermanentSendError(f"The demand letter could not be rendered: {exc}") from exc
        return Delivery(provider_id=f"print-{message.pk}", document=pdf)
    raise PermanentSendError(f"Unknown channel {message.channel!r}.")


def send_message(*, message_id: int, now: datetime | None = None, actor=None) -> Message:
    """Send one queued message now; see the module docstring for the guarantees.

    Returns the message in its new state. Raises ``MessageDeferred`` (a
    ``TransientSendError``) after a transient failure that will be retried,
    once the row is saved. ``ValidationError`` for an unknown id.
    """
    now = now or timezone.now()
    deferred: MessageDeferred | None = None
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("case", "debt", "contact_point")
            .filter(pk=message_id)
            .first()
        )
        if message is None:
            raise ValidationError({"message": f"Unknown message {message_id}."})
        if message.status != Status.QUEUED:
            return message  # sent, delivered, failed or blocked already: never twice
        if message.scheduled_for is not None and message.scheduled_for > now:
            return message  # not due yet; ``send_due_messages`` takes it when it is
        decision = check_contact(
            case=message.case,
            party="debtor",
            channel=message.channel,
            at=now,
            actor=actor,
            contact_point=message.contact_point,
            debt=message.debt,
            has_opt_out_text=_has_opt_out(message.channel, message.body, None),
            template_code=message.template.code if message.template_id else None,
        )
        if not decision.allowed:
            if decision.next_allowed_at is not None:
                message.scheduled_for = decision.next_allowed_at
                message.last_error = _clip(f"Waiting for an allowed time: {decision.reason}")
                record(message, actor=actor, reason="message rescheduled by the contact rules")
                message.save(update_fields=["scheduled_for", "last_error"])
            else:
                message.status = Status.BLOCKED
                message.rules = list(decision.rules)
                message.blocked_reason = _clip(decision.reason)
                record(message, actor=actor, reason="message blocked at send time")
                message.save(update_fields=["status", "rules", "blocked_reason"])
            return message
        fields = ["status", "attempts", "last_error", "provider_id", "sent_at", "scheduled_for", "document"]
        message.attempts += 1
        try:
            delivery = _deliver(message, now=now)
        except PermanentSendError as exc:
            message.status = Status.FAILED
            message.last_error = _clip(str(exc))
            reason = "message failed"
        except TransientSendError as exc:
            if message.attempts >= MAX_SEND_ATTEMPTS:
                message.status = Status.FAILED
                message.last_error = _clip(f"Gave up after {message.attempts} attempts: {exc}")
                reason = "message failed after retries"
            else:
                message.last_error = _clip(f"Attempt {message.attempts} failed: {exc}")
                message.scheduled_for = now + timedelta(seconds=backoff_seconds(message.attempts))
                deferred = MessageDeferred(message.last_error, retry_at=message.scheduled_for)
                reason = "message send failed, will retry"
        else:
            message.status = Status.SENT
            message.provider_id = delivery.provider_id
            message.sent_at = now
            message.last_error = ""
            if delivery.document:
                name = f"{message.idempotency_key.replace(':', '-').replace('/', '-')}.pdf"
                message.document.save(name, ContentFile(delivery.document), save=False)
            reason = "message sent"
        record(message, actor=actor, reason=reason)
        message.save(update_fields=fields)
    if deferred is not None:
        raise deferred
    return message


def due_message_ids(*, now: datetime, limit: int | None = None) -> list[int]:
    """Ids of queued messages whose time has come, oldest first."""
    ids = (
        Message.objects.filter(status=Status.QUEUED, scheduled_for__lte=now)
        .order_by("scheduled_for", "id")
        .values_list("id", flat=True)
    )
    return list(ids[:limit] if limit else ids)


def send_due_messages(*, now: datetime, actor=None, limit: int | None = None) -> dict[str, int]:
    """Send every queued message that is due, in this process (what the
    beat sweep does through tasks). Returns counts by resulting status;
    ``retrying`` for transient failures left queued."""
    counts = {"sent": 0, "failed": 0, "blocked": 0, "queued": 0, "retrying": 0}
    for message_id in due_message_ids(now=now, limit=limit):
        try:
            message = send_message(message_id=message_id, now=now, actor=actor)
        except TransientSendError:
            counts["retrying"] += 1
            continue
        counts[message.status] = counts.get(message.status, 0) + 1
    return counts


RECEIPT_STATUSES = (Status.DELIVERED, Status.FAILED)


def record_receipt(*, provider_id: str, status: str, at: datetime, error: str = "", actor=None) -> Message:
    """Apply a provider's delivery receipt to the SMS it names.

    ``delivered`` is final; ``failed`` does not undo a delivery; a repeated
    receipt changes nothing. ``Message.DoesNotExist`` for an unknown provider
    id, ``ValidationError`` for an unknown status.
    """
    if status not in RECEIPT_STATUSES:
        raise ValidationError({"status": f"Unknown receipt status {status!r}; expected delivered or failed."})
    provider_id = (provider_id or "").strip()
    if not provider_id:
        raise Message.DoesNotExist("No provider id.")
    with transaction.atomic():
        message = (
            Message.objects.select_for_update()
            .filter(provider_id=provider_id, channel="sms")
            .order_by("id")
            .first()
        )
        if message is None:
            raise Message.DoesNotExist(f"No SMS with provider id {provider_id!r}.")
        if message.status == Status.DELIVERED or message.status == status:
            return message
        if message.status == Status.BLOCKED:
            return message
        if status == Status.DELIVERED:
            message.status = Status.DELIVERED
            message.delivered_at = at
            fields = ["status", "delivered_at"]
        else:
            message.status = Status.FAILED
            message.last_error = _clip(f"Provider reported a failed delivery: {error or 'no reason given'}")
            fields = ["status", "last_error"]
        record(message, actor=actor, reason=f"delivery receipt: {status}")
        message.save(update_fields=fields)
        return message


def preview_template(*, template: MessageTemplate, debt: Debt, today: date) -> Rendered:
    """The template rendered against a real debt, without saving or sending
    anything. ``TemplateRenderError`` names the problem."""
    context = build_context(debt=debt, language=template.language, channel=template.channel, today=today)
    return render_template(template, context=context)


def _has_opt_out(channel: str, body: str, context: dict | None) -> bool | None:
    """Whether an SMS/email says how to opt out (RULES §4 ``messages.daily``, US).

    Letters need no opt-out text (``None``: not applicable). With the render
    context at hand the exact opt-out sentence is looked for; at send time
    the stored body is checked for any of the known sentences.
    """
    if channel not in ("sms", "email"):
        return None
    from cases.messaging.render import OPT_OUT

    sentences = (
        [context["opt_out"]] if context and context.get("opt_out") else [t for t in OPT_OUT.values() if t]
    )
    return any(sentence and sentence.strip() in body for sentence in sentences)
