"""Who sees bureau rows and screens (``backoffice.access``), and the
submission screens: list, detail, download, the bureau's answer; marking an
account reported in error. Denials leave nothing written."""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from backoffice import access
from cases.bureau.models import AssociatedConsumer, BureauSubmission, FurnisherProfile, FurnishingState
from cases.bureau.services import add_associated_consumer, generate_submission, send_submission
from tests.factories import CustomerFactory

pytest_plugins = ["tests.personas"]
pytestmark = pytest.mark.django_db

PORTFOLIO_ROLES = {"compliance", "supervisor", "administrator", "superuser"}


@pytest.fixture
def submission(world, personas):
    creditor = world.cases["A"].debts.first().creditor
    made = generate_submission(
        creditor=creditor, period=date(2026, 1, 1), actor=personas["superuser"], generated_at=timezone.now()
    )
    return send_submission(submission=made, actor=personas["superuser"], at=timezone.now())


@pytest.mark.parametrize("function", ["bureau_submissions_for", "furnisher_profiles_for"])
def test_portfolio_rows_are_for_the_roles_that_see_every_case(world, personas, submission, function):
    FurnisherProfile.objects.create(creditor=submission.creditor, identification_number="ID")
    every = set(getattr(access, function)(personas["superuser"]).values_list("pk", flat=True))
    assert every
    for name in world.PERSONAS:
        got = set(getattr(access, function)(world.fresh(personas[name])).values_list("pk", flat=True))
        assert got == (every if name in PORTFOLIO_ROLES else set()), name


def test_an_accounts_furnishing_rows_follow_its_case(world, personas):
    debt_a = world.cases["A"].debts.first()
    debt_b = world.cases["B"].debts.first()
    state = FurnishingState.objects.create(debt=debt_a)
    row = add_associated_consumer(
        debt=debt_b,
        customer=CustomerFactory(),
        ecoa_code="2",
        own_address=False,
        actor=personas["superuser"],
        reason="joint",
    )
    for name in world.PERSONAS:
        user = world.fresh(personas[name])
        sees_bureau = user.has_perm("bureau.view_furnishingstate")
        expected_states = {state.pk} if sees_bureau and "A" in world.CASES_SEEN[name] else set()
        expected_rows = {row.pk} if sees_bureau and "B" in world.CASES_SEEN[name] else set()
        assert set(access.furnishing_states_for(user).values_list("pk", flat=True)) == expected_states, name
        assert set(access.associated_consumers_for(user).values_list("pk", flat=True)) == expected_rows, name


def test_supervisor_lists_opens_and_downloads_a_submission(
    client, personas, submission, django_assert_max_num_queries
):
    client.force_login(personas["supervisor"])
    with django_assert_max_num_queries(15):
        response = client.get(reverse("admin:bureau_bureausubmission_changelist"))
    assert response.status_code == 200
    assert list(response.context["cl"].queryset) == [submission]
    detail = client.get(reverse("admin:bureau_bureausubmission_change", args=[submission.pk]))
    assert detail.status_code == 200
    assert submission.file_name in detail.content.decode()
    download = client.get(reverse("admin:bureau_bureausubmission_download", args=[submission.pk]))
    assert download.status_code == 200
    body = b"".join(download.streaming_content).decode()
    assert body.startswith("0426HEADER") and "TRAILER" in body


def test_supervisor_may_not_record_the_bureaus_answer(client, personas, submission):
    client.force_login(personas["supervisor"])
    url = reverse("admin:bureau_bureausubmission_respond", args=[submission.pk])
    response = client.post(url, {"outcome": "accepted", "reason": "ok"})
    assert response.status_code == 403
    submission.refresh_from_db()
    assert submission.status == BureauSubmission.Status.SENT


def test_administrator_records_a_rejection_with_the_error_lines(client, personas, submission):
    client.force_login(personas["administrator"])
    url = reverse("admin:bureau_bureausubmission_respond", args=[submission.pk])
    assert client.get(url).status_code == 200
    missing = client.post(url, {"outcome": "rejected", "error_lines": "", "reason": "rejected"})
    assert missing.status_code == 200 and "error lines" in missing.content.decode()
    response = client.post(
        url, {"outcome": "rejected", "error_lines": "L2 17A bad", "reason": "bureau rejected"}
    )
    assert response.status_code == 302
    submission.refresh_from_db()
    assert (submission.status, submission.error_lines) == (BureauSubmission.Status.REJECTED, "L2 17A bad")
    assert submission.history.latest().history_user == personas["administrator"]


@pytest.mark.parametrize("name", ["collector", "team_lead", "legal", "agency", "outsider"])
def test_other_roles_get_no_submission_screen_or_file(client, personas, submission, name):
    client.force_login(personas[name])
    assert client.get(reverse("admin:bureau_bureausubmission_changelist")).status_code == 403
    download = client.get(reverse("admin:bureau_bureausubmission_download", args=[submission.pk]))
    assert download.status_code in (403, 404)
    respond = client.post(
        reverse("admin:bureau_bureausubmission_respond", args=[submission.pk]),
        {"outcome": "accepted", "reason": "x"},
    )
    assert respond.status_code in (403, 404)
    submission.refresh_from_db()
    assert submission.status == BureauSubmission.Status.SENT


def test_administrator_marks_an_account_reported_in_error(client, world, personas):
    debt = world.cases["A"].debts.first()
    client.force_login(personas["administrator"])
    url = reverse("admin:bureau_furnishingstate_mark_in_error")
    response = client.post(url, {"debt": debt.pk, "reason": "identity theft"})
    assert response.status_code == 302
    state = FurnishingState.objects.get(debt=debt)
    assert state.reported_in_error and state.error_marked_by == personas["administrator"]


@pytest.mark.parametrize("name", ["supervisor", "compliance", "collector", "outsider"])
def test_roles_without_the_change_permission_cannot_mark_in_error(client, world, personas, name):
    debt = world.cases["A"].debts.first()
    client.force_login(personas[name])
    response = client.post(
        reverse("admin:bureau_furnishingstate_mark_in_error"), {"debt": debt.pk, "reason": "x"}
    )
    assert response.status_code == 403
    assert not FurnishingState.objects.filter(debt=debt).exists()
    assert not FurnishingState.history.filter(debt_id=debt.pk).exists()


def test_administrator_adds_a_co_borrower_through_the_service(client, world, personas):
    debt = world.cases["A"].debts.first()
    spouse = CustomerFactory()
    client.force_login(personas["administrator"])
    response = client.post(
        reverse("admin:bureau_associatedconsumer_add"),
        {"debt": debt.pk, "customer": spouse.pk, "ecoa_code": "2", "own_address": ""},
    )
    assert response.status_code == 302
    row = AssociatedConsumer.objects.get(debt=debt)
    assert row.history.latest().history_change_reason == "co-borrower added in admin"


def test_the_screens_have_simplified_chinese_names():
    from django.utils import translation

    with translation.override("zh-hans"):
        assert str(BureauSubmission._meta.verbose_name_plural) == "征信报送"
        assert str(BureauSubmission.Status.REJECTED.label) == "已拒绝"


def test_the_api_lists_submissions_to_the_portfolio_roles_only(
    world, personas, submission, django_assert_max_num_queries
):
    from rest_framework.test import APIClient

    for name in world.PERSONAS:
        client = APIClient()
        client.force_authenticate(world.fresh(personas[name]))
        with django_assert_max_num_queries(12):
            response = client.get("/api/v1/bureau-submissions/", {"status": "sent"})
        assert response.status_code == 200, name
        ids = [row["id"] for row in response.json()["results"]]
        assert ids == ([submission.pk] if name in PORTFOLIO_ROLES else []), name
    client = APIClient()
    client.force_authenticate(personas["administrator"])
    row = client.get(f"/api/v1/bureau-submissions/{submission.pk}/").json()
    assert (row["period"], row["status"], row["base_records"]) == ("2026-01", "sent", submission.base_records)
    assert client.post("/api/v1/bureau-submissions/", {}).status_code == 405


def test_answering_an_already_answered_file_says_why(client, personas, submission):
    client.force_login(personas["administrator"])
    url = reverse("admin:bureau_bureausubmission_respond", args=[submission.pk])
    assert client.post(url, {"outcome": "accepted", "reason": "ok"}).status_code == 302
    again = client.post(url, {"outcome": "rejected", "error_lines": "x", "reason": "again"})
    assert again.status_code == 200
    assert "not sent" in again.content.decode()
    submission.refresh_from_db()
    assert submission.status == BureauSubmission.Status.ACCEPTED


@pytest.mark.parametrize(("name", "offered"), [("supervisor", False), ("administrator", True)])
def test_the_send_action_is_offered_to_those_who_may_send(client, personas, submission, name, offered):
    client.force_login(personas[name])
    response = client.get(reverse("admin:bureau_bureausubmission_changelist"))
    assert response.status_code == 200
    assert ("send_files" in response.context["cl"].model_admin.get_actions(response.wsgi_request)) is offered
