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

    def ready(self):
        # django-celery-beat 2.1 picks a new crontab's default time zone from
        # ``TimeZoneField.CHOICES`` (pytz objects with ``.zone``), which the
        # django-timezone-field releases that install with it no longer
        # have: without this the admin's "add crontab" page fails.
        from types import SimpleNamespace
        from zoneinfo import available_timezones

        import timezone_field

        if not hasattr(timezone_field.TimeZoneField, "CHOICES"):
            timezone_field.TimeZoneField.CHOICES = [
                (SimpleNamespace(zone=name), name) for name in sorted(available_timezones())
            ]
