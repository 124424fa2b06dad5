"""Agency staff see only what the placement shares (issue #15).

Replayed finding: on a case placed with an outside agency *without* sharing
the lender's contact history, the agency's staff still read the case's own
history (who it was assigned to, stage moves and their reasons) and the
lender's SMS, emails and letters. ``backoffice.access`` now decides both
(``case_histories_for``, ``messages_for``), and the case page, the
timeline, ``messages/``, the message admin, letter downloads and the case's
admin history pages all follow it. With sharing on they see them; the
lender's own staff are unaffected; messages the agency sent stay visible.
"""

from datetime import date
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from backoffice import access, roles
from cases.agencies.models import AgencyPlacement
from cases.agencies.services import place_with_agency
from cases.models import CollectionCase, Message
from cases.selectors.work import case_timeline
from cases.services.assignment import assign_cases
from cases.services.stages import change_stage
from tests.agencies.conftest import agency_staff, case_with_debt, client_for, make_agency, user_in
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def role_groups(db):
    call_command("setup_roles", stdout=StringIO())


@pytest.fixture
def supervisor():
    return user_in(roles.SUPERVISOR, "sup")


@pytest.fixture
def collector():
    return user_in(roles.COLLECTOR, "col")


@pytest.fixture
def agency():
    return make_agency("Alpha")


@pytest.fixture
def agent(agency):
    return agency_staff(agency, "alpha-agent")


@pytest.fixture
def product():
    return ProductFactory()


STAGE_REASON = "lender moved it: STAGE-REASON-SECRET"
ASSIGN_REASON = "lender routing: ASSIGN-REASON-SECRET"
LENDER_SMS = "LENDER-SMS-SECRET please pay"
AGENCY_SMS = "AGENCY-OWN-SMS from Alpha"


def _message(case, *, body: str, created_by=None, channel="sms", key: str) -> Message:
    return Message.objects.create(
        case=case,
        channel=channel,
        language="en",
        recipient="+8613800000001",
        body=body,
        status=Message.Status.SENT,
        sent_at=timezone.now(),
        idempotency_key=key,
        created_by=created_by,
    )


@pytest.fixture
def story(product, agency, agent, supervisor, collector, settings, tmp_path):
    """A case with the lender's history (an assignment and a stage move, with
    reasons) and messages (an SMS and a letter), placed with the agency
    without sharing; plus an SMS the agency's own staff sent."""
    settings.MEDIA_ROOT = str(tmp_path)
    case = case_with_debt(product)
    assign_cases(cases=[case], actor=supervisor, reason=ASSIGN_REASON, collector=collector)
    change_stage(
        case=case,
        stage=CollectionCase.Stage.HARD,
        actor=supervisor,
        reason=STAGE_REASON,
        today=timezone.localdate(),
    )
    place_with_agency(
        cases=[case],
        agency=agency,
        start_on=date(2026, 2, 1),
        end_on=date(2026, 12, 31),
        actor=supervisor,
        reason="placed",
        share_contact_history=False,
    )
    lender_sms = _message(case, body=LENDER_SMS, key="lender-sms")
    letter = _message(case, body="LENDER-LETTER", channel="letter", key="lender-letter")
    letter.document.save("letter.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"))
    own_sms = _message(case, body=AGENCY_SMS, created_by=agent, key="agency-sms")
    return {
        "case": CollectionCase.objects.get(pk=case.pk),
        "sms": lender_sms,
        "letter": letter,
        "own": own_sms,
    }


def share(case) -> None:
    AgencyPlacement.objects.filter(case=case).update(share_contact_history=True)


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_text(user, case) -> str:
    response = browser(user).get(reverse("admin:cases_collectioncase_work", args=[case.pk]))
    assert response.status_code == 200
    return response.content.decode()


def api_timeline(user, case) -> str:
    response = client_for(user).get(f"/api/v1/cases/{case.pk}/")
    assert response.status_code == 200
    return " ".join(event["summary"] for event in response.json()["timeline"])


def message_ids(user) -> set[int]:
    response = client_for(user).get("/api/v1/messages/")
    assert response.status_code == 200
    return {row["id"] for row in response.json()["results"]}


def test_access_hides_the_lenders_messages_and_the_case_history_without_sharing(story, agent):
    case = story["case"]
    assert set(access.messages_for(agent).values_list("pk", flat=True)) == {story["own"].pk}
    assert not access.case_histories_for(agent).exists()
    assert not access.may_read_case_history(agent, case)
    assert access.cases_for(agent).filter(pk=case.pk).exists()  # the case itself stays theirs
    share(case)
    assert set(access.messages_for(agent).values_list("pk", flat=True)) == {
        story["sms"].pk,
        story["letter"].pk,
        story["own"].pk,
    }
    assert access.may_read_case_history(agent, case)


def test_the_case_page_shows_no_history_and_no_lender_messages_without_sharing(story, agent):
    html = page_text(agent, story["case"])
    assert 'id="case-history"' not in html
    assert reverse("admin:cases_collectioncase_history", args=[story["case"].pk]) not in html
    for secret in (
        STAGE_REASON,
        ASSIGN_REASON,
        "STAGE-REASON-SECRET",
        "ASSIGN-REASON-SECRET",
        "LENDER-SMS-SECRET",
    ):
        assert secret not in html, secret
    assert 'class="kind-stage"' not in html and 'class="kind-message"' in html  # their own SMS only
    assert "AGENCY-OWN-SMS" in html


def test_the_case_page_shows_history_and_messages_when_the_placement_shares(story, agent):
    share(story["case"])
    html = page_text(agent, story["case"])
    assert 'id="case-history"' in html
    assert "STAGE-REASON-SECRET" in html and "LENDER-SMS-SECRET" in html


def test_the_timeline_drops_stage_and_lender_message_events_without_sharing(story, agent):
    case = story["case"]
    kinds = [(e["kind"], e["summary"]) for e in case_timeline(case, user=agent)]
    assert not [k for k in kinds if k[0] == "stage"]
    assert [s for k, s in kinds if k == "message"] and all(
        "AGENCY-OWN-SMS" in s for k, s in kinds if k == "message"
    )
    text = api_timeline(agent, case)
    assert "STAGE-REASON-SECRET" not in text and "LENDER-SMS-SECRET" not in text
    share(case)
    text = api_timeline(agent, case)
    assert "STAGE-REASON-SECRET" in text and "LENDER-SMS-SECRET" in text


def test_the_messages_api_lists_and_shows_only_the_agencys_own_without_sharing(story, agent):
    assert message_ids(agent) == {story["own"].pk}
    client = client_for(agent)
    assert client.get(f"/api/v1/messages/{story['sms'].pk}/").status_code == 404
    assert client.get(f"/api/v1/messages/?case={story['case'].pk}").json()["count"] == 1
    assert client.get(f"/api/v1/messages/{story['own'].pk}/").status_code == 200
    share(story["case"])
    assert message_ids(agent) == {story["sms"].pk, story["letter"].pk, story["own"].pk}
    assert client.get(f"/api/v1/messages/{story['sms'].pk}/").status_code == 200


def test_the_message_admin_hides_the_lenders_messages_without_sharing(story, agent):
    client = browser(agent)
    listing = client.get(reverse("admin:cases_message_changelist"))
    assert listing.status_code == 200
    assert "LENDER-LETTER" not in listing.content.decode() and "+8613800000001" in listing.content.decode()
    assert client.get(reverse("admin:cases_message_change", args=[story["sms"].pk])).status_code == 404
    assert client.get(reverse("admin:cases_message_history", args=[story["sms"].pk])).status_code == 404
    download = reverse("admin:cases_message_letter_download", args=[story["letter"].pk])
    assert client.get(download).status_code == 404
    share(story["case"])
    assert client.get(reverse("admin:cases_message_change", args=[story["sms"].pk])).status_code == 200
    assert client.get(download).status_code == 200


def test_the_case_admin_history_pages_answer_404_without_sharing(story, agent):
    case = story["case"]
    client = browser(agent)
    history = reverse("admin:cases_collectioncase_history", args=[case.pk])
    version = case.history.order_by("-history_id").first()
    old = reverse("admin:cases_collectioncase_simple_history", args=[case.pk, version.history_id])
    assert client.get(history).status_code == 404
    assert client.get(old).status_code == 404
    assert client.get(reverse("admin:cases_collectioncase_history", args=["not-a-number"])).status_code == 404
    share(case)
    response = client.get(history)
    assert response.status_code == 200 and "STAGE-REASON-SECRET" in response.content.decode()


def test_the_lenders_staff_are_unaffected(story, supervisor, collector):
    case = story["case"]
    for user in (supervisor, collector):
        html = page_text(user, case)
        assert 'id="case-history"' in html and "STAGE-REASON-SECRET" in html and "LENDER-SMS-SECRET" in html
        assert {story["sms"].pk, story["letter"].pk, story["own"].pk} <= message_ids(user)
        assert (
            browser(user).get(reverse("admin:cases_collectioncase_history", args=[case.pk])).status_code
            == 200
        )
        assert access.may_read_case_history(user, case)


def test_a_recalled_placement_ends_even_the_agencys_own_messages(story, agent, supervisor):
    from cases.agencies.services import recall_placement

    share(story["case"])
    placement = AgencyPlacement.objects.get(case=story["case"])
    recall_placement(placement=placement, on=date(2026, 3, 1), actor=supervisor, reason="recall")
    fresh = type(agent).objects.get(pk=agent.pk)
    assert not access.messages_for(fresh).exists()
    assert not access.case_histories_for(fresh).exists()
