"""``teams/``: supervisors and administrators write; others read."""

import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from cases.models import Team
from tests.api.conftest import client_for
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/teams/"


@pytest.fixture(autouse=True)
def roles(db):
    call_command("setup_roles", stdout=io.StringIO())


def member(username: str, group: str):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def supervisor_api():
    return client_for(member("supervisor", "Supervisor"))


def test_a_supervisor_creates_a_team_with_lead_and_members(supervisor_api):
    lead, first, second = UserFactory(), UserFactory(), UserFactory()

    response = supervisor_api.post(
        URL, {"name": "Shanghai M1", "lead": lead.pk, "members": [first.pk, second.pk]}, format="json"
    )

    assert response.status_code == 201
    team = Team.objects.get()
    assert response.json() == {
        "id": team.pk,
        "name": "Shanghai M1",
        "lead": lead.pk,
        "members": [first.pk, second.pk],
    }
    assert set(team.members.all()) == {first, second}
    assert team.history.first().history_change_reason == "team created through the API"


def test_a_supervisor_changes_the_members(supervisor_api):
    team = TeamFactory()
    team.members.add(UserFactory())
    newcomer = UserFactory()

    response = supervisor_api.patch(f"{URL}{team.pk}/", {"members": [newcomer.pk]}, format="json")

    assert response.status_code == 200
    assert list(team.members.all()) == [newcomer]


def test_an_administrator_may_write_teams():
    response = client_for(member("admin", "Administrator")).post(URL, {"name": "Legal desk"}, format="json")

    assert response.status_code == 201


@pytest.mark.parametrize("group", ["Team lead", "Collector", "Compliance"])
def test_other_roles_may_not_write_teams(group):
    response = client_for(member("someone", group)).post(URL, {"name": "Rogue"}, format="json")

    assert response.status_code == 403
    assert not Team.objects.exists()


def test_a_team_lead_reads_teams():
    TeamFactory(name="A team")

    response = client_for(member("lead", "Team lead")).get(URL)

    assert [t["name"] for t in response.json()["results"]] == ["A team"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "X", "lead": 999999}, "lead"),
        ({"name": "X", "members": [999999]}, "members"),
    ],
)
def test_bad_input_answers_400_and_writes_nothing(supervisor_api, body, field):
    response = supervisor_api.post(URL, body, format="json")

    assert response.status_code == 400 and field in response.json()
    assert not Team.objects.exists()


def test_a_duplicate_name_answers_400(supervisor_api):
    TeamFactory(name="Shanghai M1")

    response = supervisor_api.post(URL, {"name": "Shanghai M1"}, format="json")

    assert response.status_code == 400 and "name" in response.json()


def test_teams_are_not_deleted(supervisor_api):
    team = TeamFactory()

    assert supervisor_api.delete(f"{URL}{team.pk}/").status_code == 405
    assert Team.objects.filter(pk=team.pk).exists()


def test_team_list_runs_a_constant_number_of_queries(supervisor_api, django_assert_max_num_queries):
    for _ in range(4):
        TeamFactory().members.add(UserFactory(), UserFactory())

    # Roles and permissions of the user, the count, the page, the members.
    with django_assert_max_num_queries(6):
        response = supervisor_api.get(URL)

    assert response.json()["count"] == 4
    assert all(len(t["members"]) == 2 for t in response.json()["results"])
