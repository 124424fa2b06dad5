"""Webhook URLs of the cases app; the project includes them under ``hooks/``."""

from django.urls import path

from cases.views_hooks import sms_receipt_view

app_name = "hooks"

urlpatterns = [
    path("sms/receipt/", sms_receipt_view, name="sms-receipt"),
]
