"""``agencies/`` and ``agency-placements/`` (the matrices cover every
persona's reads and refusals; these are the writes and their answers)."""

from datetime import date
from decimal import Decimal

import pytest

from cases.agencies.models import Agency, AgencyPlacement
from cases.agencies.services import place_with_agency
from tests.agencies.conftest import case_with_debt, client_for

pytestmark = pytest.mark.django_db


def test_a_supervisor_adds_an_agency_with_rates_and_changes_them(supervisor):
    client = client_for(supervisor)
    body = {
        "name": "Gamma",
        "licence_number": "GD-2026-001",
        "contact_name": "Ms Li",
        "commission_rates": [
            {"bucket": "M1", "rate_percent": "8.00"},
            {"bucket": "M2", "rate_percent": "12.50"},
        ],
        "reason": "new agency",
    }
    made = client.post("/api/v1/agencies/", body, format="json")
    assert made.status_code == 201, made.json()
    agency = Agency.objects.get(name="Gamma")
    assert dict(agency.commission_rates.values_list("bucket", "rate_percent")) == {
        "M1": Decimal("8.00"),
        "M2": Decimal("12.50"),
    }
    assert agency.history.get().history_change_reason == "new agency"
    changed = client.patch(
        f"/api/v1/agencies/{agency.pk}/",
        {
            "commission_rates": [{"bucket": "M2", "rate_percent": "15.00"}],
            "active": False,
            "reason": "renegotiated",
        },
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    assert changed.json()["commission_rates"] == [{"bucket": "M2", "rate_percent": "15.00"}]
    agency.refresh_from_db()
    assert agency.active is False


def test_bad_rates_answer_400_and_write_nothing(supervisor):
    body = {
        "name": "Bad",
        "licence_number": "X",
        "commission_rates": [{"bucket": "M1", "rate_percent": "101"}],
    }
    response = client_for(supervisor).post("/api/v1/agencies/", body, format="json")
    assert response.status_code == 400
    assert not Agency.objects.filter(name="Bad").exists()


def test_agency_staff_read_their_agency_and_may_not_change_it(agent, agency):
    client = client_for(agent)
    assert [row["name"] for row in client.get("/api/v1/agencies/").json()["results"]] == ["Alpha"]
    response = client.patch(f"/api/v1/agencies/{agency.pk}/", {"active": False}, format="json")
    assert response.status_code == 403
    agency.refresh_from_db()
    assert agency.active and agency.history.count() == 1


def test_post_places_a_selection_and_recall_takes_it_back(product, agency, supervisor):
    cases = [case_with_debt(product, bucket="M2") for _ in range(2)]
    client = client_for(supervisor)
    body = {
        "agency": agency.pk,
        "cases": [c.pk for c in cases],
        "start_on": "2026-02-01",
        "end_on": "2026-04-30",
        "instructions": "Calls only",
        "reason": "Feb book",
    }
    placed = client.post("/api/v1/agency-placements/", body, format="json")
    assert placed.status_code == 201, placed.json()
    rows = placed.json()
    assert [row["commission_rate"] for row in rows] == ["12.50", "12.50"]
    assert rows[0]["balance_at_placement"] == "3000.00" and rows[0]["status"] == "open"
    again = client.post("/api/v1/agency-placements/", body, format="json")
    assert again.status_code == 409 and AgencyPlacement.objects.count() == 2
    first = rows[0]["id"]
    recalled = client.post(
        f"/api/v1/agency-placements/{first}/recall/",
        {"reason": "too slow", "on": "2026-03-01"},
        format="json",
    )
    assert recalled.status_code == 200, recalled.json()
    assert recalled.json()["status"] == "recalled" and recalled.json()["recall_note"] == "too slow"
    twice = client.post(f"/api/v1/agency-placements/{first}/recall/", {"reason": "again"}, format="json")
    assert twice.status_code == 409
    no_reason = client.post(f"/api/v1/agency-placements/{rows[1]['id']}/recall/", {}, format="json")
    assert no_reason.status_code == 400


def test_post_places_by_rule(product, agency, supervisor):
    wanted = case_with_debt(product, bucket="M3", region="Hunan")
    case_with_debt(product, bucket="M1", region="Hunan")
    body = {
        "agency": agency.pk,
        "rule": {"buckets": ["M3"], "regions": ["Hunan"], "products": [product.pk]},
        "start_on": "2026-02-01",
        "end_on": "2026-04-30",
        "reason": "rule",
    }
    response = client_for(supervisor).post("/api/v1/agency-placements/", body, format="json")
    assert response.status_code == 201, response.json()
    assert [row["case"] for row in response.json()] == [wanted.pk]


def test_agency_staff_may_not_place_or_recall(product, agency, agent, supervisor):
    case = case_with_debt(product)
    client = client_for(agent)
    body = {
        "agency": agency.pk,
        "cases": [case.pk],
        "start_on": "2026-02-01",
        "end_on": "2026-04-30",
        "reason": "x",
    }
    assert client.post("/api/v1/agency-placements/", body, format="json").status_code == 403
    assert not AgencyPlacement.objects.exists()
    (placement,) = place_with_agency(
        cases=[case],
        agency=agency,
        start_on=date(2026, 2, 1),
        end_on=date(2026, 4, 30),
        actor=supervisor,
        reason="x",
    )
    listed = client.get("/api/v1/agency-placements/").json()["results"]
    assert [row["id"] for row in listed] == [placement.pk]
    assert listed[0]["instructions"] == ""
    response = client.post(
        f"/api/v1/agency-placements/{placement.pk}/recall/", {"reason": "mine"}, format="json"
    )
    assert response.status_code == 403
    placement.refresh_from_db()
    assert placement.status == "open" and placement.history.count() == 1


def test_placement_list_is_a_fixed_number_of_queries(
    product, agency, supervisor, django_assert_max_num_queries
):
    cases = [case_with_debt(product) for _ in range(5)]
    place_with_agency(
        cases=cases,
        agency=agency,
        start_on=date(2026, 2, 1),
        end_on=date(2026, 4, 30),
        actor=supervisor,
        reason="x",
    )
    client = client_for(supervisor)
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/agency-placements/")
    assert response.json()["count"] == 5


def test_agency_list_is_a_fixed_number_of_queries(supervisor, django_assert_max_num_queries):
    from tests.agencies.conftest import make_agency

    for n in range(5):
        make_agency(f"Q{n}")
    client = client_for(supervisor)
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/agencies/")
    assert response.json()["count"] == 5
    assert len(response.json()["results"][0]["commission_rates"]) == 8
