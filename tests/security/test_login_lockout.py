"""Login lockout (issue #14, first row: "40 wrong passwords on the admin
login and on ``auth/token/``, then the right one").

django-axes locks a username, and a client address, after
``AXES_FAILURE_LIMIT`` (5) failures for ``AXES_COOLOFF_MINUTES`` (30);
``backoffice.lockout`` answers 429 with a message and records the lockout.
The token endpoint is also throttled (``login`` scope, 10 a minute per
address); tests about the lockout alone lift that rate so the lockout is
what refuses.
"""

import json
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from backoffice import roles
from backoffice.models import AccessRecord
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pw-Ledgerline-1"
LOCKED = "Too many failed sign-in attempts"
TOKEN_URL = "/api/v1/auth/token/"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def victim(db):
    return UserFactory(username="victim")


@pytest.fixture
def no_login_throttle(monkeypatch):
    """The lockout alone: the ``login`` throttle out of the way."""
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "login", "10000/minute")


def admin_login(client, username, password, address="127.0.0.1"):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


def token_login(api, username, password, address="127.0.0.1"):
    return api.post(
        TOKEN_URL, {"username": username, "password": password}, format="json", REMOTE_ADDR=address
    )


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


# -- the replayed probe ---------------------------------------------------------------------


def test_forty_wrong_passwords_then_the_right_one_is_refused_on_the_admin_login(client, victim):
    for _ in range(40):
        admin_login(client, "victim", "wrong-password")

    response = admin_login(client, "victim", PASSWORD)

    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert int(response["Retry-After"]) == 30 * 60
    assert not signed_in(client)
    assert client.get("/admin/").status_code == 302  # still at the door


def test_forty_wrong_passwords_then_the_right_one_is_refused_on_the_token_endpoint(victim):
    api = APIClient()
    for _ in range(40):
        assert token_login(api, "victim", "wrong-password").status_code in (400, 429)

    response = token_login(api, "victim", PASSWORD)

    assert response.status_code == 429
    assert response["Retry-After"]
    assert not AuthToken.objects.exists()


def test_the_token_endpoint_answers_the_lockout_with_a_json_reason(victim, no_login_throttle):
    api = APIClient()
    answers = [token_login(api, "victim", "wrong-password").status_code for _ in range(5)]

    response = token_login(api, "victim", PASSWORD)

    # Four plain refusals, the fifth failure locks, and the right password no longer helps.
    assert answers == [400, 400, 400, 400, 429]
    assert response.status_code == 429
    assert LOCKED in response.json()["detail"]
    assert int(response["Retry-After"]) == 30 * 60
    assert not AuthToken.objects.exists()


# -- what counts, and for how long ------------------------------------------------------------


def test_fewer_failures_than_the_limit_do_not_lock(client, victim):
    for _ in range(4):
        admin_login(client, "victim", "wrong-password")

    response = admin_login(client, "victim", PASSWORD)

    assert response.status_code == 302
    assert signed_in(client)


def test_the_limit_and_cool_off_come_from_settings(client, victim, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        admin_login(client, "victim", "wrong-password")

    assert admin_login(client, "victim", PASSWORD).status_code == 429


def test_a_username_is_locked_whatever_address_the_attempts_come_from(victim, no_login_throttle):
    api = APIClient()
    for n in range(5):
        token_login(api, "victim", "wrong-password", address=f"10.0.0.{n + 1}")

    response = token_login(api, "victim", PASSWORD, address="10.0.9.9")

    assert response.status_code == 429


def test_an_address_is_locked_whatever_usernames_it_tries(client, victim):
    for n in range(5):
        admin_login(client, f"guess{n}", "wrong-password", address="10.1.1.1")

    assert admin_login(client, "victim", PASSWORD, address="10.1.1.1").status_code == 429
    # The account itself is not locked: from elsewhere it signs in.
    assert admin_login(client, "victim", PASSWORD, address="10.2.2.2").status_code == 302


def test_attempts_during_a_lockout_do_not_extend_it(client, victim):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(5):
            admin_login(client, "victim", "wrong-password")
        clock.shift(timedelta(minutes=20))
        for _ in range(10):
            admin_login(client, "victim", "wrong-password")
        clock.shift(timedelta(minutes=11))

        response = admin_login(client, "victim", PASSWORD)

    assert response.status_code == 302


def test_the_lockout_ends_after_the_cool_off(victim, no_login_throttle):
    api = APIClient()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(5):
            token_login(api, "victim", "wrong-password")
        clock.shift(timedelta(minutes=29))
        assert token_login(api, "victim", PASSWORD).status_code == 429
        clock.shift(timedelta(minutes=2))

        response = token_login(api, "victim", PASSWORD)

    assert response.status_code == 200
    assert response.json()["token"]


def test_a_locked_unknown_username_gets_the_same_page_not_an_error(client):
    for _ in range(5):
        admin_login(client, "nobody-here", "wrong-password")

    response = admin_login(client, "nobody-here", "wrong-password")

    assert response.status_code == 429
    assert LOCKED in response.content.decode()


def test_an_overlong_username_is_an_ordinary_failure_not_an_error(client):
    response = admin_login(client, "x" * 5000, "wrong-password")

    assert response.status_code == 200
    # Counted under the longest name an account can have (the column holds 255).
    assert AccessAttempt.objects.get().username == "x" * 150


# -- the access records -------------------------------------------------------------------------


def test_each_lockout_is_written_once_to_the_access_records(client, victim):
    for _ in range(40):
        admin_login(client, "victim", "wrong-password", address="10.3.3.3")

    record = AccessRecord.objects.get()
    assert record.action == AccessRecord.Action.LOGIN_LOCKED_OUT
    assert record.user == victim
    assert (record.app_label, record.model_name, record.object_id) == ("auth", "user", str(victim.pk))
    detail = json.loads(record.detail)
    assert detail["address"] == "10.3.3.3"
    assert detail["username"] == "victim"
    assert detail["failures"] == 5
    assert detail["path"] == reverse("admin:login")


def test_a_lockout_of_a_name_without_an_account_is_recorded_without_a_user(victim, no_login_throttle):
    api = APIClient()
    for _ in range(6):
        token_login(api, "no-such-user", "wrong-password")

    record = AccessRecord.objects.get()
    assert record.user is None
    assert json.loads(record.detail)["username"] == "no-such-user"
    assert json.loads(record.detail)["path"] == TOKEN_URL


def test_failures_below_the_limit_write_no_access_record(client, victim):
    for _ in range(4):
        admin_login(client, "victim", "wrong-password")

    assert not AccessRecord.objects.exists()


# -- unlocking from the admin -------------------------------------------------------------------


@pytest.fixture
def administrator(db):
    call_command("setup_roles", stdout=None)
    from django.contrib.auth.models import Group

    user = UserFactory(username="admin-person")
    user.groups.add(Group.objects.get(name=roles.ADMINISTRATOR))
    return user


def test_an_administrator_lists_lockouts_and_lifts_one(client, victim, administrator):
    for _ in range(5):
        admin_login(client, "victim", "wrong-password")
    attempt = AccessAttempt.objects.get(username="victim")

    client.force_login(administrator)
    listing = client.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200
    assert "victim" in listing.content.decode()
    unlocked = client.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})
    assert unlocked.status_code == 302
    client.logout()

    assert not AccessAttempt.objects.exists()
    assert admin_login(client, "victim", PASSWORD).status_code == 302


def test_a_collector_cannot_open_the_lockout_screens(client, administrator):
    from django.contrib.auth.models import Group

    collector = UserFactory(username="collector-person")
    collector.groups.add(Group.objects.get(name=roles.COLLECTOR))
    client.force_login(collector)

    assert client.get(reverse("admin:axes_accessattempt_changelist")).status_code == 403


# -- the test client and server-side calls -----------------------------------------------------


def test_authenticate_without_a_request_still_works_for_server_side_callers(victim):
    from django.contrib.auth import authenticate

    assert authenticate(username="victim", password=PASSWORD) == victim
    assert not AccessAttempt.objects.exists()


# -- the address that is counted --------------------------------------------------------------


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "8.8.8.8", "127.0.0.1"),  # no proxy: the header is the client's own words
        (1, "8.8.8.8, 203.0.113.5", "203.0.113.5"),  # the proxy's entry, not the forged one
        (2, "8.8.8.8, 203.0.113.5, 10.0.0.1", "203.0.113.5"),
        (1, "not-an-address", "127.0.0.1"),  # garbage never reaches the IP column
    ],
)
def test_the_client_address_is_read_through_the_configured_proxies(settings, proxies, forwarded, expected):
    from django.test import RequestFactory

    from backoffice.lockout import client_address

    settings.NUM_PROXIES = proxies
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="127.0.0.1")

    assert client_address(request) == expected
