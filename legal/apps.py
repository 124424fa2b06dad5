from django.apps import AppConfig


class LegalConfig(AppConfig):
    name = "legal"
    default_auto_field = "django.db.models.BigAutoField"
