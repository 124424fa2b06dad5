"""``promises/``: promises to pay through ``make_promise``/``cancel_promise`` (RULES §5)."""

import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone

from cases.models import CollectionCase, ContactAttempt, PromiseToPay
from cases.services.holds import place_hold
from tests.api.conftest import client_for
from tests.factories import UserFactory, make_debt

pytestmark = pytest.mark.django_db

URL = "/api/v1/promises/"


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


def promise_body(on, **overrides):
    data = {"case": on.case_id, "debt": on.pk, "amount": "500.00", "due_on": in_days(7)}
    data.update(overrides)
    return data


def test_a_promise_is_recorded_and_returned(collector_api, collector, debt):
    response = collector_api.post(URL, promise_body(debt), format="json")

    assert response.status_code == 201
    data = response.json()
    promise = PromiseToPay.objects.get()
    assert data["id"] == promise.pk
    assert (data["case"], data["debt"], data["amount"], data["due_on"], data["status"]) == (
        debt.case_id,
        debt.pk,
        "500.00",
        in_days(7),
        "pending",
    )
    assert data["paid_amount"] == "0.00"
    assert promise.created_by == collector
    assert promise.history.get().history_user == collector


def test_a_promise_may_name_the_contact_it_was_made_in(collector_api, collector, debt):
    contact = ContactAttempt.objects.create(
        case_id=debt.case_id,
        channel="call",
        outcome="promise",
        started_at=timezone.now(),
        created_by=collector,
    )

    response = collector_api.post(URL, promise_body(debt, contact=contact.pk), format="json")

    assert response.status_code == 201 and response.json()["contact"] == contact.pk


def test_a_promise_on_a_held_case_answers_409_and_writes_nothing(collector_api, collector, debt):
    place_hold(case=debt.case_id, hold="dispute", actor=collector, reason="consumer disputes")

    response = collector_api.post(URL, promise_body(debt), format="json")

    assert response.status_code == 409
    assert "case" in response.json()
    assert not PromiseToPay.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": "0.00"}, "amount"),
        ({"amount": "-10"}, "amount"),
        ({"amount": "12.345"}, "amount"),
        ({"amount": "lots"}, "amount"),
        ({"due_on": "2020-01-01"}, "due_on"),
        ({"due_on": "soon"}, "due_on"),
        ({"case": 999999}, "case"),
        ({"debt": 999999}, "debt"),
        ({"contact": 999999}, "contact"),
    ],
)
def test_bad_input_answers_400_and_writes_nothing(collector_api, debt, overrides, field):
    response = collector_api.post(URL, promise_body(debt, **overrides), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not PromiseToPay.objects.exists()


def test_a_promise_too_far_ahead_answers_400(collector_api, debt):
    response = collector_api.post(URL, promise_body(debt, due_on=in_days(120)), format="json")

    assert response.status_code == 400 and "due_on" in response.json()
    assert not PromiseToPay.objects.exists()


def test_a_debt_of_another_case_answers_400(collector_api, debt):
    other = make_debt()

    response = collector_api.post(URL, promise_body(debt, debt=other.pk), format="json")

    assert response.status_code == 400 and "debt" in response.json()
    assert not PromiseToPay.objects.exists()


def test_cancelling_a_pending_promise(collector_api, debt):
    promise_id = collector_api.post(URL, promise_body(debt), format="json").json()["id"]

    response = collector_api.post(f"{URL}{promise_id}/cancel/", {"reason": "paid elsewhere"}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert PromiseToPay.objects.get().history.first().history_change_reason == "paid elsewhere"


def test_cancelling_twice_answers_409_and_changes_nothing(collector_api, debt):
    promise_id = collector_api.post(URL, promise_body(debt), format="json").json()["id"]
    collector_api.post(f"{URL}{promise_id}/cancel/", {"reason": "paid elsewhere"}, format="json")
    versions = PromiseToPay.history.count()

    response = collector_api.post(f"{URL}{promise_id}/cancel/", {"reason": "again"}, format="json")

    assert response.status_code == 409
    assert PromiseToPay.history.count() == versions


def test_cancelling_needs_a_reason(collector_api, debt):
    promise_id = collector_api.post(URL, promise_body(debt), format="json").json()["id"]

    response = collector_api.post(f"{URL}{promise_id}/cancel/", {}, format="json")

    assert response.status_code == 400 and "reason" in response.json()
    assert PromiseToPay.objects.get().status == "pending"


def test_cancelling_a_promise_the_user_cannot_see_answers_404(api, debt):
    promise_id = api.post(URL, promise_body(debt), format="json").json()["id"]
    stranger = UserFactory(username="stranger")
    stranger.groups.add(Group.objects.get(name="Collector"))

    response = client_for(stranger).post(f"{URL}{promise_id}/cancel/", {"reason": "x"}, format="json")

    assert response.status_code == 404
    assert PromiseToPay.objects.get().status == "pending"


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_promises_cannot_be_changed_directly(api, debt, method):
    promise_id = api.post(URL, promise_body(debt), format="json").json()["id"]

    response = getattr(api, method)(f"{URL}{promise_id}/", {"amount": "1.00"}, format="json")

    assert response.status_code == 405
    assert str(PromiseToPay.objects.get().amount) == "500.00"


def test_promises_can_be_filtered_by_case(api, debt):
    other = make_debt()
    api.post(URL, promise_body(debt), format="json")
    api.post(URL, promise_body(other), format="json")

    results = api.get(URL, {"case": debt.case_id}).json()["results"]

    assert [r["case"] for r in results] == [debt.case_id]


def test_promise_list_runs_a_constant_number_of_queries(collector_api, debt, django_assert_max_num_queries):
    for n in range(1, 6):
        collector_api.post(URL, promise_body(debt, due_on=in_days(n)), format="json")

    with django_assert_max_num_queries(5):
        response = collector_api.get(URL, {"case": debt.case_id})

    assert response.json()["count"] == 5
