"""The nightly close of business as a django-celery-beat entry (STYLE.md:
schedules editable by operators live in the database, not in code).

At 00:30 in ``settings.TIME_ZONE`` beat runs ``cases.tasks.close_of_business``
with no arguments, which closes yesterday in that time zone. Operators may
move or disable the entry in the admin; the reverse removes it (and its
crontab when nothing else uses it).
"""

from django.conf import settings
from django.db import migrations
from django.utils import timezone

TASK_NAME = "Nightly close of business"
TASK_PATH = "cases.tasks.close_of_business"
CRONTAB = {
    "minute": "30",
    "hour": "0",
    "day_of_week": "*",
    "day_of_month": "*",
    "month_of_year": "*",
}


def _schedule_changed(apps):
    # A running DatabaseScheduler reloads its entries when this row moves;
    # model signals do not fire for historical models in migrations.
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def create_nightly_task(apps, schema_editor):
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
                "Closes yesterday (in the project's time zone) for every open or charged-off "
                "debt, in id-range chunks spread over the workers (RULES.md §1-§2)."
            ),
        },
    )
    _schedule_changed(apps)


def delete_nightly_task(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab_ids = list(PeriodicTask.objects.filter(name=TASK_NAME).values_list("crontab_id", flat=True))
    PeriodicTask.objects.filter(name=TASK_NAME).delete()
    CrontabSchedule.objects.filter(pk__in=[pk for pk in crontab_ids if pk], periodictask__isnull=True).delete()
    _schedule_changed(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0002_ledger_append_only_trigger"),
        # The newest migration of the pinned django-celery-beat (2.1.0).
        ("django_celery_beat", "0014_remove_clockedschedule_enabled"),
    ]

    operations = [migrations.RunPython(create_nightly_task, delete_nightly_task)]
