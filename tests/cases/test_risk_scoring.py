"""Scoring cases from the active risk model (cases.services.risk.score_debts)
and the queue priority built on it (cases.services.priority)."""

import math
from datetime import date
from decimal import Decimal

import pytest

from backoffice.audit import system_user
from cases.models import CollectionCase, RiskModel
from cases.services.close_of_business import close_chunk
from cases.services.end_of_day import finish_business_day
from cases.services.priority import CaseSignals, refresh_priorities, score_case
from cases.services.risk import score_debts
from tests.factories import make_debt

pytestmark = pytest.mark.django_db
DAY = date(2026, 2, 10)


def logit(p: float) -> float:
    return math.log(p / (1 - p))


P42 = logit(0.42)


def model(version=3, *, coefficient=0.0, intercept=P42, active=True):
    """A model on days past due only: P = sigmoid(coefficient × dpd + intercept)."""
    return RiskModel.objects.create(
        version=version,
        as_of=DAY,
        trained_from=date(2025, 6, 1),
        trained_to=date(2026, 1, 1),
        feature_names=["dpd"],
        means=[0.0],
        scales=[1.0],
        coefficients=[coefficient],
        intercept=intercept,
        metrics={"auc": 0.8, "ks": 0.5, "calibration": []},
        active=active,
    )


def aged_debt(**kwargs):
    """3 × 1050.00 due from 2026-01-31, no penalty: 10 DPD and 3,050.00 on DAY."""
    kwargs.setdefault("penalty_daily_rate", Decimal("0"))
    debt = make_debt(**kwargs)
    close_chunk(first_id=debt.pk, last_id=debt.pk, business_date=DAY)
    debt.refresh_from_db()
    return debt


def test_score_debts_writes_the_case_risk_score_with_history():
    debt = aged_debt()
    model()
    summary = score_debts(as_of=DAY, actor=system_user())
    assert summary.as_dict() == {"as_of": "2026-02-10", "model_version": 3, "debts": 1, "changed": 1}
    case = CollectionCase.objects.get(pk=debt.case_id)
    assert case.risk_score == Decimal("0.4200")
    latest = case.history.first()
    assert latest.risk_score == Decimal("0.4200")
    assert latest.history_change_reason == "risk scoring 2026-02-10 (model v3)"
    assert score_debts(as_of=DAY, actor=system_user()).changed == 0  # idempotent


def test_case_score_is_the_balance_weighted_mean_of_its_debts():
    first = aged_debt()  # 10 DPD, balance 3,050.00
    second = make_debt(customer=first.customer, product=first.product, opened_on=date(2026, 2, 1))
    close_chunk(first_id=second.pk, last_id=second.pk, business_date=DAY)  # current, 3,000.00
    assert second.case_id == first.case_id
    model(coefficient=-0.1, intercept=0.0)
    score_debts(as_of=DAY)
    p_first, p_second = 1 / (1 + math.exp(1.0)), 0.5
    expected = (p_first * 3050 + p_second * 3000) / 6050
    case = CollectionCase.objects.get(pk=first.case_id)
    assert case.risk_score == Decimal(str(expected)).quantize(Decimal("0.0001"))


def test_without_an_active_model_scores_are_cleared_for_the_scorecard():
    debt = aged_debt()
    stale = model()
    score_debts(as_of=DAY)
    stale.active = False
    stale.save()
    assert score_debts(as_of=DAY).model_version is None
    case = CollectionCase.objects.get(pk=debt.case_id)
    assert case.risk_score is None
    assert case.history.first().history_change_reason == "risk scoring 2026-02-10 (no model: scorecard)"
    refresh_priorities(today=DAY, actor=system_user())
    case.refresh_from_db()
    assert (
        case.priority_reasons[0]
        == "Expected recovery 1,830.00 = 60% (scorecard at DPD 10) × balance 3,050.00"
    )


def test_priority_is_probability_times_balance_naming_the_model():
    score = score_case(
        CaseSignals(
            balance=Decimal("3000.00"), worst_dpd=45, risk_score=Decimal("0.42"), risk_model_version=3
        ),
        today=DAY,
    )
    assert score.priority == Decimal("1260.00")
    assert score.reasons == ["Expected recovery 1,260.00 = P(pay in 30d)=0.42 × balance 3,000.00 (model v3)"]


def test_refresh_uses_the_model_probability_with_its_reasons_and_bumps():
    debt = aged_debt()
    model()
    score_debts(as_of=DAY)
    case = CollectionCase.objects.get(pk=debt.case_id)
    case.broken_promises = 1
    case.save()
    refresh_priorities(today=DAY, actor=system_user())
    case.refresh_from_db()
    assert case.priority_reasons[0] == (
        "Expected recovery 1,281.00 = P(pay in 30d)=0.42 × balance 3,050.00 (model v3)"
    )
    assert case.priority_reasons[1] == "1 broken promise"
    assert case.priority > Decimal("1281.00")


def test_end_of_day_scores_before_the_priorities():
    debt = aged_debt()
    model()
    finish_business_day(business_date=DAY)
    case = CollectionCase.objects.get(pk=debt.case_id)
    assert case.risk_score == Decimal("0.4200")
    assert "(model v3)" in case.priority_reasons[0]
