"""Who may call the API at all, the token flow, and the OpenAPI schema."""

import pytest
from django.core.management import call_command
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework.test import APIClient

from cases.models import Payment
from tests.factories import UserFactory, make_debt

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    "/api/v1/policies/",
    "/api/v1/creditors/",
    "/api/v1/products/",
    "/api/v1/customers/",
    "/api/v1/customers/1/",
    "/api/v1/customers/1/contact-points/",
    "/api/v1/customers/1/third-parties/",
    "/api/v1/debts/",
    "/api/v1/debts/1/",
    "/api/v1/debts/1/ledger/",
    "/api/v1/payments/",
    "/api/v1/cases/",
]


@pytest.mark.parametrize("url", ENDPOINTS)
def test_unauthenticated_request_is_refused_with_401(anonymous_api, url):
    response = anonymous_api.get(url)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_unauthenticated_payment_post_is_refused_and_writes_nothing(anonymous_api):
    debt = make_debt()

    response = anonymous_api.post(
        "/api/v1/payments/",
        {"debt": debt.pk, "amount": "100.00", "received_on": "2026-01-15", "reference": "ANON-1"},
        format="json",
    )

    assert response.status_code == 401
    assert not Payment.objects.exists()


def test_token_from_username_and_password_authenticates_requests(admin_user):
    client = APIClient()

    response = client.post(
        "/api/v1/auth/token/", {"username": "root", "password": "pw-Ledgerline-1"}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert response.json()["expiry"]
    # Stored only as a digest (issue #14: hashed at rest).
    stored = AuthToken.objects.get(user=admin_user)
    assert stored.digest == hash_token(token) != token

    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/debts/").status_code == 200


def test_token_request_with_a_wrong_password_is_refused():
    UserFactory(username="someone")

    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "someone", "password": "wrong"}, format="json"
    )

    assert response.status_code == 400
    assert not AuthToken.objects.exists()


def test_unknown_token_is_refused_with_401():
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    )

    assert client.get("/api/v1/debts/").status_code == 401


def test_session_login_authenticates_requests(admin_user):
    client = APIClient()
    client.login(username="root", password="pw-Ledgerline-1")

    assert client.get("/api/v1/customers/").status_code == 200


def test_schema_endpoint_answers_staff(api):
    response = api.get("/api/schema/")

    assert response.status_code == 200
    assert b"/api/v1/payments/{id}/reverse/" in response.content


def test_schema_endpoint_refuses_anonymous_callers(anonymous_api):
    response = anonymous_api.get("/api/schema/")

    assert response.status_code == 401
    assert b"/api/v1/payments/" not in response.content


def test_swagger_ui_answers_signed_in_staff(client, admin_user):
    client.force_login(admin_user)

    assert client.get("/api/docs/").status_code == 200


def test_swagger_ui_sends_anonymous_browsers_to_the_login(client):
    response = client.get("/api/docs/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_schema_generates_without_errors_or_warnings(tmp_path):
    out = tmp_path / "schema.yml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    assert "/api/v1/debts/{id}/ledger/" in out.read_text()
