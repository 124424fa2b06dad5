"""API-wide behaviour: business refusals become JSON errors, never 500s.

A ``ValidationError`` from a service answers 400 with a message per field;
a ``PaymentConflict`` (or any service error marked as a conflict) answers 409.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class Conflict(DjangoValidationError):
    """A refused business action that conflicts with state (HTTP 409)."""


def validation_payload(exc: DjangoValidationError) -> dict:
    if hasattr(exc, "error_dict"):
        return {key: [str(m) for m in msgs] for key, msgs in exc.message_dict.items()}
    return {"detail": [str(m) for m in exc.messages]}


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        from cases.services.payments import PaymentConflict

        code = status.HTTP_409_CONFLICT if isinstance(exc, (Conflict, PaymentConflict)) else status.HTTP_400_BAD_REQUEST
        return Response(validation_payload(exc), status=code)
    return drf_exception_handler(exc, context)
