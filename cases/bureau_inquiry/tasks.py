"""Celery tasks of the bureau inquiry: thin wrappers over the services.

- ``refresh_due_bureau_reports`` (beat, daily; migration
  ``bureau_inquiry/0002_daily_bureau_refresh``): finds the customers due by
  policy (``BUREAU_REFRESH_MIN_BUCKET`` or worse, no report for
  ``BUREAU_REFRESH_EVERY_DAYS``), and fans them out in chunks of one
  minute's rate budget, each chunk ``countdown`` one minute after the one
  before, so the pool is never queued up behind sleeping tasks. The shared
  rate window in ``circuit.py`` is the hard limit across all workers.
- ``refresh_bureau_chunk``: one chunk; idempotent by (customer, period):
  a repeated chunk returns the stored attempts without calling the bureau.
- ``refresh_bureau_report_now``: "refresh now" from the admin or the API,
  queued after the request's transaction commits.
"""

from datetime import date

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from backoffice.audit import system_user
from cases.bureau_inquiry.models import Trigger
from cases.bureau_inquiry.selectors import due_for_refresh
from cases.bureau_inquiry.services import REFRESH_NOW_TASK, refresh_bureau_report

# A fetch is two requests (credit report + skip trace).
REQUESTS_PER_FETCH = 2


def chunk_size() -> int:
    return max(settings.BUREAU_RATE_LIMIT_PER_MINUTE // REQUESTS_PER_FETCH, 1)


@shared_task(name="bureau_inquiry.refresh_due_bureau_reports")
def refresh_due_bureau_reports(business_date: str | None = None) -> dict:
    """Queue the refresh of every customer due on ``business_date`` (default: today)."""
    day = date.fromisoformat(business_date) if business_date else timezone.localdate()
    due = due_for_refresh(
        business_date=day,
        every_days=settings.BUREAU_REFRESH_EVERY_DAYS,
        min_bucket=settings.BUREAU_REFRESH_MIN_BUCKET,
    )
    size = chunk_size()
    chunks = [due[i : i + size] for i in range(0, len(due), size)]
    for index, chunk in enumerate(chunks):
        refresh_bureau_chunk.apply_async(
            args=[[list(pair) for pair in chunk], day.isoformat()], countdown=60 * index
        )
    return {"business_date": day.isoformat(), "due": len(due), "chunks": len(chunks)}


@shared_task(name="bureau_inquiry.refresh_bureau_chunk", acks_late=True)
def refresh_bureau_chunk(pairs: list[list[int]], period: str) -> dict:
    """Fetch each ``(customer_id, debt_id)`` of the chunk; counts by outcome."""
    actor = system_user()
    outcomes: dict[str, int] = {}
    for customer_id, debt_id in pairs:
        attempt = refresh_bureau_report(
            customer_id=customer_id,
            debt_id=debt_id,
            trigger=Trigger.SCHEDULED,
            period=period,
            actor=actor,
            reason=f"scheduled bureau refresh {period}",
        )
        outcomes[attempt.outcome] = outcomes.get(attempt.outcome, 0) + 1
    return outcomes


@shared_task(name=REFRESH_NOW_TASK)
def refresh_bureau_report_now(customer_id: int, debt_id: int | None, actor_id: int, reason: str) -> dict:
    actor = get_user_model().objects.get(pk=actor_id)
    attempt = refresh_bureau_report(
        customer_id=customer_id, debt_id=debt_id, trigger=Trigger.MANUAL, actor=actor, reason=reason
    )
    return {"attempt": attempt.pk, "outcome": attempt.outcome}
