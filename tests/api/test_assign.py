"""``cases/{id}/assign/``, ``stage/``, ``holds/`` and the case detail's
story (``timeline``)."""

import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from cases.models import Assignment, CollectionCase
from cases.services.holds import place_hold
from tests.api.conftest import client_for
from tests.factories import TeamFactory, UserFactory, make_debt

pytestmark = pytest.mark.django_db

URL = "/api/v1/cases/"


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
def supervisor():
    return member("supervisor", "Supervisor")


@pytest.fixture
def supervisor_api(supervisor):
    return client_for(supervisor)


@pytest.fixture
def case(collector):
    debt = make_debt()
    CollectionCase.objects.filter(pk=debt.case_id).update(assigned_to=collector)
    return CollectionCase.objects.get(pk=debt.case_id)


def fresh(case) -> CollectionCase:
    return CollectionCase.objects.get(pk=case.pk)


# -- assign --------------------------------------------------------------------------


def test_a_supervisor_assigns_a_case_to_a_collector(supervisor_api, supervisor, case):
    other = member("other", "Collector")

    response = supervisor_api.post(
        f"{URL}{case.pk}/assign/", {"collector": other.pk, "reason": "rebalance"}, format="json"
    )

    assert response.status_code == 200
    assert response.json() == {"assigned": 1, "unchanged": 0, "skipped": 0, "messages": []}
    assert fresh(case).assigned_to == other
    row = Assignment.objects.get()
    assert (row.collector, row.assigned_by, row.reason) == (other, supervisor, "rebalance")


def test_assigning_again_to_the_same_collector_changes_nothing(supervisor_api, case, collector):
    response = supervisor_api.post(
        f"{URL}{case.pk}/assign/", {"collector": collector.pk, "reason": "again"}, format="json"
    )

    assert response.status_code == 200 and response.json()["unchanged"] == 1
    assert not Assignment.objects.exists()


def test_a_case_can_go_to_a_teams_pool(supervisor_api, case):
    team = TeamFactory()

    response = supervisor_api.post(
        f"{URL}{case.pk}/assign/", {"team": team.pk, "reason": "pool"}, format="json"
    )

    assert response.status_code == 200
    assert (fresh(case).team, fresh(case).assigned_to) == (team, None)


def test_a_collector_may_not_assign_their_case_409(case, collector):
    other = member("other", "Collector")

    response = client_for(collector).post(
        f"{URL}{case.pk}/assign/", {"collector": other.pk, "reason": "swap"}, format="json"
    )

    assert response.status_code == 409
    assert fresh(case).assigned_to == collector
    assert not Assignment.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": "who?"}, "collector"),
        ({"collector": 999999, "reason": "x"}, "collector"),
        ({"team": 999999, "reason": "x"}, "team"),
        ({"collector": "me", "reason": "x"}, "collector"),
    ],
)
def test_bad_assignment_input_answers_400_and_writes_nothing(supervisor_api, case, collector, body, field):
    response = supervisor_api.post(f"{URL}{case.pk}/assign/", body, format="json")

    assert response.status_code == 400 and field in response.json()
    assert not Assignment.objects.exists()


def test_assignment_needs_a_reason(supervisor_api, case):
    other = member("other", "Collector")

    response = supervisor_api.post(f"{URL}{case.pk}/assign/", {"collector": other.pk}, format="json")

    assert response.status_code == 400 and "reason" in response.json()
    assert fresh(case).assigned_to.username == "collector"


def test_a_user_who_is_not_a_collector_cannot_take_work(supervisor_api, case):
    outsider = UserFactory(username="nobody")

    response = supervisor_api.post(
        f"{URL}{case.pk}/assign/", {"collector": outsider.pk, "reason": "x"}, format="json"
    )

    assert response.status_code == 400 and "collector" in response.json()


def test_assigning_a_case_the_user_cannot_see_answers_404(case):
    stranger = member("stranger", "Collector")

    response = client_for(stranger).post(
        f"{URL}{case.pk}/assign/", {"collector": stranger.pk, "reason": "mine"}, format="json"
    )

    assert response.status_code == 404
    assert not Assignment.objects.exists()


# -- stage ---------------------------------------------------------------------------


def test_a_collector_moves_their_case_to_soft(case, collector):
    response = client_for(collector).post(
        f"{URL}{case.pk}/stage/", {"stage": "soft", "reason": "called"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["stage"] == "soft"
    assert fresh(case).stage == "soft"


def test_a_collector_may_not_move_a_case_into_legal(case, collector):
    response = client_for(collector).post(
        f"{URL}{case.pk}/stage/", {"stage": "legal", "reason": "sue"}, format="json"
    )

    assert response.status_code == 409
    assert fresh(case).stage == "reminder"


def test_closing_a_case_with_debts_to_collect_answers_409(supervisor_api, case):
    response = supervisor_api.post(
        f"{URL}{case.pk}/stage/", {"stage": "closed", "reason": "done"}, format="json"
    )

    assert response.status_code == 409
    assert fresh(case).stage == "reminder"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"stage": "limbo", "reason": "x"}, "stage"),
        ({"stage": "soft"}, "reason"),
        ({"stage": "reminder", "reason": "x"}, "stage"),
    ],
)
def test_bad_stage_input_answers_400(supervisor_api, case, body, field):
    response = supervisor_api.post(f"{URL}{case.pk}/stage/", body, format="json")

    assert response.status_code == 400 and field in response.json()
    assert fresh(case).stage == "reminder"


def test_compliance_may_not_change_stages(case):
    response = client_for(member("auditor", "Compliance")).post(
        f"{URL}{case.pk}/stage/", {"stage": "soft", "reason": "x"}, format="json"
    )

    assert response.status_code == 409
    assert fresh(case).stage == "reminder"


# -- holds ---------------------------------------------------------------------------


def test_a_collector_puts_a_cease_hold_on_their_case(case, collector):
    response = client_for(collector).post(
        f"{URL}{case.pk}/holds/", {"hold": "cease", "reason": "asked us to stop"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["holds"] == ["cease"]
    assert fresh(case).holds == ["cease"]


def test_placing_the_same_hold_twice_answers_409(case, collector):
    api = client_for(collector)
    api.post(f"{URL}{case.pk}/holds/", {"hold": "cease", "reason": "stop"}, format="json")

    response = api.post(f"{URL}{case.pk}/holds/", {"hold": "cease", "reason": "stop"}, format="json")

    assert response.status_code == 409
    assert fresh(case).holds == ["cease"]


def test_bad_hold_input_answers_400(case, collector):
    response = client_for(collector).post(
        f"{URL}{case.pk}/holds/", {"hold": "holiday", "reason": "x"}, format="json"
    )

    assert response.status_code == 400 and "hold" in response.json()
    assert fresh(case).holds == []


def test_a_supervisor_releases_a_hold(supervisor_api, case, supervisor):
    place_hold(case=case, hold="complaint", actor=supervisor, reason="complaint")

    response = supervisor_api.post(
        f"{URL}{case.pk}/holds/release/", {"hold": "complaint", "reason": "answered"}, format="json"
    )

    assert response.status_code == 200 and response.json()["holds"] == []


def test_releasing_a_hold_that_is_not_on_answers_409(supervisor_api, case):
    response = supervisor_api.post(
        f"{URL}{case.pk}/holds/release/", {"hold": "cease", "reason": "x"}, format="json"
    )

    assert response.status_code == 409


def test_a_collector_may_not_release_holds(case, collector):
    place_hold(case=case, hold="cease", actor=collector, reason="stop")

    response = client_for(collector).post(
        f"{URL}{case.pk}/holds/release/", {"hold": "cease", "reason": "x"}, format="json"
    )

    assert response.status_code == 403
    assert fresh(case).holds == ["cease"]


# -- detail --------------------------------------------------------------------------


def test_case_detail_has_priority_reasons_risk_score_and_the_timeline(supervisor_api, supervisor, case):
    CollectionCase.objects.filter(pk=case.pk).update(
        priority_reasons=["broken promise on 2026-02-01"], risk_score="0.4200"
    )
    other = member("other", "Collector")
    supervisor_api.post(
        f"{URL}{case.pk}/assign/", {"collector": other.pk, "reason": "rebalance"}, format="json"
    )

    data = supervisor_api.get(f"{URL}{case.pk}/").json()

    assert data["priority_reasons"] == ["broken promise on 2026-02-01"]
    assert data["risk_score"] == "0.4200"
    assignment = next(e for e in data["timeline"] if e["kind"] == "assignment")
    assert assignment["summary"].endswith("rebalance")
    assert (assignment["actor"], assignment["actor_name"]) == (supervisor.pk, "supervisor")


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_cases_still_cannot_be_written_directly(supervisor_api, case, method):
    response = getattr(supervisor_api, method)(f"{URL}{case.pk}/", {"stage": "closed"}, format="json")

    assert response.status_code == 405
