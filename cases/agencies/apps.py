"""Outside collection agencies (委外).

A Django app inside ``cases/`` with its own label and migrations.
"""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgenciesConfig(AppConfig):
    name = "cases.agencies"
    label = "agencies"
    verbose_name = _("Outside collection agencies (委外)")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from cases.agencies import receivers

        receivers.connect()
