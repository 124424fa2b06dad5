"""Celery tasks of placement files: thin wrappers over the service.

``process_placement_file_task`` takes the file's id (never the object),
re-loads it and calls ``process_placement_file``, which returns at once for
a file that already finished: safe to retry and to run twice. It runs with
the import time limits of settings (``IMPORT_TASK_SOFT_TIME_LIMIT``: the
file is failed with the reason; ``IMPORT_TASK_TIME_LIMIT``: the worker
process is killed and the sweeper fails the file later).

``fail_stuck_placement_files_task`` is the sweeper, run by beat (see
migration ``0002_stuck_file_sweeper``).
"""

from celery import shared_task
from django.conf import settings

from cases.placements.services import PROCESS_FILE_TASK, fail_stuck_files, process_placement_file

SWEEP_TASK = "cases.placements.fail_stuck_files"


@shared_task(
    name=PROCESS_FILE_TASK,
    acks_late=True,
    time_limit=settings.IMPORT_TASK_TIME_LIMIT,
    soft_time_limit=settings.IMPORT_TASK_SOFT_TIME_LIMIT,
)
def process_placement_file_task(placement_file_id: int) -> dict:
    placement_file = process_placement_file(placement_file_id=placement_file_id)
    return {"id": placement_file.pk, "status": placement_file.status}


@shared_task(name=SWEEP_TASK)
def fail_stuck_placement_files_task() -> dict:
    return {"failed": fail_stuck_files()}
