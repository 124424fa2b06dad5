"""Outbound message channels: SMS backends, template rendering, webhook signing.

``get_sms_backend()`` builds the backend named by ``settings.SMS_BACKEND``:
``console``, ``file``, ``http`` or a dotted path to an ``SmsBackend``
subclass. Email goes through Django's mailers (``settings.MAILERS``); letters
are rendered to PDF and handed to the print queue (``cases.services.messages``).
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from cases.messaging.base import (
    PermanentSendError,
    SendError,
    SendResult,
    SmsBackend,
    TransientSendError,
)

BACKENDS = {
    "console": "cases.messaging.console.ConsoleSmsBackend",
    "file": "cases.messaging.file.FileSmsBackend",
    "http": "cases.messaging.http.HttpSmsBackend",
}

__all__ = [
    "BACKENDS",
    "PermanentSendError",
    "SendError",
    "SendResult",
    "SmsBackend",
    "TransientSendError",
    "get_sms_backend",
]


def get_sms_backend() -> SmsBackend:
    """A new instance of the configured SMS backend (settings are read each
    time, so tests and operators can switch it without a restart)."""
    name = settings.SMS_BACKEND
    path = BACKENDS.get(name, name)
    try:
        backend_class = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"SMS_BACKEND must be one of {', '.join(BACKENDS)} or a dotted path, not {name!r}."
        ) from exc
    return backend_class()
