"""Referral to legal (RULES §7, §1): the checks, and what a referral does to the case."""

from datetime import date
from decimal import Decimal

import pytest

from backoffice import roles
from backoffice.errors import Conflict, NotAllowed
from cases.models import CollectionCase, Debt, Dispute
from legal.models import LegalMatter
from legal.services import refer_to_legal
from tests.legal.conftest import REFERRED_ON, user_in


def refer(debt, actor, **overrides):
    values = {
        "case": debt.case,
        "debts": [debt],
        "court": None,
        "case_number": "",
        "law_firm": None,
        "claim_amount": Decimal("3150.00"),
        "actor": actor,
        "reason": "referred",
        "on": REFERRED_ON,
    }
    values.update(overrides)
    return refer_to_legal(**values)


def assert_nothing_written(debt):
    case = CollectionCase.objects.get(pk=debt.case_id)
    assert not LegalMatter.objects.exists()
    assert case.stage != CollectionCase.Stage.LEGAL
    assert "legal" not in (case.holds or [])


def test_referral_opens_a_matter_at_demand_letter_moves_the_case_to_legal_and_holds_it(
    debt, court, law_firm, legal_user
):
    matter = refer(debt, legal_user, court=court, law_firm=law_firm, case_number="X-1")
    assert matter.stage == LegalMatter.Stage.DEMAND_LETTER
    assert list(matter.debts.all()) == [debt]
    assert (matter.court, matter.law_firm, matter.case_number, matter.currency) == (
        court,
        law_firm,
        "X-1",
        "CNY",
    )
    assert matter.assigned_to == legal_user
    case = CollectionCase.objects.get(pk=debt.case_id)
    assert case.stage == CollectionCase.Stage.LEGAL
    assert "legal" in case.holds
    assert matter.transitions.get().to_stage == LegalMatter.Stage.DEMAND_LETTER


def test_time_barred_debt_is_refused_naming_the_check(debt, legal_user):
    Debt.objects.filter(pk=debt.pk).update(limitation_on=date(2026, 2, 28))
    with pytest.raises(Conflict) as refused:
        refer(debt, legal_user)
    assert list(refused.value.message_dict) == ["time_barred"]
    assert_nothing_written(debt)


def test_limitation_on_the_referral_day_is_not_yet_barred(debt, legal_user):
    Debt.objects.filter(pk=debt.pk).update(limitation_on=REFERRED_ON)
    assert refer(debt, legal_user).stage == LegalMatter.Stage.DEMAND_LETTER


def test_open_dispute_is_refused_naming_the_check(debt, legal_user):
    Dispute.objects.create(
        case=debt.case,
        debt=debt,
        raised_via=Dispute.Via.PHONE,
        reason="not mine",
        opened_on=date(2026, 2, 20),
        due_on=date(2026, 3, 22),
    )
    with pytest.raises(Conflict) as refused:
        refer(debt, legal_user)
    assert list(refused.value.message_dict) == ["open_dispute"]
    assert_nothing_written(debt)


def test_balance_below_the_policy_minimum_is_refused_naming_the_check(debt, legal_user):
    policy = debt.product.policy
    policy.legal_minimum_balance = Decimal("5000.00")
    policy.save()
    with pytest.raises(Conflict) as refused:
        refer(debt, legal_user)
    assert list(refused.value.message_dict) == ["minimum_balance"]
    assert "5000" in refused.value.message_dict["minimum_balance"][0]
    assert_nothing_written(debt)


def test_a_debt_already_in_an_open_matter_is_refused(matter, debt, legal_user):
    with pytest.raises(Conflict) as refused:
        refer(debt, legal_user)
    assert list(refused.value.message_dict) == ["open_matter"]


def test_a_collector_may_not_refer(debt, setup_roles):
    collector = user_in(roles.COLLECTOR, "c1")
    with pytest.raises(NotAllowed):
        refer(debt, collector)
    assert_nothing_written(debt)
