"""The risk model (cases.risk.model, cases.services.risk.train_and_activate):
training on snapshots with planted signal, the back-test metrics, the
stored transparent numbers and the fallback scorecard."""

import random
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from backoffice.audit import system_user
from cases.models import CollectionPolicy, RiskModel
from cases.policy_presets import preset
from cases.risk.features import FEATURE_NAMES, FeatureRow, History, _Debt, feature_rows
from cases.risk.model import (
    NotEnoughData,
    Params,
    calibration_table,
    fit,
    ks_statistic,
    predict,
    scorecard_probability,
    snapshot_dates,
    train,
)
from cases.services import risk

AS_OF = date(2026, 4, 30)


def _months(start: date, count: int) -> list[date]:
    return [
        date(start.year + (start.month - 1 + n) // 12, (start.month - 1 + n) % 12 + 1, 1)
        for n in range(count)
    ]


def planted_history(n: int = 300, seed: int = 7) -> History:
    """Debts of 100.00 a month from 2025-01-01; "good" payers pay each
    instalment on its due date 90 % of the time, the others 15 %."""
    rng = random.Random(seed)
    policy = CollectionPolicy(name="synthetic", jurisdiction="CN", **preset("CN"))
    debts = {}
    for pk in range(1, n + 1):
        good = rng.random() < 0.5
        debt = _Debt(pk, pk, date(2024, 12, 1), policy.tolerance, policy)
        for number, due in enumerate(_months(date(2025, 1, 1), 18), start=1):
            inst = pk * 100 + number
            debt.instalments.append((number, inst, due))
            debt.entries.append((date(2024, 12, 1), inst, Decimal("100.00")))
            if due <= AS_OF and rng.random() < (0.9 if good else 0.15):
                debt.entries.append((due, inst, Decimal("-100.00")))
                debt.payments.append((due, Decimal("100.00"), None))
        debts[pk] = debt
    return History(debts, {}, {})


def test_training_on_planted_signal_learns_it():
    trained = train(planted_history(), as_of=AS_OF)
    assert trained.metrics["auc"] > 0.7
    assert 0 < trained.metrics["ks"] <= 1
    assert trained.metrics["train_rows"] > 0 and trained.metrics["test_rows"] > 0
    dates = snapshot_dates(AS_OF)
    assert trained.metrics["holdout_dates"] == [d.isoformat() for d in dates[-2:]]
    assert (trained.trained_from, trained.trained_to) == (dates[0], dates[-1])
    assert dates[-1] == AS_OF - timedelta(days=30)  # every label is known
    assert sum(b["count"] for b in trained.metrics["calibration"]) == trained.metrics["test_rows"]
    assert trained.params.feature_names == FEATURE_NAMES


def test_stored_numbers_reproduce_scikit_learn():
    rows = [
        r
        for d in snapshot_dates(AS_OF)
        for r in feature_rows(planted_history(), as_of=d, known_through=AS_OF)
    ]
    params = fit(rows)
    x = np.array([r.vector() for r in rows])
    y = np.array([int(r.label) for r in rows])
    scaler = StandardScaler().fit(x)
    model = LogisticRegression(class_weight="balanced", max_iter=1000).fit(scaler.transform(x), y)
    expected = model.predict_proba(scaler.transform(x))[:, 1]
    assert np.allclose(predict(params, rows), expected)


def test_ks_and_calibration_on_a_hand_example():
    y = [0, 0, 1, 0, 1, 1]
    p = [0.05, 0.15, 0.35, 0.45, 0.85, 0.95]
    # Thresholds: after 0.95 TPR 1/3 FPR 0; after 0.85 TPR 2/3 FPR 0;
    # after 0.45 TPR 2/3 FPR 1/3; after 0.35 TPR 1 FPR 1/3 → KS 2/3.
    assert ks_statistic(y, p) == pytest.approx(2 / 3)
    assert calibration_table(y, p) == [
        {"bin": 0, "lower": 0.0, "upper": 0.1, "count": 1, "predicted": 0.05, "observed": 0.0},
        {"bin": 1, "lower": 0.1, "upper": 0.2, "count": 1, "predicted": 0.15, "observed": 0.0},
        {"bin": 3, "lower": 0.3, "upper": 0.4, "count": 1, "predicted": 0.35, "observed": 1.0},
        {"bin": 4, "lower": 0.4, "upper": 0.5, "count": 1, "predicted": 0.45, "observed": 0.0},
        {"bin": 8, "lower": 0.8, "upper": 0.9, "count": 1, "predicted": 0.85, "observed": 1.0},
        {"bin": 9, "lower": 0.9, "upper": 1.0, "count": 1, "predicted": 0.95, "observed": 1.0},
    ]
    assert calibration_table([1, 0], [1.0, 0.98]) == [
        {"bin": 9, "lower": 0.9, "upper": 1.0, "count": 2, "predicted": 0.99, "observed": 0.5}
    ]


def test_predict_applies_the_stored_numbers():
    names = ["dpd", "ever_paid"]
    params = Params(names, means=[30.0, 0.5], scales=[10.0, 0.5], coefficients=[-1.0, 2.0], intercept=0.5)
    row = FeatureRow(1, 1, AS_OF, Decimal("1"), {"dpd": 40.0, "ever_paid": 1.0})
    z = -1.0 * (40 - 30) / 10 + 2.0 * (1 - 0.5) / 0.5 + 0.5
    assert predict(params, [row])[0] == pytest.approx(1 / (1 + np.exp(-z)))


def test_too_few_rows_is_not_enough_data():
    rows = [FeatureRow(1, 1, AS_OF, Decimal("1"), dict.fromkeys(FEATURE_NAMES, 0.0), True)] * 5
    with pytest.raises(NotEnoughData):
        fit(rows)


def test_fallback_scorecard_is_the_dpd_scorecard():
    row = FeatureRow(1, 1, AS_OF, Decimal("1"), dict(dict.fromkeys(FEATURE_NAMES, 0.0), dpd=45.0))
    assert scorecard_probability(row) == 0.35


@pytest.mark.django_db
def test_train_and_activate_stores_a_transparent_versioned_model(monkeypatch):
    monkeypatch.setattr(risk, "load_history", lambda debts=None: planted_history())
    actor = system_user()
    first = risk.train_and_activate(as_of=AS_OF, actor=actor)
    assert first.version == 1 and first.active
    assert first.metrics["auc"] > 0.7 and "ks" in first.metrics and first.metrics["calibration"]
    assert first.feature_names == FEATURE_NAMES
    assert len(first.coefficients) == len(first.means) == len(first.scales) == len(FEATURE_NAMES)
    second = risk.train_and_activate(as_of=AS_OF + timedelta(days=7), actor=actor)
    first.refresh_from_db()
    assert second.version == 2 and second.active and not first.active
    assert list(RiskModel.objects.filter(active=True)) == [second]
    assert first.history.first().history_change_reason == "replaced by v2"
    assert second.history.first().history_user == actor


@pytest.mark.django_db
def test_no_model_without_enough_history():
    assert risk.train_and_activate(as_of=AS_OF, actor=system_user()) is None
    assert not RiskModel.objects.exists()
