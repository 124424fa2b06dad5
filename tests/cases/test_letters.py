"""Issuing demand letters (stored with the case, once a day) and the admin's
preview and download views (access through ``backoffice.access``, audited)."""

import logging
from datetime import date

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import include, path, reverse

from backoffice.errors import Conflict
from cases.admin.letters import letter_urls
from cases.models import CollectionCase, Debt, Message
from cases.services.holds import place_hold
from cases.services.letters import issue_demand_letter
from tests.cases.test_letters_render import TODAY, make_letter_debt
from tests.factories import UserFactory

pytest_plugins = ["tests.personas"]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

# The lead wires ``letter_urls()`` into ``DebtAdmin.get_urls``; these tests
# mount them on their own so they do not depend on that wiring.
urlpatterns = [
    path("admin/", admin.site.urls),
    path("letters/", include(letter_urls())),
]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def debt():
    return make_letter_debt("CN")


@pytest.fixture
def superuser(db):
    return UserFactory(username="letters-root", is_superuser=True)


@pytest.fixture
def staff_without_permissions(db):
    return UserFactory(username="letters-staff")


def letter_files(media) -> list:
    return sorted(p for p in media.rglob("*.pdf")) if media.exists() else []


def preview_url(debt_id: int, language: str = "zh-hans") -> str:
    return reverse("cases_debt_letter_preview", args=[debt_id]) + f"?language={language}&date=2026-03-20"


# --- issue_demand_letter --------------------------------------------------------


def test_issued_letter_is_a_sent_letter_message_of_the_case_with_the_pdf(debt, superuser):
    message = issue_demand_letter(debt=debt, today=TODAY, actor=superuser)
    assert message.channel == "letter"
    assert message.status == Message.Status.SENT
    assert message.case_id == debt.case_id and message.debt_id == debt.pk
    assert message.language == "zh-hans"  # the customer's preferred language
    assert message.idempotency_key == f"letter:{debt.pk}:2026-03-20"
    assert message.contact_point.value == "北京市朝阳区建国路88号3号楼1201室"
    assert message.sent_at is not None and message.created_by == superuser
    with message.document.open("rb") as handle:
        assert handle.read(5) == b"%PDF-"


def test_issuing_twice_the_same_day_stores_one_letter_and_one_file(debt, superuser, media):
    first = issue_demand_letter(debt=debt, today=TODAY, actor=superuser)
    second = issue_demand_letter(debt=debt, today=TODAY, actor=superuser, language="en")
    assert second.pk == first.pk and second.language == "zh-hans"
    assert Message.objects.filter(debt=debt, channel="letter").count() == 1
    assert len(letter_files(media)) == 1


def test_a_new_business_date_issues_a_new_letter(debt, superuser, media):
    issue_demand_letter(debt=debt, today=TODAY, actor=superuser)
    issue_demand_letter(debt=debt, today=date(2026, 3, 21), actor=superuser)
    assert Message.objects.filter(debt=debt, channel="letter").count() == 2
    assert len(letter_files(media)) == 2


def test_issuing_writes_history_with_the_actor_and_the_reason(debt, superuser):
    message = issue_demand_letter(debt=debt, today=TODAY, actor=superuser, reason="M2 demand letter")
    history = list(message.history.all())
    assert len(history) == 1
    assert history[0].history_user == superuser
    assert history[0].history_change_reason == "M2 demand letter"
    assert history[0].history_type == "+"


def test_no_letter_while_the_case_is_on_hold(debt, superuser, media):
    place_hold(case=debt.case, hold="dispute", actor=superuser, reason="consumer disputes")
    with pytest.raises(Conflict):
        issue_demand_letter(debt=debt, today=TODAY, actor=superuser)
    assert not Message.objects.filter(debt=debt).exists()
    assert letter_files(media) == []


def test_no_letter_without_a_postal_address_we_may_write_to(debt, superuser, media):
    debt.customer.contact_points.filter(kind="address").update(do_not_contact=True)
    with pytest.raises(ValidationError):
        issue_demand_letter(debt=debt, today=TODAY, actor=superuser)
    assert not Message.objects.filter(debt=debt).exists()
    assert letter_files(media) == []


# --- preview ----------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_preview_returns_the_pdf_inline_for_a_visible_debt(client, debt, superuser, language, caplog):
    client.force_login(superuser)
    with caplog.at_level(logging.INFO, logger="ledgerline.audit"):
        response = client.get(preview_url(debt.pk, language))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline;")
    assert response.content.startswith(b"%PDF-")
    [entry] = [r for r in caplog.records if r.name == "ledgerline.audit"]
    assert entry.user_id == superuser.pk and entry.debt_id == debt.pk and entry.language == language
    assert not Message.objects.exists()  # a preview stores and sends nothing


def test_preview_is_404_for_a_debt_outside_the_users_access(client, debt, staff_without_permissions, caplog):
    client.force_login(staff_without_permissions)
    with caplog.at_level(logging.INFO, logger="ledgerline.audit"):
        response = client.get(preview_url(debt.pk))
    assert response.status_code == 404
    assert not [r for r in caplog.records if r.name == "ledgerline.audit"]


def test_preview_refuses_an_unknown_language(client, debt, superuser):
    client.force_login(superuser)
    assert client.get(preview_url(debt.pk, "fr")).status_code == 400


def test_preview_needs_a_staff_login(client, debt):
    response = client.get(preview_url(debt.pk))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


@pytest.mark.parametrize("persona", ["collector", "supervisor", "outsider"])
@pytest.mark.parametrize("letter", ["A", "B"])
def test_collectors_and_supervisors_preview_exactly_the_debts_they_see(
    client, world, personas, persona, letter
):
    client.force_login(personas[persona])
    debt = world.row(Debt, letter)
    response = client.get(preview_url(debt.pk, "en"))
    assert response.status_code == (200 if letter in world.CASES_SEEN[persona] else 404)


# --- download ---------------------------------------------------------------------


def test_download_returns_the_stored_letter_and_logs_who_what_when(client, debt, superuser, caplog):
    message = issue_demand_letter(debt=debt, today=TODAY, actor=superuser)
    client.force_login(superuser)
    with caplog.at_level(logging.INFO, logger="ledgerline.audit"):
        response = client.get(reverse("cases_message_letter_download", args=[message.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    [entry] = [r for r in caplog.records if r.name == "ledgerline.audit"]
    assert entry.getMessage() == "demand letter downloaded"
    assert entry.user_id == superuser.pk
    assert entry.message_id == message.pk and entry.debt_id == debt.pk and entry.case_id == debt.case_id
    assert entry.document == message.document.name
    assert entry.at


def test_download_is_404_outside_the_users_access_and_not_logged(
    client, debt, superuser, staff_without_permissions, caplog
):
    message = issue_demand_letter(debt=debt, today=TODAY, actor=superuser)
    client.force_login(staff_without_permissions)
    with caplog.at_level(logging.INFO, logger="ledgerline.audit"):
        response = client.get(reverse("cases_message_letter_download", args=[message.pk]))
    assert response.status_code == 404
    assert not [r for r in caplog.records if r.name == "ledgerline.audit"]


def test_download_is_404_for_a_message_that_is_not_a_letter(client, debt, superuser):
    sms = Message.objects.create(
        case=CollectionCase.objects.get(pk=debt.case_id),
        debt=debt,
        channel="sms",
        language="zh-hans",
        recipient="+8613800000000",
        body="提醒",
        idempotency_key="sms:test",
    )
    client.force_login(superuser)
    assert client.get(reverse("cases_message_letter_download", args=[sms.pk])).status_code == 404
