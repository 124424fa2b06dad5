"""Celery tasks of the legal app: deadline reminders and closing paid-up matters.

Both take the business date as an ISO string (JSON-serialisable) and
default to the local date; both are safe to run twice (DESIGN.md, Tasks).
"""

from datetime import date

from celery import shared_task
from django.utils import timezone

from backoffice.audit import system_user
from legal import services


def _day(today: str | date | None) -> date:
    if today is None:
        return timezone.localdate()
    return today if isinstance(today, date) else date.fromisoformat(today)


@shared_task
def send_deadline_reminders(today: str | None = None) -> dict:
    """Email and notify the assigned legal staff of deadlines at T−7, T−1, T."""
    return services.send_deadline_reminders(today=_day(today), actor=system_user()).as_dict()


@shared_task
def close_matters_with_closed_debts(today: str | None = None) -> int:
    """Close matters whose debts are all paid, settled, written off or recalled."""
    return services.close_matters_with_closed_debts(on=_day(today), actor=system_user())
