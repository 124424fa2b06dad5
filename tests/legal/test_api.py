"""``/api/v1/legal/…`` (DESIGN.md, Contracts): happy paths and 409s."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.models import CollectionCase, Debt, LedgerEntry
from cases.selectors import ledger_mismatches
from legal.models import Deadline, Filing, LegalMatter
from tests.legal.helpers import walk_to

MATTERS = "/api/v1/legal/matters/"


def referral_body(debt, court, law_firm, **overrides):
    body = {
        "case": debt.case_id,
        "debts": [debt.pk],
        "court": court.pk,
        "case_number": "(2026)沪0115民初7号",
        "law_firm": law_firm.pk,
        "claim_amount": "3150.00",
        "on": "2026-03-01",
    }
    body.update(overrides)
    return body


def test_referral_answers_201_with_the_matter_at_demand_letter(legal_api, debt, court, law_firm):
    response = legal_api.post(MATTERS, referral_body(debt, court, law_firm), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["stage"] == "demand_letter"
    assert data["claim_amount"] == "3150.00"
    assert set(data["allowed_next"]) == {"mediation", "filed", "payment_order", "closed"}
    assert data["timeline"][0]["kind"] == "transition"
    assert CollectionCase.objects.get(pk=debt.case_id).stage == "legal"


def test_a_refused_referral_answers_409_naming_the_check(legal_api, debt, court, law_firm):
    Debt.objects.filter(pk=debt.pk).update(limitation_on=date(2026, 1, 1))
    response = legal_api.post(MATTERS, referral_body(debt, court, law_firm), format="json")
    assert response.status_code == 409
    assert "time_barred" in response.json()
    assert not LegalMatter.objects.exists()


def test_detail_has_stage_and_timeline(legal_api, matter):
    data = legal_api.get(f"{MATTERS}{matter.pk}/").json()
    assert data["stage"] == "demand_letter"
    assert [item["kind"] for item in data["timeline"]] == ["transition"]


def test_transition_moves_the_matter(legal_api, matter):
    response = legal_api.post(
        f"{MATTERS}{matter.pk}/transition/",
        {"stage": "filed", "on": "2026-03-02", "reason": "filed"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["stage"] == "filed"


def test_a_jump_answers_409_with_the_allowed_next_stages(legal_api, matter):
    response = legal_api.post(
        f"{MATTERS}{matter.pk}/transition/",
        {"stage": "judgment", "on": "2026-03-02", "reason": "x"},
        format="json",
    )
    assert response.status_code == 409
    assert "allowed next: mediation, filed, payment_order, closed" in response.json()["stage"][0]
    matter.refresh_from_db()
    assert matter.stage == "demand_letter"


def test_judgment_transition_records_the_judgment_and_its_deadlines(legal_api, matter, legal_user):
    walk_to(matter, "hearing", legal_user)
    response = legal_api.post(
        f"{MATTERS}{matter.pk}/transition/",
        {
            "stage": "judgment",
            "on": "2026-03-04",
            "reason": "judged",
            "amount": "3000.00",
            "served_on": "2026-03-04",
            "effective_on": "2026-03-20",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["judgment"]["amount"] == "3000.00"
    deadlines = legal_api.get(f"/api/v1/legal/deadlines/?matter={matter.pk}").json()["results"]
    assert {(d["kind"], d["due_on"]) for d in deadlines} == {
        ("appeal", "2026-03-19"),
        ("enforcement_window", "2028-03-20"),
    }


def test_a_filing_is_uploaded_and_kept_with_the_matter(legal_api, matter, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    document = SimpleUploadedFile("complaint.pdf", b"%PDF-1.4 complaint", content_type="application/pdf")
    response = legal_api.post(
        "/api/v1/legal/filings/",
        {
            "matter": matter.pk,
            "kind": "complaint",
            "filed_on": "2026-03-02",
            "court_reference": "R-1",
            "document": document,
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    filing = Filing.objects.get()
    assert filing.document.name.startswith(f"legal/matters/{matter.pk}/filings/")
    assert filing.document.read() == b"%PDF-1.4 complaint"
    listed = legal_api.get(f"/api/v1/legal/filings/?matter={matter.pk}").json()["results"]
    assert [f["id"] for f in listed] == [filing.pk]


def test_a_hearing_is_scheduled_with_its_deadline(legal_api, matter):
    response = legal_api.post(
        "/api/v1/legal/hearings/",
        {"matter": matter.pk, "starts_at": "2026-05-06T09:30:00+08:00", "court_room": "3", "judge": "Li"},
        format="json",
    )
    assert response.status_code == 201, response.content
    hearing_id = response.json()["id"]
    assert Deadline.objects.get(hearing_id=hearing_id).due_on == date(2026, 5, 6)
    patched = legal_api.patch(f"/api/v1/legal/hearings/{hearing_id}/", {"result": "adjourned"}, format="json")
    assert patched.status_code == 200
    assert patched.json()["result"] == "adjourned"


def test_deadlines_are_added_with_reminders_and_marked_done(legal_api, matter):
    response = legal_api.post(
        "/api/v1/legal/deadlines/",
        {
            "matter": matter.pk,
            "kind": "filing",
            "due_on": "2026-04-20",
            "reminders": ["2026-04-10", "2026-04-20"],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["reminders"] == ["2026-04-10", "2026-04-20"]
    done = legal_api.patch(f"/api/v1/legal/deadlines/{response.json()['id']}/", {"done": True}, format="json")
    assert done.status_code == 200
    assert done.json()["done"] is True


def test_a_cost_posts_a_legal_cost_entry_and_a_repeat_with_the_key_returns_it(legal_api, matter, debt):
    body = {
        "matter": matter.pk,
        "debt": debt.pk,
        "kind": "court_fee",
        "amount": "120.00",
        "incurred_on": "2026-03-03",
    }
    first = legal_api.post("/api/v1/legal/costs/", body, format="json", HTTP_IDEMPOTENCY_KEY="fee-9")
    second = legal_api.post("/api/v1/legal/costs/", body, format="json", HTTP_IDEMPOTENCY_KEY="fee-9")
    assert (first.status_code, second.status_code) == (201, 200), first.content
    assert first.json()["id"] == second.json()["id"]
    assert LedgerEntry.objects.filter(debt=debt, component="legal_cost").count() == 1
    debt.refresh_from_db()
    assert debt.legal_cost_balance == Decimal("120.00")
    assert list(ledger_mismatches()) == []


def test_a_cost_on_a_closed_matter_answers_409(legal_api, matter, debt, legal_user):
    walk_to(matter, "closed", legal_user)
    body = {
        "matter": matter.pk,
        "debt": debt.pk,
        "kind": "lawyer_fee",
        "amount": "50.00",
        "incurred_on": "2026-03-03",
    }
    assert legal_api.post("/api/v1/legal/costs/", body, format="json").status_code == 409
    assert not LedgerEntry.objects.filter(component="legal_cost").exists()


def test_list_of_matters_stays_within_a_query_budget(legal_api, matter, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        response = legal_api.get(MATTERS)
    assert response.status_code == 200
    assert response.json()["count"] == 1


@pytest.mark.parametrize("endpoint", ["filings", "hearings", "deadlines", "costs"])
def test_lists_stay_within_a_query_budget(
    legal_api, matter, debt, legal_user, endpoint, django_assert_max_num_queries
):
    from legal.services import add_deadline, add_legal_cost

    for day in (10, 11, 12):
        add_deadline(matter=matter, kind="other", due_on=date(2026, 4, day), actor=legal_user, reason="x")
        add_legal_cost(
            matter=matter,
            debt=debt,
            kind="court_fee",
            amount="1.00",
            incurred_on=date(2026, 3, day),
            actor=legal_user,
        )
    with django_assert_max_num_queries(6):
        response = legal_api.get(f"/api/v1/legal/{endpoint}/?matter={matter.pk}")
    assert response.status_code == 200
