"""Beat entry failing statement files whose import was lost (issue #14).

Every ten minutes ``statements.fail_stuck_files`` marks files queued
or importing for longer than ``IMPORT_STUCK_AFTER_MINUTES`` as
failed with the reason, so the same bytes can be sent again (STYLE.md:
schedules live in the database; operators may change or disable it). The
reverse removes the entry (and its interval when nothing else uses it).
"""

from django.db import migrations
from django.utils import timezone

NAME = "Fail stuck statement files"
TASK = "statements.fail_stuck_files"
MINUTES = 10


def _changed(apps):
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    interval, _ = IntervalSchedule.objects.get_or_create(every=MINUTES, period="minutes")
    PeriodicTask.objects.update_or_create(
        name=NAME,
        defaults={
            "task": TASK,
            "interval": interval,
            "crontab": None,
            "solar": None,
            "clocked": None,
            "args": "[]",
            "kwargs": "{}",
            "enabled": True,
            "one_off": False,
            "description": (
                "Marks statement files whose import stopped (worker lost) as failed, "
                "so the same file can be sent again."
            ),
        },
    )
    _changed(apps)


def delete(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    interval_ids = set(PeriodicTask.objects.filter(name=NAME).values_list("interval_id", flat=True))
    PeriodicTask.objects.filter(name=NAME).delete()
    IntervalSchedule.objects.filter(
        pk__in=[pk for pk in interval_ids if pk], periodictask__isnull=True
    ).delete()
    _changed(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("statements", "0002_import_in_worker"),
        ("django_celery_beat", "0014_remove_clockedschedule_enabled"),
    ]

    operations = [migrations.RunPython(create, delete)]
