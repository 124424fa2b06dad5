"""Credit bureau furnishing (Metro 2 files, submissions).

A Django app inside ``cases/`` with its own label and migrations.
"""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BureauConfig(AppConfig):
    name = "cases.bureau"
    label = "bureau"
    verbose_name = _("Credit bureau furnishing (Metro 2 files, submissions)")
    default_auto_field = "django.db.models.BigAutoField"
