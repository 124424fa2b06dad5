"""``settlements/``: offers within approval limits (RULES §5: collector
≤ 20 %, team lead ≤ 40 %, supervisor above)."""

import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone

from cases.models import CollectionCase, Settlement
from cases.services.holds import place_hold
from tests.api.conftest import client_for
from tests.factories import TeamFactory, UserFactory, make_debt

pytestmark = pytest.mark.django_db

URL = "/api/v1/settlements/"


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
def team_lead():
    return member("lead", "Team lead")


@pytest.fixture
def supervisor():
    return member("supervisor", "Supervisor")


@pytest.fixture
def collector_api(collector):
    return client_for(collector)


@pytest.fixture
def debt(collector, team_lead):
    team = TeamFactory(lead=team_lead)
    team.members.add(collector)
    debt = make_debt()
    CollectionCase.objects.filter(pk=debt.case_id).update(assigned_to=collector, team=team)
    return debt


def valid_until(days: int = 14) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def offer(on, discount="10.00", **overrides):
    data = {"case": on.case_id, "debt": on.pk, "discount_percent": discount, "valid_until": valid_until()}
    data.update(overrides)
    return data


def test_an_offer_within_the_collectors_limit_is_approved_at_once(collector_api, collector, debt):
    response = collector_api.post(URL, offer(debt, "20.00"), format="json")

    assert response.status_code == 201
    data = response.json()
    assert (data["status"], data["discount_percent"], data["approved_by"], data["requested_by"]) == (
        "approved",
        "20.00",
        collector.pk,
        collector.pk,
    )
    balance = Settlement.objects.get().balance_at_offer
    assert data["balance_at_offer"] == f"{balance:.2f}"
    assert data["amount"] == f"{balance * 80 / 100:.2f}"


def test_an_offer_beyond_the_collectors_limit_waits_for_approval(collector_api, debt):
    response = collector_api.post(URL, offer(debt, "30.00"), format="json")

    assert response.status_code == 201
    assert (response.json()["status"], response.json()["approved_by"]) == ("pending_approval", None)


def test_a_team_lead_approves_within_their_limit(collector_api, team_lead, debt):
    settlement_id = collector_api.post(URL, offer(debt, "30.00"), format="json").json()["id"]

    response = client_for(team_lead).post(
        f"{URL}{settlement_id}/approve/", {"reason": "good payer"}, format="json"
    )

    assert response.status_code == 200
    data = response.json()
    assert (data["status"], data["approved_by"], data["decision_reason"]) == (
        "approved",
        team_lead.pk,
        "good payer",
    )


def test_approval_beyond_the_users_limit_answers_409_and_changes_nothing(collector_api, team_lead, debt):
    settlement_id = collector_api.post(URL, offer(debt, "50.00"), format="json").json()["id"]

    response = client_for(team_lead).post(f"{URL}{settlement_id}/approve/", {"reason": "ok"}, format="json")

    assert response.status_code == 409
    assert "supervisor" in str(response.json())
    settlement = Settlement.objects.get()
    assert (settlement.status, settlement.approved_by) == ("pending_approval", None)


def test_a_collector_cannot_approve_their_own_pending_offer(collector_api, debt):
    settlement_id = collector_api.post(URL, offer(debt, "30.00"), format="json").json()["id"]

    response = collector_api.post(f"{URL}{settlement_id}/approve/", {"reason": "please"}, format="json")

    # Deciding needs cases.change_settlement (team leads and above).
    assert response.status_code == 403
    assert Settlement.objects.get().status == "pending_approval"


def test_a_supervisor_rejects_a_large_discount(collector_api, supervisor, debt):
    settlement_id = collector_api.post(URL, offer(debt, "60.00"), format="json").json()["id"]

    response = client_for(supervisor).post(
        f"{URL}{settlement_id}/reject/", {"reason": "too generous"}, format="json"
    )

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["approved_by"]) == ("rejected", None)


def test_deciding_twice_answers_409(collector_api, supervisor, debt):
    settlement_id = collector_api.post(URL, offer(debt, "60.00"), format="json").json()["id"]
    client_for(supervisor).post(f"{URL}{settlement_id}/approve/", {"reason": "ok"}, format="json")

    response = client_for(supervisor).post(
        f"{URL}{settlement_id}/reject/", {"reason": "changed mind"}, format="json"
    )

    assert response.status_code == 409
    assert Settlement.objects.get().status == "approved"


def test_deciding_needs_a_reason(collector_api, supervisor, debt):
    settlement_id = collector_api.post(URL, offer(debt, "60.00"), format="json").json()["id"]

    response = client_for(supervisor).post(f"{URL}{settlement_id}/approve/", {}, format="json")

    assert response.status_code == 400 and "reason" in response.json()
    assert Settlement.objects.get().status == "pending_approval"


def test_a_second_open_offer_on_the_debt_answers_409(collector_api, debt):
    collector_api.post(URL, offer(debt), format="json")

    response = collector_api.post(URL, offer(debt), format="json")

    assert response.status_code == 409
    assert Settlement.objects.count() == 1


def test_an_offer_on_a_held_case_answers_409(collector_api, collector, debt):
    place_hold(case=debt.case_id, hold="bankruptcy", actor=collector, reason="filed")

    response = collector_api.post(URL, offer(debt), format="json")

    assert response.status_code == 409
    assert not Settlement.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"discount_percent": "0"}, "discount_percent"),
        ({"discount_percent": "100"}, "discount_percent"),
        ({"discount_percent": "12.345"}, "discount_percent"),
        ({"discount_percent": "much"}, "discount_percent"),
        ({"valid_until": "2020-01-01"}, "valid_until"),
        ({"case": 999999}, "case"),
        ({"debt": 999999}, "debt"),
    ],
)
def test_bad_input_answers_400_and_writes_nothing(collector_api, debt, overrides, field):
    response = collector_api.post(URL, offer(debt, **overrides), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Settlement.objects.exists()


def test_approving_an_offer_the_user_cannot_see_answers_404(collector_api, debt):
    settlement_id = collector_api.post(URL, offer(debt, "30.00"), format="json").json()["id"]
    stranger = UserFactory(username="stranger")
    stranger.groups.add(Group.objects.get(name="Team lead"))

    response = client_for(stranger).post(f"{URL}{settlement_id}/approve/", {"reason": "x"}, format="json")

    assert response.status_code == 404


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_settlements_cannot_be_changed_directly(collector_api, debt, method):
    settlement_id = collector_api.post(URL, offer(debt, "30.00"), format="json").json()["id"]

    response = getattr(collector_api, method)(f"{URL}{settlement_id}/", {"status": "approved"}, format="json")

    assert response.status_code == 405
    assert Settlement.objects.get().status == "pending_approval"


def test_settlement_list_runs_a_constant_number_of_queries(api, django_assert_max_num_queries):
    debts = [make_debt() for _ in range(4)]
    for debt in debts:
        api.post(URL, offer(debt), format="json")

    with django_assert_max_num_queries(2):
        response = api.get(URL)

    assert response.json()["count"] == 4
    assert [s["debt"] for s in api.get(URL, {"case": debts[1].case_id}).json()["results"]] == [debts[1].pk]
