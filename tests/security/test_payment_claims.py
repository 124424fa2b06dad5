"""Maker–checker for money entered by people (issue #14).

Replayed probe: a collector posting the whole balance of their own debt made
it ``paid``. Now collectors and team leads record a *payment claim*; a second
person holding ``cases.approve_payment`` (Supervisor, Administrator, the
Payments role) approves it, which posts it through ``post_payment``, or
rejects it with a reason. Integration users keep posting directly.
"""

from datetime import timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from backoffice import roles
from backoffice.errors import Conflict, NotAllowed
from cases.models import CollectionCase, Debt, Payment, PaymentClaim
from cases.selectors.work import case_timeline
from cases.services.claims import approve_claim, clean_claim_amount, reject_claim, submit_claim
from tests.factories import UserFactory, make_debt

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def people(db):
    call_command("setup_roles", stdout=StringIO())
    users = {}
    for name, role in (
        ("collector", roles.COLLECTOR),
        ("collector2", roles.COLLECTOR),
        ("team_lead", roles.TEAM_LEAD),
        ("supervisor", roles.SUPERVISOR),
        ("administrator", roles.ADMINISTRATOR),
        ("payments", roles.PAYMENTS),
        ("integration", roles.INTEGRATION),
    ):
        user = UserFactory(username=f"claims_{name}")
        user.groups.add(Group.objects.get(name=role))
        users[name] = user
    return users


@pytest.fixture
def debt(people):
    """An open debt of the collector's case: 3000.00 principal, nothing due yet."""
    today = timezone.localdate()
    debt = make_debt(opened_on=today - timedelta(days=10))
    CollectionCase.objects.filter(pk=debt.case_id).update(assigned_to=people["collector"])
    debt.refresh_from_db()
    return debt


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def claim_body(debt, **overrides) -> dict:
    return {
        "debt": debt.pk,
        "amount": str(debt.total_balance),
        "received_on": timezone.localdate().isoformat(),
        "channel": "bank_transfer",
        "reference": "TRF-0001",
        **overrides,
    }


def fresh(user):
    return type(user).objects.get(pk=user.pk)


# --- the replayed probe --------------------------------------------------------------------


def test_collectors_claim_for_the_whole_balance_leaves_the_debt_open_until_a_supervisor_approves(
    people, debt
):
    balance = debt.total_balance
    response = client_for(people["collector"]).post(
        "/api/v1/payment-claims/", claim_body(debt), format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["amount"], body["currency"]) == ("pending", str(balance), debt.currency)
    debt.refresh_from_db()
    assert debt.status == Debt.Status.OPEN
    assert debt.total_balance == balance
    assert not Payment.objects.filter(debt=debt).exists()

    approved = client_for(people["supervisor"]).post(
        f"/api/v1/payment-claims/{body['id']}/approve/",
        {"reason": "matches the bank statement"},
        format="json",
    )
    assert approved.status_code == 200, approved.json()
    claim = PaymentClaim.objects.get(pk=body["id"])
    debt.refresh_from_db()
    assert debt.status == Debt.Status.PAID
    payment = Payment.objects.get(debt=debt)
    assert (payment.reference, payment.amount, payment.created_by) == (
        "TRF-0001",
        balance,
        people["supervisor"],
    )
    assert (claim.status, claim.payment, claim.decided_by) == ("approved", payment, people["supervisor"])
    assert approved.json()["payment"] == payment.pk
    # Who recorded it and who approved it, each with a reason, on the history.
    rows = list(claim.history.order_by("history_id").values_list("history_user_id", "history_change_reason"))
    assert rows[0] == (people["collector"].pk, "payment claim recorded through the API")
    assert rows[-1][0] == people["supervisor"].pk
    assert "matches the bank statement" in rows[-1][1]


def test_a_collector_posting_to_payments_gets_403_and_nothing_is_written(people, debt):
    response = client_for(people["collector"]).post(
        "/api/v1/payments/", {**claim_body(debt), "currency": debt.currency}, format="json"
    )
    assert response.status_code == 403
    assert not Payment.objects.exists()
    debt.refresh_from_db()
    assert debt.status == Debt.Status.OPEN


def test_a_team_lead_records_claims_but_may_not_post_or_approve(people, debt):
    lead = fresh(people["team_lead"])
    assert lead.has_perm("cases.add_paymentclaim")
    assert not lead.has_perm("cases.add_payment")
    assert not lead.has_perm("cases.approve_payment")


def test_the_payments_role_approves_a_collectors_claim(people, debt):
    claim = submit_claim(
        debt=debt,
        amount="100.00",
        received_on=timezone.localdate(),
        channel="cash",
        reference="CASH-1",
        actor=people["collector"],
        reason="cash at the branch",
    )
    approve_claim(claim=claim, actor=fresh(people["payments"]), reason="receipt checked")
    claim.refresh_from_db()
    assert claim.status == "approved"
    assert claim.payment.amount == Decimal("100.00")


# --- maker–checker rules --------------------------------------------------------------


def test_nobody_approves_or_rejects_their_own_claim(people, debt):
    administrator = people["administrator"]
    created = client_for(administrator).post("/api/v1/payment-claims/", claim_body(debt), format="json")
    assert created.status_code == 201
    claim_id = created.json()["id"]
    history = PaymentClaim.history.count()
    client = client_for(administrator)
    approve = client.post(f"/api/v1/payment-claims/{claim_id}/approve/", {"reason": "mine"}, format="json")
    reject = client.post(f"/api/v1/payment-claims/{claim_id}/reject/", {"reason": "mine"}, format="json")
    assert (approve.status_code, reject.status_code) == (409, 409)
    assert "own" in str(approve.json())
    assert PaymentClaim.objects.get(pk=claim_id).status == "pending"
    assert not Payment.objects.exists()
    assert PaymentClaim.history.count() == history
    with pytest.raises(NotAllowed):
        approve_claim(claim=claim_id, actor=fresh(administrator), reason="mine")


def test_a_collector_may_not_approve_even_a_colleagues_claim(people, debt):
    CollectionCase.objects.filter(pk=debt.case_id).update(assigned_to=people["collector2"])
    claim = submit_claim(
        debt=debt,
        amount="10.00",
        received_on=timezone.localdate(),
        channel="cash",
        reference="C-2",
        actor=people["collector2"],
        reason="cash",
    )
    CollectionCase.objects.filter(pk=debt.case_id).update(assigned_to=people["collector"])
    response = client_for(people["collector"]).post(
        f"/api/v1/payment-claims/{claim.pk}/approve/", {"reason": "x"}, format="json"
    )
    assert response.status_code == 403
    with pytest.raises(NotAllowed):
        approve_claim(claim=claim, actor=fresh(people["collector"]), reason="x")
    assert not Payment.objects.exists()


def test_rejecting_needs_a_reason_and_posts_nothing(people, debt):
    claim = submit_claim(
        debt=debt,
        amount="500.00",
        received_on=timezone.localdate(),
        channel="wechat",
        reference="WX-1",
        actor=people["collector"],
        reason="debtor says paid",
    )
    client = client_for(people["supervisor"])
    for body in ({}, {"reason": ""}, {"reason": "   "}):
        response = client.post(f"/api/v1/payment-claims/{claim.pk}/reject/", body, format="json")
        assert response.status_code == 400, body
        assert "reason" in response.json()
    claim.refresh_from_db()
    assert claim.status == "pending"
    response = client.post(
        f"/api/v1/payment-claims/{claim.pk}/reject/", {"reason": "no such transfer"}, format="json"
    )
    assert response.status_code == 200
    claim.refresh_from_db()
    assert (claim.status, claim.reject_reason, claim.decided_by) == (
        "rejected",
        "no such transfer",
        people["supervisor"],
    )
    assert not Payment.objects.exists()
    # Decided: neither approved nor rejected again.
    with pytest.raises(Conflict):
        approve_claim(claim=claim, actor=fresh(people["supervisor"]), reason="changed my mind")
    again = client.post(f"/api/v1/payment-claims/{claim.pk}/reject/", {"reason": "again"}, format="json")
    assert again.status_code == 409


def test_approving_twice_posts_once(people, debt):
    claim = submit_claim(
        debt=debt,
        amount="250.00",
        received_on=timezone.localdate(),
        channel="alipay",
        reference="ALI-1",
        actor=people["collector"],
        reason="alipay screenshot",
    )
    first = approve_claim(claim=claim, actor=fresh(people["supervisor"]), reason="ok")
    second = approve_claim(claim=claim, actor=fresh(people["payments"]), reason="ok too")
    assert first.payment_id == second.payment_id
    assert Payment.objects.filter(debt=debt).count() == 1
    assert second.decided_by == people["supervisor"]
    response = client_for(people["supervisor"]).post(
        f"/api/v1/payment-claims/{claim.pk}/approve/", {}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["payment"] == first.payment_id
    assert Payment.objects.filter(debt=debt).count() == 1
    debt.refresh_from_db()
    assert debt.total_balance == Decimal("2750.00")


def test_a_claim_the_ledger_refuses_stays_pending(people, debt):
    """An overpayment found at approval: ``post_payment`` refuses, nothing moves."""
    claim = submit_claim(
        debt=debt,
        amount="99999.00",
        received_on=timezone.localdate(),
        channel="bank_transfer",
        reference="BIG-1",
        actor=people["collector"],
        reason="too much",
    )
    response = client_for(people["supervisor"]).post(
        f"/api/v1/payment-claims/{claim.pk}/approve/", {"reason": "ok"}, format="json"
    )
    assert response.status_code == 400
    assert "amount" in response.json()
    claim.refresh_from_db()
    assert claim.status == "pending"
    assert not Payment.objects.exists()


def test_a_reference_already_on_the_ledger_or_claimed_is_refused(people, debt):
    client = client_for(people["collector"])
    assert (
        client.post("/api/v1/payment-claims/", claim_body(debt, amount="10.00"), format="json").status_code
        == 201
    )
    again = client.post("/api/v1/payment-claims/", claim_body(debt, amount="10.00"), format="json")
    assert again.status_code == 409
    assert "reference" in again.json()
    posted = client_for(people["integration"]).post(
        "/api/v1/payments/",
        {**claim_body(debt, amount="5.00", reference="BANK-9"), "currency": debt.currency},
    )
    assert posted.status_code == 201, posted.json()
    claimed = client.post("/api/v1/payment-claims/", claim_body(debt, reference="BANK-9"), format="json")
    assert claimed.status_code == 409
    assert PaymentClaim.objects.count() == 1


def test_a_collector_cannot_claim_on_a_debt_they_do_not_see(people, debt):
    response = client_for(people["collector2"]).post(
        "/api/v1/payment-claims/", claim_body(debt), format="json"
    )
    assert response.status_code == 400
    assert "debt" in response.json()
    assert not PaymentClaim.objects.exists()


def test_integration_users_post_payments_directly(people, debt):
    response = client_for(people["integration"]).post(
        "/api/v1/payments/",
        {**claim_body(debt, reference="BANK-1"), "currency": debt.currency},
        format="json",
    )
    assert response.status_code == 201, response.json()
    debt.refresh_from_db()
    assert debt.status == Debt.Status.PAID
    assert not PaymentClaim.objects.exists()


# --- bad input: 400, nothing written ------------------------------------------------------------

BAD_AMOUNTS = [
    "1e3",
    "1E3",
    "-1",
    "1.001",
    " 1000",
    "1000 ",
    "1,000",
    "0",
    "0.00",
    "+5",
    "abc",
    "NaN",
    "Infinity",
]


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_bad_amounts_are_refused_with_400_and_nothing_is_written(people, debt, amount):
    history = PaymentClaim.history.count()
    response = client_for(people["collector"]).post(
        "/api/v1/payment-claims/", claim_body(debt, amount=amount), format="json"
    )
    assert response.status_code == 400, response.json()
    assert "amount" in response.json()
    assert not PaymentClaim.objects.exists()
    assert PaymentClaim.history.count() == history


def test_a_bad_amount_in_a_multipart_claim_is_refused_too(people, debt):
    response = client_for(people["collector"]).post(
        "/api/v1/payment-claims/",
        {**claim_body(debt, amount="1e3"), "evidence": SimpleUploadedFile("r.pdf", PDF, "application/pdf")},
        format="multipart",
    )
    assert response.status_code == 400
    assert "amount" in response.json()
    assert not PaymentClaim.objects.exists()


def test_a_json_number_with_an_exponent_is_refused(people, debt):
    response = client_for(people["collector"]).post(
        "/api/v1/payment-claims/",
        f'{{"debt": {debt.pk}, "amount": 1e3, "received_on": "{timezone.localdate().isoformat()}", '
        '"channel": "cash", "reference": "N-1"}',
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "amount" in response.json()


@pytest.mark.parametrize(
    ("value", "expected"), [("1413.50", "1413.50"), ("7", "7.00"), (12, "12.00"), (Decimal("3.1"), "3.10")]
)
def test_plain_amounts_are_read_as_typed(value, expected):
    assert clean_claim_amount(value) == Decimal(expected)


@pytest.mark.parametrize("value", [1.5, Decimal("1E+3"), Decimal("1.001"), True, None])
def test_the_service_refuses_what_is_not_a_plain_amount(value):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as info:
        clean_claim_amount(value)
    assert "amount" in info.value.message_dict


def test_a_future_received_date_is_refused(people, debt):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = client_for(people["collector"]).post(
        "/api/v1/payment-claims/", claim_body(debt, received_on=tomorrow), format="json"
    )
    assert response.status_code == 400
    assert "received_on" in response.json()


# --- evidence ---------------------------------------------------------------------------


def _media_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT) / "payment_claims"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_evidence_too_large_is_refused_and_not_stored(people, debt, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.PAYMENT_CLAIM_EVIDENCE_MAX_BYTES = 1024
    big = SimpleUploadedFile("receipt.pdf", PDF + b"0" * 2048, "application/pdf")
    response = client_for(people["collector"]).post(
        "/api/v1/payment-claims/", {**claim_body(debt), "evidence": big}, format="multipart"
    )
    assert response.status_code == 400
    assert "evidence" in response.json()
    assert not PaymentClaim.objects.exists()
    assert _media_files(settings) == []


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("receipt.pdf", b"<html><script>alert(1)</script></html>", "application/pdf"),
        ("receipt.exe", b"MZ\x90\x00" + b"\x00" * 60, "application/octet-stream"),
        ("receipt.gif", b"GIF89a" + b"\x00" * 20, "image/gif"),
    ],
)
def test_evidence_of_another_type_is_refused(people, debt, settings, tmp_path, name, content, content_type):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile(name, content, content_type)
    response = client_for(people["collector"]).post(
        "/api/v1/payment-claims/", {**claim_body(debt), "evidence": upload}, format="multipart"
    )
    assert response.status_code == 400
    assert "evidence" in response.json()
    assert not PaymentClaim.objects.exists()
    assert _media_files(settings) == []


def test_evidence_is_stored_under_a_generated_name_and_served_only_to_who_sees_the_claim(
    people, debt, settings, tmp_path, client
):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("../../etc/passwd.png", PNG, "image/png")
    response = client_for(people["collector"]).post(
        "/api/v1/payment-claims/", {**claim_body(debt), "evidence": upload}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["has_evidence"] is True
    claim = PaymentClaim.objects.get()
    assert claim.evidence.name.startswith("payment_claims/")
    assert claim.evidence.name.endswith(".png") and "passwd" not in claim.evidence.name
    (stored,) = _media_files(settings)
    assert stored.read_bytes() == PNG
    assert str(stored).startswith(str(tmp_path))

    url = reverse("admin:cases_paymentclaim_evidence", args=[claim.pk])
    client.force_login(people["supervisor"])
    download = client.get(url)
    assert download.status_code == 200
    assert download["Content-Type"] == "image/png"
    assert b"".join(download.streaming_content) == PNG
    client.force_login(people["collector2"])
    assert client.get(url).status_code == 404


# --- the admin: case page, queue, timeline ------------------------------------------------------


def test_a_collector_records_a_claim_on_the_case_page(people, debt, client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(people["collector"])
    page = reverse("admin:cases_collectioncase_work", args=[debt.case_id])
    html = client.get(page).content.decode()
    assert 'id="form-claim"' in html and 'enctype="multipart/form-data"' in html
    assert reverse("admin:cases_payment_add") not in html
    response = client.post(
        page,
        {
            "action": "claim",
            "claim-debt": debt.pk,
            "claim-amount": str(debt.total_balance),
            "claim-received_on": timezone.localdate().isoformat(),
            "claim-channel": "cash",
            "claim-reference": "CASE-PAGE-1",
            "claim-evidence": SimpleUploadedFile("r.pdf", PDF, "application/pdf"),
        },
    )
    assert response.status_code == 302
    claim = PaymentClaim.objects.get()
    assert (claim.status, claim.claimed_by, bool(claim.evidence)) == ("pending", people["collector"], True)
    debt.refresh_from_db()
    assert debt.status == Debt.Status.OPEN
    assert not Payment.objects.exists()
    timeline = client.get(page).context["timeline"]
    assert any(e["kind"] == "claim" and "CASE-PAGE-1" in e["summary"] for e in timeline)


def test_a_bad_amount_on_the_case_page_shows_on_the_form(people, debt, client):
    client.force_login(people["collector"])
    page = reverse("admin:cases_collectioncase_work", args=[debt.case_id])
    response = client.post(
        page,
        {
            "action": "claim",
            "claim-debt": debt.pk,
            "claim-amount": "1e3",
            "claim-received_on": timezone.localdate().isoformat(),
            "claim-channel": "cash",
            "claim-reference": "CASE-PAGE-2",
        },
    )
    assert response.status_code == 200
    assert response.context["forms"]["claim"].errors["amount"]
    assert not PaymentClaim.objects.exists()


def test_supervisor_approves_and_rejects_from_the_queue(people, debt, client, django_assert_max_num_queries):
    claims = [
        submit_claim(
            debt=debt,
            amount=amount,
            received_on=timezone.localdate(),
            channel="cash",
            reference=f"Q-{n}",
            actor=people["collector"],
            reason="queue",
        )
        for n, amount in enumerate(["100.00", "200.00", "300.00"])
    ]
    reject_claim(claim=claims[0], actor=people["supervisor"], reason="duplicate")
    client.force_login(people["supervisor"])
    url = reverse("admin:cases_paymentclaim_changelist")
    with django_assert_max_num_queries(15):
        listed = client.get(url)
    assert listed.status_code == 200
    order = [c.pk for c in listed.context["cl"].result_list]
    assert order[-1] == claims[0].pk  # decided claims after the pending ones
    assert set(order[:2]) == {claims[1].pk, claims[2].pk}

    response = client.post(
        url, {"action": "approve_selected", "_selected_action": [claims[1].pk], "index": 0}, follow=True
    )
    assert response.status_code == 200
    assert PaymentClaim.objects.get(pk=claims[1].pk).status == "approved"
    assert Payment.objects.get().reference == "Q-1"

    asked = client.post(url, {"action": "reject_selected", "_selected_action": [claims[2].pk], "index": 0})
    assert asked.status_code == 200 and "reason" in asked.context["form"].fields
    client.post(
        url,
        {
            "action": "reject_selected",
            "_selected_action": [claims[2].pk],
            "apply": "1",
            "reason": "no receipt",
        },
    )
    rejected = PaymentClaim.objects.get(pk=claims[2].pk)
    assert (rejected.status, rejected.reject_reason) == ("rejected", "no receipt")

    timeline = case_timeline(debt.case_id, user=fresh(people["collector"]))
    summaries = [e["summary"] for e in timeline if e["kind"] == "claim"]
    assert any("Q-1 approved" in s for s in summaries)
    assert any("Q-2 rejected: no receipt" in s for s in summaries)


def test_collectors_get_no_approve_action_in_the_queue(people, debt, client):
    submit_claim(
        debt=debt,
        amount="10.00",
        received_on=timezone.localdate(),
        channel="cash",
        reference="Q-X",
        actor=people["collector"],
        reason="queue",
    )
    client.force_login(people["collector"])
    response = client.get(reverse("admin:cases_paymentclaim_changelist"))
    assert response.status_code == 200
    assert "approve_selected" not in response.content.decode()
    claim = PaymentClaim.objects.get()
    client.post(
        reverse("admin:cases_paymentclaim_changelist"),
        {"action": "approve_selected", "_selected_action": [claim.pk], "index": 0},
    )
    claim.refresh_from_db()
    assert claim.status == "pending"
    assert not Payment.objects.exists()


def test_the_claims_list_answers_in_a_fixed_number_of_queries(people, debt, django_assert_max_num_queries):
    for n in range(5):
        submit_claim(
            debt=debt,
            amount="1.00",
            received_on=timezone.localdate(),
            channel="cash",
            reference=f"L-{n}",
            actor=people["collector"],
            reason="list",
        )
    client = client_for(people["collector"])
    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/payment-claims/")
    assert response.status_code == 200
    assert response.json()["count"] == 5
