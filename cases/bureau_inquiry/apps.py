"""Credit bureau inquiries (reports, skip trace).

A Django app inside ``cases/`` with its own label and migrations.
"""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BureauInquiryConfig(AppConfig):
    name = "cases.bureau_inquiry"
    label = "bureau_inquiry"
    verbose_name = _("Credit bureau inquiries (reports, skip trace)")
    default_auto_field = "django.db.models.BigAutoField"
