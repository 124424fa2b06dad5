"""Payment statement files and the suspense queue (issue #9).

A ``StatementSource`` is a bank account or payment platform that sends us
statement files, with the column layout of its files. Each imported file is a
``StatementFile`` (unique per source by SHA-256, so the same file twice is a
no-op) and each of its data rows a ``StatementLine``:

- ``posted``: matched to one debt on import and posted through
  ``post_payment`` (the payment's reference is ``<source code>:<transaction id>``);
- ``suspense``: valid, but matched no debt or more than one; waits in the
  suspense queue for a person;
- ``matched``: a suspense line a person matched to a debt by hand (posted
  then, with who and why in ``matched_by`` / ``match_reason``);
- ``rejected``: bad data, refused by ``post_payment``, already imported
  from another file, or returned from the suspense queue by hand.

A transaction id is live at most once per source (posted, suspense or
matched): a database constraint, so two overlapping imports cannot both
keep it. Rejected lines may repeat it (a corrected file can be resent).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from cases.models import MONEY, Creditor, Debt, Payment

# Longest transaction id a line may carry: the payment reference is
# ``<code>:<transaction id>`` and ``Payment.reference`` holds 100 characters.
TRANSACTION_ID_MAX = 78


class StatementSource(models.Model):
    """Where statement files come from and how to read them."""

    class Kind(models.TextChoices):
        BANK = "bank", _("Bank")
        PLATFORM = "platform", _("Payment platform")

    name = models.CharField(_("name"), max_length=100, unique=True)
    code = models.SlugField(
        _("code"),
        max_length=20,
        unique=True,
        help_text=_("Short and permanent: payments from this source are referenced <code>:<transaction id>."),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.BANK)
    creditor = models.ForeignKey(
        Creditor,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="statement_sources",
        help_text=_("When set, lines are matched only to this creditor's debts."),
    )
    channel = models.CharField(
        _("default channel"),
        max_length=20,
        choices=Payment.Channel.choices,
        default=Payment.Channel.BANK_TRANSFER,
        help_text=_("Channel of its payments when the file has no channel column."),
    )
    default_currency = models.CharField(
        _("default currency"),
        max_length=3,
        blank=True,
        help_text=_("Currency of every line when the file has no currency column."),
    )
    date_format = models.CharField(
        _("date format"),
        max_length=20,
        default="%Y-%m-%d",
        help_text=_("strftime pattern of the date column, e.g. %Y-%m-%d, %Y/%m/%d, %d.%m.%Y, %Y%m%d."),
    )
    # Column mapping: the header text of each field in this source's files;
    # blank means the file has no such column.
    transaction_id_column = models.CharField(_("transaction id column"), max_length=60)
    date_column = models.CharField(_("date column"), max_length=60)
    amount_column = models.CharField(_("amount column"), max_length=60)
    currency_column = models.CharField(_("currency column"), max_length=60, blank=True)
    account_number_column = models.CharField(_("account number column"), max_length=60, blank=True)
    reference_column = models.CharField(_("payment reference column"), max_length=60, blank=True)
    national_id_column = models.CharField(_("national ID column"), max_length=60, blank=True)
    payer_name_column = models.CharField(_("payer name column"), max_length=60, blank=True)
    channel_column = models.CharField(_("channel column"), max_length=60, blank=True)
    active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("statement source")
        verbose_name_plural = _("statement sources")

    def __str__(self) -> str:
        return self.name

    # field on the line → its column attribute here
    COLUMN_FIELDS = {
        "transaction_id": "transaction_id_column",
        "received_on": "date_column",
        "amount": "amount_column",
        "currency": "currency_column",
        "account_number": "account_number_column",
        "payment_reference": "reference_column",
        "national_id": "national_id_column",
        "payer_name": "payer_name_column",
        "channel": "channel_column",
    }

    def columns(self) -> dict[str, str]:
        """Line field → header text, for the columns this source's files have."""
        return {
            field: getattr(self, attr) for field, attr in self.COLUMN_FIELDS.items() if getattr(self, attr)
        }

    def required_columns(self) -> list[str]:
        """Every mapped column must be in the file's header: a renamed column
        would otherwise silently read as empty on every line."""
        return list(dict.fromkeys(self.columns().values()))

    def clean(self):
        errors = {}
        if not self.currency_column and not self.default_currency:
            errors["default_currency"] = _("Give a default currency or a currency column.")
        if self.default_currency and (len(self.default_currency) != 3 or not self.default_currency.isupper()):
            errors["default_currency"] = _("A currency is three capital letters, e.g. CNY.")
        if "%" not in self.date_format:
            errors["date_format"] = _("A date format is a strftime pattern such as %Y-%m-%d.")
        identifiers = (self.account_number_column, self.reference_column, self.national_id_column)
        if not any(identifiers):
            errors["account_number_column"] = _(
                "Map at least one of account number, payment reference or national ID: "
                "lines are matched by them."
            )
        mapped = list(self.columns().values())
        if len(mapped) != len(set(mapped)):
            errors["transaction_id_column"] = _("Two fields are mapped to the same column.")
        if errors:
            raise ValidationError(errors)


class StatementFile(models.Model):
    """One imported statement file and its reconciliation.

    The counts and amounts are fixed at import: imported = posted + suspense
    + rejected, both in lines and in money (lines whose amount could not be
    read count as 0.00). Later hand decisions on suspense lines are read from
    the lines themselves (``cases.statements.selectors.reconciliation``).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        IMPORTING = "importing", _("Importing")
        OPEN = "open", _("Lines in suspense")
        RECONCILED = "reconciled", _("Reconciled")
        FAILED = "failed", _("Failed")

    # Uploads from the admin and the API are stored ``queued`` and imported by
    # a worker (``importing``, then ``open``/``reconciled``); a refused or
    # lost import ends ``failed`` with ``error`` and no lines, and no longer
    # blocks the same bytes.
    PENDING = (Status.QUEUED, Status.IMPORTING)
    IMPORTED = (Status.OPEN, Status.RECONCILED)

    source = models.ForeignKey(StatementSource, on_delete=models.PROTECT, related_name="files")
    file = models.FileField(_("file"), upload_to="statements/%Y/%m/", max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    encoding = models.CharField(_("encoding"), max_length=10, blank=True)
    business_date = models.DateField(_("business date"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    started_at = models.DateTimeField(_("import started at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    line_count = models.PositiveIntegerField(_("lines imported"), default=0)
    posted_count = models.PositiveIntegerField(_("lines posted"), default=0)
    suspense_count = models.PositiveIntegerField(_("lines to suspense"), default=0)
    rejected_count = models.PositiveIntegerField(_("lines rejected"), default=0)
    already_posted_count = models.PositiveIntegerField(
        _("already imported"), default=0, help_text=_("Rejected because an earlier file carried them.")
    )
    total_amount = models.DecimalField(_("amount imported"), **MONEY, default=0)
    posted_amount = models.DecimalField(_("amount posted"), **MONEY, default=0)
    suspense_amount = models.DecimalField(_("amount to suspense"), **MONEY, default=0)
    rejected_amount = models.DecimalField(_("amount rejected"), **MONEY, default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-imported_at", "-id"]
        verbose_name = _("statement file")
        verbose_name_plural = _("statement files")
        constraints = [
            # A failed import (refused by a worker, or lost) does not count.
            models.UniqueConstraint(
                fields=["source", "sha256"],
                condition=~models.Q(status="failed"),
                name="statement_file_unique_per_source",
            ),
            # Reconciliation at import, guarded by the database.
            models.CheckConstraint(
                condition=models.Q(
                    line_count=models.F("posted_count")
                    + models.F("suspense_count")
                    + models.F("rejected_count")
                ),
                name="statement_file_counts_reconcile",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    total_amount=models.F("posted_amount")
                    + models.F("suspense_amount")
                    + models.F("rejected_amount")
                ),
                name="statement_file_amounts_reconcile",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source.code} #{self.pk} {self.original_name}"


class StatementLine(models.Model):
    class Status(models.TextChoices):
        POSTED = "posted", _("Posted")
        SUSPENSE = "suspense", _("In suspense")
        MATCHED = "matched", _("Matched by hand")
        REJECTED = "rejected", _("Rejected")

    # A transaction id can be live once per source (see the module docstring).
    LIVE = (Status.POSTED, Status.SUSPENSE, Status.MATCHED)

    file = models.ForeignKey(StatementFile, on_delete=models.PROTECT, related_name="lines")
    source = models.ForeignKey(StatementSource, on_delete=models.PROTECT, related_name="lines")
    line_number = models.PositiveIntegerField(_("line"))
    transaction_id = models.CharField(_("transaction id"), max_length=100, blank=True)
    received_on = models.DateField(_("received on"), null=True, blank=True)
    amount = models.DecimalField(_("amount"), **MONEY, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    account_number = models.CharField(_("account number"), max_length=100, blank=True, db_index=True)
    payment_reference = models.CharField(_("payment reference"), max_length=255, blank=True)
    national_id = models.CharField(_("national ID"), max_length=40, blank=True, db_index=True)
    payer_name = models.CharField(_("payer name"), max_length=200, blank=True)
    channel = models.CharField(_("channel"), max_length=20, choices=Payment.Channel.choices, blank=True)
    raw = models.JSONField(_("line as read"), default=dict)

    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    column = models.CharField(_("column"), max_length=60, blank=True, help_text=_("Column of a rejection."))
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    debt = models.ForeignKey(
        Debt, on_delete=models.PROTECT, null=True, blank=True, related_name="statement_lines"
    )
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="statement_lines"
    )
    matched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    matched_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    match_reason = models.CharField(_("decision reason"), max_length=255, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["file", "line_number"]
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")
        constraints = [
            models.UniqueConstraint(fields=["file", "line_number"], name="statement_line_unique_in_file"),
            models.UniqueConstraint(
                fields=["source", "transaction_id"],
                condition=models.Q(status__in=["posted", "suspense", "matched"]),
                name="statement_line_live_transaction_unique",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["posted", "matched"])
                | (models.Q(payment__isnull=False) & models.Q(debt__isnull=False)),
                name="statement_line_posted_has_payment",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "id"]),
            models.Index(fields=["source", "transaction_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.source.code}:{self.transaction_id or '?'} (line {self.line_number})"

    @property
    def payment_reference_key(self) -> str:
        """The reference its payment carries: idempotent per source and transaction."""
        return payment_reference_for(self.source, self.transaction_id)


class SuspenseLine(StatementLine):
    """The suspense queue: the same rows, listed on a screen of their own."""

    class Meta:
        proxy = True
        verbose_name = _("suspense line")
        verbose_name_plural = _("suspense queue")


def payment_reference_for(source: StatementSource, transaction_id: str) -> str:
    return f"{source.code}:{transaction_id}"


# Choice sets named once in the OpenAPI schema (settings.SPECTACULAR_SETTINGS).
STATEMENT_FILE_STATUS_CHOICES = StatementFile.Status.choices
STATEMENT_LINE_STATUS_CHOICES = StatementLine.Status.choices
