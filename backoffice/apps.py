from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    # ``default``: this module holds two configs, and "backoffice" in
    # INSTALLED_APPS must pick this one (else ``ready`` never runs).
    default = True
    name = "backoffice"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Who gets in (issue #14): lockouts reach the access records, and a
        # user's API tokens die with their password, their activity or their
        # last role (backoffice.lockout, backoffice.tokens).
        from axes.signals import user_locked_out
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save

        from backoffice import lockout, tokens

        user_model = get_user_model()
        user_locked_out.connect(lockout.record_lockout, dispatch_uid="ledgerline-record-lockout")
        pre_save.connect(
            tokens.note_credential_change, sender=user_model, dispatch_uid="ledgerline-tokens-pre"
        )
        post_save.connect(
            tokens.revoke_on_credential_change, sender=user_model, dispatch_uid="ledgerline-tokens-post"
        )
        m2m_changed.connect(
            tokens.revoke_on_role_loss,
            sender=user_model.groups.through,
            dispatch_uid="ledgerline-tokens-roles",
        )
        pre_delete.connect(
            tokens.note_group_members, sender=Group, dispatch_uid="ledgerline-tokens-group-pre"
        )
        post_delete.connect(
            tokens.revoke_on_group_deleted, sender=Group, dispatch_uid="ledgerline-tokens-group"
        )


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
