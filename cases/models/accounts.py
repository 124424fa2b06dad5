"""Creditors, policies, debts, the append-only ledger, payments and cases.

The ledger is the truth about money. ``Debt`` caches a balance per
component and ``Instalment`` caches what each instalment has been paid; both
caches are only ever changed together with the ledger entries that justify
them (``cases.services.ledger``) and ``manage.py verify_ledger`` proves they
agree.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from cases.policy_presets import DEFAULT_BUCKET_EDGES
from customers.models import Customer, Jurisdiction

MONEY = {"max_digits": 18, "decimal_places": 2}


class Component(models.TextChoices):
    PRINCIPAL = "principal", _("Principal")
    INTEREST = "interest", _("Interest")
    PENALTY = "penalty", _("Penalty interest")
    FEES = "fees", _("Fees")
    LEGAL_COST = "legal_cost", _("Legal costs")
    CREDIT = "credit", _("Credit balance")


# Components a debtor owes; ``credit`` is money we owe back (≤ 0).
OWED_COMPONENTS = ("principal", "interest", "penalty", "fees", "legal_cost")
BALANCE_FIELD = {c: f"{c}_balance" for c in (*OWED_COMPONENTS, "credit")}

WATERFALL_STEPS = {
    "legal_cost": {"legal_cost"},
    "fees": {"fees"},
    "penalty": {"penalty"},
    "interest": {"interest"},
    "principal": {"principal"},
    "overdue_interest": {"interest"},
    "overdue_principal": {"principal"},
    "current_interest": {"interest"},
    "current_principal": {"principal"},
}


def validate_waterfall(steps) -> None:
    """A waterfall is a list of known steps that reaches every owed component."""
    if not isinstance(steps, list) or not steps:
        raise ValidationError({"waterfall": _("The waterfall must be a non-empty list of steps.")})
    unknown = [s for s in steps if s not in WATERFALL_STEPS]
    if unknown:
        raise ValidationError({"waterfall": _("Unknown steps: %s") % ", ".join(map(str, unknown))})
    if len(set(steps)) != len(steps):
        raise ValidationError({"waterfall": _("A step appears twice.")})
    reached = set().union(*(WATERFALL_STEPS[s] for s in steps))
    missing = [c for c in OWED_COMPONENTS if c not in reached]
    # ``interest``/``principal`` are reached completely only by the plain step
    # or by both its overdue and current halves.
    for comp in ("interest", "principal"):
        halves = {f"overdue_{comp}", f"current_{comp}"}
        if comp not in steps and not halves <= set(steps) and comp not in missing:
            missing.append(comp)
    if missing:
        raise ValidationError({"waterfall": _("The waterfall never reaches: %s") % ", ".join(missing)})


def validate_bucket_edges(edges) -> None:
    if (
        not isinstance(edges, list)
        or not edges
        or not all(isinstance(e, int) and e > 0 for e in edges)
        or sorted(set(edges)) != edges
    ):
        raise ValidationError({"bucket_edges": _("Bucket edges must be increasing positive whole days.")})


def default_bucket_labels() -> list[str]:
    """The bucket names the default edges produce: current, M1 … Mn, Mn+."""
    labels = ["current", *[f"M{i}" for i in range(1, len(DEFAULT_BUCKET_EDGES) + 1)]]
    return [*labels, f"M{len(DEFAULT_BUCKET_EDGES)}+"]


class Creditor(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    short_code = models.CharField(_("short code"), max_length=20, unique=True)
    address = models.TextField(_("address"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CollectionPolicy(models.Model):
    class PenaltyBase(models.TextChoices):
        PRINCIPAL = "principal", _("Overdue principal")
        PRINCIPAL_AND_INTEREST = "principal_and_interest", _("Overdue principal and interest")

    name = models.CharField(_("name"), max_length=120, unique=True)
    jurisdiction = models.CharField(_("jurisdiction"), max_length=2, choices=Jurisdiction.choices)
    currency = models.CharField(_("currency"), max_length=3)
    penalty_daily_rate = models.DecimalField(
        _("penalty daily rate"), max_digits=9, decimal_places=6, default=Decimal("0")
    )
    penalty_base = models.CharField(
        _("penalty base"), max_length=30, choices=PenaltyBase.choices, default=PenaltyBase.PRINCIPAL
    )
    grace_days = models.PositiveSmallIntegerField(_("grace days"), default=3)
    tolerance = models.DecimalField(_("tolerance"), **MONEY, default=Decimal("1.00"))
    cost_cap_annual_rate = models.DecimalField(
        _("cost cap (annual rate)"), max_digits=7, decimal_places=4, null=True, blank=True
    )
    late_fee_fixed = models.DecimalField(_("late fee (fixed)"), **MONEY, default=Decimal("0"))
    late_fee_percent = models.DecimalField(
        _("late fee (% of instalment)"), max_digits=7, decimal_places=4, default=Decimal("0")
    )
    late_fee_cap = models.DecimalField(_("late fee cap"), **MONEY, null=True, blank=True)
    charge_off_dpd = models.PositiveSmallIntegerField(_("charge-off at DPD"), default=180)
    accrue_after_charge_off = models.BooleanField(_("accrue after charge-off"), default=True)
    waterfall = models.JSONField(_("payment waterfall"), default=list)
    bucket_edges = models.JSONField(_("bucket upper edges (DPD)"), default=list)
    allow_credit_balance = models.BooleanField(_("allow credit balance"), default=False)
    limitation_years = models.PositiveSmallIntegerField(_("limitation (years)"), default=3)
    contact_hours_start = models.PositiveSmallIntegerField(_("contact from (hour)"), default=8)
    contact_hours_end = models.PositiveSmallIntegerField(_("contact until (hour)"), default=22)
    # RULES §4 limits; null means the rule does not apply in this jurisdiction.
    calls_answered_per_day = models.PositiveSmallIntegerField(
        _("answered calls per debtor per day"), null=True, blank=True
    )
    unanswered_calls_per_number_per_day = models.PositiveSmallIntegerField(
        _("unanswered calls per number per day"), null=True, blank=True
    )
    call_attempts_per_7_days = models.PositiveSmallIntegerField(
        _("call attempts per debt in 7 days"), null=True, blank=True
    )
    quiet_days_after_conversation = models.PositiveSmallIntegerField(
        _("no calls for N days after a conversation"), null=True, blank=True
    )
    messages_per_day = models.PositiveSmallIntegerField(
        _("SMS/email per debt per day"), null=True, blank=True
    )
    validation_notice_days = models.PositiveSmallIntegerField(
        _("validation notice within N days of first contact"), null=True, blank=True
    )
    rule_modes = models.JSONField(
        _("rule modes"),
        default=dict,
        blank=True,
        help_text=_('Rule ID → "enforce" or "advise"; advise is allowed only for US rules, never holds.'),
    )
    first_party = models.BooleanField(_("first-party creditor (outside the FDCPA)"), default=False)
    promise_grace_days = models.PositiveSmallIntegerField(_("promise grace days"), default=2)
    plan_default_after_missed = models.PositiveSmallIntegerField(
        _("plan defaults after missed instalments"), default=2
    )
    settlement_limit_collector = models.DecimalField(
        _("collector settlement limit (%)"), max_digits=5, decimal_places=2, default=Decimal("20")
    )
    settlement_limit_team_lead = models.DecimalField(
        _("team lead settlement limit (%)"), max_digits=5, decimal_places=2, default=Decimal("40")
    )
    legal_minimum_balance = models.DecimalField(
        _("minimum balance for legal"), **MONEY, default=Decimal("1000")
    )
    # Small balances (docs/small-balances.md): a debt whose total balance is
    # below this takes the digital-only track (no calls, no visits); null: off.
    digital_only_below = models.DecimalField(
        _("digital-only below (balance)"),
        **MONEY,
        null=True,
        blank=True,
        help_text=_(
            "A case whose every open debt owes less than this is worked by automated SMS, email and "
            "letters only: the contact rules refuse calls and visits (rule LL-DIGITAL-ONLY). Empty: off."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = _("collection policies")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(penalty_daily_rate__gte=0), name="policy_penalty_rate_gte_0"
            ),
            models.CheckConstraint(condition=models.Q(tolerance__gte=0), name="policy_tolerance_gte_0"),
            models.CheckConstraint(condition=models.Q(charge_off_dpd__gt=0), name="policy_charge_off_gt_0"),
            models.CheckConstraint(
                condition=models.Q(digital_only_below__isnull=True) | models.Q(digital_only_below__gt=0),
                name="policy_digital_only_below_gt_0",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        validate_waterfall(self.waterfall)
        validate_bucket_edges(self.bucket_edges)
        if self.contact_hours_start >= self.contact_hours_end or self.contact_hours_end > 24:
            raise ValidationError({"contact_hours_end": _("Contact hours must form a window.")})

    def bucket_for(self, dpd: int) -> str:
        """RULES §1: current (0), M1 1–30, …, M6 151–180, M6+ 181+ with default edges."""
        if dpd <= 0:
            return "current"
        edges = self.bucket_edges or DEFAULT_BUCKET_EDGES
        for index, edge in enumerate(edges, start=1):
            if dpd <= edge:
                return f"M{index}"
        return f"M{len(edges)}+"

    def bucket_labels(self) -> list[str]:
        edges = self.bucket_edges or DEFAULT_BUCKET_EDGES
        return ["current", *[f"M{i}" for i in range(1, len(edges) + 1)], f"M{len(edges)}+"]


class Product(models.Model):
    name = models.CharField(_("name"), max_length=120)
    creditor = models.ForeignKey(Creditor, on_delete=models.PROTECT, related_name="products")
    policy = models.ForeignKey(CollectionPolicy, on_delete=models.PROTECT, related_name="products")
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["creditor__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["creditor", "name"], name="product_unique_per_creditor")
        ]

    def __str__(self) -> str:
        return f"{self.creditor} · {self.name}"


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_teams",
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="collection_teams")

    history = HistoricalRecords(m2m_fields=[members])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CollectionCase(models.Model):
    """The unit a collector works: one customer, their open debts."""

    class Stage(models.TextChoices):
        REMINDER = "reminder", _("Reminder")
        SOFT = "soft", _("Soft")
        HARD = "hard", _("Hard")
        LEGAL = "legal", _("Legal")
        CLOSED = "closed", _("Closed")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="cases")
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices, default=Stage.REMINDER)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_cases",
    )
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="cases")
    priority = models.DecimalField(_("priority"), max_digits=12, decimal_places=2, default=0)
    holds = models.JSONField(_("holds"), default=list, blank=True)
    next_action_on = models.DateField(_("next action"), null=True, blank=True)
    risk_score = models.DecimalField(
        _("risk score"),
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("Probability of paying within 30 days (0–1)."),
    )
    broken_promises = models.PositiveSmallIntegerField(_("broken promises"), default=0)
    priority_reasons = models.JSONField(_("priority reasons"), default=list, blank=True)
    stage_changed_on = models.DateField(_("stage changed on"), null=True, blank=True)
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True)
    opened_on = models.DateField(_("opened on"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-priority", "id"]
        indexes = [
            models.Index(fields=["assigned_to", "stage"]),
            models.Index(fields=["team", "stage"]),
        ]

    def __str__(self) -> str:
        return f"Case {self.pk} · {self.customer}"

    @property
    def is_on_hold(self) -> bool:
        return bool(self.holds)


class Debt(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CHARGED_OFF = "charged_off", _("Charged off")
        PAID = "paid", _("Paid")
        SETTLED = "settled", _("Settled")
        WRITTEN_OFF = "written_off", _("Written off")
        RECALLED = "recalled", _("Recalled")

    # Statuses that close of business still works on.
    ACTIVE_STATUSES = (Status.OPEN, Status.CHARGED_OFF)

    creditor = models.ForeignKey(Creditor, on_delete=models.PROTECT, related_name="debts")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="debts")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="debts")
    case = models.ForeignKey(
        CollectionCase, on_delete=models.PROTECT, null=True, blank=True, related_name="debts"
    )
    account_number = models.CharField(_("account number"), max_length=40)
    currency = models.CharField(_("currency"), max_length=3)
    opened_on = models.DateField(_("opened on"))
    original_principal = models.DecimalField(_("original principal"), **MONEY)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN)
    days_past_due = models.PositiveIntegerField(_("days past due"), default=0)
    bucket = models.CharField(_("bucket"), max_length=8, default="current", db_index=True)
    date_of_first_delinquency = models.DateField(_("date of first delinquency"), null=True, blank=True)
    delinquent_30_on = models.DateField(
        _("reached 30 DPD on"),
        null=True,
        blank=True,
        help_text=_("Day the current delinquency first reached 30 DPD (Metro 2 field 25)."),
    )
    charged_off_on = models.DateField(_("charged off on"), null=True, blank=True)
    last_payment_on = models.DateField(_("last payment"), null=True, blank=True)
    limitation_on = models.DateField(_("limitation date"), null=True, blank=True)
    closed_through = models.DateField(_("closed through"), null=True, blank=True)

    principal_balance = models.DecimalField(**MONEY, default=Decimal("0"))
    interest_balance = models.DecimalField(**MONEY, default=Decimal("0"))
    penalty_balance = models.DecimalField(**MONEY, default=Decimal("0"))
    fees_balance = models.DecimalField(**MONEY, default=Decimal("0"))
    legal_cost_balance = models.DecimalField(**MONEY, default=Decimal("0"))
    credit_balance = models.DecimalField(**MONEY, default=Decimal("0"))
    created_at = models.DateTimeField(auto_now_add=True)

    # Cached balances and the daily ageing counter are derived from the
    # ledger (itself append-only and attributed); history keeps the fields a
    # person decides or that change the account's state.
    history = HistoricalRecords(
        excluded_fields=[
            "principal_balance",
            "interest_balance",
            "penalty_balance",
            "fees_balance",
            "legal_cost_balance",
            "credit_balance",
            "days_past_due",
            "closed_through",
        ]
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["creditor", "account_number"], name="debt_account_unique_per_creditor"
            ),
            models.CheckConstraint(
                condition=models.Q(principal_balance__gte=0)
                & models.Q(interest_balance__gte=0)
                & models.Q(penalty_balance__gte=0)
                & models.Q(fees_balance__gte=0)
                & models.Q(legal_cost_balance__gte=0),
                name="debt_owed_components_gte_0",
            ),
            models.CheckConstraint(
                condition=models.Q(credit_balance__lte=0), name="debt_credit_balance_lte_0"
            ),
        ]
        indexes = [models.Index(fields=["status", "id"])]

    def __str__(self) -> str:
        return f"{self.account_number} ({self.creditor})"

    def balance(self, component: str) -> Decimal:
        return getattr(self, BALANCE_FIELD[component])

    @property
    def total_balance(self) -> Decimal:
        return sum((self.balance(c) for c in (*OWED_COMPONENTS, "credit")), Decimal("0.00"))

    def balances(self) -> dict[str, Decimal]:
        values = {c: self.balance(c) for c in OWED_COMPONENTS}
        if self.credit_balance:
            values["credit"] = self.credit_balance
        values["total"] = self.total_balance
        return values


class Instalment(models.Model):
    """One line of a debt's schedule.

    ``principal_balance`` and ``interest_balance`` cache the sum of the ledger
    entries linked to this instalment, like the balances on ``Debt``.
    """

    debt = models.ForeignKey(Debt, on_delete=models.PROTECT, related_name="instalments")
    number = models.PositiveSmallIntegerField(_("number"))
    due_on = models.DateField(_("due on"))
    principal = models.DecimalField(_("principal"), **MONEY)
    interest = models.DecimalField(_("interest"), **MONEY, default=Decimal("0"))
    principal_balance = models.DecimalField(**MONEY, default=Decimal("0"))
    interest_balance = models.DecimalField(**MONEY, default=Decimal("0"))

    history = HistoricalRecords(excluded_fields=["principal_balance", "interest_balance"])

    class Meta:
        ordering = ["debt_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["debt", "number"], name="instalment_unique_number"),
            models.CheckConstraint(condition=models.Q(principal__gte=0), name="instalment_principal_gte_0"),
            models.CheckConstraint(condition=models.Q(interest__gte=0), name="instalment_interest_gte_0"),
            models.CheckConstraint(
                condition=models.Q(principal_balance__gte=0) & models.Q(interest_balance__gte=0),
                name="instalment_balances_gte_0",
            ),
        ]
        indexes = [models.Index(fields=["debt", "due_on"])]

    def __str__(self) -> str:
        return f"#{self.number} due {self.due_on}"

    @property
    def owed(self) -> Decimal:
        """Principal and charged interest still owed on this instalment."""
        return self.principal_balance + self.interest_balance

    @property
    def amount(self) -> Decimal:
        return self.principal + self.interest


class LedgerEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValidationError(_("Ledger entries are append-only; post a correction instead."))

    def delete(self):
        raise ValidationError(_("Ledger entries are append-only; post a correction instead."))


class LedgerEntry(models.Model):
    """One signed movement on one component of one debt. Never changed."""

    class Kind(models.TextChoices):
        CHARGE = "charge", _("Charge")
        ACCRUAL = "accrual", _("Accrual")
        PAYMENT = "payment", _("Payment")
        REVERSAL = "reversal", _("Reversal")
        ADJUSTMENT = "adjustment", _("Adjustment")
        WAIVER = "waiver", _("Waiver")
        WRITE_OFF = "write_off", _("Write-off")

    debt = models.ForeignKey(Debt, on_delete=models.PROTECT, related_name="ledger_entries")
    instalment = models.ForeignKey(
        Instalment, on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries"
    )
    payment = models.ForeignKey(
        "Payment", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries"
    )
    component = models.CharField(_("component"), max_length=12, choices=Component.choices)
    amount = models.DecimalField(_("amount"), **MONEY)
    effective_on = models.DateField(_("effective on"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    source = models.CharField(_("source"), max_length=100)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = LedgerEntryQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["effective_on", "id"]
        verbose_name_plural = _("ledger entries")
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount=0), name="ledger_amount_not_zero"),
        ]
        indexes = [models.Index(fields=["debt", "effective_on"])]

    def __str__(self) -> str:
        return f"{self.effective_on} {self.component} {self.amount}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValidationError(_("Ledger entries are append-only; post a correction instead."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Ledger entries are append-only; post a correction instead."))


class Payment(models.Model):
    class Channel(models.TextChoices):
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")
        CARD = "card", _("Card")
        ALIPAY = "alipay", _("Alipay")
        WECHAT = "wechat", _("WeChat Pay")
        CASH = "cash", _("Cash")
        CHECK = "check", _("Check")
        ACH = "ach", _("ACH")
        ENFORCEMENT = "enforcement", _("Court enforcement")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        POSTED = "posted", _("Posted")
        REVERSED = "reversed", _("Reversed")

    debt = models.ForeignKey(Debt, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3)
    received_on = models.DateField(_("received on"))
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    reference = models.CharField(_("external reference"), max_length=100, unique=True)
    idempotency_key = models.CharField(
        _("idempotency key"), max_length=200, null=True, blank=True, unique=True
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.POSTED)
    allocation = models.JSONField(_("allocation"), default=dict)
    reversed_on = models.DateField(_("reversed on"), null=True, blank=True)
    reversal_reason = models.CharField(_("reversal reason"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-received_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_amount_gt_0"),
        ]
        indexes = [models.Index(fields=["debt", "received_on"])]

    def __str__(self) -> str:
        return f"{self.reference}: {self.amount} {self.currency}"


# Choice sets named once in the OpenAPI schema (settings.SPECTACULAR_SETTINGS).
PAYMENT_CHANNEL_CHOICES = Payment.Channel.choices
