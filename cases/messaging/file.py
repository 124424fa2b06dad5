"""Append SMS as JSON lines to ``settings.SMS_FILE_PATH`` (demo, tests).

One line per message, written with a single ``write`` under an exclusive
``flock`` so lines from several worker processes never interleave.
"""

import fcntl
import json
import uuid
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from cases.messaging.base import SendResult, SmsBackend, TransientSendError


class FileSmsBackend(SmsBackend):
    name = "file"

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path or settings.SMS_FILE_PATH)

    def send(self, *, to: str, body: str, reference: str) -> SendResult:
        provider_id = f"file-{uuid.uuid4().hex}"
        line = json.dumps(
            {
                "id": provider_id,
                "to": to,
                "body": body,
                "reference": reference,
                "at": timezone.now().isoformat(),
            },
            ensure_ascii=False,
        )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    handle.write(line + "\n")
                    handle.flush()
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
        except OSError as exc:
            raise TransientSendError(f"Cannot write the SMS file {self.path}: {exc}") from exc
        return SendResult(provider_id=provider_id)


def read_outbox(path: str | Path | None = None) -> list[dict]:
    """The messages written so far (empty when the file does not exist)."""
    path = Path(path or settings.SMS_FILE_PATH)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
