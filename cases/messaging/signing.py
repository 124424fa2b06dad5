"""Signatures for delivery-receipt webhooks.

The provider signs the raw request body with the shared secret
(``settings.SMS_WEBHOOK_SECRET``): ``X-Signature: hex(HMAC-SHA256(secret,
body))``. An empty secret verifies nothing, so a deployment that forgot the
setting refuses every receipt instead of accepting forged ones.
"""

import hashlib
import hmac

SIGNATURE_HEADER = "X-Signature"


def sign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(body: bytes, signature: str | None, secret: str) -> bool:
    """True only for a non-empty secret and the exact signature of ``body``."""
    if not secret or not signature:
        return False
    return hmac.compare_digest(sign(body, secret), signature.strip().lower())
