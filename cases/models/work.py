"""Collection work on a case: assignment, contacts, promises, plans,
settlements and disputes (RULES.md §3–§5). Imported by ``cases.models``."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

MONEY = {"max_digits": 18, "decimal_places": 2}
USER = settings.AUTH_USER_MODEL


class Hold(models.TextChoices):
    """Holds stop all collection contact while active (RULES §3)."""

    DISPUTE = "dispute", _("Dispute")
    CEASE = "cease", _("Cease communication")
    BANKRUPTCY = "bankruptcy", _("Bankruptcy")
    DECEASED = "deceased", _("Deceased")
    COMPLAINT = "complaint", _("Complaint under review")
    LEGAL = "legal", _("Legal (legal staff only)")


class CollectorProfile(models.Model):
    """What auto-assignment needs to know about a collector."""

    user = models.OneToOneField(USER, on_delete=models.CASCADE, related_name="collector_profile")
    capacity = models.PositiveIntegerField(_("capacity (open cases)"), default=200)
    languages = models.JSONField(_("languages"), default=list, blank=True)
    regions = models.JSONField(_("regions"), default=list, blank=True)
    active = models.BooleanField(_("takes new work"), default=True)

    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"{self.user} (capacity {self.capacity})"


class AssignmentRule(models.Model):
    """An auto-assignment rule: which cases go to which team, and how."""

    class Strategy(models.TextChoices):
        ROUND_ROBIN = "round_robin", _("Round robin")
        WORKLOAD = "workload", _("Least loaded (by capacity)")

    name = models.CharField(_("name"), max_length=100, unique=True)
    order = models.PositiveIntegerField(_("order"), default=100)
    active = models.BooleanField(_("active"), default=True)
    stages = models.JSONField(_("stages"), default=list, blank=True, help_text=_("Empty: any."))
    buckets = models.JSONField(_("buckets"), default=list, blank=True, help_text=_("Empty: any."))
    languages = models.JSONField(_("languages"), default=list, blank=True, help_text=_("Empty: any."))
    regions = models.JSONField(_("regions"), default=list, blank=True, help_text=_("Empty: any."))
    team = models.ForeignKey("cases.Team", on_delete=models.PROTECT, related_name="assignment_rules")
    strategy = models.CharField(
        _("strategy"), max_length=20, choices=Strategy.choices, default=Strategy.WORKLOAD
    )
    match_collector_language = models.BooleanField(_("collector must speak the language"), default=True)
    match_collector_region = models.BooleanField(_("collector must cover the region"), default=False)
    last_assigned = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


class Assignment(models.Model):
    """Every (re)assignment of a case: who, when, why."""

    case = models.ForeignKey("cases.CollectionCase", on_delete=models.CASCADE, related_name="assignments")
    collector = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    team = models.ForeignKey("cases.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    previous_collector = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assigned_by = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    rule = models.ForeignKey(AssignmentRule, on_delete=models.SET_NULL, null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=255)
    assigned_at = models.DateTimeField(auto_now_add=True, db_index=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-assigned_at", "-id"]

    def __str__(self) -> str:
        return f"Case {self.case_id} → {self.collector or self.team}"


class ContactAttempt(models.Model):
    class Channel(models.TextChoices):
        CALL = "call", _("Call")
        SMS = "sms", _("SMS")
        EMAIL = "email", _("Email")
        LETTER = "letter", _("Letter")
        VISIT = "visit", _("Visit")

    class Direction(models.TextChoices):
        OUTBOUND = "outbound", _("Outbound")
        INBOUND = "inbound", _("Inbound")

    class Party(models.TextChoices):
        DEBTOR = "debtor", _("Debtor")
        THIRD_PARTY = "third_party", _("Third party")

    class Outcome(models.TextChoices):
        RIGHT_PARTY = "right_party", _("Right-party contact")
        PROMISE = "promise", _("Promise to pay")
        REFUSED_TO_PAY = "refused_to_pay", _("Refused to pay")
        DISPUTE = "dispute", _("Dispute raised")
        CALLBACK = "callback", _("Callback requested")
        NO_ANSWER = "no_answer", _("No answer")
        BUSY = "busy", _("Busy")
        VOICEMAIL = "voicemail", _("Voicemail")
        WRONG_NUMBER = "wrong_number", _("Wrong number")
        THIRD_PARTY = "third_party", _("Reached a third party")
        REFUSED = "refused", _("Refused by the contact rules")

    # Outcomes that mean we spoke with the debtor (RULES §8 right-party rate).
    REACHED = {"right_party", "promise", "refused_to_pay", "dispute", "callback"}

    case = models.ForeignKey("cases.CollectionCase", on_delete=models.PROTECT, related_name="contacts")
    debt = models.ForeignKey(
        "cases.Debt", on_delete=models.PROTECT, null=True, blank=True, related_name="contacts"
    )
    party = models.CharField(_("party"), max_length=12, choices=Party.choices, default=Party.DEBTOR)
    contact_point = models.ForeignKey(
        "customers.ContactPoint", on_delete=models.PROTECT, null=True, blank=True, related_name="attempts"
    )
    third_party = models.ForeignKey(
        "customers.ThirdPartyContact",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="attempts",
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    direction = models.CharField(
        _("direction"), max_length=10, choices=Direction.choices, default=Direction.OUTBOUND
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    note = models.TextField(_("note"), blank=True)
    duration_s = models.PositiveIntegerField(_("duration (s)"), default=0)
    started_at = models.DateTimeField(_("started at"), db_index=True)
    callback_at = models.DateTimeField(_("callback at"), null=True, blank=True)
    rules = models.JSONField(_("refusing rules"), default=list, blank=True)
    refusal_reason = models.CharField(_("refusal reason"), max_length=500, blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["case", "started_at"]),
            models.Index(fields=["created_by", "started_at"]),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_channel_display()} · {self.get_outcome_display()} · {self.started_at:%Y-%m-%d %H:%M}"
        )

    @property
    def reached_debtor(self) -> bool:
        return self.outcome in self.REACHED


class PromiseToPay(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        KEPT = "kept", _("Kept")
        PARTIALLY_KEPT = "partially_kept", _("Partially kept")
        BROKEN = "broken", _("Broken")
        CANCELLED = "cancelled", _("Cancelled")

    case = models.ForeignKey("cases.CollectionCase", on_delete=models.PROTECT, related_name="promises")
    debt = models.ForeignKey(
        "cases.Debt", on_delete=models.PROTECT, null=True, blank=True, related_name="promises"
    )
    contact = models.ForeignKey(
        ContactAttempt, on_delete=models.SET_NULL, null=True, blank=True, related_name="promises"
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    due_on = models.DateField(_("due on"), db_index=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    paid_amount = models.DecimalField(_("paid"), **MONEY, default=Decimal("0"))
    settled_on = models.DateField(_("settled on"), null=True, blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="promise_amount_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} by {self.due_on} ({self.get_status_display()})"


class PaymentPlan(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Completed")
        DEFAULTED = "defaulted", _("Defaulted")
        CANCELLED = "cancelled", _("Cancelled")

    case = models.ForeignKey("cases.CollectionCase", on_delete=models.PROTECT, related_name="plans")
    debt = models.ForeignKey("cases.Debt", on_delete=models.PROTECT, related_name="plans")
    total = models.DecimalField(_("agreed total"), **MONEY)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    missed_count = models.PositiveSmallIntegerField(_("missed instalments"), default=0)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-id"]
        constraints = [models.CheckConstraint(condition=models.Q(total__gt=0), name="plan_total_gt_0")]

    def __str__(self) -> str:
        return f"Plan {self.pk}: {self.total} ({self.get_status_display()})"


class PlanInstalment(models.Model):
    class Status(models.TextChoices):
        DUE = "due", _("Due")
        PAID = "paid", _("Paid")
        MISSED = "missed", _("Missed")

    plan = models.ForeignKey(PaymentPlan, on_delete=models.CASCADE, related_name="instalments")
    number = models.PositiveSmallIntegerField(_("number"))
    due_on = models.DateField(_("due on"))
    amount = models.DecimalField(_("amount"), **MONEY)
    paid_amount = models.DecimalField(_("paid"), **MONEY, default=Decimal("0"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.DUE)

    history = HistoricalRecords()

    class Meta:
        ordering = ["plan_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="plan_instalment_unique_number"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="plan_instalment_amount_gt_0"),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.amount} due {self.due_on}"


class Settlement(models.Model):
    class Status(models.TextChoices):
        PENDING_APPROVAL = "pending_approval", _("Pending approval")
        APPROVED = "approved", _("Approved (offered)")
        REJECTED = "rejected", _("Rejected")
        PAID = "paid", _("Paid")
        EXPIRED = "expired", _("Expired")
        CANCELLED = "cancelled", _("Cancelled")

    case = models.ForeignKey("cases.CollectionCase", on_delete=models.PROTECT, related_name="settlements")
    debt = models.ForeignKey("cases.Debt", on_delete=models.PROTECT, related_name="settlements")
    balance_at_offer = models.DecimalField(_("balance at offer"), **MONEY)
    discount_percent = models.DecimalField(_("discount (%)"), max_digits=5, decimal_places=2)
    amount = models.DecimalField(_("amount to pay"), **MONEY)
    valid_until = models.DateField(_("valid until"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    paid_amount = models.DecimalField(_("paid"), **MONEY, default=Decimal("0"))
    requested_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    approved_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decision_reason = models.CharField(_("decision reason"), max_length=255, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(discount_percent__gt=0) & models.Q(discount_percent__lt=100),
                name="settlement_discount_between_0_and_100",
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="settlement_amount_gt_0"),
        ]

    def __str__(self) -> str:
        return f"Settlement {self.pk}: {self.amount} ({self.discount_percent}% off)"


class Dispute(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")

    class Via(models.TextChoices):
        PHONE = "phone", _("Phone")
        LETTER = "letter", _("Letter")
        EMAIL = "email", _("Email")
        API = "api", _("API")
        BUREAU = "bureau", _("Credit bureau")

    class Outcome(models.TextChoices):
        VERIFIED = "verified", _("Debt verified")
        CORRECTED = "corrected", _("Corrected in the consumer's favour")
        UPHELD = "upheld", _("Upheld: not the consumer's debt")
        WITHDRAWN = "withdrawn", _("Withdrawn by the consumer")

    case = models.ForeignKey("cases.CollectionCase", on_delete=models.PROTECT, related_name="disputes")
    debt = models.ForeignKey(
        "cases.Debt", on_delete=models.PROTECT, null=True, blank=True, related_name="disputes"
    )
    raised_via = models.CharField(_("raised via"), max_length=10, choices=Via.choices)
    reason = models.TextField(_("reason"))
    opened_on = models.DateField(_("opened on"))
    due_on = models.DateField(_("resolve by"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)
    resolution_note = models.TextField(_("resolution note"), blank=True)
    verification_sent_on = models.DateField(_("verification mailed on"), null=True, blank=True)
    consumer_disagrees = models.BooleanField(_("consumer still disagrees"), default=False)
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-opened_on", "-id"]

    def __str__(self) -> str:
        return f"Dispute {self.pk} ({self.get_status_display()})"

    @property
    def bureau_compliance_code(self) -> str:
        """Metro 2 compliance condition (RULES §5): XB open, XC disagrees, XH resolved."""
        if self.status == self.Status.OPEN:
            return "XB"
        return "XC" if self.consumer_disagrees else "XH"
