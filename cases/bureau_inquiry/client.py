"""HTTP client of the credit bureau (JSON over HTTPS; shapes in docs/bureau-inquiry.md).

Built on ``requests`` (connect and read timeouts apart, connection pooling)
and adds what the bureau's contract needs:

- retries with exponential backoff for timeouts, connection errors and 5xx
  (``BUREAU_MAX_RETRIES`` more tries, waits ``BUREAU_BACKOFF_BASE`` × 2^n
  capped at ``BUREAU_BACKOFF_MAX``); a 429 waits what ``Retry-After`` says
  when that is at most ``BUREAU_RETRY_AFTER_MAX`` seconds, else it gives up
  at once ("rate_limited") rather than hold a worker;
- the shared circuit breaker and rate limit (``circuit.py``) asked before
  every try, so a fetch stops retrying the moment another worker opened
  the circuit, and all workers together stay within the requests per
  minute the bureau allows;
- one ``Idempotency-Key`` per fetch, the same on every retry, so the bureau
  can answer a repeated request without billing it twice.

``fetch`` never raises for the bureau's failures: it raises ``BureauError``
carrying the recorded outcome, the last HTTP status and the number of tries.
"""

import logging
import time
import uuid
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import requests
from django.conf import settings
from django.utils import timezone

from cases.bureau_inquiry import circuit
from cases.bureau_inquiry.models import Outcome
from cases.bureau_inquiry.payloads import (
    CreditReport,
    Malformed,
    SkipTrace,
    parse_credit_report,
    parse_skip_trace,
)

logger = logging.getLogger(__name__)

REPORT_PATH = "/v1/credit-reports"
SKIP_TRACE_PATH = "/v1/skip-traces"
# Outcomes that say the bureau is unwell: they count towards opening the circuit.
TRANSPORT_FAILURES = frozenset({Outcome.TIMEOUT, Outcome.CONNECTION_ERROR, Outcome.SERVER_ERROR})


@dataclass
class BureauError(Exception):
    outcome: str
    detail: str
    http_status: int | None = None
    tries: int = 0

    def __str__(self) -> str:
        return f"{self.outcome}: {self.detail}"


@dataclass
class Fetched:
    report: CreditReport
    skip_trace: SkipTrace
    tries: int
    http_status: int


@dataclass
class BureauConfig:
    """Everything the client reads from settings, overridable in tests."""

    name: str = field(default_factory=lambda: settings.BUREAU_NAME)
    base_url: str = field(default_factory=lambda: settings.BUREAU_BASE_URL)
    client_id: str = field(default_factory=lambda: settings.BUREAU_CLIENT_ID)
    api_key: str = field(default_factory=lambda: settings.BUREAU_API_KEY)
    connect_timeout: float = field(default_factory=lambda: settings.BUREAU_CONNECT_TIMEOUT)
    read_timeout: float = field(default_factory=lambda: settings.BUREAU_READ_TIMEOUT)
    max_retries: int = field(default_factory=lambda: settings.BUREAU_MAX_RETRIES)
    backoff_base: float = field(default_factory=lambda: settings.BUREAU_BACKOFF_BASE)
    backoff_max: float = field(default_factory=lambda: settings.BUREAU_BACKOFF_MAX)
    retry_after_max: float = field(default_factory=lambda: settings.BUREAU_RETRY_AFTER_MAX)
    rate_limit_per_minute: int = field(default_factory=lambda: settings.BUREAU_RATE_LIMIT_PER_MINUTE)
    # Longest wait for our own rate window before giving up ("rate_limited").
    rate_wait_max: float = 61.0


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date), ``None`` if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max((when - timezone.now()).total_seconds(), 0.0)


class BureauClient:
    def __init__(self, config: BureauConfig | None = None, *, sleep=time.sleep, session=None):
        self.config = config or BureauConfig()
        self.sleep = sleep
        self.session = session or requests.Session()

    def fetch(self, subject: dict, *, actor=None) -> Fetched:
        """The credit report summary and skip-trace data of ``subject``, or ``BureauError``."""
        if not self.config.base_url:
            raise BureauError(Outcome.NOT_CONFIGURED, "BUREAU_BASE_URL is not set")
        key = uuid.uuid4().hex
        tries = 0
        try:
            report_body, tries, _ = self._post(REPORT_PATH, subject, key=f"{key}-report", actor=actor)
            trace_body, more, status = self._post(SKIP_TRACE_PATH, subject, key=f"{key}-trace", actor=actor)
            tries += more
        except BureauError as exc:
            exc.tries += tries
            raise
        try:
            report = parse_credit_report(report_body)
            trace = parse_skip_trace(trace_body)
        except Malformed as exc:
            raise BureauError(Outcome.MALFORMED, str(exc), status, tries) from None
        return Fetched(report, trace, tries, status)

    def _post(self, path: str, subject: dict, *, key: str, actor) -> tuple[object, int, int]:
        """POST with retries; the decoded JSON body, the tries it took and the status."""
        url = self.config.base_url.rstrip("/") + path
        headers = {
            "Authorization": f"Bearer {self.config.api_key}",
            "X-Client-Id": self.config.client_id,
            "Idempotency-Key": key,
            "Accept": "application/json",
        }
        tries = 0
        while True:
            allowed, wait = circuit.allow_call(
                self.config.name, actor=actor, per_minute=self.config.rate_limit_per_minute
            )
            if not allowed and wait == 0:
                raise BureauError(
                    Outcome.CIRCUIT_OPEN, "circuit open: the bureau was not called", None, tries
                )
            if not allowed:
                if wait > self.config.rate_wait_max:
                    raise BureauError(
                        Outcome.RATE_LIMITED, "our rate limit: the minute is used up", None, tries
                    )
                self.sleep(wait)
                continue
            tries += 1
            outcome, detail, status, wait = self._try(url, subject, headers)
            if outcome == Outcome.OK:
                circuit.record_success(self.config.name, actor=actor)
                return detail, tries, status
            if outcome in TRANSPORT_FAILURES:
                circuit.record_failure(self.config.name, failure=f"{outcome}: {detail}", actor=actor)
            elif outcome in (Outcome.CLIENT_ERROR, Outcome.RATE_LIMITED, Outcome.MALFORMED):
                # The bureau answered: it is up, whatever it thought of us.
                circuit.record_success(self.config.name, actor=actor)
            retryable = outcome in TRANSPORT_FAILURES or (
                outcome == Outcome.RATE_LIMITED and wait is not None
            )
            if not retryable or tries > self.config.max_retries:
                raise BureauError(outcome, detail, status, tries)
            if wait is None:
                wait = min(self.config.backoff_base * 2 ** (tries - 1), self.config.backoff_max)
            logger.info("bureau %s %s: retry %d in %.2fs (%s)", self.config.name, path, tries, wait, detail)
            self.sleep(wait)

    def _try(self, url: str, subject: dict, headers: dict):
        """One HTTP request: (outcome, body or error detail, status, wait before a retry)."""
        try:
            response = self.session.post(
                url,
                json=subject,
                headers=headers,
                timeout=(self.config.connect_timeout, self.config.read_timeout),
            )
        except requests.Timeout as exc:
            return Outcome.TIMEOUT, f"no reply in time ({type(exc).__name__})", None, None
        except requests.ConnectionError as exc:
            return Outcome.CONNECTION_ERROR, f"connection failed: {exc}"[:300], None, None
        except requests.RequestException as exc:
            return Outcome.ERROR, f"request failed: {exc}"[:300], None, None
        status = response.status_code
        if status == 429:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            if wait is not None and wait > self.config.retry_after_max:
                return Outcome.RATE_LIMITED, f"429, Retry-After {wait:.0f}s is too long", status, None
            return Outcome.RATE_LIMITED, "429 Too Many Requests", status, wait
        if status >= 500:
            return Outcome.SERVER_ERROR, f"HTTP {status}", status, None
        if status >= 400:
            return Outcome.CLIENT_ERROR, f"HTTP {status}: {response.text[:200]}", status, None
        try:
            body = response.json()
        except ValueError:
            return Outcome.MALFORMED, f"HTTP {status}: the body is not JSON", status, None
        return Outcome.OK, body, status, None
