"""Print SMS to standard output (the development default).

An SMS to a debtor is personal data (their number, their debt), and standard
output ends up in the same places as logs (a terminal scroll-back, a
container's log driver). So by default one line is printed per message: our
reference, the provider id, the number masked to its last four digits and
the body's length. ``settings.SMS_CONSOLE_SHOW_CONTENT = True`` prints the
number and the text, for a developer working with invented data.
"""

import sys
import uuid

from django.conf import settings

from cases.messaging.base import SendResult, SmsBackend


def masked_number(to: str) -> str:
    """``+*********8000``: the number with all but its last four digits hidden."""
    digits = "".join(ch for ch in to if ch.isdigit())
    if len(digits) <= 4:
        return "*" * len(digits)
    prefix = "+" if to.startswith("+") else ""
    return prefix + "*" * (len(digits) - 4) + digits[-4:]


class ConsoleSmsBackend(SmsBackend):
    name = "console"

    def __init__(self, stream=None, *, show_content: bool | None = None):
        self.stream = stream
        self.show_content = show_content

    def send(self, *, to: str, body: str, reference: str) -> SendResult:
        stream = self.stream or sys.stdout
        provider_id = f"console-{uuid.uuid4().hex}"
        show = self.show_content
        if show is None:
            show = getattr(settings, "SMS_CONSOLE_SHOW_CONTENT", False)
        if show:
            stream.write(f"SMS to {to} [{reference}] ({provider_id}):\n{body}\n{'-' * 40}\n")
        else:
            stream.write(
                f"SMS [{reference}] ({provider_id}) to {masked_number(to)}: {len(body)} characters\n"
            )
        stream.flush()
        return SendResult(provider_id=provider_id)
