"""Fixtures for the legal tests: roles, a legal user, a debt, a referred matter."""

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from rest_framework.test import APIClient

from backoffice import roles
from legal.models import Court, LawFirm
from legal.services import refer_to_legal
from tests.factories import UserFactory, make_debt

REFERRED_ON = date(2026, 3, 1)


@pytest.fixture(autouse=True)
def fast_hashers(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def setup_roles(db):
    call_command("setup_roles", stdout=StringIO())


def user_in(role: str, username: str, **extra):
    user = UserFactory(username=username, **extra)
    user.groups.add(Group.objects.get(name=role))
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def legal_user(setup_roles):
    return user_in(roles.LEGAL, "lawyer", email="lawyer@example.com")


@pytest.fixture
def court(db):
    return Court.objects.create(name="Shanghai Pudong People's Court", city="Shanghai")


@pytest.fixture
def law_firm(db):
    return LawFirm.objects.create(name="Zhong Lun")


@pytest.fixture
def debt(db):
    """A debt owing 3150.00 (3 × (1000 + 50)), limitation far ahead."""
    return make_debt(opened_on=date(2026, 1, 1))


@pytest.fixture
def matter(debt, court, law_firm, legal_user):
    return refer_to_legal(
        case=debt.case,
        debts=[debt],
        court=court,
        case_number="(2026)沪0115民初1号",
        law_firm=law_firm,
        claim_amount=Decimal("3150.00"),
        actor=legal_user,
        reason="referred",
        on=REFERRED_ON,
    )


@pytest.fixture
def legal_api(legal_user):
    client = APIClient()
    client.force_authenticate(legal_user)
    return client
