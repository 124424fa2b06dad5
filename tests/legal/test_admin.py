"""The legal screens in the admin answer for superusers and the Legal role."""

from datetime import date, datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from legal.models import Deadline, LegalMatter, LegalNotification
from legal.services import add_deadline, add_legal_cost, schedule_hearing, send_deadline_reminders


@pytest.fixture
def busy_matter(matter, debt, legal_user):
    today = timezone.localdate()
    schedule_hearing(
        matter=matter,
        starts_at=timezone.make_aware(datetime.combine(today, datetime.min.time().replace(hour=15))),
        actor=legal_user,
        reason="set",
    )
    add_deadline(matter=matter, kind="filing", due_on=date(2026, 1, 5), actor=legal_user, reason="late one")
    add_legal_cost(
        matter=matter,
        debt=debt,
        kind="court_fee",
        amount="100.00",
        incurred_on=date(2026, 3, 2),
        actor=legal_user,
    )
    send_deadline_reminders(today=today, actor=legal_user)
    return matter


def pages(matter):
    return [
        reverse("admin:legal_legalmatter_changelist"),
        reverse("admin:legal_legalmatter_changelist") + "?stage=demand_letter",
        reverse("admin:legal_legalmatter_upcoming"),
        reverse("admin:legal_legalmatter_page", args=[matter.pk]),
        reverse("admin:legal_legalmatter_change", args=[matter.pk]),
        reverse("admin:legal_legalmatter_transition", args=[matter.pk]),
        reverse("admin:legal_deadline_changelist"),
        reverse("admin:legal_deadline_changelist") + "?overdue=yes",
        reverse("admin:legal_hearing_changelist"),
        reverse("admin:legal_filing_changelist"),
        reverse("admin:legal_legalcost_changelist"),
        reverse("admin:legal_court_changelist"),
        reverse("admin:legal_lawfirm_changelist"),
        reverse("admin:legal_legalnotification_changelist"),
        reverse("admin:legal_legalmatter_history", args=[matter.pk]),
    ]


@pytest.mark.parametrize("who", ["superuser", "legal"])
def test_legal_admin_pages_answer_200(client, admin_user, legal_user, busy_matter, who):
    client.force_login(admin_user if who == "superuser" else legal_user)
    for url in pages(busy_matter):
        assert client.get(url).status_code == 200, url


def test_overdue_deadlines_are_flagged_red(client, legal_user, busy_matter):
    client.force_login(legal_user)
    body = client.get(reverse("admin:legal_deadline_changelist")).content.decode()
    assert 'class="overdue"' in body
    page = client.get(reverse("admin:legal_legalmatter_page", args=[busy_matter.pk])).content.decode()
    assert "overdue" in page


def test_matter_page_shows_the_timeline(client, legal_user, busy_matter):
    client.force_login(legal_user)
    body = client.get(reverse("admin:legal_legalmatter_page", args=[busy_matter.pk])).content.decode()
    for kind in ("timeline-transition", "timeline-hearing", "timeline-cost"):
        assert kind in body


def test_transition_form_moves_the_matter(client, legal_user, matter):
    client.force_login(legal_user)
    url = reverse("admin:legal_legalmatter_transition", args=[matter.pk])
    response = client.post(url, {"stage": "filed", "on": "2026-03-02", "reason": "filed in court"})
    assert response.status_code == 302
    matter.refresh_from_db()
    assert matter.stage == LegalMatter.Stage.FILED


def test_transition_form_shows_a_refusal(client, legal_user, matter, debt):
    type(debt).objects.filter(pk=debt.pk).update(limitation_on=date(2026, 3, 1))
    client.force_login(legal_user)
    url = reverse("admin:legal_legalmatter_transition", args=[matter.pk])
    response = client.post(url, {"stage": "filed", "on": "2026-03-02", "reason": "filed in court"})
    assert response.status_code == 200
    assert "time-barred" in response.content.decode()
    matter.refresh_from_db()
    assert matter.stage == LegalMatter.Stage.DEMAND_LETTER


def test_notifications_list_shows_only_my_reminders(client, legal_user, busy_matter):
    assert LegalNotification.objects.filter(user=legal_user).exists()
    client.force_login(legal_user)
    body = client.get(reverse("admin:legal_legalnotification_changelist")).content.decode()
    assert "Hearing" in body
    assert Deadline.objects.filter(matter=busy_matter).count() == 2


def test_collector_cannot_open_the_legal_admin(client, matter, setup_roles):
    from backoffice import roles
    from tests.legal.conftest import user_in

    client.force_login(user_in(roles.COLLECTOR, "c1"))
    assert client.get(reverse("admin:legal_legalmatter_changelist")).status_code == 403
    assert client.get(reverse("admin:legal_legalmatter_page", args=[matter.pk])).status_code in (403, 404)
