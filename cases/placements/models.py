"""Placement files: a creditor's bulk account file, its column layout and its row report.

``PlacementLayout`` says where each of our fields is in a creditor's file
(header names), how that creditor writes dates and decimals; it is edited
in admin and produces a sample file. ``PlacementFile`` is one upload: the
stored file, its SHA-256 (an effective import of the same bytes for the same
creditor happens once: a database constraint), the mode, status, progress
and counts. ``PlacementReportLine`` is one finding about one row (rejected,
already placed, corrected), written in bulk.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from cases.models import Creditor

# Our fields, in the order a sample file lists them: field → what it holds.
FIELDS: dict[str, str] = {
    "account_number": _("the creditor's account number (unique per creditor)"),
    "product": _("product name (one of this creditor's products)"),
    "currency": _("ISO currency; empty: the product policy's"),
    "opened_on": _("date the account was opened"),
    "name": _("customer's legal name"),
    "kind": _("person or company; empty: person"),
    "national_id": _("national ID; an existing customer with this ID is reused"),
    "date_of_birth": _("customer's date of birth"),
    "preferred_language": _("en or zh-hans"),
    "jurisdiction": _("CN or US; empty: the product policy's"),
    "region": _("province or US state"),
    "time_zone": _("IANA time zone, e.g. Asia/Shanghai"),
    "phone": _("phone number (national or +E.164)"),
    "email": _("email address"),
    "address": _("postal address"),
    "schedule": _("instalments as due:principal:interest;… (dates in the layout's format)"),
    "due_on": _("single instalment: due date (when there is no schedule column)"),
    "principal": _("single instalment: principal"),
    "interest": _("single instalment: interest"),
    "total": _("optional check: principal + interest of the whole schedule"),
}
ALWAYS_REQUIRED = ("account_number", "product", "opened_on", "name")


class PlacementLayout(models.Model):
    """A creditor's column layout. Each ``col_<field>`` holds the header of
    the column carrying that field; empty means the creditor does not send it."""

    class DecimalSeparator(models.TextChoices):
        POINT = ".", _("point (1234.50)")
        COMMA = ",", _("comma (1234,50)")

    class ThousandsSeparator(models.TextChoices):
        NONE = "", _("none")
        COMMA = ",", _("comma (1,234.50)")
        POINT = ".", _("point (1.234,50)")
        SPACE = " ", _("space (1 234,50)")

    creditor = models.OneToOneField(Creditor, on_delete=models.CASCADE, related_name="placement_layout")
    date_format = models.CharField(
        _("date format"),
        max_length=20,
        default="%Y-%m-%d",
        help_text=_("strftime codes, e.g. %Y-%m-%d or %d/%m/%Y. ISO dates are always accepted."),
    )
    decimal_separator = models.CharField(
        _("decimal separator"), max_length=1, choices=DecimalSeparator.choices, default="."
    )
    thousands_separator = models.CharField(
        _("thousands separator"), max_length=1, choices=ThousandsSeparator.choices, default="", blank=True
    )
    schedule_separator = models.CharField(
        _("instalment separator in the schedule column"), max_length=1, default=";"
    )
    col_account_number = models.CharField(_("account number column"), max_length=60, default="account_number")
    col_product = models.CharField(_("product column"), max_length=60, default="product")
    col_currency = models.CharField(_("currency column"), max_length=60, default="currency", blank=True)
    col_opened_on = models.CharField(_("opened-on column"), max_length=60, default="opened_on")
    col_name = models.CharField(_("name column"), max_length=60, default="name")
    col_kind = models.CharField(_("kind column"), max_length=60, default="kind", blank=True)
    col_national_id = models.CharField(
        _("national ID column"), max_length=60, default="national_id", blank=True
    )
    col_date_of_birth = models.CharField(
        _("date of birth column"), max_length=60, default="date_of_birth", blank=True
    )
    col_preferred_language = models.CharField(
        _("language column"), max_length=60, default="preferred_language", blank=True
    )
    col_jurisdiction = models.CharField(
        _("jurisdiction column"), max_length=60, default="jurisdiction", blank=True
    )
    col_region = models.CharField(_("region column"), max_length=60, default="region", blank=True)
    col_time_zone = models.CharField(_("time zone column"), max_length=60, default="time_zone", blank=True)
    col_phone = models.CharField(_("phone column"), max_length=60, default="phone", blank=True)
    col_email = models.CharField(_("email column"), max_length=60, default="email", blank=True)
    col_address = models.CharField(_("address column"), max_length=60, default="address", blank=True)
    col_schedule = models.CharField(_("schedule column"), max_length=60, default="schedule", blank=True)
    col_due_on = models.CharField(_("due date column"), max_length=60, default="due_on", blank=True)
    col_principal = models.CharField(_("principal column"), max_length=60, default="principal", blank=True)
    col_interest = models.CharField(_("interest column"), max_length=60, default="interest", blank=True)
    col_total = models.CharField(_("total column"), max_length=60, default="total", blank=True)
    notes = models.TextField(_("notes"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["creditor__name"]

    def __str__(self) -> str:
        return f"{self.creditor} · placement layout"

    def columns(self) -> dict[str, str]:
        """Our field → the creditor's header, for the fields the creditor sends."""
        return {
            field: getattr(self, f"col_{field}").strip() for field in FIELDS if getattr(self, f"col_{field}")
        }


class PlacementFile(models.Model):
    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all_or_nothing", _("All or nothing")
        VALID_ROWS = "valid_rows", _("Load the valid rows")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        VALIDATING = "validating", _("Validating")
        LOADING = "loading", _("Loading")
        DONE = "done", _("Done")
        REJECTED = "rejected", _("Rejected")
        FAILED = "failed", _("Failed")

    FINISHED = (Status.DONE, Status.REJECTED, Status.FAILED)

    creditor = models.ForeignKey(Creditor, on_delete=models.PROTECT, related_name="placement_files")
    file = models.FileField(_("file"), upload_to="placements/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    size = models.BigIntegerField(_("size (bytes)"), default=0)
    kind = models.CharField(_("format"), max_length=4, blank=True)
    encoding = models.CharField(_("encoding"), max_length=10, blank=True)
    mode = models.CharField(_("mode"), max_length=20, choices=Mode.choices, default=Mode.ALL_OR_NOTHING)
    dry_run = models.BooleanField(_("dry run"), default=False)
    business_date = models.DateField(_("business date"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(_("rows in the file"), null=True, blank=True)
    rows_processed = models.PositiveIntegerField(_("rows validated"), default=0)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    loaded = models.PositiveIntegerField(_("loaded"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    duplicates = models.PositiveIntegerField(_("already placed"), default=0)
    adjusted = models.PositiveIntegerField(_("balances corrected"), default=0)
    error = models.TextField(_("error"), blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    # ``rows_processed`` moves every few thousand rows while a file is
    # validated (a set-based update, read by the progress display); status
    # changes and counts are the file's audited story.
    history = HistoricalRecords(excluded_fields=["rows_processed"])

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # An effective import (not a dry run, not refused) of the same
            # bytes for the same creditor exists at most once.
            models.UniqueConstraint(
                fields=["creditor", "sha256"],
                condition=models.Q(dry_run=False) & ~models.Q(status__in=["rejected", "failed"]),
                name="placementfile_sha256_unique_per_creditor",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.creditor}, {self.get_status_display()})"

    @property
    def progress(self) -> dict:
        """Rows validated of the rows in the file, and the fraction done."""
        total = self.rows_total or 0
        done = self.rows_total if self.status in self.FINISHED and total else self.rows_processed
        return {
            "processed": done,
            "total": self.rows_total,
            "percent": round(100 * done / total, 1)
            if total
            else (100.0 if self.status in self.FINISHED else 0.0),
        }


class PlacementReportLine(models.Model):
    class Outcome(models.TextChoices):
        REJECTED = "rejected", _("Rejected")
        DUPLICATE = "duplicate", _("Already placed")
        ADJUSTED = "adjusted", _("Balance corrected")

    placement_file = models.ForeignKey(PlacementFile, on_delete=models.CASCADE, related_name="report_lines")
    line = models.PositiveIntegerField(_("line"))
    column = models.CharField(_("column"), max_length=60, blank=True)
    account_number = models.CharField(_("account number"), max_length=60, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    reason = models.CharField(_("reason"), max_length=500)

    history = HistoricalRecords()

    class Meta:
        ordering = ["placement_file_id", "line", "id"]
        indexes = [models.Index(fields=["placement_file", "line"])]

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


# Choice sets named once in the OpenAPI schema (settings.SPECTACULAR_SETTINGS).
PLACEMENT_STATUS_CHOICES = PlacementFile.Status.choices
PLACEMENT_MODE_CHOICES = PlacementFile.Mode.choices
PLACEMENT_OUTCOME_CHOICES = PlacementReportLine.Outcome.choices
