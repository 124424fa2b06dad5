"""Celery tasks for outbound messages and the dunning ladder.

Thin, idempotent wrappers over ``cases.services.messages`` and
``cases.services.dunning``; they take ids and ISO dates, never objects.

- ``send_message_task``: sends one message. Safe to run twice or to be
  redelivered: the service sends only a ``queued`` row, under a row lock.
  Transient failures retry with exponential backoff (the service records
  each attempt on the row and fails the message after its last attempt).
- ``send_due_messages_task`` (beat, every 5 minutes): hands due queued
  messages (scheduled for the morning, rescheduled by the contact rules, or
  whose task was lost) to ``send_message_task`` in chunks.
- ``evaluate_ladder_task``: fans the ladder out by debt id range
  (``evaluate_ladder_chunk_task``); ``run_ladder_via_workers`` does the same
  and waits, for callers that want the summary.
- ``retry_waiting_task`` (beat, every 15 minutes): queues waiting steps.
"""

import time
from datetime import date, datetime

from celery import group, shared_task
from django.db import OperationalError
from django.utils import timezone

from backoffice.audit import system_user
from cases.services.dunning import LadderSummary, evaluate_ladder_chunk, ladder_id_ranges, retry_waiting
from cases.services.messages import SEND_MESSAGE_TASK, MessageDeferred, due_message_ids, send_message

SEND_CHUNK = 100
MAX_TASK_RETRIES = 8


def _resolve_date(value: str | date | None) -> date:
    if value is None:
        return timezone.localdate()
    if isinstance(value, date):
        return value
    return date.fromisoformat(value)


@shared_task(
    bind=True,
    name=SEND_MESSAGE_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=MAX_TASK_RETRIES,
)
def send_message_task(self, message_id: int) -> dict:
    """Send message ``message_id`` if it is queued and due; retry with backoff
    on a transient failure."""
    try:
        message = send_message(message_id=message_id, actor=system_user())
    except MessageDeferred as exc:
        countdown = max(1, int((exc.retry_at - timezone.now()).total_seconds()) + 1)
        raise self.retry(exc=exc, countdown=countdown) from exc
    except OperationalError as exc:
        raise self.retry(exc=exc, countdown=min(2 ** (self.request.retries + 1), 300)) from exc
    return {"id": message.pk, "status": message.status, "attempts": message.attempts}


@shared_task(name="cases.tasks.send_due_messages", acks_late=True)
def send_due_messages_task(now: str | None = None, chunk_size: int = SEND_CHUNK) -> dict:
    """Hand every due queued message to ``send_message_task``."""
    moment = datetime.fromisoformat(now) if now else timezone.now()
    ids = due_message_ids(now=moment)
    for message_id in ids:
        send_message_task.delay(message_id)
    return {"due": len(ids)}


@shared_task(
    name="cases.tasks.evaluate_ladder_chunk",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=MAX_TASK_RETRIES,
)
def evaluate_ladder_chunk_task(first_id: int, last_id: int, business_date: str) -> dict:
    """Evaluate the ladder for the debts with ids in ``[first_id, last_id]``."""
    return evaluate_ladder_chunk(
        first_id=first_id,
        last_id=last_id,
        business_date=date.fromisoformat(business_date),
        actor=system_user(),
    ).as_dict()


def ladder_signatures(business_date: date, chunk_size: int | None = None) -> list:
    return [
        evaluate_ladder_chunk_task.si(first_id, last_id, business_date.isoformat())
        for first_id, last_id in ladder_id_ranges(business_date, chunk_size)
    ]


@shared_task(name="cases.tasks.evaluate_ladder", acks_late=True)
def evaluate_ladder_task(business_date: str | None = None, chunk_size: int | None = None) -> dict:
    """Fan the ladder out for ``business_date`` (default: today locally); never waits."""
    day = _resolve_date(business_date)
    signatures = ladder_signatures(day, chunk_size)
    if signatures:
        group(signatures).apply_async()
    return {"business_date": day.isoformat(), "chunks": len(signatures)}


@shared_task(name="cases.tasks.retry_waiting_dunning", acks_late=True)
def retry_waiting_task() -> dict:
    """Queue the messages of waiting ladder steps whose time has come."""
    return retry_waiting(now=timezone.now(), actor=system_user()).as_dict()


def combine_ladder_summaries(business_date: date, summaries: list[dict]) -> dict:
    total = LadderSummary(business_date)
    for summary in summaries:
        part = LadderSummary(
            business_date,
            debts=summary["debts"],
            done=summary["done"],
            waiting=summary["waiting"],
            skipped=summary["skipped"],
            by_step=summary["by_step"],
        )
        total.add(part)
    result = total.as_dict()
    result["chunks"] = len(summaries)
    return result


def run_ladder_via_workers(
    business_date: date, *, chunk_size: int | None = None, timeout: float = 600
) -> dict:
    """Evaluate the ladder on the workers and wait here (never inside a task);
    returns the summed summary."""
    signatures = ladder_signatures(business_date, chunk_size)
    if not signatures:
        return combine_ladder_summaries(business_date, [])
    result = group(signatures).apply_async()
    deadline = time.monotonic() + timeout
    summaries = result.get(timeout=max(deadline - time.monotonic(), 0.1), propagate=True)
    return combine_ladder_summaries(business_date, summaries)
