"""Statement imports in the background (large uploads from the admin)."""

import datetime

from celery import shared_task
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage

from cases.statements.models import StatementSource
from cases.statements.services import import_statement


@shared_task(name="statements.import_statement")
def import_statement_task(
    *, stored_name: str, source_id: int, actor_id: int, business_date: str, original_name: str
) -> dict:
    """Import an uploaded file kept in storage, then delete the upload.

    Safe to run twice: the service recognises the file by its SHA-256. A
    refused file raises (``FileRejected``), so the task's failure and its
    message show in the task results.
    """
    source = StatementSource.objects.get(pk=source_id)
    actor = get_user_model().objects.get(pk=actor_id)
    try:
        result = import_statement(
            path=default_storage.path(stored_name),
            source=source,
            actor=actor,
            business_date=datetime.date.fromisoformat(business_date),
            original_name=original_name,
        )
    finally:
        default_storage.delete(stored_name)
    statement = result.file
    return {
        "file": statement.pk,
        "created": result.created,
        "lines": statement.line_count,
        "posted": statement.posted_count,
        "suspense": statement.suspense_count,
        "rejected": statement.rejected_count,
    }
