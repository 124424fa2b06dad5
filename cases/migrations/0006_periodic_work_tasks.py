"""Beat entries for the work that runs through the day (STYLE.md: schedules
live in the database, editable by operators): sending due messages, retrying
dunning steps that waited for an allowed time, and auto-assigning new cases.
The reverse removes them (and their intervals when nothing else uses them).
"""

from django.db import migrations
from django.utils import timezone

TASKS = [
    (
        "Send due messages",
        "cases.tasks.send_due_messages",
        5,
        "Sends queued SMS, email and letters whose time has come.",
    ),
    (
        "Retry waiting dunning steps",
        "cases.tasks.retry_waiting_dunning",
        15,
        "Re-tries ladder steps the contact rules held back (RULES.md §4), at their next allowed time.",
    ),
    (
        "Auto-assign new cases",
        "cases.tasks.auto_assign_cases",
        15,
        "Runs the assignment rules on unassigned cases.",
    ),
]


def _changed(apps):
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, minutes, description in TASKS:
        interval, _ = IntervalSchedule.objects.get_or_create(every=minutes, period="minutes")
        PeriodicTask.objects.update_or_create(
            name=name,
            defaults={
                "task": task,
                "interval": interval,
                "crontab": None,
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
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    names = [name for name, *_ in TASKS]
    interval_ids = set(PeriodicTask.objects.filter(name__in=names).values_list("interval_id", flat=True))
    PeriodicTask.objects.filter(name__in=names).delete()
    IntervalSchedule.objects.filter(
        pk__in=[pk for pk in interval_ids if pk], periodictask__isnull=True
    ).delete()
    _changed(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0005_messages_and_dunning"),
        ("django_celery_beat", "0014_remove_clockedschedule_enabled"),
    ]

    operations = [migrations.RunPython(create, delete)]
