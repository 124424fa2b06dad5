"""Credit bureau furnishing (RULES.md §6): who we report as, what we keep
per account, co-borrowers, and the monthly Metro 2 submissions."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

MONEY = {"max_digits": 18, "decimal_places": 2}
USER = settings.AUTH_USER_MODEL


class FurnisherProfile(models.Model):
    """How one creditor's accounts are reported: the identifiers the bureaus
    gave us and the portfolio the accounts belong to. Reference data; a
    creditor without a profile is reported with the defaults below."""

    class PortfolioType(models.TextChoices):
        INSTALLMENT = "I", _("Installment")
        OPEN = "O", _("Open")
        REVOLVING = "R", _("Revolving")
        LINE_OF_CREDIT = "C", _("Line of credit")

    creditor = models.OneToOneField(
        "cases.Creditor", on_delete=models.CASCADE, related_name="furnisher_profile"
    )
    identification_number = models.CharField(
        _("identification number"), max_length=20, help_text=_("Metro 2 field 5, assigned by the bureaus.")
    )
    equifax_program_identifier = models.CharField(_("Equifax program id"), max_length=10, blank=True)
    experian_program_identifier = models.CharField(_("Experian program id"), max_length=5, blank=True)
    transunion_program_identifier = models.CharField(_("TransUnion program id"), max_length=10, blank=True)
    innovis_program_identifier = models.CharField(_("Innovis program id"), max_length=10, blank=True)
    portfolio_type = models.CharField(
        _("portfolio type"), max_length=1, choices=PortfolioType.choices, default=PortfolioType.INSTALLMENT
    )
    account_type = models.CharField(
        _("account type"), max_length=2, default="01", help_text=_("Metro 2 field 9 (01 unsecured loan).")
    )
    reporter_address = models.CharField(_("reporter address"), max_length=96, blank=True)
    reporter_telephone = models.CharField(_("reporter telephone"), max_length=20, blank=True)
    enabled = models.BooleanField(_("report this creditor's accounts"), default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["creditor__name"]
        verbose_name = _("furnisher profile")
        verbose_name_plural = _("furnisher profiles")

    def __str__(self) -> str:
        return f"{self.creditor} · {self.identification_number}"


class FurnishingState(models.Model):
    """What bureau reporting knows about one debt beyond the debt itself:
    K1/K2 data, the CN pre-notification, a user's "reported in error" mark
    and the deletion (DA) once it went out. Written only by
    ``cases.bureau.services``."""

    class PurchasedSold(models.TextChoices):
        PURCHASED_FROM = "1", _("Purchased from")
        SOLD_TO = "2", _("Sold to")

    debt = models.OneToOneField("cases.Debt", on_delete=models.CASCADE, related_name="furnishing")
    original_creditor_name = models.CharField(
        _("original creditor (K1)"), max_length=30, blank=True, help_text=_("Set for collection accounts.")
    )
    creditor_classification = models.CharField(_("creditor classification (K1)"), max_length=2, blank=True)
    purchased_sold = models.CharField(
        _("purchased from / sold to (K2)"), max_length=1, choices=PurchasedSold.choices, blank=True
    )
    purchased_sold_name = models.CharField(_("purchased from / sold to name (K2)"), max_length=30, blank=True)
    consumer_information_indicator = models.CharField(
        _("consumer information indicator"), max_length=2, blank=True, help_text=_("Metro 2 field 39.")
    )
    prenotice = models.ForeignKey(
        "cases.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("pre-notification message"),
    )
    prenotified_on = models.DateField(_("pre-notification queued on"), null=True, blank=True)
    reported_in_error = models.BooleanField(_("reported in error"), default=False)
    error_reason = models.CharField(_("why it was reported in error"), max_length=255, blank=True)
    error_marked_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    error_marked_on = models.DateField(_("marked on"), null=True, blank=True)
    deletion_period = models.CharField(
        _("deletion (DA) reported in"), max_length=7, blank=True, help_text=_("YYYY-MM of the file with DA.")
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["debt_id"]
        verbose_name = _("account furnishing")
        verbose_name_plural = _("account furnishing")

    def __str__(self) -> str:
        return f"Furnishing of debt {self.debt_id}"


class AssociatedConsumer(models.Model):
    """A co-borrower or other consumer on a debt (J1 shares the primary
    consumer's address, J2 has its own), with their ECOA code."""

    class Ecoa(models.TextChoices):
        JOINT = "2", _("Joint contractual liability")
        AUTHORIZED_USER = "3", _("Authorized user")
        CO_MAKER = "5", _("Co-maker")
        MAKER = "7", _("Maker")
        TERMINATED = "T", _("Terminated")
        DECEASED = "X", _("Deceased")
        DELETE = "Z", _("Delete consumer")

    debt = models.ForeignKey("cases.Debt", on_delete=models.CASCADE, related_name="associated_consumers")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    ecoa_code = models.CharField(_("ECOA code"), max_length=1, choices=Ecoa.choices, default=Ecoa.JOINT)
    own_address = models.BooleanField(
        _("own address (J2)"), default=False, help_text=_("Off: same address as the primary consumer (J1).")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["debt_id", "id"]
        verbose_name = _("co-borrower")
        verbose_name_plural = _("co-borrowers")
        constraints = [
            models.UniqueConstraint(fields=["debt", "customer"], name="associated_consumer_once_per_debt")
        ]

    def __str__(self) -> str:
        return f"{self.customer} on debt {self.debt_id} ({self.ecoa_code})"


class BureauSubmission(models.Model):
    """One creditor's Metro 2 file for one month, and what became of it."""

    class Status(models.TextChoices):
        GENERATED = "generated", _("Generated")
        SENT = "sent", _("Sent")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    creditor = models.ForeignKey(
        "cases.Creditor", on_delete=models.PROTECT, related_name="bureau_submissions"
    )
    period = models.DateField(_("period"), help_text=_("First day of the reported month."))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.GENERATED)
    file = models.FileField(_("file"), upload_to="bureau/%Y/%m/", blank=True)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    base_records = models.PositiveIntegerField(_("base records"), default=0)
    j1_segments = models.PositiveIntegerField(_("J1 segments"), default=0)
    j2_segments = models.PositiveIntegerField(_("J2 segments"), default=0)
    k1_segments = models.PositiveIntegerField(_("K1 segments"), default=0)
    k2_segments = models.PositiveIntegerField(_("K2 segments"), default=0)
    k4_segments = models.PositiveIntegerField(_("K4 segments"), default=0)
    status_counts = models.JSONField(_("accounts by status code"), default=dict, blank=True)
    skipped = models.JSONField(_("accounts not reported, by reason"), default=dict, blank=True)
    total_current_balance = models.DecimalField(_("total current balance"), **MONEY, default=0)
    total_amount_past_due = models.DecimalField(_("total amount past due"), **MONEY, default=0)
    generated_at = models.DateTimeField(_("generated at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    transport_reference = models.CharField(_("delivered to"), max_length=300, blank=True)
    responded_at = models.DateTimeField(_("bureau answered at"), null=True, blank=True)
    error_lines = models.TextField(_("bureau's error lines"), blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    history = HistoricalRecords()

    class Meta:
        ordering = ["-period", "creditor_id"]
        verbose_name = _("bureau submission")
        verbose_name_plural = _("bureau submissions")
        constraints = [
            models.UniqueConstraint(fields=["creditor", "period"], name="bureau_submission_once_per_month")
        ]

    def __str__(self) -> str:
        return f"{self.creditor} · {self.period:%Y-%m} ({self.get_status_display()})"

    @property
    def period_label(self) -> str:
        return f"{self.period:%Y-%m}"
