"""The agency screens: placing from the case list and by rule, recalling,
the monthly commission statement (page and CSV) and performance."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.admin import helpers
from django.urls import reverse

from cases.agencies.models import AgencyPlacement
from cases.agencies.services import place_with_agency
from cases.services.payments import post_payment
from tests.agencies.conftest import case_with_debt

pytestmark = pytest.mark.django_db

CASES = reverse("admin:cases_collectioncase_changelist")
PLACEMENTS = reverse("admin:agencies_agencyplacement_changelist")


def placed(product, agency, supervisor, **kwargs):
    case = case_with_debt(product, bucket="M2")
    return place_with_agency(
        cases=[case],
        agency=agency,
        start_on=date(2026, 2, 1),
        end_on=date(2026, 4, 30),
        actor=supervisor,
        reason="x",
    )[0]


def test_a_supervisor_places_selected_cases_from_the_case_list(client, product, agency, supervisor):
    cases = [case_with_debt(product) for _ in range(2)]
    client.force_login(supervisor)
    selection = {"action": "place_with_agency_action", helpers.ACTION_CHECKBOX_NAME: [c.pk for c in cases]}
    form = client.post(CASES, selection)
    assert form.status_code == 200 and b"Place cases with an agency" in form.content
    done = client.post(
        CASES,
        {
            **selection,
            "apply": "1",
            "agency": agency.pk,
            "start_on": "2026-02-01",
            "end_on": "2026-04-30",
            "reason": "from the list",
        },
    )
    assert done.status_code == 302
    assert set(AgencyPlacement.objects.values_list("case_id", flat=True)) == {c.pk for c in cases}


def test_collectors_are_not_offered_the_placing_action(client, product, collector, agency):
    client.force_login(collector)
    response = client.get(CASES)
    assert response.status_code == 200
    assert b"place_with_agency_action" not in response.content


def test_a_supervisor_places_by_rule(client, product, agency, supervisor):
    wanted = case_with_debt(product, bucket="M2", region="Hunan")
    case_with_debt(product, bucket="M1", region="Hunan")
    client.force_login(supervisor)
    url = reverse("admin:agencies_agencyplacement_place_by_rule")
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "agency": agency.pk,
            "start_on": "2026-02-01",
            "end_on": "2026-04-30",
            "reason": "rule",
            "buckets": ["M2"],
            "regions": "Hunan",
        },
    )
    assert response.status_code == 302, response.content
    assert list(AgencyPlacement.objects.values_list("case_id", flat=True)) == [wanted.pk]


def test_agency_staff_may_not_place_by_rule(client, agent):
    client.force_login(agent)
    assert client.get(reverse("admin:agencies_agencyplacement_place_by_rule")).status_code == 403


def test_recall_action_asks_for_a_reason(client, product, agency, supervisor):
    placement = placed(product, agency, supervisor)
    client.force_login(supervisor)
    selection = {"action": "recall_selected", helpers.ACTION_CHECKBOX_NAME: [placement.pk]}
    assert client.post(PLACEMENTS, selection).status_code == 200
    client.post(PLACEMENTS, {**selection, "apply": "1", "on": "2026-03-01", "reason": "by hand"})
    placement.refresh_from_db()
    assert placement.status == "recalled" and placement.recall_note == "by hand"


def test_the_commission_statement_page_and_csv_agree(client, product, agency, supervisor, agent):
    placement = placed(product, agency, supervisor)
    post_payment(
        debt=placement.case.debts.get(),
        amount=Decimal("333.33"),
        received_on=date(2026, 2, 10),
        reference="S1",
    )
    url = reverse("admin:agencies_agency_commission", args=[agency.pk])
    for user in (supervisor, agent):  # agency staff read their own statement
        client.force_login(user)
        page = client.get(url, {"month": "2026-02"})
        assert page.status_code == 200
        assert page.context["statement"].commission == Decimal("41.67")
        download = client.get(url, {"month": "2026-02", "format": "csv"})
        assert download["Content-Type"].startswith("text/csv")
        lines = download.content.decode().strip().splitlines()
        assert lines[1].endswith(",333.33,12.50,41.67") and lines[-1].endswith(",total,333.33,,41.67")


def test_another_agencys_statement_is_not_found(client, product, supervisor, role_groups):
    from tests.agencies.conftest import agency_staff, make_agency

    other = make_agency("Beta")
    outsider = agency_staff(make_agency("Gamma"), "gamma-1")
    client.force_login(outsider)
    url = reverse("admin:agencies_agency_commission", args=[other.pk])
    assert client.get(url, {"month": "2026-02"}).status_code == 404


def test_performance_is_for_supervision_only(client, product, agency, supervisor, agent, collector):
    placed(product, agency, supervisor)
    url = reverse("admin:agencies_agency_performance")
    client.force_login(supervisor)
    page = client.get(url, {"start": "2026-02-01", "end": "2026-02-28"})
    assert page.status_code == 200
    (row,) = page.context["rows"]
    assert row.placed_balance == Decimal("3000.00")
    for user in (agent, collector):
        client.force_login(user)
        assert client.get(url).status_code == 403


def test_placement_list_query_count_stays_flat(
    client, product, agency, supervisor, django_assert_max_num_queries
):
    for _ in range(5):
        placed(product, agency, supervisor)
    client.force_login(supervisor)
    with django_assert_max_num_queries(12):
        assert client.get(PLACEMENTS).status_code == 200


def test_agency_list_query_count_stays_flat(client, supervisor, django_assert_max_num_queries):
    from tests.agencies.conftest import make_agency

    for n in range(5):
        make_agency(f"Q{n}")
    client.force_login(supervisor)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("admin:agencies_agency_changelist"))
    assert response.status_code == 200 and b"Agency performance" in response.content
