"""The risk Celery tasks (cases.tasks.risk) and the read-only admin screens
(cases.admin.risk)."""

import importlib
from datetime import date

import pytest
from django.contrib import admin

from cases.models import RiskModel, WatchListEntry
from cases.services import risk
from cases.tasks.risk import retrain_risk_model, score_risk
from tests.cases.test_risk_model import planted_history

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(monkeypatch):
    monkeypatch.setattr(risk, "load_history", lambda debts=None: planted_history())


def test_retrain_is_idempotent_per_week(history):
    first = retrain_risk_model.delay("2026-04-30").get()  # a Thursday
    assert first["trained"] and first["version"] == 1 and first["active"] and first["auc"] > 0.7
    again = retrain_risk_model.delay("2026-05-03").get()  # the Sunday of the same week
    assert again == {"as_of": "2026-05-03", "trained": False, "version": 1}
    assert RiskModel.objects.count() == 1
    next_week = retrain_risk_model.delay("2026-05-04").get()
    assert next_week["trained"] and next_week["version"] == 2
    assert list(RiskModel.objects.filter(active=True).values_list("version", flat=True)) == [2]


def test_retrain_without_history_keeps_the_scorecard():
    assert retrain_risk_model.delay("2026-04-30").get() == {
        "as_of": "2026-04-30",
        "trained": False,
        "version": None,
        "reason": "not enough data",
    }


def test_score_task_reports_its_summary():
    assert score_risk.delay("2026-04-30").get() == {
        "as_of": "2026-04-30",
        "model_version": None,
        "debts": 0,
        "changed": 0,
    }


@pytest.fixture
def risk_admin():
    """The admin module, unregistered again afterwards unless the project
    already registers it (the role-matrix tests read the registry)."""
    registered = RiskModel in admin.site._registry
    module = importlib.import_module("cases.admin.risk")
    yield module
    if not registered:
        for model in (RiskModel, WatchListEntry):
            if model in admin.site._registry:
                admin.site.unregister(model)


def test_admin_shows_the_back_test_with_a_calibration_chart(history, risk_admin, rf):
    model = risk.train_and_activate(as_of=date(2026, 4, 30), actor=None)
    model_admin = risk_admin.RiskModelAdmin(RiskModel, admin.site)
    assert model_admin.has_change_permission(rf.get("/")) is False
    backtest = model_admin.backtest(model)
    assert f"AUC <strong>{model.metrics['auc']}</strong>" in backtest
    assert f"KS <strong>{model.metrics['ks']}</strong>" in backtest
    calibration = model_admin.calibration(model)
    assert "<svg" in calibration and calibration.count("<tr>") == len(model.metrics["calibration"]) + 1
    coefficients = model_admin.coefficient_table(model)
    assert all(name in coefficients for name in model.feature_names)
