"""Celery tasks of statement files: thin wrappers over the services.

``process_statement_file_task`` imports a file the admin or the API stored
``queued`` (``submit_statement_file``). It takes the file's id, re-loads it
and calls ``process_statement_file``, which returns at once for a file
that is no longer queued or importing: safe to retry and to run twice. It
runs with the import time limits of settings (``IMPORT_TASK_SOFT_TIME_LIMIT``:
the file is failed with the reason; ``IMPORT_TASK_TIME_LIMIT``: the worker
process is killed, the transaction rolls back and the sweeper fails the
file later).

``fail_stuck_statement_files_task`` is that sweeper, run by beat (migration
``0003_stuck_file_sweeper``).
"""

from celery import shared_task
from django.conf import settings

from cases.statements.services import PROCESS_FILE_TASK, fail_stuck_files, process_statement_file

SWEEP_TASK = "statements.fail_stuck_files"


@shared_task(
    name=PROCESS_FILE_TASK,
    acks_late=True,
    time_limit=settings.IMPORT_TASK_TIME_LIMIT,
    soft_time_limit=settings.IMPORT_TASK_SOFT_TIME_LIMIT,
)
def process_statement_file_task(statement_file_id: int) -> dict:
    statement = process_statement_file(statement_file_id=statement_file_id)
    return {
        "file": statement.pk,
        "status": statement.status,
        "lines": statement.line_count,
        "posted": statement.posted_count,
        "suspense": statement.suspense_count,
        "rejected": statement.rejected_count,
    }


@shared_task(name=SWEEP_TASK)
def fail_stuck_statement_files_task() -> dict:
    return {"failed": fail_stuck_files()}
