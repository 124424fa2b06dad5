"""Celery tasks for assignment, stages and queue priorities.

Thin wrappers over ``cases.services.assignment``, ``.stages`` and
``.priority``: dates are resolved here (never inside a service), the system
user acts, and the result is a small JSON-able summary. Each task is safe to
run twice: auto-assignment only touches unassigned cases, and the stage and
priority refreshes write only the cases whose values change.
"""

from datetime import date

from celery import shared_task
from django.utils import timezone

from backoffice.audit import system_user
from cases.services.assignment import AUTO_ASSIGN_TASK, auto_assign
from cases.services.priority import refresh_priorities
from cases.services.stages import refresh_stages


def _resolve_date(value: str | date | None, default: date) -> date:
    if value is None:
        return default
    if isinstance(value, date):
        return value
    return date.fromisoformat(value)


@shared_task(name=AUTO_ASSIGN_TASK, acks_late=True)
def auto_assign_cases(case_ids: list[int] | None = None) -> dict:
    """Place unassigned open cases (all, or those of ``case_ids``) by the assignment rules."""
    result = auto_assign(actor=system_user(), cases=case_ids)
    return result.as_dict()


@shared_task(name="cases.tasks.refresh_case_priorities", acks_late=True)
def refresh_case_priorities(today: str | None = None) -> dict:
    """Recompute queue priorities for ``today`` (ISO date; default: today locally)."""
    day = _resolve_date(today, timezone.localdate())
    return refresh_priorities(today=day, actor=system_user()).as_dict()


@shared_task(name="cases.tasks.refresh_case_stages", acks_late=True)
def refresh_case_stages(business_date: str) -> dict:
    """Apply the automatic stages after close of business for ``business_date`` (ISO date)."""
    return refresh_stages(business_date=date.fromisoformat(business_date), actor=system_user()).as_dict()
