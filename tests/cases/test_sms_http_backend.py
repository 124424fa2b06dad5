"""The HTTP SMS backend against a real HTTP server on 127.0.0.1."""

import json
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cases.messaging import PermanentSendError, TransientSendError
from cases.messaging.http import HttpSmsBackend
from cases.models import Message
from cases.services.dunning import install_default_templates
from cases.services.messages import MessageDeferred, send_message
from tests.cases.test_messaging_queue import debt_with_contacts, local, queue_sms
from tests.factories import UserFactory


class FakeProvider:
    """Answers each POST with the next scripted reply; records every request."""

    def __init__(self):
        self.replies: list[tuple[int, bytes, float]] = []
        self.requests: list[dict] = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                provider.requests.append(
                    {"headers": dict(self.headers), "body": json.loads(self.rfile.read(length))}
                )
                status, body, delay = (
                    provider.replies.pop(0) if provider.replies else (200, b'{"id": "x"}', 0)
                )
                if delay:
                    time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def reply(self, status: int, body: bytes | dict, delay: float = 0) -> None:
        raw = json.dumps(body).encode() if isinstance(body, dict) else body
        self.replies.append((status, raw, delay))

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def provider(settings):
    fake = FakeProvider()
    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP_URL = fake.url
    settings.SMS_HTTP_TOKEN = "tok-123"
    settings.SMS_HTTP_TIMEOUT = 0.5
    yield fake
    fake.close()


def send(backend=None):
    return (backend or HttpSmsBackend()).send(to="+8613800138000", body="你好", reference="ref-1")


def test_200_with_an_id_is_sent_with_bearer_auth_and_reference(provider):
    provider.reply(200, {"id": "prov-42"})

    result = send()

    assert result.provider_id == "prov-42"
    request = provider.requests[0]
    assert request["headers"]["Authorization"] == "Bearer tok-123"
    assert request["body"] == {"to": "+8613800138000", "body": "你好", "reference": "ref-1"}


def test_500_is_transient(provider):
    provider.reply(500, b"upstream down")

    with pytest.raises(TransientSendError, match="HTTP 500: upstream down"):
        send()


def test_429_is_transient(provider):
    provider.reply(429, b"slow down")

    with pytest.raises(TransientSendError):
        send()


def test_400_is_permanent(provider):
    provider.reply(400, {"error": "invalid number"})

    with pytest.raises(PermanentSendError, match="HTTP 400.*invalid number"):
        send()


def test_timeout_is_transient(provider):
    provider.reply(200, {"id": "late"}, delay=1.5)

    with pytest.raises(TransientSendError, match="did not answer within 0.5 s"):
        send()


def test_malformed_json_is_permanent(provider):
    provider.reply(200, b"<html>ok</html>")

    with pytest.raises(PermanentSendError, match="not JSON"):
        send()


def test_reply_without_an_id_is_permanent(provider):
    provider.reply(200, {"status": "ok"})

    with pytest.raises(PermanentSendError, match="without a message id"):
        send()


def test_connection_refused_is_transient(provider):
    provider.close()

    with pytest.raises(TransientSendError):
        send()


@pytest.mark.django_db
def test_message_sent_twice_through_the_provider_reaches_it_once(provider):
    install_default_templates()
    debt = debt_with_contacts()
    message = queue_sms(debt, UserFactory(is_superuser=True))
    provider.reply(200, {"id": "prov-1"})
    now = local(date(2026, 2, 2), 10, 5)

    send_message(message_id=message.pk, now=now)
    send_message(message_id=message.pk, now=now)

    message.refresh_from_db()
    assert message.status == Message.Status.SENT and message.provider_id == "prov-1"
    assert len(provider.requests) == 1
    assert provider.requests[0]["body"]["reference"] == message.idempotency_key


@pytest.mark.django_db
def test_500_then_200_retries_and_sends_once(provider):
    install_default_templates()
    debt = debt_with_contacts()
    message = queue_sms(debt, UserFactory(is_superuser=True))
    provider.reply(503, b"busy")
    provider.reply(200, {"id": "prov-2"})

    with pytest.raises(MessageDeferred) as deferred:
        send_message(message_id=message.pk, now=local(date(2026, 2, 2), 10, 5))
    message.refresh_from_db()
    assert message.status == "queued" and "HTTP 503" in message.last_error
    send_message(message_id=message.pk, now=deferred.value.retry_at)

    message.refresh_from_db()
    assert message.status == "sent" and message.provider_id == "prov-2" and message.attempts == 2
    assert len(provider.requests) == 2


@pytest.mark.django_db
def test_400_fails_the_message_and_keeps_it(provider):
    install_default_templates()
    debt = debt_with_contacts()
    message = queue_sms(debt, UserFactory(is_superuser=True))
    provider.reply(400, {"error": "number barred"})

    failed = send_message(message_id=message.pk, now=local(date(2026, 2, 2), 10, 5))

    assert failed.status == "failed" and "number barred" in failed.last_error
