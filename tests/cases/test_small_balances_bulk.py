"""Bulk settlement offers for small balances (docs/small-balances.md):
preview to the cent, one approval for the selection, settlements through the
settlements service, waivers through the ledger, idempotent, supervisors only."""

import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db.models import Sum
from django.urls import reverse

from cases.models import (
    BulkSettlementOffer,
    BulkSettlementOfferItem,
    Debt,
    LedgerEntry,
    Message,
    MessageTemplate,
    Settlement,
)
from cases.services.holds import place_hold
from cases.services.payments import post_payment
from cases.services.settlements import propose_settlement
from cases.services.small_balances import (
    approve_bulk_offer,
    close_bulk_offer,
    close_expired_bulk_offers,
    preview_bulk_offer,
    save_bulk_offer_draft,
)
from tests.factories import ContactPointFactory, ProductFactory, UserFactory, make_debt

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 2, 2)
AT = datetime(2026, 2, 2, 10, 0, tzinfo=SHANGHAI)
EXPIRES = date(2026, 3, 31)


@pytest.fixture(autouse=True)
def roles(db):
    call_command("setup_roles", stdout=io.StringIO())


def member(username: str, role: str):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def supervisor():
    return member("supervisor", "Supervisor")


@pytest.fixture
def team_lead():
    return member("lead", "Team lead")


@pytest.fixture
def product():
    # No penalty interest: balances stay as placed, so every figure is exact.
    return ProductFactory(
        policy__digital_only_below=Decimal("500.00"), policy__penalty_daily_rate=Decimal("0")
    )


@pytest.fixture
def template():
    return MessageTemplate.objects.create(
        code="settlement_offer",
        channel="sms",
        language="zh-hans",
        body="{{ account_number }}: pay {{ settlement_amount }} {{ currency }} "
        "by {{ settlement_valid_until }}. {{ opt_out }}",
    )


def owing(amount: str, *, product, phone: bool = True) -> Debt:
    debt = make_debt(
        product=product,
        instalments=[{"due_on": date(2026, 1, 15), "principal": Decimal(amount), "interest": Decimal("0")}],
    )
    if phone:
        ContactPointFactory(customer=debt.customer)
    debt.refresh_from_db()
    return debt


@pytest.fixture
def debts(product):
    """Three small debts, one at the threshold (not selected) and a large one."""
    return {
        "a": owing("100.00", product=product),
        "b": owing("333.33", product=product),
        "c": owing("499.99", product=product),
        "at_threshold": owing("500.00", product=product),
        "large": owing("2000.00", product=product),
    }


def draft(of, actor, **overrides) -> BulkSettlementOffer:
    """A draft offer over the policy of the product ``of``."""
    values = {
        "name": "Small balances February",
        "policy": of.policy,
        "discount_percent": Decimal("33.33"),
        "expires_on": EXPIRES,
    }
    values.update(overrides)
    return save_bulk_offer_draft(offer=BulkSettlementOffer(**values), actor=actor, today=TODAY)


# --- preview ------------------------------------------------------------------------


def test_preview_counts_and_totals_to_the_cent(product, debts, supervisor):
    preview = preview_bulk_offer(offer=draft(product, supervisor))
    # 100.00 → pays 66.67; 333.33 → 222.23 (222.2270 half-up); 499.99 → 333.34 (333.3433)
    assert preview.count == 3
    assert preview.total_balance == Decimal("933.32")
    assert preview.total_amount == Decimal("66.67") + Decimal("222.23") + Decimal("333.34")
    assert preview.total_waiver == Decimal("33.33") + Decimal("111.10") + Decimal("166.65")
    assert preview.total_waiver == Decimal("311.08")
    assert preview.skipped == [] and preview.band_below == Decimal("500.00")


def test_preview_honours_the_band_and_reports_debts_it_would_skip(product, debts, supervisor):
    propose_settlement(
        case=debts["b"].case,
        debt=debts["b"],
        discount_percent="10",
        valid_until=EXPIRES,
        today=TODAY,
        actor=supervisor,
    )
    preview = preview_bulk_offer(offer=draft(product, supervisor, balance_min=Decimal("200.00")))
    assert preview.count == 1 and preview.total_balance == Decimal("499.99")
    assert [(s.debt_id, s.reason) for s in preview.skipped] == [
        (debts["b"].pk, "already has an open settlement")
    ]


def test_a_draft_without_a_band_top_needs_the_policy_threshold(supervisor):
    policy_product = ProductFactory()
    with pytest.raises(ValidationError) as excinfo:
        draft(policy_product, supervisor)
    assert "balance_max" in excinfo.value.message_dict
    assert not BulkSettlementOffer.objects.exists()


def test_a_product_of_another_policy_is_refused(product, supervisor):
    with pytest.raises(ValidationError) as excinfo:
        draft(product, supervisor, product=ProductFactory())
    assert "product" in excinfo.value.message_dict


# --- approval -----------------------------------------------------------------------


def test_approval_creates_one_approved_settlement_per_selected_debt(product, debts, supervisor, template):
    offer = draft(product, supervisor)
    result = approve_bulk_offer(offer=offer, actor=supervisor, today=TODAY, at=AT, reason="February campaign")
    assert result.approved_now and result.offered == 3 and result.skipped == 0
    settlements = Settlement.objects.order_by("debt_id")
    assert [s.debt_id for s in settlements] == [debts["a"].pk, debts["b"].pk, debts["c"].pk]
    assert [s.amount for s in settlements] == [Decimal("66.67"), Decimal("222.23"), Decimal("333.34")]
    assert {s.status for s in settlements} == {Settlement.Status.APPROVED}
    assert {s.approved_by for s in settlements} == {supervisor}
    assert {s.valid_until for s in settlements} == {EXPIRES}
    offer.refresh_from_db()
    assert offer.status == BulkSettlementOffer.Status.APPROVED
    assert offer.approved_by == supervisor and offer.approved_at == AT
    assert offer.approval_reason == "February campaign"
    assert (offer.offered_count, offer.skipped_count) == (3, 0)
    assert offer.total_balance == Decimal("933.32") and offer.total_waiver == Decimal("311.08")
    assert settlements[0].history.first().history_change_reason == f"bulk offer {offer.pk} approved"


def test_approval_sends_each_offer_as_a_message_quoting_the_amount(product, debts, supervisor, template):
    approve_bulk_offer(offer=draft(product, supervisor), actor=supervisor, today=TODAY, at=AT)
    messages = Message.objects.order_by("debt_id")
    assert messages.count() == 3
    assert {m.status for m in messages} == {Message.Status.QUEUED}
    assert f"{debts['a'].account_number}: pay 66.67 CNY by 2026-03-31." in messages[0].body
    assert set(BulkSettlementOfferItem.objects.values_list("message_id", flat=True)) == {
        m.pk for m in messages
    }


def test_a_customer_with_no_phone_gets_the_settlement_and_a_note(product, supervisor, template):
    debt = owing("50.00", product=product, phone=False)
    result = approve_bulk_offer(offer=draft(product, supervisor), actor=supervisor, today=TODAY, at=AT)
    assert result.offered == 1 and result.messages_not_sent == 1
    item = BulkSettlementOfferItem.objects.get(debt=debt)
    assert item.settlement is not None and item.message is None
    assert item.message_note.startswith("not sent:")


def test_paying_the_amount_settles_the_debt_and_waives_the_rest_in_the_ledger(
    product, debts, supervisor, template
):
    approve_bulk_offer(offer=draft(product, supervisor), actor=supervisor, today=TODAY, at=AT)
    debt = debts["b"]
    post_payment(
        debt=debt,
        amount=Decimal("222.23"),
        received_on=date(2026, 2, 10),
        reference="BULK-B-1",
        actor=supervisor,
    )
    debt.refresh_from_db()
    assert debt.status == Debt.Status.SETTLED
    assert debt.total_balance == Decimal("0.00")
    waivers = LedgerEntry.objects.filter(debt=debt, kind=LedgerEntry.Kind.WAIVER)
    assert waivers.aggregate(total=Sum("amount"))["total"] == Decimal("-111.10")
    settlement = Settlement.objects.get(debt=debt)
    assert settlement.status == Settlement.Status.PAID and settlement.paid_amount == Decimal("222.23")
    # The other offers are untouched.
    assert Settlement.objects.filter(status=Settlement.Status.APPROVED).count() == 2


def test_approving_twice_does_nothing_the_second_time(product, debts, supervisor, template):
    offer = draft(product, supervisor)
    approve_bulk_offer(offer=offer, actor=supervisor, today=TODAY, at=AT)
    counts = (Settlement.objects.count(), Message.objects.count(), BulkSettlementOfferItem.objects.count())
    history = offer.history.count()
    again = approve_bulk_offer(offer=offer, actor=supervisor, today=TODAY, at=AT)
    assert not again.approved_now and again.offered == 3
    assert (
        Settlement.objects.count(),
        Message.objects.count(),
        BulkSettlementOfferItem.objects.count(),
    ) == counts
    assert offer.history.count() == history


def test_a_debt_already_in_a_settlement_or_on_hold_is_skipped_and_reported(
    product, debts, supervisor, template
):
    existing = propose_settlement(
        case=debts["a"].case,
        debt=debts["a"],
        discount_percent="5",
        valid_until=EXPIRES,
        today=TODAY,
        actor=supervisor,
    )
    place_hold(case=debts["c"].case, hold="complaint", actor=supervisor, reason="complaint")
    result = approve_bulk_offer(offer=draft(product, supervisor), actor=supervisor, today=TODAY, at=AT)
    assert (result.offered, result.skipped) == (1, 2)
    skipped = {i.debt_id: i.skip_reason for i in BulkSettlementOfferItem.objects.filter(outcome="skipped")}
    assert set(skipped) == {debts["a"].pk, debts["c"].pk}
    assert "open settlement" in skipped[debts["a"].pk]
    assert "hold" in skipped[debts["c"].pk]
    assert list(Settlement.objects.filter(debt=debts["a"])) == [existing]
    assert not Settlement.objects.filter(debt=debts["c"]).exists()


def test_a_team_lead_cannot_approve_and_nothing_is_written(product, debts, supervisor, team_lead, template):
    offer = draft(product, supervisor)
    with pytest.raises(PermissionDenied):
        approve_bulk_offer(offer=offer, actor=team_lead, today=TODAY, at=AT)
    offer.refresh_from_db()
    assert offer.status == BulkSettlementOffer.Status.DRAFT
    assert not Settlement.objects.exists() and not Message.objects.exists()
    assert not BulkSettlementOfferItem.objects.exists()


def test_approval_without_the_message_template_writes_nothing(product, debts, supervisor):
    offer = draft(product, supervisor)
    with pytest.raises(ValidationError) as excinfo:
        approve_bulk_offer(offer=offer, actor=supervisor, today=TODAY, at=AT)
    assert "template_code" in excinfo.value.message_dict
    offer.refresh_from_db()
    assert offer.status == BulkSettlementOffer.Status.DRAFT and not Settlement.objects.exists()


def test_an_approved_offer_is_no_longer_editable(product, debts, supervisor, template):
    offer = draft(product, supervisor)
    approve_bulk_offer(offer=offer, actor=supervisor, today=TODAY, at=AT)
    offer.discount_percent = Decimal("90")
    with pytest.raises(ValidationError):
        save_bulk_offer_draft(offer=offer, actor=supervisor, today=TODAY)
    offer.refresh_from_db()
    assert offer.discount_percent == Decimal("33.33")


# --- closing -----------------------------------------------------------------------


def test_closing_cancels_the_unpaid_settlements_only(product, debts, supervisor, template):
    offer = draft(product, supervisor)
    approve_bulk_offer(offer=offer, actor=supervisor, today=TODAY, at=AT)
    post_payment(
        debt=debts["a"],
        amount=Decimal("10.00"),
        received_on=date(2026, 2, 5),
        reference="P-A",
        actor=supervisor,
    )
    close_bulk_offer(offer=offer, actor=supervisor, today=date(2026, 2, 6), reason="campaign ended")
    offer.refresh_from_db()
    assert offer.status == BulkSettlementOffer.Status.CLOSED and offer.closed_on == date(2026, 2, 6)
    statuses = dict(Settlement.objects.values_list("debt_id", "status"))
    assert statuses == {
        debts["a"].pk: Settlement.Status.APPROVED,
        debts["b"].pk: Settlement.Status.CANCELLED,
        debts["c"].pk: Settlement.Status.CANCELLED,
    }


def test_expired_offers_close_in_close_of_business(product, debts, supervisor, template):
    offer = draft(product, supervisor)
    approve_bulk_offer(offer=offer, actor=supervisor, today=TODAY, at=AT)
    assert close_expired_bulk_offers(business_date=EXPIRES, actor=supervisor) == 0
    assert close_expired_bulk_offers(business_date=date(2026, 4, 1), actor=supervisor) == 1
    assert close_expired_bulk_offers(business_date=date(2026, 4, 1), actor=supervisor) == 0
    offer.refresh_from_db()
    assert offer.status == BulkSettlementOffer.Status.CLOSED


# --- admin ---------------------------------------------------------------------------


# Admin uses the real date: its offers run far into the future.
LATER = date(2099, 12, 31)


def approve_url(offer) -> str:
    return reverse("admin:cases_bulksettlementoffer_approve", args=[offer.pk])


def test_admin_page_shows_the_preview(client, product, debts, supervisor):
    offer = draft(product, supervisor, expires_on=LATER)
    client.force_login(supervisor)
    response = client.get(reverse("admin:cases_bulksettlementoffer_change", args=[offer.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "933.32" in page and "311.08" in page
    assert approve_url(offer) in page


def test_admin_approve_button_approves_the_selection(client, product, debts, supervisor, template):
    offer = draft(product, supervisor, expires_on=LATER)
    client.force_login(supervisor)
    response = client.post(approve_url(offer), {"reason": "approved in the Monday meeting"})
    assert response.status_code == 302
    offer.refresh_from_db()
    assert offer.status == BulkSettlementOffer.Status.APPROVED
    assert offer.approval_reason == "approved in the Monday meeting"
    assert Settlement.objects.count() == 3


def test_admin_approve_refuses_get(client, product, supervisor):
    offer = draft(product, supervisor, expires_on=LATER)
    client.force_login(supervisor)
    assert client.get(approve_url(offer)).status_code == 405
    offer.refresh_from_db()
    assert offer.status == BulkSettlementOffer.Status.DRAFT


@pytest.mark.parametrize("role", ["Team lead", "Collector", "Compliance"])
def test_admin_approve_is_denied_to_other_roles(client, product, debts, supervisor, template, role):
    offer = draft(product, supervisor, expires_on=LATER)
    client.force_login(member("someone", role))
    response = client.post(approve_url(offer), {"reason": "try"})
    assert response.status_code in (403, 404)
    offer.refresh_from_db()
    assert offer.status == BulkSettlementOffer.Status.DRAFT
    assert not Settlement.objects.exists() and not Message.objects.exists()


def test_compliance_reads_the_offer_without_the_approve_button(client, product, debts, supervisor):
    offer = draft(product, supervisor, expires_on=LATER)
    client.force_login(member("auditor", "Compliance"))
    response = client.get(reverse("admin:cases_bulksettlementoffer_change", args=[offer.pk]))
    assert response.status_code == 200
    assert approve_url(offer) not in response.content.decode()
    assert client.post(approve_url(offer)).status_code == 403


def test_an_administrator_approves_through_admin(client, product, debts, supervisor, template):
    offer = draft(product, supervisor, expires_on=LATER)
    client.force_login(member("admin-user", "Administrator"))
    assert client.post(approve_url(offer)).status_code == 302
    offer.refresh_from_db()
    assert offer.status == BulkSettlementOffer.Status.APPROVED


def test_admin_add_form_creates_a_draft_through_the_service(client, product, supervisor):
    client.force_login(supervisor)
    response = client.post(
        reverse("admin:cases_bulksettlementoffer_add"),
        {
            "name": "Spring",
            "policy": product.policy_id,
            "product": "",
            "bucket": "",
            "balance_min": "0",
            "balance_max": "300.00",
            "discount_percent": "25",
            "expires_on": "2099-03-31",
            "channel": "sms",
            "template_code": "settlement_offer",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    offer = BulkSettlementOffer.objects.get()
    assert offer.status == BulkSettlementOffer.Status.DRAFT and offer.created_by == supervisor
    assert offer.history.get().history_change_reason == "bulk offer drafted in admin"


def test_admin_list_stays_within_a_query_budget(client, product, supervisor, django_assert_max_num_queries):
    for n in range(5):
        draft(product, supervisor, name=f"offer {n}")
    client.force_login(supervisor)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("admin:cases_bulksettlementoffer_changelist"))
    assert response.status_code == 200


# --- default templates and demo data ----------------------------------------------------


def test_the_default_offer_template_quotes_amount_and_date(product, supervisor):
    from cases.services.small_balances import install_offer_templates

    assert install_offer_templates(actor=supervisor) == 2
    assert install_offer_templates(actor=supervisor) == 0
    debt = owing("200.00", product=product)
    approve_bulk_offer(offer=draft(product, supervisor), actor=supervisor, today=TODAY, at=AT)
    message = Message.objects.get(debt=debt)
    assert message.status == Message.Status.QUEUED
    assert "CNY 133.34" in message.body and "2026-03-31" in message.body and "回复TD退订" in message.body


def test_demo_seed_sets_thresholds_and_drafts_one_offer_per_policy(supervisor):
    from cases.demo.small_balances import seed_small_balances

    cn = ProductFactory().policy
    us = ProductFactory(policy__jurisdiction="US").policy
    assert seed_small_balances(business_date=TODAY, actor=supervisor) == 2
    assert seed_small_balances(business_date=TODAY, actor=supervisor) == 0
    cn.refresh_from_db()
    us.refresh_from_db()
    assert (cn.digital_only_below, us.digital_only_below) == (Decimal("500.00"), Decimal("100.00"))
    assert set(BulkSettlementOffer.objects.values_list("policy_id", "status")) == {
        (cn.pk, "draft"),
        (us.pk, "draft"),
    }
    assert MessageTemplate.objects.filter(code="settlement_offer").count() == 2


def test_a_large_selection_is_approved_by_a_task_after_commit(
    client, product, debts, supervisor, template, monkeypatch, django_capture_on_commit_callbacks
):
    from types import SimpleNamespace

    from cases.admin import small_balances as admin_small_balances
    from cases.tasks.small_balances import approve_bulk_offer_task

    monkeypatch.setattr(admin_small_balances, "APPROVE_IN_REQUEST_MAX", 1)
    queued = []
    monkeypatch.setattr(
        admin_small_balances, "approve_bulk_offer_task", SimpleNamespace(delay=lambda **kw: queued.append(kw))
    )
    offer = draft(product, supervisor, expires_on=LATER)
    client.force_login(supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(approve_url(offer), {"reason": "big one"}).status_code == 302
    offer.refresh_from_db()
    assert offer.status == BulkSettlementOffer.Status.DRAFT and not Settlement.objects.exists()
    assert len(queued) == 1 and queued[0]["offer_id"] == offer.pk and queued[0]["actor_id"] == supervisor.pk
    first = approve_bulk_offer_task(**queued[0])
    second = approve_bulk_offer_task(**queued[0])
    assert first == {"approved_now": True, "offered": 3, "skipped": 0}
    assert second == {"approved_now": False, "offered": 3, "skipped": 0}
    offer.refresh_from_db()
    assert offer.status == BulkSettlementOffer.Status.APPROVED and offer.approval_reason == "big one"
    assert Settlement.objects.count() == 3
