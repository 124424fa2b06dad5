"""Bulk settlement offers for small balances (docs/small-balances.md).

A ``BulkSettlementOffer`` is a rule (policy, optional product and bucket, a
balance band, one discount) that a supervisor previews and approves once for
the whole selection. Approval turns each selected debt into an ordinary
``Settlement`` (``cases.services.settlements``) and records the outcome per
debt in ``BulkSettlementOfferItem``: offered, or skipped and why. The items
are the idempotency key of the approval (one per offer and debt).
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from cases.models.dunning import Channel

MONEY = {"max_digits": 18, "decimal_places": 2}
USER = settings.AUTH_USER_MODEL


class BulkSettlementOffer(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        APPROVED = "approved", _("Approved")
        CLOSED = "closed", pgettext_lazy("bulk settlement offer", "Closed")

    name = models.CharField(_("name"), max_length=200)
    policy = models.ForeignKey(
        "cases.CollectionPolicy", on_delete=models.PROTECT, related_name="bulk_settlement_offers"
    )
    product = models.ForeignKey(
        "cases.Product",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: every product of the policy."),
    )
    bucket = models.CharField(
        _("bucket"), max_length=8, blank=True, help_text=_("Empty: any bucket (current, M1 … M6+).")
    )
    balance_min = models.DecimalField(
        _("balance from"), **MONEY, default=Decimal("0"), help_text=_("Inclusive; debts owing nothing never.")
    )
    balance_max = models.DecimalField(
        _("balance below"),
        **MONEY,
        null=True,
        blank=True,
        help_text=_("Exclusive. Empty: the policy's digital-only threshold."),
    )
    discount_percent = models.DecimalField(
        _("discount (%)"),
        max_digits=5,
        decimal_places=2,
        help_text=_("The discount every selected debt is offered (the most this offer gives)."),
    )
    expires_on = models.DateField(_("expires on"), help_text=_("Each settlement is valid until this day."))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.SMS)
    template_code = models.CharField(_("message template"), max_length=50, default="settlement_offer")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    approved_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approval_reason = models.CharField(_("approval reason"), max_length=255, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    # Totals of the approved selection (what the supervisor signed off).
    offered_count = models.PositiveIntegerField(_("debts offered"), default=0)
    skipped_count = models.PositiveIntegerField(_("debts skipped"), default=0)
    total_balance = models.DecimalField(_("total balance offered"), **MONEY, default=Decimal("0"))
    total_waiver = models.DecimalField(_("total waiver offered"), **MONEY, default=Decimal("0"))
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(discount_percent__gt=0) & models.Q(discount_percent__lt=100),
                name="bulk_offer_discount_between_0_and_100",
            ),
            models.CheckConstraint(
                condition=models.Q(balance_min__gte=0), name="bulk_offer_balance_min_gte_0"
            ),
            models.CheckConstraint(
                condition=models.Q(balance_max__isnull=True)
                | models.Q(balance_max__gt=models.F("balance_min")),
                name="bulk_offer_balance_band",
            ),
        ]
        permissions = [("approve_bulksettlementoffer", "Can approve bulk settlement offers")]

    def __str__(self) -> str:
        return f"Bulk offer {self.pk}: {self.name}"


class BulkSettlementOfferItem(models.Model):
    class Outcome(models.TextChoices):
        OFFERED = "offered", _("Offered")
        SKIPPED = "skipped", _("Skipped")

    offer = models.ForeignKey(BulkSettlementOffer, on_delete=models.PROTECT, related_name="items")
    debt = models.ForeignKey("cases.Debt", on_delete=models.PROTECT, related_name="+")
    settlement = models.ForeignKey(
        "cases.Settlement", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    balance_at_offer = models.DecimalField(_("balance"), **MONEY)
    amount = models.DecimalField(_("amount to pay"), **MONEY, default=Decimal("0"))
    waiver = models.DecimalField(_("waiver"), **MONEY, default=Decimal("0"))
    skip_reason = models.CharField(_("why skipped"), max_length=255, blank=True)
    message = models.ForeignKey(
        "cases.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    message_note = models.CharField(_("message"), max_length=255, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["offer", "debt"], name="bulk_offer_item_unique_per_debt"),
        ]

    def __str__(self) -> str:
        return f"{self.offer_id}/{self.debt_id}: {self.get_outcome_display()}"
