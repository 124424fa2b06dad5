"""Records about the audit itself (DESIGN.md, Audit).

- ``AccessRecord``: who looked at sensitive data (a full national ID, a
  letter, an export of the audit trail), what and when. Written by
  ``backoffice.services.record_access``. Login lockouts are recorded here
  too (``backoffice.lockout``): the account the lockout is about, or no
  user when the name tried matches no account.
- ``AuditSeal``: one link of the per-model hash chain over the
  simple-history tables, written by ``backoffice.services.seal_history`` and
  checked by ``manage.py verify_audit``.

Both are append-only: the model and its queryset refuse updates and
deletes, like ``cases.LedgerEntry``. They are not history-tracked
themselves (a history of an append-only row would only repeat it).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppendOnlyQuerySet(models.QuerySet):
    message = _("This record is append-only.")

    def update(self, **kwargs):
        raise ValidationError(self.message)

    def delete(self):
        raise ValidationError(self.message)


class AppendOnlyModel(models.Model):
    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValidationError(_("This record is append-only."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("This record is append-only."))


class AccessRecord(AppendOnlyModel):
    """One view of sensitive data: who, what, when."""

    class Action(models.TextChoices):
        REVEAL_NATIONAL_ID = "reveal_national_id", _("Full national ID shown")
        DOWNLOAD_LETTER = "download_letter", _("Letter downloaded")
        PREVIEW_LETTER = "preview_letter", _("Letter previewed")
        EXPORT_AUDIT_CSV = "export_audit_csv", _("Audit trail exported")
        LOGIN_LOCKED_OUT = "login_locked_out", _("Login locked out")
        # Personal data (issue #15): one deliberate reveal of a masked field
        # (``detail`` names the field and the reason), a search by a full
        # value, and every download of a file holding personal data.
        REVEAL_PERSONAL_DATA = "reveal_personal_data", _("Personal data revealed")
        SEARCH_PERSONAL_DATA = "search_personal_data", _("Searched by personal data")
        DOWNLOAD_METRO2 = "download_metro2", _("Metro 2 file downloaded")
        EXPORT_CSV = "export_csv", _("CSV exported")

    # Empty only for a lockout of a name that matches no account.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("user"),
        null=True,
        blank=True,
    )
    action = models.CharField(_("action"), max_length=32, choices=Action.choices)
    object_label = models.CharField(_("object"), max_length=255, blank=True)
    app_label = models.CharField(_("app"), max_length=100, blank=True)
    model_name = models.CharField(_("model"), max_length=100, blank=True)
    object_id = models.CharField(_("object ID"), max_length=64, blank=True)
    detail = models.TextField(_("detail"), blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("access record")
        verbose_name_plural = _("access records")
        indexes = [
            models.Index(fields=["user", "at"]),
            models.Index(fields=["app_label", "model_name", "object_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.user_id} {self.action} {self.object_label}"


class AuditSeal(AppendOnlyModel):
    """The seal of one history row: ``digest`` is
    ``sha256(previous_digest + canonical JSON of the row)``; the chain of a
    model is its seals in ``id`` order."""

    model_label = models.CharField(_("model"), max_length=100)
    history_id = models.BigIntegerField(_("history ID"))
    digest = models.CharField(_("digest"), max_length=64)
    previous_digest = models.CharField(_("previous digest"), max_length=64, blank=True)
    sealed_at = models.DateTimeField(_("sealed at"), default=timezone.now)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["model_label", "id"]
        verbose_name = _("audit seal")
        verbose_name_plural = _("audit seals")
        constraints = [
            models.UniqueConstraint(fields=["model_label", "history_id"], name="audit_seal_one_per_row"),
        ]

    def __str__(self) -> str:
        return f"{self.model_label} #{self.history_id} {self.digest[:12]}"
