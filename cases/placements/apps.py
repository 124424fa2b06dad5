"""Placement files (bulk account imports).

A Django app inside ``cases/`` with its own label and migrations.
"""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlacementsConfig(AppConfig):
    name = "cases.placements"
    label = "placements"
    verbose_name = _("Placement files (bulk account imports)")
    default_auto_field = "django.db.models.BigAutoField"
