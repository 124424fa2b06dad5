"""Send SMS through an HTTP provider (``SMS_BACKEND=http``).

``POST settings.SMS_HTTP_URL`` with JSON ``{"to", "body", "reference"}`` and
``Authorization: Bearer <SMS_HTTP_TOKEN>``; the provider answers 2xx with
JSON ``{"id": "<provider id>"}`` and later posts delivery receipts to
``hooks/sms/receipt/`` (``cases.views_hooks``).

Written on ``urllib.request`` (the standard library; ``requests`` is not a
dependency of the project). How replies are classified:

- 2xx with a JSON object holding a non-empty ``id``: sent.
- 2xx with anything else: ``PermanentSendError`` (the provider may have
  taken the message, so it is never re-sent blindly; an operator looks).
- 408, 425, 429 and 5xx, a timeout, a refused or dropped connection:
  ``TransientSendError`` (retried by the task with backoff; the same
  ``reference`` lets the provider drop a duplicate).
- any other 4xx: ``PermanentSendError``.
"""

import json
import socket
import urllib.error
import urllib.request

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from cases.messaging.base import PermanentSendError, SendResult, SmsBackend, TransientSendError

TRANSIENT_STATUSES = frozenset({408, 425, 429})
REPLY_LIMIT = 64 * 1024


def _snippet(raw: bytes, length: int = 200) -> str:
    text = raw[:length].decode("utf-8", errors="replace")
    return " ".join(text.split())


class HttpSmsBackend(SmsBackend):
    name = "http"

    def __init__(self, url: str | None = None, token: str | None = None, timeout: float | None = None):
        self.url = url if url is not None else settings.SMS_HTTP_URL
        self.token = token if token is not None else settings.SMS_HTTP_TOKEN
        self.timeout = timeout if timeout is not None else settings.SMS_HTTP_TIMEOUT
        if not self.url:
            raise ImproperlyConfigured("SMS_BACKEND is 'http' but SMS_HTTP_URL is not set.")
        if not self.url.startswith(("http://", "https://")):
            raise ImproperlyConfigured(f"SMS_HTTP_URL must be an http(s) URL, not {self.url!r}.")

    def send(self, *, to: str, body: str, reference: str) -> SendResult:
        payload = json.dumps({"to": to, "body": body, "reference": reference}, ensure_ascii=False)
        request = urllib.request.Request(
            self.url,
            data=payload.encode("utf-8"),
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Accept": "application/json",
                "Authorization": f"Bearer {self.token}",
                "User-Agent": "Ledgerline-SMS/1",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status = response.status
                raw = response.read(REPLY_LIMIT)
        except urllib.error.HTTPError as exc:
            raw = exc.read(REPLY_LIMIT) if exc.fp is not None else b""
            message = f"SMS provider answered HTTP {exc.code}: {_snippet(raw) or exc.reason}"
            if exc.code >= 500 or exc.code in TRANSIENT_STATUSES:
                raise TransientSendError(message) from exc
            raise PermanentSendError(message) from exc
        except TimeoutError as exc:
            raise TransientSendError(f"SMS provider did not answer within {self.timeout:g} s.") from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError | socket.timeout):
                raise TransientSendError(f"SMS provider did not answer within {self.timeout:g} s.") from exc
            raise TransientSendError(f"Cannot reach the SMS provider: {exc.reason}") from exc
        except (ConnectionError, OSError) as exc:
            raise TransientSendError(f"Connection to the SMS provider failed: {exc}") from exc
        if not 200 <= status < 300:
            raise PermanentSendError(f"SMS provider answered HTTP {status}: {_snippet(raw)}")
        try:
            reply = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise PermanentSendError(
                f"SMS provider answered HTTP {status} with a reply that is not JSON: {_snippet(raw)!r}"
            ) from exc
        provider_id = reply.get("id") if isinstance(reply, dict) else None
        if isinstance(provider_id, int) and not isinstance(provider_id, bool):
            provider_id = str(provider_id)
        if not isinstance(provider_id, str) or not provider_id.strip():
            raise PermanentSendError(
                f"SMS provider answered HTTP {status} without a message id: {_snippet(raw)!r}"
            )
        return SendResult(provider_id=provider_id.strip()[:120])
