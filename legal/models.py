"""Legal matters (RULES.md §7): lawsuits from the demand letter to enforcement.

A ``LegalMatter`` is one lawsuit about one or more debts of a collection
case. Its ``stage`` moves only through ``legal.services.transition_matter``
(the stage machine), and every move is a ``StageTransition`` row (date, who,
why, the document where one exists). Filings, hearings, deadlines, the
judgment, enforcement actions and costs hang off the matter. Money never
moves here: costs post to the debt's ledger through
``cases.services.legal_costs`` and recoveries through ``post_payment``.

Every domain model keeps simple-history. ``CalendarToken`` keeps it without
its ``token`` column: who replaced a feed link, when and why is on record,
while the history table holds no copy of a secret that was rotated away.
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

MONEY = {"max_digits": 18, "decimal_places": 2}
USER = settings.AUTH_USER_MODEL

# RULES §7: remind at T−7, T−1 and T.
DEFAULT_REMINDER_OFFSETS = (7, 1, 0)


def default_reminders(due_on) -> list[str]:
    """ISO dates of the default reminders for a deadline due on ``due_on``."""
    return [(due_on - timedelta(days=days)).isoformat() for days in DEFAULT_REMINDER_OFFSETS]


class Court(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class LawFirm(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Attorney(models.Model):
    law_firm = models.ForeignKey(LawFirm, on_delete=models.PROTECT, related_name="attorneys")
    name = models.CharField(_("name"), max_length=200)
    license_number = models.CharField(_("licence number"), max_length=60, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["law_firm", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.law_firm})"


class LegalMatter(models.Model):
    class Stage(models.TextChoices):
        DEMAND_LETTER = "demand_letter", _("Demand letter")
        MEDIATION = "mediation", _("Mediation")
        PAYMENT_ORDER = "payment_order", _("Payment order")
        FILED = "filed", _("Filed")
        SERVED = "served", _("Served")
        HEARING = "hearing", _("Hearing")
        JUDGMENT = "judgment", _("Judgment")
        ENFORCEMENT = "enforcement", _("Enforcement")
        CLOSED = "closed", _("Closed")

    class Outcome(models.TextChoices):
        PAID = "paid", _("Paid")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        UNCOLLECTIBLE = "uncollectible", _("Uncollectible")
        SETTLED = "settled", _("Settled")

    case = models.ForeignKey("cases.CollectionCase", on_delete=models.PROTECT, related_name="legal_matters")
    debts = models.ManyToManyField("cases.Debt", related_name="legal_matters")
    court = models.ForeignKey(Court, on_delete=models.PROTECT, null=True, blank=True, related_name="matters")
    case_number = models.CharField(_("court case number"), max_length=100, blank=True)
    law_firm = models.ForeignKey(
        LawFirm, on_delete=models.PROTECT, null=True, blank=True, related_name="matters"
    )
    attorney = models.ForeignKey(
        Attorney, on_delete=models.PROTECT, null=True, blank=True, related_name="matters"
    )
    claim_amount = models.DecimalField(_("claim amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3)
    stage = models.CharField(
        _("stage"), max_length=16, choices=Stage.choices, default=Stage.DEMAND_LETTER, db_index=True
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    assigned_to = models.ForeignKey(
        USER,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="legal_matters",
        verbose_name=_("legal staff"),
    )
    referred_on = models.DateField(_("referred on"))
    stage_changed_on = models.DateField(_("stage changed on"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-referred_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(claim_amount__gt=0), name="legal_claim_amount_gt_0"),
            models.CheckConstraint(
                condition=(models.Q(stage="closed") & ~models.Q(outcome=""))
                | (~models.Q(stage="closed") & models.Q(outcome="")),
                name="legal_outcome_iff_closed",
            ),
        ]
        indexes = [models.Index(fields=["assigned_to", "stage"])]

    def __str__(self) -> str:
        number = self.case_number or _("no court number")
        return f"Matter {self.pk} · {number}"

    @property
    def is_closed(self) -> bool:
        return self.stage == self.Stage.CLOSED


def transition_document_path(instance, filename: str) -> str:
    return f"legal/matters/{instance.matter_id}/transitions/{filename}"


def filing_document_path(instance, filename: str) -> str:
    return f"legal/matters/{instance.matter_id}/filings/{filename}"


class StageTransition(models.Model):
    """One move of a matter along the stage machine: when, who, why, and the document."""

    matter = models.ForeignKey(LegalMatter, on_delete=models.CASCADE, related_name="transitions")
    from_stage = models.CharField(_("from"), max_length=16, choices=LegalMatter.Stage.choices, blank=True)
    to_stage = models.CharField(_("to"), max_length=16, choices=LegalMatter.Stage.choices)
    on = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=255)
    document = models.FileField(_("document"), upload_to=transition_document_path, blank=True)
    actor = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["on", "id"]

    def __str__(self) -> str:
        return f"{self.from_stage or '—'} → {self.to_stage} ({self.on})"


class Filing(models.Model):
    class Kind(models.TextChoices):
        DEMAND_LETTER = "demand_letter", _("Demand letter")
        COMPLAINT = "complaint", _("Complaint")
        PAYMENT_ORDER = "payment_order", _("Payment order application")
        EVIDENCE = "evidence", _("Evidence")
        MOTION = "motion", _("Motion")
        SERVICE_PROOF = "service_proof", _("Proof of service")
        JUDGMENT = "judgment", _("Judgment")
        ENFORCEMENT = "enforcement", _("Enforcement application")
        OTHER = "other", _("Other")

    matter = models.ForeignKey(LegalMatter, on_delete=models.PROTECT, related_name="filings")
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices)
    filed_on = models.DateField(_("filed on"))
    court_reference = models.CharField(_("court reference"), max_length=100, blank=True)
    document = models.FileField(_("document"), upload_to=filing_document_path, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["filed_on", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.filed_on}"


class Hearing(models.Model):
    matter = models.ForeignKey(LegalMatter, on_delete=models.PROTECT, related_name="hearings")
    starts_at = models.DateTimeField(_("date and time"))
    court_room = models.CharField(_("court room"), max_length=60, blank=True)
    judge = models.CharField(_("judge"), max_length=120, blank=True)
    result = models.TextField(_("result"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["starts_at"])]

    def __str__(self) -> str:
        return f"Hearing {self.starts_at:%Y-%m-%d %H:%M}"


class Deadline(models.Model):
    """A date that cannot be missed. ``computed`` ones come from events
    (``source`` names the event, e.g. ``judgment:7:appeal``) and are
    recomputed when the event changes; manual ones are typed in."""

    class Kind(models.TextChoices):
        APPEAL = "appeal", _("Appeal period ends")
        ENFORCEMENT_WINDOW = "enforcement_window", _("Enforcement application window ends")
        HEARING = "hearing", _("Hearing")
        FILING = "filing", _("Filing due")
        OTHER = "other", _("Other")

    matter = models.ForeignKey(LegalMatter, on_delete=models.PROTECT, related_name="deadlines")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    due_on = models.DateField(_("due on"), db_index=True)
    computed = models.BooleanField(_("computed"), default=False)
    source = models.CharField(_("computed from"), max_length=60, blank=True)
    hearing = models.ForeignKey(
        Hearing, on_delete=models.CASCADE, null=True, blank=True, related_name="deadlines"
    )
    title = models.CharField(_("title"), max_length=200, blank=True)
    reminders = models.JSONField(_("reminder dates"), default=list, blank=True)
    reminded_on = models.JSONField(_("reminders sent for"), default=list, blank=True)
    done = models.BooleanField(_("done"), default=False)
    done_on = models.DateField(_("done on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["matter", "source"],
                condition=~models.Q(source=""),
                name="legal_deadline_one_per_event",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title or self.get_kind_display()} · {self.due_on}"

    def is_overdue(self, today) -> bool:
        return not self.done and self.due_on < today


class Judgment(models.Model):
    matter = models.OneToOneField(LegalMatter, on_delete=models.PROTECT, related_name="judgment")
    amount = models.DecimalField(_("amount"), **MONEY)
    interest = models.DecimalField(_("interest"), **MONEY, default=0)
    costs_awarded = models.DecimalField(_("costs awarded"), **MONEY, default=0)
    judged_on = models.DateField(_("judgment date"))
    served_on = models.DateField(_("served on"), null=True, blank=True)
    effective_on = models.DateField(_("effective on"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="legal_judgment_amount_gte_0"),
        ]

    def __str__(self) -> str:
        return f"Judgment {self.amount} ({self.judged_on})"


class EnforcementAction(models.Model):
    class Kind(models.TextChoices):
        GARNISHMENT = "garnishment", _("Garnishment")
        ASSET_FREEZE = "asset_freeze", _("Asset freeze")
        EXECUTION = "execution", _("Execution")

    matter = models.ForeignKey(LegalMatter, on_delete=models.PROTECT, related_name="enforcement_actions")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    applied_on = models.DateField(_("applied on"))
    court_reference = models.CharField(_("court reference"), max_length=100, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["applied_on", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.applied_on}"


class Recovery(models.Model):
    """Money recovered by an enforcement action: a payment posted with
    channel ``enforcement`` (the payment carries amount, date and allocation)."""

    action = models.ForeignKey(EnforcementAction, on_delete=models.PROTECT, related_name="recoveries")
    payment = models.OneToOneField("cases.Payment", on_delete=models.PROTECT, related_name="recovery")

    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = _("recoveries")

    def __str__(self) -> str:
        return str(self.payment)


class LegalCost(models.Model):
    class Kind(models.TextChoices):
        COURT_FEE = "court_fee", _("Court fee")
        LAWYER_FEE = "lawyer_fee", _("Lawyer fee")

    matter = models.ForeignKey(LegalMatter, on_delete=models.PROTECT, related_name="costs")
    debt = models.ForeignKey("cases.Debt", on_delete=models.PROTECT, related_name="legal_costs")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    amount = models.DecimalField(_("amount"), **MONEY)
    incurred_on = models.DateField(_("incurred on"))
    ledger_entry = models.OneToOneField(
        "cases.LedgerEntry",
        on_delete=models.PROTECT,
        related_name="legal_cost",
        verbose_name=_("ledger entry"),
    )
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["incurred_on", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="legal_cost_amount_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} ({self.incurred_on})"


class LegalNotification(models.Model):
    """An in-admin reminder of a deadline; one per deadline and reminder date,
    which is what makes ``send_deadline_reminders`` safe to run twice."""

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="legal_notifications")
    deadline = models.ForeignKey(Deadline, on_delete=models.CASCADE, related_name="notifications")
    sent_for = models.DateField(_("reminder date"))
    message = models.CharField(_("message"), max_length=255)
    emailed = models.BooleanField(_("emailed"), default=False)
    read = models.BooleanField(_("read"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-sent_for", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["deadline", "sent_for"], name="legal_one_reminder_per_date"),
        ]
        indexes = [models.Index(fields=["user", "read"])]

    def __str__(self) -> str:
        return self.message


def new_calendar_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarToken(models.Model):
    """The secret in a user's ``/legal/calendar/<token>.ics`` URL; replaced
    by ``legal.services.rotate_calendar_token`` (the old URL then answers 404)."""

    user = models.OneToOneField(USER, on_delete=models.CASCADE, related_name="legal_calendar_token")
    token = models.CharField(max_length=64, unique=True, default=new_calendar_token)
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(_("replaced at"), null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["token"])

    def __str__(self) -> str:
        return f"Calendar token of {self.user}"
