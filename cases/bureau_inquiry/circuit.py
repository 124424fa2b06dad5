"""The bureau's circuit breaker, shared by every worker process.

State lives in one ``BureauCircuit`` row per bureau, read and changed under
``select_for_update`` in short transactions of their own, so every worker
on every machine sees the same state: when the bureau is down, the first
``BUREAU_CIRCUIT_FAILURES`` consecutive transport failures (timeouts,
connection errors, 5xx) open the circuit and every later call fails fast
("circuit_open") instead of holding a worker for its timeouts. After
``BUREAU_CIRCUIT_COOLDOWN`` seconds one caller is let through as the
half-open probe; its success closes the circuit, its failure opens it again
for another cool-down. A probe that never reports (its worker died) is
replaced by the next caller once a cool-down has passed since it started.

The same row carries the bureau's rate limit (``BUREAU_RATE_LIMIT_PER_MINUTE``
HTTP requests per minute, retries included), counted for all workers
together in fixed one-minute windows: a caller over the limit is told how
long to wait for the next window.

The database clock is not used: ``timezone.now()`` of the workers, which
run NTP-synchronised, is precise enough for cool-downs of seconds.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from backoffice.audit import record
from cases.bureau_inquiry.models import BureauCircuit

State = BureauCircuit.State
WINDOW = timedelta(minutes=1)


def _locked(bureau: str) -> BureauCircuit:
    BureauCircuit.objects.get_or_create(bureau=bureau)
    return BureauCircuit.objects.select_for_update().get(bureau=bureau)


def allow_call(bureau: str, *, actor=None, per_minute: int | None = None) -> tuple[bool, float]:
    """May this caller call the bureau now? ``(True, 0)``: yes, and the call
    is counted in the shared rate window. ``(False, 0)``: the circuit is
    open. ``(False, seconds)``: the minute's calls are used up; ask again
    after ``seconds``. Makes the caller the probe when an open circuit's
    cool-down has passed."""
    cooldown = timedelta(seconds=settings.BUREAU_CIRCUIT_COOLDOWN)
    limit = per_minute or settings.BUREAU_RATE_LIMIT_PER_MINUTE
    now = timezone.now()
    with transaction.atomic():
        circuit = _locked(bureau)
        if circuit.state == State.OPEN and circuit.opened_at and now - circuit.opened_at < cooldown:
            return False, 0.0
        if (
            circuit.state == State.HALF_OPEN
            and circuit.probe_started_at
            and (now - circuit.probe_started_at < cooldown)
        ):
            return False, 0.0
        window = circuit.window_started_at
        if window is None or now - window >= WINDOW:
            window, calls = now, 0
        else:
            calls = circuit.window_calls
        if calls >= limit:
            return False, max((window + WINDOW - now).total_seconds(), 0.01)
        if circuit.state != State.CLOSED:
            circuit.state = State.HALF_OPEN
            circuit.probe_started_at = now
            record(circuit, actor=actor, reason="cool-down over: half-open probe").save()
        BureauCircuit.objects.filter(pk=circuit.pk).update(window_started_at=window, window_calls=calls + 1)
        return True, 0.0


def record_success(bureau: str, *, actor=None) -> None:
    with transaction.atomic():
        circuit = _locked(bureau)
        if circuit.state == State.CLOSED and circuit.consecutive_failures == 0:
            return
        reason = "probe succeeded: closed" if circuit.state != State.CLOSED else "call succeeded"
        circuit.state = State.CLOSED
        circuit.consecutive_failures = 0
        circuit.opened_at = None
        circuit.probe_started_at = None
        record(circuit, actor=actor, reason=reason).save()


def record_failure(bureau: str, *, failure: str, actor=None) -> None:
    now = timezone.now()
    with transaction.atomic():
        circuit = _locked(bureau)
        circuit.consecutive_failures += 1
        circuit.last_failure = failure[:200]
        if circuit.state == State.HALF_OPEN:
            circuit.state = State.OPEN
            circuit.opened_at = now
            circuit.probe_started_at = None
            reason = "probe failed: open again"
        elif (
            circuit.state == State.CLOSED and circuit.consecutive_failures >= settings.BUREAU_CIRCUIT_FAILURES
        ):
            circuit.state = State.OPEN
            circuit.opened_at = now
            reason = f"{circuit.consecutive_failures} consecutive failures: open"
        else:
            reason = "call failed"
        record(circuit, actor=actor, reason=reason[:100]).save()
