"""Webhooks that providers call (no session, no CSRF token: a signature).

``POST hooks/sms/receipt/``: an SMS provider's delivery receipt, JSON
``{"provider_id": "...", "status": "delivered" | "failed", "error": "..."}``
signed with ``X-Signature: hex(HMAC-SHA256(SMS_WEBHOOK_SECRET, raw body))``.

403 for a missing or wrong signature (nothing is read or changed), 400 for
a body that is not such JSON, 404 for a provider id we never sent, 200 with
the message's status otherwise (a repeated receipt is a no-op).
"""

import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from backoffice.audit import system_user
from cases.messaging.signing import SIGNATURE_HEADER, verify
from cases.models import Message
from cases.services.messages import record_receipt

MAX_BODY = 64 * 1024


@csrf_exempt
@require_POST
def sms_receipt_view(request):
    body = request.body[: MAX_BODY + 1]
    if len(body) > MAX_BODY:
        return JsonResponse({"detail": "Body too large."}, status=413)
    if not verify(body, request.headers.get(SIGNATURE_HEADER), settings.SMS_WEBHOOK_SECRET):
        return JsonResponse({"detail": "Bad or missing signature."}, status=403)
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return JsonResponse({"detail": "The body must be JSON."}, status=400)
    if not isinstance(payload, dict) or not isinstance(payload.get("provider_id"), str | int):
        return JsonResponse({"provider_id": ["Required."]}, status=400)
    error = payload.get("error") or ""
    try:
        message = record_receipt(
            provider_id=str(payload["provider_id"]),
            status=str(payload.get("status", "")),
            error=str(error)[:300],
            at=timezone.now(),
            actor=system_user(),
        )
    except ValidationError as exc:
        return JsonResponse(exc.message_dict, status=400)
    except Message.DoesNotExist:
        return JsonResponse({"detail": "Unknown provider id."}, status=404)
    return JsonResponse({"id": message.pk, "status": message.status})
