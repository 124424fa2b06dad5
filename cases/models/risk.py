"""Risk scoring models: a versioned, transparent risk model and the early
warning watch list (issue 7, "Risk scoring and early warning"). Imported by
``cases.models``.

A ``RiskModel`` stores a logistic regression as plain numbers (feature names,
scaler means and scales, coefficients, intercept) rather than a pickle, so
anyone can read what it does and loading it never executes code.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

USER = settings.AUTH_USER_MODEL


class RiskModel(models.Model):
    version = models.PositiveIntegerField(_("version"), unique=True)
    algorithm = models.CharField(_("algorithm"), max_length=60, default="logistic_regression")
    trained_at = models.DateTimeField(_("trained at"), auto_now_add=True)
    as_of = models.DateField(_("trained as of"))
    trained_from = models.DateField(_("history from"))
    trained_to = models.DateField(_("history to"))
    feature_names = models.JSONField(_("feature names"), default=list)
    means = models.JSONField(_("scaler means"), default=list)
    scales = models.JSONField(_("scaler scales"), default=list)
    coefficients = models.JSONField(_("coefficients"), default=list)
    intercept = models.FloatField(_("intercept"), default=0.0)
    metrics = models.JSONField(_("back-test"), default=dict, blank=True)
    active = models.BooleanField(_("active"), default=False, db_index=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    history = HistoricalRecords()

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["active"], condition=models.Q(active=True), name="risk_model_one_active"
            )
        ]

    def __str__(self) -> str:
        return f"Risk model v{self.version}" + (" (active)" if self.active else "")


class WatchListEntry(models.Model):
    """A current or pre-due debt showing risk signs (early warning)."""

    class Reason(models.TextChoices):
        MISSED_PLAN_INSTALMENT = "missed_plan_instalment", _("Missed plan instalment")
        BROKEN_PROMISE_OTHER_DEBT = "broken_promise_other_debt", _("Broken promise on another debt")
        CONTACT_POINTS_FAILING = "contact_points_failing", _("Contact points failing")
        BUREAU_SCORE_DROP = "bureau_score_drop", _("Bureau score drop")

    debt = models.ForeignKey("cases.Debt", on_delete=models.CASCADE, related_name="watch_entries")
    reasons = models.JSONField(_("reason codes"), default=list)
    since = models.DateField(_("since"))
    cleared_on = models.DateField(_("cleared on"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-since", "-id"]
        verbose_name_plural = _("watch list")
        constraints = [
            models.UniqueConstraint(
                fields=["debt"], condition=models.Q(cleared_on__isnull=True), name="watch_entry_one_open"
            )
        ]

    def __str__(self) -> str:
        return f"Debt {self.debt_id} on watch since {self.since}"
