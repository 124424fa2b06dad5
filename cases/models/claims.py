"""Payment claims: money staff say was received, waiting for a second person
(maker–checker, issue #14).

Collectors and team leads do not post to the ledger. They record a
``PaymentClaim``; someone else holding ``cases.approve_payment`` approves it,
which posts the payment through ``cases.services.payments.post_payment`` and
links it here, or rejects it with a reason. The constraints keep the
decision fields consistent with the status, so a claim cannot be "approved"
without its payment or "rejected" without a reason, and the checker is never
the maker.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from cases.models.accounts import MONEY, Debt, Payment

USER = settings.AUTH_USER_MODEL


class PaymentClaim(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    debt = models.ForeignKey(Debt, on_delete=models.PROTECT, related_name="payment_claims")
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3)
    received_on = models.DateField(_("received on"))
    channel = models.CharField(_("channel"), max_length=20, choices=Payment.Channel.choices)
    reference = models.CharField(_("external reference"), max_length=100)
    # Stored under MEDIA_ROOT with a generated name (never the uploader's);
    # served only through the claims screen, which checks access.
    evidence = models.FileField(_("evidence"), upload_to="payment_claims/%Y/%m/", blank=True, max_length=255)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    claimed_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("claimed by")
    )
    decided_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("decided by")
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reject_reason = models.CharField(_("why rejected"), max_length=255, blank=True)
    payment = models.OneToOneField(
        Payment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="claim",
        verbose_name=_("payment posted"),
    )
    created_at = models.DateTimeField(_("claimed at"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("payment claim")
        verbose_name_plural = _("payment claims")
        permissions = [("approve_payment", "Can approve payment claims")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_claim_amount_gt_0"),
            models.CheckConstraint(
                condition=(
                    Q(
                        status="pending",
                        decided_by__isnull=True,
                        decided_at__isnull=True,
                        payment__isnull=True,
                        reject_reason="",
                    )
                    | Q(
                        status="approved",
                        decided_by__isnull=False,
                        decided_at__isnull=False,
                        payment__isnull=False,
                        reject_reason="",
                    )
                    | (
                        Q(
                            status="rejected",
                            decided_by__isnull=False,
                            decided_at__isnull=False,
                            payment__isnull=True,
                        )
                        & ~Q(reject_reason="")
                    )
                ),
                name="payment_claim_decision_matches_status",
            ),
            # Maker–checker: the database refuses a claim decided by its maker.
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("claimed_by")),
                name="payment_claim_not_decided_by_claimant",
            ),
            # One open (pending or approved) claim per external reference;
            # a rejected one may be claimed again, corrected.
            models.UniqueConstraint(
                fields=["reference"],
                condition=~Q(status="rejected"),
                name="payment_claim_reference_unique_open",
            ),
        ]
        indexes = [
            # The approval queue: pending claims, oldest first.
            models.Index(fields=["status", "created_at"], name="payment_claim_queue"),
        ]

    def __str__(self) -> str:
        return f"Claim {self.pk}: {self.amount} {self.currency} ({self.reference})"
