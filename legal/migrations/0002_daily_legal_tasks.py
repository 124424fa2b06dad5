"""Beat entries for the legal app (STYLE.md: schedules live in the database):
deadline reminders every morning (RULES §7: T−7, T−1, T) and closing the
matters whose debts are all closed, after the nightly close of business.
The reverse removes them (and their crontabs when nothing else uses them).
"""

from django.conf import settings
from django.db import migrations
from django.utils import timezone

TASKS = [
    (
        "Legal deadline reminders",
        "legal.tasks.send_deadline_reminders",
        {"minute": "0", "hour": "7"},
        "Emails and notifies legal staff of deadlines at T-7, T-1 and T (RULES.md §7).",
    ),
    (
        "Close legal matters with closed debts",
        "legal.tasks.close_matters_with_closed_debts",
        {"minute": "30", "hour": "3"},
        "Closes matters whose debts are all paid, settled, written off or recalled (RULES.md §7).",
    ),
]


def _changed(apps):
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, when, description in TASKS:
        spec = {"day_of_week": "*", "day_of_month": "*", "month_of_year": "*", **when}
        crontab = CrontabSchedule.objects.filter(**spec, timezone=settings.TIME_ZONE).first()
        if crontab is None:
            crontab = CrontabSchedule.objects.create(**spec, timezone=settings.TIME_ZONE)
        PeriodicTask.objects.update_or_create(
            name=name,
            defaults={
                "task": task,
                "crontab": crontab,
                "interval": None,
                "solar": None,
                "clocked": None,
                "args": "[]",
                "kwargs": "{}",
                "enabled": True,
                "one_off": False,
                "description": description,
            },
        )
    _changed(apps)


def delete(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    names = [name for name, *_ in TASKS]
    crontab_ids = set(PeriodicTask.objects.filter(name__in=names).values_list("crontab_id", flat=True))
    PeriodicTask.objects.filter(name__in=names).delete()
    CrontabSchedule.objects.filter(pk__in=[pk for pk in crontab_ids if pk], periodictask__isnull=True).delete()
    _changed(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("legal", "0001_initial"),
        ("django_celery_beat", "0014_remove_clockedschedule_enabled"),
    ]

    operations = [migrations.RunPython(create, delete)]
