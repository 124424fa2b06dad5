"""Celery tasks for the nightly close of business (DESIGN.md: Tasks, Scale).

Thin wrappers over ``cases.services.close_of_business``: the business date is
resolved here (never inside a service), the pending debts are split into id
ranges, and each range is closed by its own ``close_of_business_chunk`` task
so any number of workers share the night. Every task is safe to run twice and
to retry: a debt's ``closed_through`` only moves forward, so a chunk that was
already done closes nothing.

Two ways in:

- ``close_of_business`` is what beat runs (see migration
  ``cases/0003_nightly_close_of_business``). It fans the chunks out as a
  chord whose callback records the summed summary in the result backend; it
  never waits inside a task.
- ``run_close_of_business_via_workers`` is for callers that want the answer
  (the ``close_of_business --via-workers`` command, tests): it applies the
  group of chunk tasks and joins the results in the calling process.

With no broker configured (``CELERY_TASK_ALWAYS_EAGER``) both run in-process.
"""

import logging
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from celery import chord, group, shared_task
from celery.backends.base import DisabledBackend
from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from backoffice.audit import system_user
from cases.services.close_of_business import close_chunk, id_ranges, run_close_of_business
from cases.services.end_of_day import finish_business_day

logger = logging.getLogger(__name__)

SUMMARY_COUNTS = ("debts", "entries", "charged_off")
SUMMARY_AMOUNTS = ("penalty", "fees", "interest")


def default_business_date() -> date:
    """Yesterday in ``settings.TIME_ZONE``: beat runs shortly after midnight
    and closes the day that just ended."""
    return timezone.localdate(timezone=ZoneInfo(settings.TIME_ZONE)) - timedelta(days=1)


def resolve_business_date(business_date: str | date | None) -> date:
    if business_date is None:
        return default_business_date()
    if isinstance(business_date, date):
        return business_date
    return date.fromisoformat(business_date)


def combine_summaries(business_date: date, summaries: list[dict]) -> dict:
    """Add up chunk summaries (``CobSummary.as_dict`` values) into one of the same shape."""
    total = {
        "business_date": business_date.isoformat(),
        **{key: 0 for key in SUMMARY_COUNTS},
        **{key: Decimal("0.00") for key in SUMMARY_AMOUNTS},
    }
    for summary in summaries:
        for key in SUMMARY_COUNTS:
            total[key] += summary[key]
        for key in SUMMARY_AMOUNTS:
            total[key] += Decimal(summary[key])
    total["chunks"] = len(summaries)
    return {key: str(value) if isinstance(value, Decimal) else value for key, value in total.items()}


@shared_task(
    name="cases.tasks.close_of_business_chunk",
    acks_late=True,
    # The chunk is idempotent: a worker lost mid-chunk puts it back on the
    # queue, and a deadlock, serialization failure or dropped connection
    # (OperationalError) is retried with exponential backoff.
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
)
def close_of_business_chunk(first_id: int, last_id: int, business_date: str) -> dict:
    """Close the pending debts with ids in ``[first_id, last_id]`` through ``business_date``."""
    summary = close_chunk(
        first_id=first_id,
        last_id=last_id,
        business_date=date.fromisoformat(business_date),
        actor=system_user(),
    )
    return summary.as_dict()


@shared_task(name="cases.tasks.close_of_business_summary")
def close_of_business_summary(summaries: list[dict], business_date: str) -> dict:
    """Chord callback: record the night's totals in the result backend and the log."""
    day = date.fromisoformat(business_date)
    total = combine_summaries(day, summaries)
    finish_business_day(business_date=day, actor=system_user())
    logger.info("close of business %s done: %s", business_date, total)
    return total


def chunk_signatures(business_date: date, chunk_size: int | None = None) -> list:
    return [
        close_of_business_chunk.si(first_id, last_id, business_date.isoformat())
        for first_id, last_id in id_ranges(business_date, chunk_size)
    ]


def _has_result_backend(task) -> bool:
    return not isinstance(task.app.backend, DisabledBackend)


@shared_task(name="cases.tasks.close_of_business", acks_late=True)
def close_of_business(business_date: str | None = None, chunk_size: int | None = None) -> dict:
    """Fan out close of business for ``business_date`` (default: yesterday).

    Returns the number of chunks and the id of the chord callback whose
    result is the summed summary (``summary`` itself when run eagerly). Safe
    to run twice: the second run finds nothing pending and dispatches nothing.
    """
    day = resolve_business_date(business_date)
    signatures = chunk_signatures(day, chunk_size)
    dispatched = {"business_date": day.isoformat(), "chunks": len(signatures), "summary_task_id": None}
    if not signatures:
        finish_business_day(business_date=day, actor=system_user())
        dispatched["summary"] = combine_summaries(day, [])
        return dispatched
    eager = close_of_business.app.conf.task_always_eager
    if eager or _has_result_backend(close_of_business_summary):
        result = chord(signatures)(close_of_business_summary.s(day.isoformat()))
        dispatched["summary_task_id"] = result.id
        if eager:
            # The chord already ran in this process: nothing to wait for.
            dispatched["summary"] = result.result
    else:
        # A chord needs a result backend to join the chunks before the day's
        # finishing steps; without one this task closes the chunks itself.
        dispatched["summary"] = run_close_of_business(business_date=day, actor=system_user()).as_dict()
    logger.info("close of business %s dispatched in %d chunks", day, len(signatures))
    return dispatched


def run_close_of_business_via_workers(
    business_date: date,
    *,
    chunk_size: int | None = None,
    timeout: float = 3600,
    on_progress: Callable[[int, int], None] | None = None,
    poll_interval: float = 0.5,
) -> dict:
    """Close every pending debt through ``business_date`` on the Celery workers
    and wait for them; returns the summed summary (``chunks`` included).

    The join happens here, in the caller, never inside a task. Needs a result
    backend unless tasks run eagerly. ``on_progress(done, total)`` is called
    while waiting. Raises ``celery.exceptions.TimeoutError`` after
    ``timeout`` seconds and re-raises a chunk's own error.
    """
    signatures = chunk_signatures(business_date, chunk_size)
    total = len(signatures)
    if not signatures:
        finish_business_day(business_date=business_date, actor=system_user())
        return combine_summaries(business_date, [])
    eager = close_of_business_chunk.app.conf.task_always_eager
    if not eager and not _has_result_backend(close_of_business_chunk):
        raise RuntimeError("Waiting for workers needs a result backend: set CELERY_RESULT_BACKEND.")
    result = group(signatures).apply_async()
    deadline = time.monotonic() + timeout
    if on_progress is not None:
        while not result.ready():
            on_progress(result.completed_count(), total)
            if time.monotonic() >= deadline:
                break
            time.sleep(poll_interval)
    summaries = result.get(timeout=max(deadline - time.monotonic(), 0.1), propagate=True)
    finish_business_day(business_date=business_date, actor=system_user())
    if on_progress is not None:
        on_progress(total, total)
    return combine_summaries(business_date, summaries)
