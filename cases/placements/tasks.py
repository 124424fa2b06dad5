"""Celery task for large placement files: a thin wrapper over the service.

Takes the file's id (never the object), re-loads it and calls
``process_placement_file``, which returns at once for a file that already
finished: safe to retry and to run twice.
"""

from celery import shared_task

from cases.placements.services import PROCESS_FILE_TASK, process_placement_file


@shared_task(name=PROCESS_FILE_TASK, acks_late=True)
def process_placement_file_task(placement_file_id: int) -> dict:
    placement_file = process_placement_file(placement_file_id=placement_file_id)
    return {"id": placement_file.pk, "status": placement_file.status}
