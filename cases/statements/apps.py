"""Payment statement files and the suspense queue.

A Django app inside ``cases/`` with its own label and migrations.
"""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatementsConfig(AppConfig):
    name = "cases.statements"
    label = "statements"
    verbose_name = _("Payment statement files and the suspense queue")
    default_auto_field = "django.db.models.BigAutoField"
