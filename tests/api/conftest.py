"""Personas for the API tests: who is asking decides what they see.

- ``api`` (tests/conftest.py): a superuser;
- ``clerk_api``: staff holding view permissions on every domain model and
  the add/change permissions the write endpoints need, but not
  ``customers.view_full_id``;
- ``outsider_api``: staff with no permissions at all;
- ``administrator_api``: a member of the Administrator group (policy writes)
  who can also view policies, creditors and products.
"""

import pytest
from django.contrib.auth.models import Group, Permission
from rest_framework.test import APIClient

from tests.factories import UserFactory, sees_all_rows

CLERK_PERMISSIONS = [
    "customers.view_customer",
    "customers.add_customer",
    "customers.change_customer",
    "customers.view_contactpoint",
    "customers.add_contactpoint",
    "customers.change_contactpoint",
    "customers.view_thirdpartycontact",
    "customers.add_thirdpartycontact",
    "customers.change_thirdpartycontact",
    "cases.view_collectionpolicy",
    "cases.view_creditor",
    "cases.view_product",
    "cases.view_debt",
    "cases.add_debt",
    "cases.view_ledgerentry",
    "cases.view_payment",
    "cases.add_payment",
    "cases.change_payment",
    "cases.view_collectioncase",
]


def grant(user, *perms: str):
    sees_all_rows(user)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def clerk(db):
    return grant(UserFactory(username="clerk"), *CLERK_PERMISSIONS)


@pytest.fixture
def clerk_api(clerk):
    return client_for(clerk)


@pytest.fixture
def outsider(db):
    return UserFactory(username="outsider")


@pytest.fixture
def outsider_api(outsider):
    return client_for(outsider)


@pytest.fixture
def administrator(db):
    user = grant(
        UserFactory(username="administrator"),
        "cases.view_collectionpolicy",
        "cases.view_creditor",
        "cases.view_product",
    )
    user.groups.add(Group.objects.get_or_create(name="Administrator")[0])
    return user


@pytest.fixture
def administrator_api(administrator):
    return client_for(administrator)


@pytest.fixture
def anonymous_api():
    return APIClient()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Every persona has a password; hashing it properly would dominate the run.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
