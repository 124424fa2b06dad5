"""The daily bureau refresh as a django-celery-beat entry (STYLE.md:
schedules editable by operators live in the database, not in code).

At 06:00 in ``settings.TIME_ZONE`` beat runs
``bureau_inquiry.refresh_due_bureau_reports`` with no arguments: it refreshes
the customers due by policy on today's date. Operators may move or disable
the entry in the admin; the reverse removes it (and its crontab when
nothing else uses it).
"""

from django.conf import settings
from django.db import migrations
from django.utils import timezone

TASK_NAME = "Daily credit bureau refresh"
TASK_PATH = "bureau_inquiry.refresh_due_bureau_reports"
CRONTAB = {
    "minute": "0",
    "hour": "6",
    "day_of_week": "*",
    "day_of_month": "*",
    "month_of_year": "*",
}


def _schedule_changed(apps):
    # A running DatabaseScheduler reloads its entries when this row moves.
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def create_task(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab = CrontabSchedule.objects.filter(**CRONTAB, timezone=settings.TIME_ZONE).first()
    if crontab is None:
        crontab = CrontabSchedule.objects.create(**CRONTAB, timezone=settings.TIME_ZONE)
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": TASK_PATH,
            "crontab": crontab,
            "interval": None,
            "solar": None,
            "clocked": None,
            "args": "[]",
            "kwargs": "{}",
            "enabled": True,
            "one_off": False,
            "description": (
                "Fetches credit reports and skip-trace data for the customers due by policy "
                "(BUREAU_REFRESH_MIN_BUCKET or worse, none for BUREAU_REFRESH_EVERY_DAYS), in "
                "chunks within the bureau's rate limit."
            ),
        },
    )
    _schedule_changed(apps)


def delete_task(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab_ids = list(PeriodicTask.objects.filter(name=TASK_NAME).values_list("crontab_id", flat=True))
    PeriodicTask.objects.filter(name=TASK_NAME).delete()
    CrontabSchedule.objects.filter(pk__in=[pk for pk in crontab_ids if pk], periodictask__isnull=True).delete()
    _schedule_changed(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("bureau_inquiry", "0001_initial"),
        ("django_celery_beat", "0014_remove_clockedschedule_enabled"),
    ]

    operations = [migrations.RunPython(create_task, delete_task)]
