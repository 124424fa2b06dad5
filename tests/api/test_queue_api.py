"""``cases/queue/``: the user's "My queue" (``my_queue``) through the API."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone

from cases.models import CollectionCase, Debt
from cases.services.promises import make_promise
from tests.api.conftest import client_for
from tests.factories import UserFactory, make_debt

pytestmark = pytest.mark.django_db

URL = "/api/v1/cases/queue/"


@pytest.fixture(autouse=True)
def roles(db):
    call_command("setup_roles", stdout=io.StringIO())


@pytest.fixture
def collector():
    user = UserFactory(username="collector")
    user.groups.add(Group.objects.get(name="Collector"))
    return user


def assigned_case(collector, priority="0"):
    debt = make_debt()
    CollectionCase.objects.filter(pk=debt.case_id).update(assigned_to=collector, priority=Decimal(priority))
    return debt


def test_the_queue_lists_only_my_open_cases_by_priority(collector):
    low, high = assigned_case(collector, "10"), assigned_case(collector, "500")
    closed = assigned_case(collector, "999")
    CollectionCase.objects.filter(pk=closed.case_id).update(stage="closed")
    make_debt()  # nobody's

    rows = client_for(collector).get(URL).json()["results"]

    assert [r["id"] for r in rows] == [high.case_id, low.case_id]
    assert rows[0]["priority"] == "500.00"


def test_a_queue_row_carries_balance_and_the_promise_due_flag(collector):
    debt = assigned_case(collector)
    make_promise(
        case=debt.case,
        debt=debt,
        amount="100.00",
        due_on=timezone.localdate(),
        today=timezone.localdate(),
        actor=collector,
    )
    CollectionCase.objects.filter(pk=debt.case_id).update(
        next_action_on=timezone.localdate() + timedelta(days=1)
    )

    row = client_for(collector).get(URL).json()["results"][0]

    balance = Debt.objects.get(pk=debt.pk).total_balance
    assert row["total_balance"] == f"{balance:.2f}"
    assert row["promise_due_today"] is True
    assert row["callback_due"] is False
    assert row["next_action_on"] == (timezone.localdate() + timedelta(days=1)).isoformat()
    assert row["customer"] == debt.customer_id and row["customer_name"] == debt.customer.name


def test_promises_due_today_come_first(collector):
    urgent_by_priority = assigned_case(collector, "900")
    promised = assigned_case(collector, "1")
    make_promise(
        case=promised.case,
        amount="50.00",
        due_on=timezone.localdate(),
        today=timezone.localdate(),
        actor=collector,
    )

    rows = client_for(collector).get(URL).json()["results"]

    assert [r["id"] for r in rows] == [promised.case_id, urgent_by_priority.case_id]


def test_a_user_without_cases_has_an_empty_queue(outsider_api):
    make_debt()

    assert outsider_api.get(URL).json()["results"] == []


def test_the_queue_runs_a_constant_number_of_queries(collector, django_assert_max_num_queries):
    for n in range(5):
        assigned_case(collector, str(n))
    api = client_for(collector)

    # Roles and permissions of the user, the count, the page.
    with django_assert_max_num_queries(5):
        response = api.get(URL)

    assert response.json()["count"] == 5
