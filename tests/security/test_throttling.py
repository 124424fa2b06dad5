"""API throttling (issue #14, row "300 API requests in a burst: no
throttling at all"), and the stricter scopes: ``login`` on ``auth/token/``,
``payments`` on ``POST payments/``, and ``integration`` for Integration
service users (``backoffice.throttling``).

The burst and the login tests run at the default rates (settings:
``THROTTLE_USER`` 120/minute, ``THROTTLE_LOGIN`` 10/minute,
``THROTTLE_PAYMENTS`` 30/minute); the others set small rates so they stay
quick.
"""

from datetime import date, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from backoffice import roles
from cases.models import Payment
from tests.factories import UserFactory, make_debt

pytestmark = pytest.mark.django_db

PASSWORD = "pw-Ledgerline-1"
TOKEN_URL = "/api/v1/auth/token/"
PROBE = "/api/v1/creditors/"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def member(username: str, role: str, *perms: str):
    user = UserFactory(username=username, is_staff=role != roles.INTEGRATION)
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    for codename in perms:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def rates(monkeypatch):
    """Set some scopes' rates for one test."""

    def set_rates(**scopes):
        for scope, rate in scopes.items():
            monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, scope, rate)

    return set_rates


def assert_throttled(response):
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "throttled" in response.json()["detail"]


# -- the replayed probe ---------------------------------------------------------------------


def test_a_burst_of_300_requests_is_throttled_with_retry_after(db):
    member("burst", roles.SUPERVISOR, "view_creditor")
    token = (
        APIClient()
        .post(TOKEN_URL, {"username": "burst", "password": PASSWORD}, format="json")
        .json()["token"]
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    with time_machine.travel(timezone.now(), tick=False):
        answers = [client.get(PROBE) for _ in range(300)]

    statuses = [response.status_code for response in answers]
    assert statuses[:120] == [200] * 120  # THROTTLE_USER's default: 120 a minute
    assert set(statuses[120:]) == {429}
    assert_throttled(answers[-1])
    assert int(answers[-1]["Retry-After"]) <= 60


def test_the_budget_comes_back_after_the_period(db, rates):
    rates(user="3/minute")
    client = client_for(member("clerk", roles.SUPERVISOR, "view_creditor"))
    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert [client.get(PROBE).status_code for _ in range(4)] == [200, 200, 200, 429]
        clock.shift(timedelta(seconds=61))

        assert client.get(PROBE).status_code == 200


def test_each_user_has_a_budget_of_their_own(db, rates):
    rates(user="2/minute")
    first = client_for(member("first", roles.SUPERVISOR, "view_creditor"))
    second = client_for(member("second", roles.SUPERVISOR, "view_creditor"))
    with time_machine.travel(timezone.now(), tick=False):
        for _ in range(3):
            first.get(PROBE)

        assert_throttled(first.get(PROBE))
        assert second.get(PROBE).status_code == 200


def test_unauthenticated_calls_are_refused_before_they_are_counted(db, rates):
    rates(anon="1/minute")
    anonymous = APIClient()

    assert [anonymous.get(PROBE).status_code for _ in range(3)] == [401, 401, 401]


# -- login ----------------------------------------------------------------------------------------


def test_the_token_endpoint_allows_ten_calls_a_minute_per_address_even_with_the_right_password(db):
    UserFactory(username="someone")
    api = APIClient()
    with time_machine.travel(timezone.now(), tick=False):
        answers = [
            api.post(TOKEN_URL, {"username": "someone", "password": PASSWORD}, format="json")
            for _ in range(11)
        ]
        elsewhere = api.post(
            TOKEN_URL, {"username": "someone", "password": PASSWORD}, format="json", REMOTE_ADDR="10.9.9.9"
        )

    assert [response.status_code for response in answers] == [200] * 10 + [429]
    assert_throttled(answers[-1])
    assert elsewhere.status_code == 200


def test_the_address_behind_one_proxy_is_the_last_forwarded_one(db, rates, settings):
    """With NUM_PROXIES=1 the proxy's own address is not the client's, and
    addresses a client writes into X-Forwarded-For itself are ignored."""
    from rest_framework.settings import api_settings

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    assert api_settings.NUM_PROXIES == 1
    rates(login="1/minute")
    api = APIClient()
    body = {"username": "nobody", "password": "x"}
    with time_machine.travel(timezone.now(), tick=False):
        first = api.post(TOKEN_URL, body, format="json", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.5")
        forged = api.post(TOKEN_URL, body, format="json", HTTP_X_FORWARDED_FOR="8.8.8.8, 203.0.113.5")
        other = api.post(TOKEN_URL, body, format="json", HTTP_X_FORWARDED_FOR="203.0.113.6")

    assert first.status_code == 400
    assert forged.status_code == 429
    assert other.status_code == 400


# -- payments -------------------------------------------------------------------------------------


def _payment(debt, reference: str) -> dict:
    return {
        "debt": debt.pk,
        "amount": "10.00",
        "received_on": date(2026, 1, 15).isoformat(),
        "reference": reference,
        "channel": "bank_transfer",
    }


def test_posting_payments_has_a_stricter_budget_than_reading(db, rates):
    rates(user="20/minute", payments="2/minute")
    debt = make_debt()
    client = client_for(member("finance", roles.ADMINISTRATOR, "view_payment", "add_payment", "view_debt"))
    with time_machine.travel(timezone.now(), tick=False):
        posted = [client.post("/api/v1/payments/", _payment(debt, f"P-{n}"), format="json") for n in range(3)]
        listed = client.get("/api/v1/payments/")

    assert [response.status_code for response in posted[:2]] == [201, 201]
    assert_throttled(posted[2])
    assert Payment.objects.filter(reference="P-2").exists() is False
    assert listed.status_code == 200


def test_the_default_payment_budget_is_thirty_postings_a_minute(db):
    client = client_for(member("finance", roles.ADMINISTRATOR, "add_payment"))
    with time_machine.travel(timezone.now(), tick=False):
        # Bodies that fail validation still count: the budget is for attempts.
        answers = [client.post("/api/v1/payments/", {}, format="json").status_code for _ in range(31)]

    assert answers == [400] * 30 + [429]


# -- integration ----------------------------------------------------------------------------------


def test_integration_users_have_their_own_scope(db, rates):
    rates(user="2/minute", integration="5/minute")
    person = client_for(member("person", roles.SUPERVISOR, "view_creditor"))
    service = client_for(member("bank-feed", roles.INTEGRATION))
    with time_machine.travel(timezone.now(), tick=False):
        people = [person.get(PROBE).status_code for _ in range(3)]
        machines = [service.get(PROBE).status_code for _ in range(6)]

    assert people == [200, 200, 429]
    assert machines == [200] * 5 + [429]


def test_integration_payment_postings_count_against_the_integration_budget_only(db, rates):
    rates(payments="1/minute", integration="10/minute")
    debt = make_debt()
    service = client_for(member("bank-feed", roles.INTEGRATION, "add_payment", "view_payment", "view_debt"))
    with time_machine.travel(timezone.now(), tick=False):
        answers = [
            service.post("/api/v1/payments/", _payment(debt, f"I-{n}"), format="json").status_code
            for n in range(3)
        ]

    assert answers == [201, 201, 201]
