"""``cases/``: read-only for now; placing a debt opens or joins the case."""

import pytest

from cases.models import CollectionCase
from tests.api.conftest import client_for, grant
from tests.factories import CustomerFactory, TeamFactory, UserFactory, make_debt

pytestmark = pytest.mark.django_db

URL = "/api/v1/cases/"


def test_case_detail_shows_the_customer_and_their_debts(clerk_api):
    customer = CustomerFactory()
    first, second = make_debt(customer=customer), make_debt(customer=customer)

    body = clerk_api.get(f"{URL}{first.case_id}/").json()

    assert body["customer"] == customer.pk
    assert body["debts"] == [first.pk, second.pk]
    assert body["stage"] == "reminder"
    assert body["assigned_to"] is None
    assert body["team"] is None
    assert body["priority"] == "0.00"
    assert body["holds"] == []
    assert body["next_action_on"] is None


def test_case_shows_assignment_and_holds(clerk_api, clerk):
    debt = make_debt()
    team = TeamFactory()
    CollectionCase.objects.filter(pk=debt.case_id).update(
        assigned_to=clerk, team=team, holds=["dispute"], stage="soft"
    )

    body = clerk_api.get(f"{URL}{debt.case_id}/").json()

    assert (body["assigned_to"], body["team"], body["holds"], body["stage"]) == (
        clerk.pk,
        team.pk,
        ["dispute"],
        "soft",
    )


def test_cases_can_be_filtered_by_customer(clerk_api):
    wanted = make_debt()
    make_debt()

    results = clerk_api.get(URL, {"customer": wanted.customer_id}).json()["results"]

    assert [c["id"] for c in results] == [wanted.case_id]


def test_cases_can_be_filtered_by_stage(clerk_api):
    soft = make_debt()
    make_debt()
    CollectionCase.objects.filter(pk=soft.case_id).update(stage="soft")

    assert [c["id"] for c in clerk_api.get(URL, {"stage": "soft"}).json()["results"]] == [soft.case_id]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_cases_cannot_be_written_through_the_api_yet(clerk_api, method):
    debt = make_debt()
    url = URL if method == "post" else f"{URL}{debt.case_id}/"

    response = getattr(clerk_api, method)(url, {"stage": "closed"}, format="json")

    assert response.status_code == 405
    assert CollectionCase.objects.get().stage == "reminder"


def test_a_case_lists_only_the_debts_the_user_may_see(db):
    debt = make_debt()
    case_viewer = grant(UserFactory(), "cases.view_collectioncase")

    body = client_for(case_viewer).get(f"{URL}{debt.case_id}/").json()

    assert body["debts"] == []


def test_staff_without_view_permission_sees_no_cases(outsider_api):
    debt = make_debt()

    assert outsider_api.get(URL).json()["results"] == []
    assert outsider_api.get(f"{URL}{debt.case_id}/").status_code == 404


def test_case_list_runs_a_constant_number_of_queries(api, django_assert_max_num_queries):
    for _ in range(3):
        customer = CustomerFactory()
        make_debt(customer=customer)
        make_debt(customer=customer)

    # Counting, the page, the debts of the page.
    with django_assert_max_num_queries(3):
        response = api.get(URL)

    assert response.json()["count"] == 3
    assert all(len(c["debts"]) == 2 for c in response.json()["results"])
