"""Court and lawyer fees post to the debt's ledger as ``legal_cost``; enforcement
recoveries post as payments (RULES §7, §2)."""

from datetime import date
from decimal import Decimal

import pytest

from backoffice.errors import Conflict
from cases.models import LedgerEntry, Payment
from cases.selectors import ledger_mismatches
from cases.services.legal_costs import post_legal_cost
from legal.models import LegalCost, LegalMatter
from legal.services import add_legal_cost, record_recovery, recovered_total, start_enforcement_action
from tests.legal.helpers import move, walk_to

Stage = LegalMatter.Stage


def test_a_court_fee_posts_a_legal_cost_charge_and_balances_match_the_ledger(matter, debt, legal_user):
    cost = add_legal_cost(
        matter=matter,
        debt=debt,
        kind=LegalCost.Kind.COURT_FEE,
        amount=Decimal("250.00"),
        incurred_on=date(2026, 3, 5),
        actor=legal_user,
        key="fee-1",
    )
    entry = cost.ledger_entry
    assert (entry.component, entry.kind, entry.amount, entry.effective_on) == (
        "legal_cost",
        LedgerEntry.Kind.CHARGE,
        Decimal("250.00"),
        date(2026, 3, 5),
    )
    debt.refresh_from_db()
    assert debt.legal_cost_balance == Decimal("250.00")
    assert list(ledger_mismatches()) == []
    assert cost.history.latest().history_user == legal_user


def test_posting_the_same_cost_twice_posts_once(matter, debt, legal_user):
    values = {
        "matter": matter,
        "debt": debt,
        "kind": LegalCost.Kind.LAWYER_FEE,
        "amount": Decimal("800.00"),
        "incurred_on": date(2026, 3, 5),
        "actor": legal_user,
        "key": "lawyer-1",
    }
    first = add_legal_cost(**values)
    second = add_legal_cost(**values)
    assert first.pk == second.pk
    assert LegalCost.objects.count() == 1
    assert debt.ledger_entries.filter(component="legal_cost").count() == 1
    debt.refresh_from_db()
    assert debt.legal_cost_balance == Decimal("800.00")
    assert list(ledger_mismatches()) == []


def test_post_legal_cost_is_idempotent_by_key_and_refuses_a_changed_repeat(debt, legal_user):
    from django.db import transaction

    with transaction.atomic():
        first = post_legal_cost(
            debt=debt,
            amount="10.00",
            incurred_on=date(2026, 3, 5),
            kind="court_fee",
            actor=legal_user,
            reason="",
            key="k",
        )
    again = post_legal_cost(
        debt=debt,
        amount="10.00",
        incurred_on=date(2026, 3, 5),
        kind="court_fee",
        actor=legal_user,
        reason="",
        key="k",
    )
    assert again.pk == first.pk
    with pytest.raises(Conflict):
        post_legal_cost(
            debt=debt,
            amount="11.00",
            incurred_on=date(2026, 3, 5),
            kind="court_fee",
            actor=legal_user,
            reason="",
            key="k",
        )


def test_no_cost_on_a_closed_matter(matter, debt, legal_user):
    move(matter, Stage.CLOSED, legal_user, date(2026, 3, 2))
    with pytest.raises(Conflict):
        add_legal_cost(
            matter=matter,
            debt=debt,
            kind=LegalCost.Kind.COURT_FEE,
            amount=Decimal("5.00"),
            incurred_on=date(2026, 3, 5),
            actor=legal_user,
        )
    assert not LedgerEntry.objects.filter(component="legal_cost").exists()


def test_enforcement_recovery_posts_a_payment_through_the_ledger(matter, debt, legal_user):
    walk_to(matter, Stage.ENFORCEMENT, legal_user)
    action = start_enforcement_action(
        matter=matter, kind="garnishment", applied_on=date(2026, 3, 10), actor=legal_user, reason="wages"
    )
    recovery = record_recovery(
        action=action,
        debt=debt,
        amount=Decimal("500.00"),
        received_on=date(2026, 4, 1),
        reference="COURT-1",
        actor=legal_user,
        today=date(2026, 4, 2),
    )
    again = record_recovery(
        action=action,
        debt=debt,
        amount=Decimal("500.00"),
        received_on=date(2026, 4, 1),
        reference="COURT-1",
        actor=legal_user,
        today=date(2026, 4, 2),
    )
    assert again.pk == recovery.pk
    assert recovery.payment.channel == Payment.Channel.ENFORCEMENT
    posted = LedgerEntry.objects.filter(payment=recovery.payment, kind=LedgerEntry.Kind.PAYMENT)
    assert sum(e.amount for e in posted) == Decimal("-500.00")
    assert recovered_total(matter) == Decimal("500.00")
    assert list(ledger_mismatches()) == []


def test_enforcement_actions_need_a_matter_in_enforcement(matter, legal_user):
    with pytest.raises(Conflict):
        start_enforcement_action(
            matter=matter, kind="asset_freeze", applied_on=date(2026, 3, 10), actor=legal_user, reason="x"
        )
