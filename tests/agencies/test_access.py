"""What agency staff see and do: only the cases placed with their agency,
the lender's contact notes only when the placement shares them, and their
calls counted with the lender's under CN's daily cap (RULES §4)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from backoffice import access
from cases.agencies.models import AgencyPlacement
from cases.agencies.services import place_with_agency
from cases.models import ContactAttempt
from cases.services.contacts import log_contact
from tests.agencies.conftest import agency_staff, case_with_debt, client_for, make_agency
from tests.factories import ContactPointFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def place(case, agency, actor, share=False):
    return place_with_agency(
        cases=[case],
        agency=agency,
        start_on=date(2026, 2, 1),
        end_on=date(2026, 12, 31),
        actor=actor,
        reason="placed",
        share_contact_history=share,
    )[0]


@pytest.fixture
def placed(product, agency, supervisor):
    case = case_with_debt(product)
    place(case, agency, supervisor)
    return case


def call(case, actor, point, hour, outcome="right_party", note=""):
    return log_contact(
        case=case,
        party="debtor",
        channel="call",
        outcome=outcome,
        started_at=datetime(2026, 2, 2, hour, 0, tzinfo=SHANGHAI),
        actor=actor,
        contact_point=point,
        note=note,
    )


def test_agency_staff_see_their_placed_case_only(placed, product, agent, supervisor, role_groups):
    other_agency = make_agency("Beta")
    elsewhere = case_with_debt(product)
    place(elsewhere, other_agency, supervisor)
    unplaced = case_with_debt(product)
    assert set(access.cases_for(agent).values_list("pk", flat=True)) == {placed.pk}
    assert set(access.writable_cases_for(agent).values_list("pk", flat=True)) == {placed.pk}
    assert set(access.agencies_for(agent).values_list("name", flat=True)) == {"Alpha"}
    assert set(access.agency_placements_for(agent).values_list("case_id", flat=True)) == {placed.pk}
    assert unplaced.pk not in set(access.debts_for(agent).values_list("case_id", flat=True))
    beta_agent = agency_staff(other_agency, "beta-agent")
    assert set(access.cases_for(beta_agent).values_list("pk", flat=True)) == {elsewhere.pk}


def test_the_lenders_notes_stay_hidden_unless_the_placement_shares_them(
    placed, agent, collector, role_groups
):
    point = ContactPointFactory(customer=placed.customer)
    lender = call(placed, collector, point, 9, outcome="no_answer", note="internal: customer is litigious")
    own = call(placed, agent, point, 10, outcome="no_answer", note="agency call")
    colleague = agency_staff(agent.agency_membership.agency, "alpha-2")
    theirs = call(placed, colleague, point, 11, outcome="no_answer")
    assert set(access.contacts_for(agent).values_list("pk", flat=True)) == {own.pk, theirs.pk}
    AgencyPlacement.objects.filter(case=placed).update(share_contact_history=True)
    assert set(access.contacts_for(agent).values_list("pk", flat=True)) == {lender.pk, own.pk, theirs.pk}


def test_cn_cap_on_answered_calls_counts_the_lender_and_the_agency_together(placed, agent, collector):
    """RULES §4 ``calls.answered``: ≤ 3 a day per debtor, lender and agencies together."""
    point = ContactPointFactory(customer=placed.customer)
    call(placed, collector, point, 9)
    call(placed, collector, point, 10)
    client = client_for(agent)
    body = {
        "case": placed.pk,
        "party": "debtor",
        "channel": "call",
        "contact_point": point.pk,
        "outcome": "right_party",
        "started_at": "2026-02-02T11:00:00+08:00",
    }
    assert client.post("/api/v1/contacts/", body, format="json").status_code == 201
    body["started_at"] = "2026-02-02T12:00:00+08:00"
    refused = client.post("/api/v1/contacts/", body, format="json")
    assert refused.status_code == 409
    assert refused.json()["rules"] == ["calls.answered"]
    outcomes = list(
        ContactAttempt.objects.filter(case=placed).order_by("started_at").values_list("outcome", "created_by")
    )
    assert outcomes == [
        ("right_party", collector.pk),
        ("right_party", collector.pk),
        ("right_party", agent.pk),
        ("refused", agent.pk),
    ]


def test_agency_staff_work_through_the_same_services_on_their_case_only(placed, product, agent):
    elsewhere = case_with_debt(product)
    client = client_for(agent)
    due = (timezone.localdate() + timedelta(days=10)).isoformat()  # the service wants it soon
    promise = {"case": placed.pk, "amount": "100.00", "due_on": due}
    made = client.post("/api/v1/promises/", promise, format="json")
    assert made.status_code == 201, made.json()
    assert ContactAttempt.objects.count() == 0
    refused = client.post("/api/v1/promises/", {**promise, "case": elsewhere.pk}, format="json")
    assert refused.status_code == 400  # a case they cannot see is "unknown"
    assert not elsewhere.promises.exists()
    assert client.post("/api/v1/payments/", {}, format="json").status_code == 403
    assert client.get(f"/api/v1/cases/{elsewhere.pk}/").status_code == 404
    assert client.get(f"/api/v1/cases/{placed.pk}/").status_code == 200


def test_a_recall_ends_the_agencys_access_at_once(placed, agent, supervisor):
    from cases.agencies.services import recall_placement

    placement = AgencyPlacement.objects.get(case=placed)
    recall_placement(placement=placement, on=date(2026, 3, 1), actor=supervisor, reason="recall")
    fresh = type(agent).objects.get(pk=agent.pk)
    assert not access.cases_for(fresh).exists()
    assert client_for(fresh).get(f"/api/v1/cases/{placed.pk}/").status_code == 404


def test_the_case_timeline_hides_the_lenders_notes_from_agency_staff(placed, agent, collector, supervisor):
    """The case page and ``cases/{id}/`` read contacts through ``contacts_for``."""
    point = ContactPointFactory(customer=placed.customer)
    call(placed, collector, point, 9, outcome="no_answer", note="internal: customer is litigious")
    call(placed, agent, point, 10, outcome="no_answer", note="agency call")

    def timeline_text(user):
        body = client_for(user).get(f"/api/v1/cases/{placed.pk}/")
        assert body.status_code == 200
        return " ".join(event["summary"] for event in body.json()["timeline"])

    assert "agency call" in timeline_text(agent)
    assert "litigious" not in timeline_text(agent), timeline_text(agent)
    assert "litigious" in timeline_text(supervisor)

    from django.test import Client

    browser = Client()
    browser.force_login(agent)
    page = browser.get(f"/admin/cases/collectioncase/{placed.pk}/work/")
    assert page.status_code == 200
    assert "agency call" in page.content.decode()
    assert "litigious" not in page.content.decode()
    AgencyPlacement.objects.filter(case=placed).update(share_contact_history=True)
    assert "litigious" in timeline_text(agent)
