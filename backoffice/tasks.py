"""Celery tasks of the back office (beat entry: migration
``backoffice/0002_seal_audit_history_schedule``)."""

from celery import shared_task

from backoffice.services import seal_history


@shared_task(name="backoffice.tasks.seal_audit_history")
def seal_audit_history() -> dict[str, int]:
    """Seal the history rows written since the last run (safe to run twice)."""
    return seal_history()
