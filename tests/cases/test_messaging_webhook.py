"""The signed delivery-receipt webhook (cases.views_hooks)."""

import json
from datetime import date

import pytest
from django.urls import include, path

from cases.messaging.signing import sign
from cases.models import Message
from cases.services.dunning import install_default_templates
from cases.services.messages import send_message
from tests.cases.test_messaging_queue import debt_with_contacts, local, queue_sms
from tests.factories import UserFactory

urlpatterns = [path("hooks/", include("cases.urls"))]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]
SECRET = "receipt-secret"
URL = "/hooks/sms/receipt/"


@pytest.fixture
def sent_sms(settings, tmp_path):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = tmp_path / "sms.jsonl"
    settings.SMS_WEBHOOK_SECRET = SECRET
    install_default_templates()
    debt = debt_with_contacts()
    message = queue_sms(debt, UserFactory(is_superuser=True))
    return send_message(message_id=message.pk, now=local(date(2026, 2, 2), 10, 5))


def post(client, payload: dict, *, secret: str | None = SECRET, signature: str | None = None):
    body = json.dumps(payload).encode()
    headers = {}
    if signature is not None:
        headers["HTTP_X_SIGNATURE"] = signature
    elif secret is not None:
        headers["HTTP_X_SIGNATURE"] = sign(body, secret)
    return client.post(URL, data=body, content_type="application/json", **headers)


def test_signed_delivered_receipt_marks_the_message_delivered(client, sent_sms):
    response = post(client, {"provider_id": sent_sms.provider_id, "status": "delivered"})

    assert response.status_code == 200 and response.json()["status"] == "delivered"
    sent_sms.refresh_from_db()
    assert sent_sms.status == Message.Status.DELIVERED and sent_sms.delivered_at is not None


def test_repeated_receipt_changes_nothing(client, sent_sms):
    post(client, {"provider_id": sent_sms.provider_id, "status": "delivered"})
    sent_sms.refresh_from_db()
    history = sent_sms.history.count()

    again = post(client, {"provider_id": sent_sms.provider_id, "status": "delivered"})
    late_failure = post(client, {"provider_id": sent_sms.provider_id, "status": "failed", "error": "x"})

    assert again.status_code == late_failure.status_code == 200
    sent_sms.refresh_from_db()
    assert sent_sms.status == "delivered" and sent_sms.history.count() == history


def test_failed_receipt_records_the_providers_reason(client, sent_sms):
    post(client, {"provider_id": sent_sms.provider_id, "status": "failed", "error": "handset off"})

    sent_sms.refresh_from_db()
    assert sent_sms.status == "failed" and "handset off" in sent_sms.last_error


@pytest.mark.parametrize("signature", [None, "", "00" * 32])
def test_missing_or_wrong_signature_is_403_and_changes_nothing(client, sent_sms, signature):
    payload = {"provider_id": sent_sms.provider_id, "status": "delivered"}
    response = (
        post(client, payload, secret=None)
        if signature is None
        else post(client, payload, signature=signature)
    )

    assert response.status_code == 403
    sent_sms.refresh_from_db()
    assert sent_sms.status == "sent"


def test_signature_with_another_secret_is_403(client, sent_sms):
    response = post(client, {"provider_id": sent_sms.provider_id, "status": "delivered"}, secret="guess")

    assert response.status_code == 403


def test_unknown_provider_id_is_404(client, sent_sms):
    response = post(client, {"provider_id": "nobody-sent-this", "status": "delivered"})

    assert response.status_code == 404


def test_unknown_status_is_400(client, sent_sms):
    response = post(client, {"provider_id": sent_sms.provider_id, "status": "read"})

    assert response.status_code == 400
    sent_sms.refresh_from_db()
    assert sent_sms.status == "sent"


def test_empty_secret_refuses_every_receipt(client, sent_sms, settings):
    settings.SMS_WEBHOOK_SECRET = ""

    response = post(client, {"provider_id": sent_sms.provider_id, "status": "delivered"}, secret="")

    assert response.status_code == 403
