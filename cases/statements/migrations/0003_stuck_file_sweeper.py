"""Beat entry failing statement files whose import was lost (issue #14).

Every ten minutes ``statements.fail_stuck_files`` marks files queued
or importing for longer than ``IMPORT_STUCK_AFTER_MINUTES`` as
failed with the reason, so the same bytes can be sent again (STYLE.md:
schedules live in the database; operators may change or disable it). The
reverse removes the entry (and its interval when nothing else uses it).
"""

from django.db import migrations

from backoffice.beat_schedules import install_interval_task, remove_interval_task

NAME = "Fail stuck statement files"
TASK = "statements.fail_stuck_files"
MINUTES = 10
DESCRIPTION = (
    "Marks statement files whose import stopped (worker lost) as failed, "
    "so the same file can be sent again."
)


def create(apps, schema_editor):
    install_interval_task(apps, name=NAME, task=TASK, minutes=MINUTES, description=DESCRIPTION)


def delete(apps, schema_editor):
    remove_interval_task(apps, name=NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("statements", "0002_import_in_worker"),
        ("django_celery_beat", "0014_remove_clockedschedule_enabled"),
    ]

    operations = [migrations.RunPython(create, delete)]
