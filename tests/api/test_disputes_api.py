"""``disputes/``: raising puts the case on the dispute hold; resolving
releases it (RULES §3, §5)."""

import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone

from cases.models import CollectionCase, Dispute
from tests.api.conftest import client_for
from tests.factories import UserFactory, make_debt

pytestmark = pytest.mark.django_db

URL = "/api/v1/disputes/"


@pytest.fixture(autouse=True)
def roles(db):
    call_command("setup_roles", stdout=io.StringIO())


def member(username: str, group: str):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def collector():
    return member("collector", "Collector")


@pytest.fixture
def collector_api(collector):
    return client_for(collector)


@pytest.fixture
def compliance_api():
    return client_for(member("compliance", "Compliance"))


@pytest.fixture
def debt(collector):
    debt = make_debt()
    CollectionCase.objects.filter(pk=debt.case_id).update(assigned_to=collector)
    return debt


def holds(debt) -> list[str]:
    return CollectionCase.objects.get(pk=debt.case_id).holds


def raise_body(on, **overrides):
    data = {"case": on.case_id, "debt": on.pk, "raised_via": "phone", "reason": "Not my loan."}
    data.update(overrides)
    return data


def test_raising_a_dispute_opens_it_and_holds_the_case(collector_api, collector, debt):
    response = collector_api.post(URL, raise_body(debt), format="json")

    assert response.status_code == 201
    data = response.json()
    today = timezone.localdate()
    assert (data["status"], data["opened_on"], data["due_on"], data["outcome"]) == (
        "open",
        today.isoformat(),
        (today + timedelta(days=30)).isoformat(),
        "",
    )
    assert data["bureau_compliance_code"] == "XB"
    assert data["created_by"] == collector.pk
    assert holds(debt) == ["dispute"]


def test_a_dispute_may_be_dated_when_it_was_received(collector_api, debt):
    response = collector_api.post(URL, raise_body(debt, opened_on="2026-01-20"), format="json")

    assert (response.json()["opened_on"], response.json()["due_on"]) == ("2026-01-20", "2026-02-19")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"raised_via": "pigeon"}, "raised_via"),
        ({"reason": ""}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"opened_on": "last week"}, "opened_on"),
        ({"case": 999999}, "case"),
        ({"debt": 999999}, "debt"),
    ],
)
def test_bad_input_answers_400_and_writes_nothing(collector_api, debt, overrides, field):
    response = collector_api.post(URL, raise_body(debt, **overrides), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Dispute.objects.exists()
    assert holds(debt) == []


def test_a_debt_of_another_case_answers_400(collector_api, debt):
    other = make_debt()

    response = collector_api.post(URL, raise_body(debt, debt=other.pk), format="json")

    assert response.status_code == 400 and "debt" in response.json()
    assert holds(debt) == []


def test_resolving_the_dispute_releases_the_hold(collector_api, compliance_api, debt):
    dispute_id = collector_api.post(URL, raise_body(debt), format="json").json()["id"]

    response = compliance_api.post(
        f"{URL}{dispute_id}/resolve/",
        {"outcome": "verified", "reason": "statement matches", "consumer_disagrees": True},
        format="json",
    )

    assert response.status_code == 200
    data = response.json()
    assert (data["status"], data["outcome"], data["resolution_note"], data["bureau_compliance_code"]) == (
        "resolved",
        "verified",
        "statement matches",
        "XC",
    )
    assert data["resolved_on"] == timezone.localdate().isoformat()
    assert holds(debt) == []


def test_resolving_twice_answers_409(collector_api, compliance_api, debt):
    dispute_id = collector_api.post(URL, raise_body(debt), format="json").json()["id"]
    body = {"outcome": "withdrawn", "reason": "consumer withdrew"}
    compliance_api.post(f"{URL}{dispute_id}/resolve/", body, format="json")

    response = compliance_api.post(f"{URL}{dispute_id}/resolve/", body, format="json")

    assert response.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"outcome": "forgotten", "reason": "x"}, "outcome"),
        ({"outcome": "verified"}, "reason"),
        ({"outcome": "verified", "reason": "x", "resolved_on": "2000-01-01"}, "resolved_on"),
        ({"outcome": "verified", "reason": "x" * 101}, "reason"),
    ],
)
def test_resolving_with_bad_input_answers_400_and_keeps_it_open(
    collector_api, compliance_api, debt, body, field
):
    dispute_id = collector_api.post(URL, raise_body(debt), format="json").json()["id"]

    response = compliance_api.post(f"{URL}{dispute_id}/resolve/", body, format="json")

    assert response.status_code == 400 and field in response.json()
    assert Dispute.objects.get().status == "open"
    assert holds(debt) == ["dispute"]


def test_a_collector_may_not_resolve_disputes(collector_api, debt):
    dispute_id = collector_api.post(URL, raise_body(debt), format="json").json()["id"]

    response = collector_api.post(
        f"{URL}{dispute_id}/resolve/", {"outcome": "verified", "reason": "x"}, format="json"
    )

    assert response.status_code == 403
    assert Dispute.objects.get().status == "open"


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_disputes_cannot_be_changed_directly(api, debt, method):
    dispute_id = api.post(URL, raise_body(debt), format="json").json()["id"]

    response = getattr(api, method)(f"{URL}{dispute_id}/", {"status": "resolved"}, format="json")

    assert response.status_code == 405
    assert Dispute.objects.get().status == "open"


def test_dispute_list_runs_a_constant_number_of_queries(api, django_assert_max_num_queries):
    debts = [make_debt() for _ in range(4)]
    for debt in debts:
        api.post(URL, raise_body(debt), format="json")

    with django_assert_max_num_queries(2):
        response = api.get(URL)

    assert response.json()["count"] == 4
    assert [d["case"] for d in api.get(URL, {"case": debts[2].case_id}).json()["results"]] == [
        debts[2].case_id
    ]
