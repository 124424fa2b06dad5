"""Credit bureau inquiries: what we asked a bureau, what came back, and the
shared state of the bureau's circuit breaker (issue 6, "Inquiry").

- ``BureauInquiryAttempt``: one row per fetch, whatever happened, with a
  clear ``outcome``; an ``ok`` attempt points at the snapshot it wrote.
- ``BureauReport``: an immutable snapshot of a customer's credit report
  summary and skip-trace data as fetched; a customer's reports are their
  history, newest first. Written whole or not at all (the payload is
  validated before the transaction that writes it).
- ``BureauCircuit``: one row per bureau, locked with ``select_for_update``
  by every worker process, so an outage seen by one worker makes all of
  them fail fast until the cool-down has passed.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Outcome(models.TextChoices):
    OK = "ok", _("OK")
    TIMEOUT = "timeout", _("Timed out")
    CONNECTION_ERROR = "connection_error", _("Connection failed")
    SERVER_ERROR = "server_error", _("Bureau server error (5xx)")
    CLIENT_ERROR = "client_error", _("Refused by the bureau (4xx)")
    RATE_LIMITED = "rate_limited", _("Rate limited (429)")
    MALFORMED = "malformed", _("Malformed reply")
    CIRCUIT_OPEN = "circuit_open", _("Circuit open: not called")
    NOT_CONFIGURED = "not_configured", _("Bureau not configured")
    ERROR = "error", _("Unexpected error")


class Trigger(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled refresh")
    MANUAL = "manual", _("Refresh now")


class BureauReport(models.Model):
    """A credit report summary and skip-trace reply, as fetched on ``fetched_at``."""

    bureau = models.CharField(_("bureau"), max_length=40)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="bureau_reports"
    )
    debt = models.ForeignKey(
        "cases.Debt",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bureau_reports",
        help_text=_("The debt whose refresh asked for this report, if any."),
    )
    fetched_at = models.DateTimeField(_("fetched at"), db_index=True)
    request_id = models.CharField(_("bureau request id"), max_length=80, unique=True)
    period = models.CharField(
        _("refresh period"),
        max_length=10,
        blank=True,
        help_text=_("Business date of the scheduled refresh that fetched it; empty for refresh now."),
    )
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    score_model = models.CharField(_("score model"), max_length=40, blank=True)
    open_tradelines = models.PositiveIntegerField(_("open tradelines"), default=0)
    tradelines = models.JSONField(_("tradelines"), default=list)
    recent_delinquencies = models.PositiveIntegerField(_("recent delinquencies"), default=0)
    delinquencies = models.JSONField(_("delinquencies"), default=list)
    skip_trace = models.JSONField(_("skip-trace payload"), default=dict)
    contact_points_added = models.PositiveIntegerField(_("contact points added"), default=0)
    employer_added = models.BooleanField(_("employer added"), default=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-fetched_at", "-id"]
        permissions = [("request_bureaureport", "Can request a fresh bureau report (refresh now)")]
        indexes = [models.Index(fields=["customer", "-fetched_at"], name="bureaureport_customer_newest")]
        constraints = [
            # A scheduled refresh fetches a customer once per period (idempotent by key).
            models.UniqueConstraint(
                fields=["bureau", "customer", "period"],
                condition=~models.Q(period=""),
                name="bureaureport_one_per_period",
            ),
        ]

    def __str__(self) -> str:
        score = self.score if self.score is not None else "—"
        return f"{self.customer} · {self.fetched_at:%Y-%m-%d} · score {score}"


class BureauInquiryAttempt(models.Model):
    """One fetch for one customer, and how it ended (never a crash)."""

    bureau = models.CharField(_("bureau"), max_length=40)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="bureau_attempts"
    )
    debt = models.ForeignKey(
        "cases.Debt", on_delete=models.PROTECT, null=True, blank=True, related_name="bureau_attempts"
    )
    trigger = models.CharField(_("trigger"), max_length=10, choices=Trigger.choices)
    period = models.CharField(_("refresh period"), max_length=10, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, db_index=True)
    http_status = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    tries = models.PositiveSmallIntegerField(_("HTTP tries"), default=0)
    detail = models.TextField(_("detail"), blank=True)
    request_id = models.CharField(_("bureau request id"), max_length=80, blank=True)
    started_at = models.DateTimeField(_("started at"), db_index=True)
    finished_at = models.DateTimeField(_("finished at"))
    report = models.OneToOneField(
        BureauReport, on_delete=models.PROTECT, null=True, blank=True, related_name="attempt"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(outcome="ok", report__isnull=False)
                | (~models.Q(outcome="ok") & models.Q(report__isnull=True)),
                name="bureauattempt_ok_has_report",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer} · {self.started_at:%Y-%m-%d %H:%M} · {self.get_outcome_display()}"


class BureauCircuit(models.Model):
    """The circuit breaker of one bureau, shared by every worker process."""

    class State(models.TextChoices):
        CLOSED = "closed", _("Closed (calls pass)")
        OPEN = "open", _("Open (calls fail fast)")
        HALF_OPEN = "half_open", _("Half-open (one probe)")

    bureau = models.CharField(_("bureau"), max_length=40, unique=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.CLOSED)
    consecutive_failures = models.PositiveIntegerField(_("consecutive failures"), default=0)
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    probe_started_at = models.DateTimeField(_("probe started at"), null=True, blank=True)
    last_failure = models.CharField(_("last failure"), max_length=200, blank=True)
    # The shared rate limit: calls made in the minute that started at
    # ``window_started_at``. Counters, changed with ``update()`` on every
    # call and kept out of the history on purpose (one history row per HTTP
    # request would drown the circuit's real state changes).
    window_started_at = models.DateTimeField(_("rate window started at"), null=True, blank=True)
    window_calls = models.PositiveIntegerField(_("calls in the rate window"), default=0)

    history = HistoricalRecords(excluded_fields=["window_started_at", "window_calls"])

    class Meta:
        ordering = ["bureau"]

    def __str__(self) -> str:
        return f"{self.bureau}: {self.get_state_display()}"
