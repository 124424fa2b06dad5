"""Fixtures for the outside agencies' tests: real role groups
(``setup_roles``), a supervisor, an agency with staff, and placed cases."""

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from rest_framework.test import APIClient

from backoffice import roles
from cases.agencies.models import Agency, AgencyCommissionRate, AgencyMember
from cases.models import CollectionCase, Debt
from tests.factories import ProductFactory, UserFactory, make_debt

BUCKETS = ("current", "M1", "M2", "M3", "M4", "M5", "M6", "M6+")


@pytest.fixture
def role_groups(db):
    call_command("setup_roles", stdout=StringIO())


def user_in(role: str | None, username: str, **kwargs):
    user = UserFactory(username=username, password=None, **kwargs)
    if role is not None:
        user.groups.add(Group.objects.get(name=role))
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def supervisor(role_groups):
    return user_in(roles.SUPERVISOR, "sup")


@pytest.fixture
def collector(role_groups):
    return user_in(roles.COLLECTOR, "col")


def make_agency(name: str, rate: str = "10.00", **rates) -> Agency:
    agency = Agency.objects.create(name=name, licence_number=f"LIC-{name}")
    for bucket in BUCKETS:
        AgencyCommissionRate.objects.create(
            agency=agency, bucket=bucket, rate_percent=Decimal(rates.get(bucket.replace("+", "_plus"), rate))
        )
    return agency


def agency_staff(agency: Agency, username: str):
    user = user_in(roles.AGENCY, username)
    AgencyMember.objects.create(user=user, agency=agency)
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def agency(db):
    return make_agency("Alpha", M2="12.50")


@pytest.fixture
def agent(role_groups, agency):
    return agency_staff(agency, "alpha-agent")


@pytest.fixture
def product(db):
    return ProductFactory()


def case_with_debt(product, *, bucket: str = "current", region: str = "", **kwargs) -> CollectionCase:
    """A soft-stage case with one debt of 3000.00 principal (three monthly
    instalments from 2026-01-01)."""
    debt = make_debt(product=product, opened_on=date(2026, 1, 1), **kwargs)
    Debt.objects.filter(pk=debt.pk).update(bucket=bucket)
    CollectionCase.objects.filter(pk=debt.case_id).update(stage=CollectionCase.Stage.SOFT)
    if region:
        type(debt.customer).objects.filter(pk=debt.customer_id).update(region=region)
    return CollectionCase.objects.get(pk=debt.case_id)


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client
