"""API tokens with a lifecycle (issue #14, row "a token after its user's
password changed: still works; tokens never expire; no logout").

Tokens are django-rest-knox's: stored as digests, expiring after
``TOKEN_TTL_HOURS`` (``INTEGRATION_TOKEN_TTL_HOURS`` for Integration
service users), revoked by ``auth/logout/`` and ``auth/logout-all/``, and all
revoked on a password change, deactivation or the loss of every role
(``backoffice.tokens``).
"""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework.test import APIClient

from backoffice import roles
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pw-Ledgerline-1"
TOKEN_URL = "/api/v1/auth/token/"
PROBE = "/api/v1/creditors/"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff(db):
    """A supervisor: reads creditors (the probe) and holds one role."""
    user = UserFactory(username="staff")
    user.groups.add(Group.objects.get_or_create(name=roles.SUPERVISOR)[0])
    from django.contrib.auth.models import Permission

    user.user_permissions.add(Permission.objects.get(codename="view_creditor"))
    return user


def sign_in(username="staff", password=PASSWORD) -> str:
    response = APIClient().post(TOKEN_URL, {"username": username, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["token"]


def with_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def works(token: str) -> bool:
    status = with_token(token).get(PROBE).status_code
    assert status in (200, 401), status
    return status == 200


# -- issuing ------------------------------------------------------------------------------------


def test_sign_in_answers_a_token_and_its_expiry_ten_hours_ahead(staff):
    before = timezone.now()
    response = APIClient().post(TOKEN_URL, {"username": "staff", "password": PASSWORD}, format="json")

    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"token", "expiry"}
    expiry = parse_datetime(body["expiry"])
    assert before + timedelta(hours=10) <= expiry <= timezone.now() + timedelta(hours=10)
    assert works(body["token"])


def test_only_a_digest_of_the_token_is_stored(staff):
    token = sign_in()

    stored = AuthToken.objects.get(user=staff)
    assert stored.digest == hash_token(token)
    assert token not in {stored.digest, stored.token_key}


def test_each_sign_in_issues_a_new_token(staff):
    first, second = sign_in(), sign_in()

    assert first != second
    assert works(first) and works(second)


def test_the_token_lifetime_comes_from_settings(staff, settings):
    settings.TOKEN_TTL_HOURS = 2
    sign_in()

    expiry = AuthToken.objects.get(user=staff).expiry
    assert timezone.now() + timedelta(hours=1) < expiry <= timezone.now() + timedelta(hours=2)


def test_integration_users_get_the_longer_integration_lifetime(db, settings):
    settings.INTEGRATION_TOKEN_TTL_HOURS = 72
    service = UserFactory(username="bank-feed", is_staff=False)
    service.groups.add(Group.objects.get_or_create(name=roles.INTEGRATION)[0])

    sign_in("bank-feed")

    expiry = AuthToken.objects.get(user=service).expiry
    assert timezone.now() + timedelta(hours=71) < expiry <= timezone.now() + timedelta(hours=72)


def test_a_user_holds_at_most_the_token_limit(staff, settings):
    settings.TOKEN_LIMIT_PER_USER = 2
    sign_in(), sign_in()

    response = APIClient().post(TOKEN_URL, {"username": "staff", "password": PASSWORD}, format="json")

    assert response.status_code == 403
    assert "auth/logout" in response.json()["detail"]
    assert AuthToken.objects.filter(user=staff).count() == 2


def test_expired_tokens_do_not_count_towards_the_limit(staff, settings):
    settings.TOKEN_LIMIT_PER_USER = 1
    with time_machine.travel(timezone.now(), tick=False) as clock:
        sign_in()
        clock.shift(timedelta(hours=11))

        assert works(sign_in())
    assert AuthToken.objects.filter(user=staff).count() == 1


# -- expiry -------------------------------------------------------------------------------------


def test_a_token_stops_working_when_it_expires(staff):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        token = sign_in()
        clock.shift(timedelta(hours=9, minutes=59))
        assert works(token)
        clock.shift(timedelta(minutes=2))

        assert not works(token)
    assert not AuthToken.objects.filter(user=staff).exists()


# -- logout -------------------------------------------------------------------------------------


def test_logout_revokes_only_the_token_it_is_sent_with(staff):
    kept, revoked = sign_in(), sign_in()

    response = with_token(revoked).post("/api/v1/auth/logout/")

    assert response.status_code == 204
    assert not works(revoked)
    assert works(kept)


def test_logout_all_revokes_every_token_of_the_user(staff):
    UserFactory(username="other")
    tokens = [sign_in(), sign_in(), sign_in()]
    others = sign_in("other")

    response = with_token(tokens[0]).post("/api/v1/auth/logout-all/")

    assert response.status_code == 204
    assert not any(works(token) for token in tokens)
    assert not AuthToken.objects.filter(user=staff).exists()
    assert works(others)


def test_logout_without_a_token_is_refused(staff):
    client = APIClient()

    assert client.post("/api/v1/auth/logout/").status_code == 401
    assert client.post("/api/v1/auth/logout-all/").status_code == 401


# -- revocation on a change of the user -----------------------------------------------------


def test_a_password_change_revokes_every_token(staff):
    tokens = [sign_in(), sign_in()]

    staff.set_password("a-new-Ledgerline-2")
    staff.save()

    assert not any(works(token) for token in tokens)
    assert not AuthToken.objects.filter(user=staff).exists()


def test_a_password_hash_assigned_directly_also_revokes(staff):
    token = sign_in()

    staff.password = make_password("a-new-Ledgerline-2")
    staff.save(update_fields=["password"])

    assert not works(token)


def test_setting_the_same_password_again_keeps_the_tokens(staff):
    token = sign_in()

    staff.set_password(PASSWORD)
    staff.save()

    assert works(token)


def test_a_hash_upgrade_on_sign_in_keeps_the_tokens(staff, settings):
    """Django rehashes a password stored with an old hasher when its owner
    signs in: the same password, so no revocation."""
    token = sign_in()
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]

    sign_in()  # rehashes MD5 → PBKDF2

    staff.refresh_from_db()
    assert staff.password.startswith("pbkdf2_sha256$")
    assert works(token)


def test_other_saves_of_the_user_keep_the_tokens(staff):
    token = sign_in()

    staff.first_name = "Renamed"
    staff.save()

    assert works(token)


def test_deactivation_revokes_every_token(staff):
    token = sign_in()

    staff.is_active = False
    staff.save()

    assert not AuthToken.objects.filter(user=staff).exists()
    assert not works(token)


def test_losing_the_last_role_revokes_every_token(staff):
    token = sign_in()

    staff.groups.clear()

    assert not works(token)


def test_losing_one_of_two_roles_keeps_the_tokens(staff):
    staff.groups.add(Group.objects.get_or_create(name=roles.COMPLIANCE)[0])
    token = sign_in()

    staff.groups.remove(Group.objects.get(name=roles.COMPLIANCE))

    assert works(token)


def test_removal_from_the_group_side_revokes_too(staff):
    token = sign_in()

    Group.objects.get(name=roles.SUPERVISOR).user_set.remove(staff)

    assert not works(token)


def test_clearing_a_group_revokes_only_members_left_without_a_role(staff):
    UserFactory(username="double").groups.add(
        Group.objects.get(name=roles.SUPERVISOR), Group.objects.get_or_create(name=roles.COMPLIANCE)[0]
    )
    token, double = sign_in(), sign_in("double")

    Group.objects.get(name=roles.SUPERVISOR).user_set.clear()

    assert not works(token)
    assert AuthToken.objects.get(user__username="double").digest == hash_token(double)


def test_deleting_the_last_group_of_a_user_revokes_their_tokens(staff):
    token = sign_in()

    Group.objects.get(name=roles.SUPERVISOR).delete()

    assert not AuthToken.objects.filter(user=staff).exists()
    assert not works(token)


# -- what a token header may carry ----------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "Token 0123456789abcdef0123456789abcdef01234567",  # an old rest_framework.authtoken key
        "Token " + "z" * 64,
        "Token " + "a" * 5000,
        "Token",
        "Token a b",
    ],
)
def test_a_malformed_or_retired_token_is_refused_with_401(staff, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    assert client.get(PROBE).status_code == 401


def test_a_token_header_with_bytes_that_are_not_utf8_is_refused_with_401(staff):
    response = APIClient().get(PROBE, HTTP_AUTHORIZATION="Token \xff\xfe" + "a" * 62)

    assert response.status_code == 401


def test_a_token_header_with_a_nul_is_refused_with_401(staff):
    response = APIClient().get(PROBE, HTTP_AUTHORIZATION="Token " + "a" * 32 + "\x00" + "a" * 31)

    assert response.status_code == 401


# -- an integration end to end ----------------------------------------------------------------


def test_an_integration_service_user_signs_in_and_posts_a_payment(db):
    from django.core.management import call_command

    from cases.models import Payment
    from tests.factories import make_debt

    call_command("setup_roles", stdout=None)
    service = UserFactory(username="bank-feed", is_staff=False)
    service.groups.add(Group.objects.get(name=roles.INTEGRATION))
    debt = make_debt()
    client = with_token(sign_in("bank-feed"))

    posted = client.post(
        "/api/v1/payments/",
        {
            "debt": debt.pk,
            "amount": "25.00",
            "received_on": "2026-01-15",
            "reference": "FEED-1",
            "channel": "bank_transfer",
        },
        format="json",
    )

    assert posted.status_code == 201, posted.content
    assert Payment.objects.get(reference="FEED-1").debt_id == debt.pk
    assert client.get(f"/api/v1/debts/{debt.pk}/").status_code == 200
    # No collection work and no audit for a service user.
    assert client.get("/api/v1/contacts/").json()["count"] == 0
