"""Settlements: approval limits by role, payment and the ledger waiver (RULES §5)."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError

from backoffice.errors import Conflict
from cases.models import Debt, LedgerEntry, Settlement
from cases.selectors import ledger_mismatches
from cases.services import post_payment
from cases.services.close_of_business import close_chunk
from cases.services.settlements import (
    apply_payment_to_settlements,
    approval_limit,
    decide_settlement,
    expire_settlements,
    propose_settlement,
)
from tests.factories import UserFactory, make_debt

pytestmark = pytest.mark.django_db

TODAY = date(2026, 2, 1)
VALID_UNTIL = date(2026, 3, 31)


def member(username, group=None, **kwargs):
    user = UserFactory(username=username, password=None, **kwargs)
    if group:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


@pytest.fixture
def collector():
    return member("collector", "Collector")


@pytest.fixture
def team_lead():
    return member("lead", "Team lead")


@pytest.fixture
def supervisor():
    return member("supervisor", "Supervisor")


@pytest.fixture
def debt():
    return make_debt()  # 3000.00 principal owed at placement


def propose(debt, actor, discount, **kwargs):
    kwargs.setdefault("valid_until", VALID_UNTIL)
    kwargs.setdefault("today", TODAY)
    return propose_settlement(case=debt.case, debt=debt, discount_percent=discount, actor=actor, **kwargs)


def test_collector_within_their_limit_is_approved_at_once(debt, collector):
    offer = propose(debt, collector, "20")
    assert offer.status == Settlement.Status.APPROVED
    assert offer.approved_by == collector and offer.requested_by == collector
    assert offer.balance_at_offer == Decimal("3000.00")
    assert offer.amount == Decimal("2400.00")
    assert offer.history.get().history_user == collector


def test_amount_is_rounded_half_up_to_the_cent(collector):
    debt = make_debt(instalments=[{"due_on": date(2026, 1, 31), "principal": "100.10", "interest": "0"}])
    offer = propose(debt, collector, "15")
    # 100.10 × 0.85 = 85.085
    assert offer.amount == Decimal("85.09")


def test_collector_above_their_limit_waits_and_cannot_approve_it(debt, collector):
    offer = propose(debt, collector, "25")
    assert offer.status == Settlement.Status.PENDING_APPROVAL and offer.approved_by is None
    with pytest.raises(Conflict) as excinfo:
        decide_settlement(settlement=offer, approve=True, actor=collector, reason="ok")
    assert "team lead" in str(excinfo.value)
    offer.refresh_from_db()
    assert offer.status == Settlement.Status.PENDING_APPROVAL
    assert offer.history.count() == 1


def test_team_lead_approves_a_discount_within_their_limit(debt, collector, team_lead):
    offer = propose(debt, collector, "25")
    decided = decide_settlement(settlement=offer, approve=True, actor=team_lead, reason="good payer history")
    assert decided.status == Settlement.Status.APPROVED
    assert decided.approved_by == team_lead
    assert decided.decision_reason == "good payer history"
    assert decided.history.first().history_change_reason == "good payer history"


def test_discount_above_the_team_lead_limit_needs_a_supervisor(debt, team_lead, supervisor):
    offer = propose(debt, team_lead, "45")
    assert offer.status == Settlement.Status.PENDING_APPROVAL
    with pytest.raises(Conflict) as excinfo:
        decide_settlement(settlement=offer, approve=True, actor=team_lead, reason="ok")
    assert "supervisor" in str(excinfo.value)
    decided = decide_settlement(settlement=offer, approve=True, actor=supervisor, reason="hardship")
    assert decided.status == Settlement.Status.APPROVED and decided.approved_by == supervisor


def test_rejection_is_recorded_with_its_reason(debt, collector, team_lead):
    offer = propose(debt, collector, "30")
    decided = decide_settlement(settlement=offer, approve=False, actor=team_lead, reason="balance too recent")
    assert decided.status == Settlement.Status.REJECTED and decided.approved_by is None


def test_a_decision_needs_a_reason(debt, collector, team_lead):
    offer = propose(debt, collector, "30")
    with pytest.raises(ValidationError) as excinfo:
        decide_settlement(settlement=offer, approve=True, actor=team_lead, reason="  ")
    assert "reason" in excinfo.value.message_dict
    offer.refresh_from_db()
    assert offer.status == Settlement.Status.PENDING_APPROVAL


def test_approval_limits_by_role(debt, collector, team_lead, supervisor):
    policy = debt.product.policy
    assert approval_limit(collector, policy) == Decimal("20.00")
    assert approval_limit(team_lead, policy) == Decimal("40.00")
    assert approval_limit(supervisor, policy) is None
    assert approval_limit(member("root", is_superuser=True), policy) is None
    assert approval_limit(member("outsider"), policy) == 0


@pytest.mark.parametrize(
    ("discount", "valid_until", "field"),
    [
        ("0", VALID_UNTIL, "discount_percent"),
        ("100", VALID_UNTIL, "discount_percent"),
        ("12.345", VALID_UNTIL, "discount_percent"),
        ("much", VALID_UNTIL, "discount_percent"),
        ("10", date(2026, 1, 31), "valid_until"),
    ],
)
def test_bad_offers_are_refused_and_nothing_is_saved(debt, collector, discount, valid_until, field):
    with pytest.raises(ValidationError) as excinfo:
        propose(debt, collector, discount, valid_until=valid_until)
    assert field in excinfo.value.message_dict
    assert Settlement.objects.count() == 0 and Settlement.history.count() == 0


def test_a_second_open_offer_on_a_debt_is_a_conflict(debt, collector):
    propose(debt, collector, "10")
    with pytest.raises(Conflict):
        propose(debt, collector, "15")
    assert Settlement.objects.count() == 1


def settle_by_payment(debt, offer, amount, received_on, reference, actor):
    """post_payment counts the payment towards the offer itself; return the
    offer as the payment left it (None when the payment did not count)."""
    payment = post_payment(
        debt=debt, amount=amount, received_on=received_on, reference=reference, actor=actor
    ).payment
    offer.refresh_from_db()
    counted = offer.history.filter(history_change_reason=f"payment {payment.pk} counted").exists()
    return payment, offer if counted else None


def test_paid_settlement_waives_the_remainder_through_the_ledger(collector):
    debt = make_debt()
    close_chunk(first_id=debt.pk, last_id=debt.pk, business_date=date(2026, 3, 10))
    debt.refresh_from_db()
    assert debt.penalty_balance > 0 and debt.interest_balance > 0
    offer = propose(debt, collector, "20", today=date(2026, 3, 10))
    _, first = settle_by_payment(debt, offer, "1000.00", date(2026, 3, 11), "S1", collector)
    assert first.status == Settlement.Status.APPROVED and first.paid_amount == Decimal("1000.00")
    rest = offer.amount - Decimal("1000.00")
    _, paid = settle_by_payment(debt, offer, rest, date(2026, 3, 12), "S2", collector)

    assert paid.status == Settlement.Status.PAID and paid.completed_on == date(2026, 3, 12)
    debt.refresh_from_db()
    assert debt.status == Debt.Status.SETTLED
    assert debt.total_balance == 0
    assert all(debt.balance(c) == 0 for c in ("principal", "interest", "penalty", "fees", "legal_cost"))
    assert all(i.owed == 0 for i in debt.instalments.all())
    waivers = debt.ledger_entries.filter(kind=LedgerEntry.Kind.WAIVER)
    assert waivers.exists() and all(e.amount < 0 for e in waivers)
    assert all(e.instalment_id for e in waivers if e.component in ("principal", "interest"))
    assert list(ledger_mismatches()) == []
    assert debt.history.first().history_user == collector


def test_payment_after_the_offer_expired_does_not_count(debt, collector):
    offer = propose(debt, collector, "20", valid_until=date(2026, 2, 10))
    _, result = settle_by_payment(debt, offer, "100.00", date(2026, 2, 11), "S3", collector)
    assert result is None
    offer.refresh_from_db()
    assert offer.paid_amount == 0


def test_counting_the_same_payment_twice_changes_nothing(debt, collector):
    offer = propose(debt, collector, "20")
    payment, _ = settle_by_payment(debt, offer, "100.00", date(2026, 2, 5), "S4", collector)
    assert apply_payment_to_settlements(payment=payment, actor=collector) is None
    offer.refresh_from_db()
    assert offer.paid_amount == Decimal("100.00")


def test_pending_offer_is_not_paid_by_a_payment(debt, collector):
    offer = propose(debt, collector, "30")
    _, result = settle_by_payment(debt, offer, "100.00", date(2026, 2, 5), "S5", collector)
    assert result is None


def test_open_offers_expire_after_valid_until_once(debt, collector):
    offer = propose(debt, collector, "20", valid_until=date(2026, 2, 10))
    assert expire_settlements(business_date=date(2026, 2, 10), actor=collector) == 0
    assert expire_settlements(business_date=date(2026, 2, 11), actor=collector) == 1
    assert expire_settlements(business_date=date(2026, 2, 12), actor=collector) == 0
    offer.refresh_from_db()
    assert offer.status == Settlement.Status.EXPIRED
