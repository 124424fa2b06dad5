from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "backoffice"
    default_auto_field = "django.db.models.BigAutoField"


class CeleryBeatConfig(AppConfig):
    """django-celery-beat 2.1 (the release that installs with Django 6.1)
    does not declare its primary-key type; without this it would inherit our
    ``BigAutoField`` default and ask for a migration it does not ship."""

    name = "django_celery_beat"
    label = "django_celery_beat"
    verbose_name = "Periodic tasks"
    default_auto_field = "django.db.models.AutoField"
