"""Outbound messages, their templates, demand letters and the dunning ladder
(RULES.md §3–§4, DESIGN.md ``Message``). Imported by ``cases.models``."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

USER = settings.AUTH_USER_MODEL
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("Email")
    LETTER = "letter", _("Letter")


class MessageTemplate(models.Model):
    """A message body per code, channel and language, rendered with Django's
    template language against a debt (variables documented in admin)."""

    code = models.SlugField(_("code"), max_length=60)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    language = models.CharField(_("language"), max_length=10, choices=LANGUAGES)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"))
    active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["code", "channel", "language"]
        constraints = [
            models.UniqueConstraint(fields=["code", "channel", "language"], name="message_template_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.channel} · {self.language}"


class DunningStep(models.Model):
    """One rung of a policy's dunning ladder."""

    class Trigger(models.TextChoices):
        DAYS_FROM_DUE = "days_from_due", _("Days relative to the due date")
        PROMISE_BROKEN = "promise_broken", _("Promise broken")
        PLAN_DEFAULTED = "plan_defaulted", _("Payment plan defaulted")

    class Action(models.TextChoices):
        SMS = "sms", _("Send SMS")
        EMAIL = "email", _("Send email")
        LETTER = "letter", _("Send demand letter")
        CALL_TASK = "call_task", _("Queue a call")
        STAGE_CHANGE = "stage_change", _("Change stage")
        REFER_LEGAL = "refer_legal", _("Refer to legal")

    policy = models.ForeignKey(
        "cases.CollectionPolicy", on_delete=models.CASCADE, related_name="dunning_steps"
    )
    order = models.PositiveIntegerField(_("order"), default=10)
    name = models.CharField(_("name"), max_length=100)
    trigger = models.CharField(
        _("trigger"), max_length=20, choices=Trigger.choices, default=Trigger.DAYS_FROM_DUE
    )
    offset_days = models.IntegerField(
        _("days from due date"),
        default=0,
        help_text=_("Negative: before the due date (pre-due reminder); positive: days past due."),
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    template_code = models.SlugField(_("template code"), max_length=60, blank=True)
    target_stage = models.CharField(_("target stage"), max_length=10, blank=True)
    buckets = models.JSONField(_("only in buckets"), default=list, blank=True)
    min_balance = models.DecimalField(
        _("only above balance"), max_digits=18, decimal_places=2, default=Decimal("0")
    )
    skip_on_hold = models.BooleanField(_("not while on hold"), default=True)
    active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["policy_id", "order", "id"]

    def __str__(self) -> str:
        return f"{self.policy} · {self.order}. {self.name}"


class Message(models.Model):
    """Every outbound reminder, sent or refused (DESIGN.md ``Message``)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")
        BLOCKED = "blocked", _("Blocked")

    case = models.ForeignKey("cases.CollectionCase", on_delete=models.PROTECT, related_name="messages")
    debt = models.ForeignKey(
        "cases.Debt", on_delete=models.PROTECT, null=True, blank=True, related_name="messages"
    )
    contact_point = models.ForeignKey(
        "customers.ContactPoint", on_delete=models.PROTECT, null=True, blank=True, related_name="messages"
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    template = models.ForeignKey(
        MessageTemplate, on_delete=models.PROTECT, null=True, blank=True, related_name="messages"
    )
    language = models.CharField(_("language"), max_length=10, choices=LANGUAGES)
    recipient = models.CharField(_("recipient"), max_length=300)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("rendered body"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    blocked_reason = models.CharField(_("blocked reason"), max_length=500, blank=True)
    rules = models.JSONField(_("refusing rules"), default=list, blank=True)
    provider_id = models.CharField(_("provider id"), max_length=120, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    dunning_step = models.ForeignKey(
        DunningStep, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    document = models.FileField(_("document"), upload_to="letters/%Y/%m/", blank=True)
    scheduled_for = models.DateTimeField(_("scheduled for"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["case", "created_at"]),
            models.Index(fields=["status", "scheduled_for"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} to {self.recipient} ({self.get_status_display()})"


class DunningFiring(models.Model):
    """A step fired (or waiting) for one debt in one delinquency cycle.

    Unique per (step, debt, cycle) so the ladder fires each step at most once
    per cycle however often close of business runs.
    """

    class Status(models.TextChoices):
        DONE = "done", _("Done")
        WAITING = "waiting", _("Waiting for an allowed time")
        SKIPPED = "skipped", _("Skipped")

    step = models.ForeignKey(DunningStep, on_delete=models.CASCADE, related_name="firings")
    debt = models.ForeignKey("cases.Debt", on_delete=models.CASCADE, related_name="dunning_firings")
    cycle = models.CharField(_("cycle"), max_length=40)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    message = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    retry_at = models.DateTimeField(_("retry at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    fired_on = models.DateField(_("business date"))
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-fired_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["step", "debt", "cycle"], name="dunning_firing_once_per_cycle")
        ]

    def __str__(self) -> str:
        return f"{self.step} · debt {self.debt_id} · {self.cycle}"
