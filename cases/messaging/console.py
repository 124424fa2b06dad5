"""Print SMS to standard output (the development default)."""

import sys
import uuid

from cases.messaging.base import SendResult, SmsBackend


class ConsoleSmsBackend(SmsBackend):
    name = "console"

    def __init__(self, stream=None):
        self.stream = stream

    def send(self, *, to: str, body: str, reference: str) -> SendResult:
        stream = self.stream or sys.stdout
        provider_id = f"console-{uuid.uuid4().hex}"
        stream.write(f"SMS to {to} [{reference}] ({provider_id}):\n{body}\n{'-' * 40}\n")
        stream.flush()
        return SendResult(provider_id=provider_id)
