"""The risk model: a logistic regression on standardised features, trained on
snapshots of the project's own history, and its back-test.

Training takes a snapshot of every debt at several past dates (every
``SNAPSHOT_STEP_DAYS`` days back from 30 days before ``as_of``, so each label
is already known) and fits ``StandardScaler`` + ``LogisticRegression``
(``class_weight="balanced"``). The back-test is a time split: the model is
fitted on the older snapshots and scored on the newest ones (``holdout``):
AUC (``roc_auc_score``), KS (the largest |TPR − FPR| over all thresholds) and
a 10-bin calibration table (mean predicted probability vs observed rate per
bin). The stored model is then refitted on every snapshot.

Scoring never unpickles anything: ``predict`` applies the stored means,
scales, coefficients and intercept (``RiskModel``) with numpy.

With no active model, or too few labelled rows to train one, the
probability comes from the transparent scorecard on days past due
(``cases.services.priority.fallback_probability``).
"""

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.preprocessing import StandardScaler

from cases.risk.features import HORIZON_DAYS, FeatureRow, History, feature_names_of, feature_rows
from cases.services.priority import fallback_probability

SNAPSHOTS = 8
SNAPSHOT_STEP_DAYS = 30
HOLDOUT_SNAPSHOTS = 2
MIN_ROWS = 40
CALIBRATION_BINS = 10


class NotEnoughData(Exception):
    """Too few labelled rows (or a single class) to train or back-test."""


@dataclass
class Params:
    feature_names: list[str]
    means: list[float]
    scales: list[float]
    coefficients: list[float]
    intercept: float


def snapshot_dates(as_of: date, *, count: int = SNAPSHOTS, step: int = SNAPSHOT_STEP_DAYS) -> list[date]:
    last = as_of - timedelta(days=HORIZON_DAYS)
    return sorted(last - timedelta(days=step * k) for k in range(count))


def labelled_rows(history: History, *, as_of: date, dates: list[date] | None = None) -> list[FeatureRow]:
    rows = []
    for day in dates or snapshot_dates(as_of):
        rows.extend(r for r in feature_rows(history, as_of=day, known_through=as_of) if r.label is not None)
    return rows


def _matrix(rows: list[FeatureRow]) -> tuple[np.ndarray, np.ndarray]:
    names = feature_names_of(rows)
    x = np.array([r.vector(names) for r in rows], dtype=float).reshape(len(rows), len(names))
    y = np.array([1 if r.label else 0 for r in rows], dtype=int)
    return x, y


def fit(rows: list[FeatureRow]) -> Params:
    x, y = _matrix(rows)
    if len(rows) < MIN_ROWS or len(set(y.tolist())) < 2:
        raise NotEnoughData(f"{len(rows)} labelled rows, classes {sorted(set(y.tolist()))}")
    scaler = StandardScaler().fit(x)
    model = LogisticRegression(class_weight="balanced", max_iter=1000).fit(scaler.transform(x), y)
    return Params(
        feature_names=feature_names_of(rows),
        means=[float(v) for v in scaler.mean_],
        scales=[float(v) for v in scaler.scale_],
        coefficients=[float(v) for v in model.coef_[0]],
        intercept=float(model.intercept_[0]),
    )


def predict(params: Params, rows: list[FeatureRow]) -> np.ndarray:
    """P(pay within 30 days) for each row, from the stored numbers only."""
    if not rows:
        return np.zeros(0)
    # A feature the rows lack (bureau data gone from the portfolio) reads 0: "none".
    x = np.array([[r.values.get(n, 0.0) for n in params.feature_names] for r in rows], dtype=float)
    z = (x - np.array(params.means)) / np.array(params.scales) @ np.array(params.coefficients)
    return 1.0 / (1.0 + np.exp(-(z + params.intercept)))


def ks_statistic(y_true, y_score) -> float:
    fpr, tpr, _ = roc_curve(y_true, y_score)
    return float(np.max(np.abs(tpr - fpr)))


def calibration_table(y_true, y_score, bins: int = CALIBRATION_BINS) -> list[dict]:
    """Equal-width probability bins: rows, mean predicted, observed rate
    (the top bin includes 1.0); empty bins are left out."""
    y_true = np.asarray(y_true, dtype=float)
    y_score = np.asarray(y_score, dtype=float)
    index = np.minimum((y_score * bins).astype(int), bins - 1)
    table = []
    for b in range(bins):
        mask = index == b
        n = int(mask.sum())
        if n:
            table.append(
                {
                    "bin": b,
                    "lower": round(b / bins, 2),
                    "upper": round((b + 1) / bins, 2),
                    "count": n,
                    "predicted": round(float(y_score[mask].mean()), 4),
                    "observed": round(float(y_true[mask].mean()), 4),
                }
            )
    return table


def backtest(train: list[FeatureRow], test: list[FeatureRow]) -> dict:
    params = fit(train)
    _, y = _matrix(test)
    if len(set(y.tolist())) < 2:
        raise NotEnoughData("the holdout has a single class")
    p = predict(params, test)
    return {
        "auc": round(float(roc_auc_score(y, p)), 4),
        "ks": round(ks_statistic(y, p), 4),
        "calibration": calibration_table(y, p),
        "train_rows": len(train),
        "test_rows": len(test),
        "train_positive_rate": round(float(np.mean([r.label for r in train])), 4),
        "test_positive_rate": round(float(y.mean()), 4),
    }


@dataclass
class Trained:
    params: Params
    metrics: dict
    trained_from: date
    trained_to: date


def train(history: History, *, as_of: date, dates: list[date] | None = None) -> Trained:
    """Back-test on a time split, then fit on every snapshot."""
    dates = sorted(dates or snapshot_dates(as_of))
    if len(dates) < 2:
        raise NotEnoughData("need at least two snapshot dates")
    holdout = set(dates[-min(HOLDOUT_SNAPSHOTS, len(dates) - 1) :])
    rows = labelled_rows(history, as_of=as_of, dates=dates)
    train_rows = [r for r in rows if r.as_of not in holdout]
    test_rows = [r for r in rows if r.as_of in holdout]
    metrics = backtest(train_rows, test_rows)
    metrics["holdout_dates"] = [d.isoformat() for d in sorted(holdout)]
    metrics["snapshot_dates"] = [d.isoformat() for d in dates]
    params = fit(rows)
    return Trained(params, metrics, dates[0], dates[-1])


def scorecard_probability(row: FeatureRow) -> float:
    """The transparent fallback: the DPD scorecard of the queue priority."""
    return float(fallback_probability(int(row.values["dpd"])))
