"""The SMS backend interface and the errors every channel reports.

A backend sends one message and answers with the provider's id, or raises:

- ``TransientSendError``: try again later (timeout, connection refused,
  HTTP 5xx/429). The message stays queued; the task retries with backoff.
- ``PermanentSendError``: trying again will not help (HTTP 4xx, a reply we
  cannot read). The message is marked failed with the error.

Backends never retry themselves: retries belong to the Celery task, which
counts them on the ``Message`` row so a duplicated or redelivered task
cannot send twice.
"""

from dataclasses import dataclass


class SendError(Exception):
    """A message could not be handed to the provider."""


class TransientSendError(SendError):
    """The provider may accept the same message later."""


class PermanentSendError(SendError):
    """The provider refused the message or answered something we cannot use."""


@dataclass(frozen=True)
class SendResult:
    provider_id: str


class SmsBackend:
    """Send one SMS. ``reference`` is our idempotency key for the message:
    providers that de-duplicate by reference never deliver it twice, even
    when a send whose reply was lost is retried."""

    name = "base"

    def send(self, *, to: str, body: str, reference: str) -> SendResult:  # pragma: no cover
        raise NotImplementedError
