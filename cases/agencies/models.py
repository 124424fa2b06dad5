"""Outside collection agencies (委外): agencies, their staff, their
commission rates and the cases placed with them.

A case is placed with at most one agency at a time: the database holds that
with a partial unique index over open placements (``services`` also checks
it, with the case row locked, so the caller gets a clear message instead of
an integrity error). What a placement earns is not stored: commission is
derived from the ledger (``selectors.commission_lines``) with the rate
frozen on the placement, so editing an agency's rates never rewrites a
statement already sent.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

MONEY = {"max_digits": 18, "decimal_places": 2}
PERCENT = {"max_digits": 5, "decimal_places": 2}


class Agency(models.Model):
    """An outside collection agency we place cases with."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    licence_number = models.CharField(_("licence number"), max_length=60, unique=True)
    contact_name = models.CharField(_("contact person"), max_length=120, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    address = models.TextField(_("address"), blank=True)
    active = models.BooleanField(_("active (takes new placements)"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = _("agencies")

    def __str__(self) -> str:
        return self.name

    def rate_for(self, bucket: str) -> Decimal | None:
        """The commission rate (percent) for ``bucket``; ``None`` when unset."""
        row = self.commission_rates.filter(bucket=bucket).values_list("rate_percent", flat=True).first()
        return row


class AgencyCommissionRate(models.Model):
    """Commission by ageing bucket (RULES §1 labels: ``M1`` … ``M6+``), in percent
    of the money collected. Editable; a placement freezes the rate it got."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="commission_rates")
    bucket = models.CharField(_("bucket"), max_length=8)
    rate_percent = models.DecimalField(_("commission (%)"), **PERCENT)

    history = HistoricalRecords()

    class Meta:
        ordering = ["agency_id", "bucket"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "bucket"], name="agency_rate_unique_bucket"),
            models.CheckConstraint(
                condition=models.Q(rate_percent__gte=0) & models.Q(rate_percent__lte=100),
                name="agency_rate_between_0_and_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agency} · {self.bucket}: {self.rate_percent}%"


class AgencyMember(models.Model):
    """Ties a user (in the ``Agency`` group) to exactly one agency."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agency_membership"
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="members")
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["agency_id", "user_id"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.agency}"


class AgencyPlacement(models.Model):
    """One case placed with one agency for a period."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("agency placement", "Open")
        RECALLED = "recalled", _("Recalled")
        EXPIRED = "expired", _("Expired (period ended)")

    class RecallReason(models.TextChoices):
        BY_HAND = "by_hand", _("By hand")
        DISPUTE = "dispute", _("Dispute raised")
        PAID_IN_FULL = "paid_in_full", _("Paid in full")
        CASE_CLOSED = "case_closed", _("Nothing left to collect (written off or recalled by the creditor)")

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="placements")
    case = models.ForeignKey(
        "cases.CollectionCase", on_delete=models.PROTECT, related_name="agency_placements"
    )
    start_on = models.DateField(_("placed from"))
    end_on = models.DateField(_("placed until"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    bucket = models.CharField(_("bucket at placement"), max_length=8)
    balance_at_placement = models.DecimalField(_("balance at placement"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3)
    commission_rate = models.DecimalField(_("commission (%)"), **PERCENT)
    instructions = models.TextField(
        _("shared instructions"), blank=True, help_text=_("What the agency is told about this case.")
    )
    share_contact_history = models.BooleanField(
        _("share the lender's contact history"),
        default=False,
        help_text=_("Off: agency staff see only their own agency's contact attempts on the case."),
    )
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    placed_at = models.DateTimeField(auto_now_add=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    recall_reason = models.CharField(
        _("recall reason"), max_length=14, choices=RecallReason.choices, blank=True
    )
    recall_note = models.CharField(_("recall note"), max_length=255, blank=True)
    recalled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recalled_at = models.DateTimeField(_("recalled at"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-start_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(status="open"),
                name="agency_placement_one_open_per_case",
            ),
            models.CheckConstraint(
                condition=models.Q(end_on__gte=models.F("start_on")), name="agency_placement_end_after_start"
            ),
            models.CheckConstraint(
                condition=models.Q(commission_rate__gte=0) & models.Q(commission_rate__lte=100),
                name="agency_placement_rate_between_0_and_100",
            ),
        ]
        indexes = [
            models.Index(fields=["agency", "status"]),
            models.Index(fields=["status", "end_on"]),
        ]

    def __str__(self) -> str:
        return f"Case {self.case_id} → {self.agency} ({self.start_on}–{self.end_on})"

    @property
    def last_day(self):
        """The last day payments count for the agency: the recall or expiry day
        once closed, the planned end while open."""
        return self.closed_on or self.end_on
