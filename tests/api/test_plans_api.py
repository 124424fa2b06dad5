"""``plans/``: payment plans through ``create_plan``/``cancel_plan`` (RULES §5)."""

import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone

from cases.models import CollectionCase, PaymentPlan, PlanInstalment
from cases.services.holds import place_hold
from tests.api.conftest import client_for
from tests.factories import UserFactory, make_debt

pytestmark = pytest.mark.django_db

URL = "/api/v1/plans/"


@pytest.fixture(autouse=True)
def roles(db):
    call_command("setup_roles", stdout=io.StringIO())


@pytest.fixture
def collector():
    user = UserFactory(username="collector")
    user.groups.add(Group.objects.get(name="Collector"))
    return user


@pytest.fixture
def collector_api(collector):
    return client_for(collector)


@pytest.fixture
def debt(collector):
    debt = make_debt()
    CollectionCase.objects.filter(pk=debt.case_id).update(assigned_to=collector)
    return debt


def in_days(n: int) -> str:
    return (timezone.localdate() + timedelta(days=n)).isoformat()


def plan_body(on, **overrides):
    data = {
        "case": on.case_id,
        "debt": on.pk,
        "total": "900.00",
        "instalments": [
            {"due_on": in_days(10), "amount": "300.00"},
            {"due_on": in_days(40), "amount": "300.00"},
            {"due_on": in_days(70), "amount": "300.00"},
        ],
    }
    data.update(overrides)
    return data


def test_a_plan_is_agreed_with_its_instalments(collector_api, collector, debt):
    response = collector_api.post(URL, plan_body(debt), format="json")

    assert response.status_code == 201
    data = response.json()
    assert (data["case"], data["debt"], data["total"], data["status"]) == (
        debt.case_id,
        debt.pk,
        "900.00",
        "active",
    )
    assert [(i["number"], i["due_on"], i["amount"], i["status"]) for i in data["instalments"]] == [
        (1, in_days(10), "300.00", "due"),
        (2, in_days(40), "300.00", "due"),
        (3, in_days(70), "300.00", "due"),
    ]
    assert PaymentPlan.objects.get().created_by == collector


def test_instalments_that_do_not_add_up_answer_400_and_write_nothing(collector_api, debt):
    body = plan_body(debt, total="1000.00")

    response = collector_api.post(URL, body, format="json")

    assert response.status_code == 400
    assert "instalments" in response.json()
    assert not PaymentPlan.objects.exists() and not PlanInstalment.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"total": "0"}, "total"),
        ({"total": "1.234"}, "total"),
        ({"instalments": []}, "instalments"),
        ({"instalments": [{"due_on": "2020-01-01", "amount": "900.00"}]}, "instalments"),
        ({"instalments": [{"due_on": "tomorrow", "amount": "900.00"}]}, "instalments"),
        ({"instalments": [{"amount": "900.00"}]}, "instalments"),
        ({"case": 999999}, "case"),
        ({"debt": 999999}, "debt"),
    ],
)
def test_bad_input_answers_400_and_writes_nothing(collector_api, debt, overrides, field):
    response = collector_api.post(URL, plan_body(debt, **overrides), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not PaymentPlan.objects.exists()


def test_a_total_above_the_balance_answers_400(collector_api, debt):
    body = plan_body(debt, total="90000.00", instalments=[{"due_on": in_days(5), "amount": "90000.00"}])

    response = collector_api.post(URL, body, format="json")

    assert response.status_code == 400 and "total" in response.json()
    assert not PaymentPlan.objects.exists()


def test_a_second_active_plan_on_the_debt_answers_409(collector_api, debt):
    collector_api.post(URL, plan_body(debt), format="json")

    response = collector_api.post(URL, plan_body(debt), format="json")

    assert response.status_code == 409
    assert PaymentPlan.objects.count() == 1


def test_a_plan_on_a_held_case_answers_409(collector_api, collector, debt):
    place_hold(case=debt.case_id, hold="complaint", actor=collector, reason="complaint under review")

    response = collector_api.post(URL, plan_body(debt), format="json")

    assert response.status_code == 409
    assert not PaymentPlan.objects.exists()


def test_cancelling_an_active_plan(collector_api, debt):
    plan_id = collector_api.post(URL, plan_body(debt), format="json").json()["id"]

    response = collector_api.post(
        f"{URL}{plan_id}/cancel/", {"reason": "replaced by a settlement"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert len(response.json()["instalments"]) == 3


def test_cancelling_twice_answers_409(collector_api, debt):
    plan_id = collector_api.post(URL, plan_body(debt), format="json").json()["id"]
    collector_api.post(f"{URL}{plan_id}/cancel/", {"reason": "replaced"}, format="json")

    response = collector_api.post(f"{URL}{plan_id}/cancel/", {"reason": "again"}, format="json")

    assert response.status_code == 409


def test_cancelling_needs_a_reason(collector_api, debt):
    plan_id = collector_api.post(URL, plan_body(debt), format="json").json()["id"]

    response = collector_api.post(f"{URL}{plan_id}/cancel/", {"reason": ""}, format="json")

    assert response.status_code == 400
    assert PaymentPlan.objects.get().status == "active"


def test_cancelling_a_plan_the_user_cannot_see_answers_404(api, debt):
    plan_id = api.post(URL, plan_body(debt), format="json").json()["id"]
    stranger = UserFactory(username="stranger")
    stranger.groups.add(Group.objects.get(name="Collector"))

    response = client_for(stranger).post(f"{URL}{plan_id}/cancel/", {"reason": "x"}, format="json")

    assert response.status_code == 404
    assert PaymentPlan.objects.get().status == "active"


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_plans_cannot_be_changed_directly(api, debt, method):
    plan_id = api.post(URL, plan_body(debt), format="json").json()["id"]

    response = getattr(api, method)(f"{URL}{plan_id}/", {"total": "1.00"}, format="json")

    assert response.status_code == 405
    assert PaymentPlan.objects.get().status == "active"


def test_plan_list_runs_a_constant_number_of_queries(api, django_assert_max_num_queries):
    debts = [make_debt() for _ in range(4)]
    for debt in debts:
        api.post(URL, plan_body(debt), format="json")

    # The count, the page, the instalments of the page.
    with django_assert_max_num_queries(3):
        response = api.get(URL)

    assert response.json()["count"] == 4
    assert all(len(p["instalments"]) == 3 for p in response.json()["results"])
    assert [p["case"] for p in api.get(URL, {"case": debts[0].case_id}).json()["results"]] == [
        debts[0].case_id
    ]
