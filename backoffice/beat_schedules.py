"""Beat entries written by data migrations (STYLE.md: schedules live in the
database, where operators may change or disable them).

Migrations receive historical models (``apps``), so these helpers take
``apps`` and touch only django-celery-beat's tables. Keep their behaviour
stable: migrations that already ran call them again when a database is
built from scratch.
"""

from django.utils import timezone


def _schedules_changed(apps) -> None:
    """Tell a running beat to reload its schedule."""
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def install_interval_task(apps, *, name: str, task: str, minutes: int, description: str) -> None:
    """Create or reset the entry ``name`` running ``task`` every ``minutes``."""
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
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
    _schedules_changed(apps)


def remove_interval_task(apps, *, name: str) -> None:
    """Remove the entry ``name`` and its interval when nothing else uses it."""
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    interval_ids = set(PeriodicTask.objects.filter(name=name).values_list("interval_id", flat=True))
    PeriodicTask.objects.filter(name=name).delete()
    IntervalSchedule.objects.filter(
        pk__in=[pk for pk in interval_ids if pk], periodictask__isnull=True
    ).delete()
    _schedules_changed(apps)
