"""Errors the business layer raises, for every caller to map.

Services, selectors and tasks raise these; they know nothing of HTTP. The
API's exception handler (``backoffice.api.exception_handler``) answers a
``Conflict`` with 409 and any other ``ValidationError`` with 400; admin
screens show the messages on the form. Living here, below every app, they
let a service refuse without importing the layer that renders the refusal.
"""

from django.core.exceptions import ValidationError


class Conflict(ValidationError):
    """A refused business action that conflicts with state (HTTP 409)."""


class PaymentConflict(Conflict):
    """The reference or idempotency key was already used for a different payment."""


class NotAllowed(Conflict):
    """The actor may not do this to these rows (answered 409; nothing written)."""
