"""Bureau reports and attempts per persona: admin lists, API list and
detail, and "refresh now" (admin action and API) with its denials."""

from datetime import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from backoffice import access
from cases.bureau_inquiry.models import BureauInquiryAttempt, BureauReport, Outcome, Trigger
from cases.models import CollectionCase

pytest_plugins = ["tests.personas"]
pytestmark = pytest.mark.django_db

NO_BUREAU_PERMISSION = {"legal", "agency", "outsider"}
# Who may ask for a fresh report on case A (the team lead's team's case).
MAY_REFRESH_A = {"team_lead", "supervisor", "administrator", "superuser"}


@pytest.fixture
def reports(world):
    """One report and one failed attempt per case's customer."""
    rows = {}
    for letter, case in world.cases.items():
        at = timezone.make_aware(datetime(2026, 2, 1, 10))
        report = BureauReport.objects.create(
            bureau="b", customer=case.customer, fetched_at=at, request_id=f"R-{letter}", score=600
        )
        BureauInquiryAttempt.objects.create(
            bureau="b",
            customer=case.customer,
            trigger=Trigger.SCHEDULED,
            outcome=Outcome.OK,
            started_at=at,
            finished_at=at,
            report=report,
        )
        BureauInquiryAttempt.objects.create(
            bureau="b",
            customer=case.customer,
            trigger=Trigger.SCHEDULED,
            outcome=Outcome.TIMEOUT,
            started_at=at,
            finished_at=at,
        )
        rows[letter] = report
    return rows


def fresh(user):
    return type(user).objects.get(pk=user.pk)


def letters_of(queryset, reports) -> set[str]:
    pks = set(queryset.values_list("customer_id", flat=True))
    return {letter for letter, r in reports.items() if r.customer_id in pks}


EXPECTED_REPORTS = {
    "collector": {"A"},
    "collector2": {"B"},
    "team_lead": {"A"},
    "legal": set(),  # no bureau permission
    "compliance": {"A", "B", "C"},
    "supervisor": {"A", "B", "C"},
    "administrator": {"A", "B", "C"},
    "agency": set(),
    "superuser": {"A", "B", "C"},
    "outsider": set(),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_REPORTS))
def test_reports_and_attempts_follow_the_cases_each_role_sees(personas, reports, name):
    user = fresh(personas[name])
    assert letters_of(access.bureau_reports_for(user), reports) == EXPECTED_REPORTS[name]
    assert letters_of(access.bureau_attempts_for(fresh(user)), reports) == EXPECTED_REPORTS[name]


@pytest.mark.parametrize("name", sorted(EXPECTED_REPORTS))
def test_admin_lists_show_the_visible_rows_and_refuse_the_rest(
    client, personas, reports, name, django_assert_max_num_queries
):
    client.force_login(personas[name])
    for model, url in (
        ("report", reverse("admin:bureau_inquiry_bureaureport_changelist")),
        ("attempt", reverse("admin:bureau_inquiry_bureauinquiryattempt_changelist")),
    ):
        with django_assert_max_num_queries(20):
            response = client.get(url)
        if name in NO_BUREAU_PERMISSION:
            assert response.status_code == 403, (name, model)
            continue
        assert response.status_code == 200, (name, model)
        listed = response.context["cl"].queryset
        assert letters_of(listed, reports) == EXPECTED_REPORTS[name]


def test_the_attempt_list_filters_by_outcome(client, personas, reports):
    client.force_login(personas["supervisor"])
    url = reverse("admin:bureau_inquiry_bureauinquiryattempt_changelist")
    response = client.get(url, {"outcome__exact": "timeout"})
    assert set(response.context["cl"].queryset.values_list("outcome", flat=True)) == {"timeout"}
    assert response.context["cl"].queryset.count() == 3


@pytest.mark.parametrize("name", sorted(EXPECTED_REPORTS))
def test_the_api_lists_the_visible_reports(personas, reports, name):
    api = APIClient()
    api.force_authenticate(personas[name])
    response = api.get("/api/v1/bureau-reports/")
    assert response.status_code == 200
    listed = {row["request_id"] for row in response.json()["results"]}
    assert listed == {f"R-{letter}" for letter in EXPECTED_REPORTS[name]}
    for letter, report in reports.items():
        status = api.get(f"/api/v1/bureau-reports/{report.pk}/").status_code
        assert status == (200 if letter in EXPECTED_REPORTS[name] else 404), (name, letter)


def test_the_api_list_runs_a_bounded_number_of_queries(personas, reports, django_assert_max_num_queries):
    api = APIClient()
    api.force_authenticate(personas["supervisor"])
    with django_assert_max_num_queries(8):
        assert api.get("/api/v1/bureau-reports/").status_code == 200


@pytest.mark.parametrize("name", sorted(EXPECTED_REPORTS))
def test_refresh_now_through_the_api_by_role(personas, world, name, django_capture_on_commit_callbacks):
    api = APIClient()
    api.force_authenticate(personas[name])
    case = world.cases["A"]
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = api.post(
            "/api/v1/bureau-reports/refresh/", {"case": case.pk, "reason": "debtor moved"}, format="json"
        )
    if name in MAY_REFRESH_A:
        assert response.status_code == 202, response.json()
        assert response.json() == {"case": case.pk, "customer": case.customer_id, "queued": True}
        assert len(queued) == 1
    else:
        assert response.status_code == 403
        assert queued == []
    assert not BureauInquiryAttempt.objects.exists()


def test_refresh_now_of_a_case_the_team_lead_cannot_see_is_refused(
    personas, world, django_capture_on_commit_callbacks
):
    api = APIClient()
    api.force_authenticate(personas["team_lead"])
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = api.post(
            "/api/v1/bureau-reports/refresh/", {"case": world.cases["B"].pk, "reason": "x"}, format="json"
        )
    assert response.status_code == 400
    assert "case" in response.json()
    assert queued == []


def test_refresh_now_needs_a_reason_and_an_open_case(personas, world, django_capture_on_commit_callbacks):
    api = APIClient()
    api.force_authenticate(personas["supervisor"])
    case = world.cases["A"]
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert (
            api.post("/api/v1/bureau-reports/refresh/", {"case": case.pk}, format="json").status_code == 400
        )
        CollectionCase.objects.filter(pk=case.pk).update(stage=CollectionCase.Stage.CLOSED)
        response = api.post(
            "/api/v1/bureau-reports/refresh/", {"case": case.pk, "reason": "x"}, format="json"
        )
    assert response.status_code == 400
    assert response.json() == {"detail": ["The case is closed."]}
    assert queued == []


def test_refresh_now_runs_the_fetch_after_commit(personas, world, bureau_settings, fake_bureau):
    """Eager Celery: the queued task fetches and records the attempt."""
    api = APIClient()
    api.force_authenticate(personas["supervisor"])
    case = world.cases["A"]
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = api.post(
            "/api/v1/bureau-reports/refresh/", {"case": case.pk, "reason": "moved"}, format="json"
        )
    assert response.status_code == 202
    attempt = BureauInquiryAttempt.objects.get()
    assert (attempt.outcome, attempt.trigger, attempt.requested_by) == (
        Outcome.OK,
        Trigger.MANUAL,
        personas["supervisor"],
    )
    assert attempt.debt.case_id == case.pk
    assert attempt.history.get().history_change_reason == "moved"


@pytest.mark.parametrize("name", ["collector", "team_lead", "supervisor"])
def test_the_admin_refresh_action_by_role(
    client, personas, reports, name, django_capture_on_commit_callbacks
):
    client.force_login(personas[name])
    url = reverse("admin:bureau_inquiry_bureaureport_changelist")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(
            url, {"action": "refresh_now", "_selected_action": [r.pk for r in reports.values()]}, follow=True
        )
    assert response.status_code == 200
    if name == "collector":
        # No request permission: the action is not offered, nothing queued.
        assert queued == []
    elif name == "team_lead":
        assert len(queued) == 1  # only case A is theirs
    else:
        assert len(queued) == 3  # A, B and C (the legal stage is still open)
