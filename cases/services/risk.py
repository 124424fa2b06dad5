"""Risk scoring and early warning (issue 7).

- ``train_and_activate``: trains a ``RiskModel`` on snapshots of the history
  (``cases.risk.model.train``), stores it as plain numbers with its
  back-test, and activates it when its holdout AUC reaches ``MIN_AUC``
  (the previous model is deactivated; every change has a history row).
- ``score_debts``: P(pay within 30 days) per open debt as of a date, from the
  active model; a case's ``risk_score`` is the balance-weighted mean over its
  open debts. Without an active model the scores are cleared, so the queue
  priority uses its transparent DPD scorecard and says so.
- ``early_warning``: current and pre-due debts (0 days past due) whose
  customer shows risk signs go on the watch list (``WatchListEntry``) and
  get the policy's pre-due reminder (``cases.services.dunning``); an entry is
  cleared when the signs are gone or the debt is no longer current.
  Signs: a plan instalment missed in the last 90 days, a promise on another
  debt broken in the last 90 days, every phone's latest call a wrong number.
  A bureau score drop is a sign too: the customer's newest credit bureau
  score (reports fetched up to the business date) is at least
  ``BUREAU_SCORE_DROP_POINTS`` below the report before it.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from simple_history.utils import bulk_update_with_history

from backoffice.audit import record
from cases.bureau_inquiry.selectors import score_drops
from cases.models import (
    CollectionCase,
    ContactAttempt,
    Debt,
    PlanInstalment,
    PromiseToPay,
    RiskModel,
    WatchListEntry,
)
from cases.risk.features import feature_rows, load_history
from cases.risk.model import NotEnoughData, Params, predict, train
from customers.models import ContactPoint

MIN_AUC = 0.6
SIGN_LOOKBACK = timedelta(days=90)
Reason = WatchListEntry.Reason


def active_model() -> RiskModel | None:
    return RiskModel.objects.filter(active=True).first()


def params_of(model: RiskModel) -> Params:
    return Params(model.feature_names, model.means, model.scales, model.coefficients, model.intercept)


def train_and_activate(*, as_of: date, actor, debts=None) -> RiskModel | None:
    """Train a new model version on the history up to ``as_of``; ``None`` when
    there are too few labelled rows (the scorecard stays in use)."""
    try:
        trained = train(load_history(debts), as_of=as_of)
    except NotEnoughData:
        return None
    with transaction.atomic():
        latest = RiskModel.objects.select_for_update().aggregate(v=Max("version"))["v"] or 0
        activate = trained.metrics["auc"] >= MIN_AUC
        if activate:
            for old in RiskModel.objects.filter(active=True):
                old.active = False
                record(old, actor=actor, reason=f"replaced by v{latest + 1}").save(update_fields=["active"])
        model = RiskModel(
            version=latest + 1,
            as_of=as_of,
            trained_from=trained.trained_from,
            trained_to=trained.trained_to,
            feature_names=trained.params.feature_names,
            means=trained.params.means,
            scales=trained.params.scales,
            coefficients=trained.params.coefficients,
            intercept=trained.params.intercept,
            metrics=trained.metrics,
            active=activate,
            created_by=actor,
        )
        reason = f"trained as of {as_of.isoformat()}" + ("" if activate else f" (AUC below {MIN_AUC})")
        record(model, actor=actor, reason=reason).save()
    return model


@dataclass
class ScoreSummary:
    as_of: date
    model_version: int | None
    debts: int = 0
    changed: int = 0

    def as_dict(self) -> dict:
        return {
            "as_of": self.as_of.isoformat(),
            "model_version": self.model_version,
            "debts": self.debts,
            "changed": self.changed,
        }


def _four(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def score_debts(*, as_of: date, actor=None) -> ScoreSummary:
    """Write ``CollectionCase.risk_score`` of every open case for ``as_of``."""
    model = active_model()
    summary = ScoreSummary(as_of, model.version if model else None)
    cases = CollectionCase.objects.exclude(stage=CollectionCase.Stage.CLOSED)
    scores: dict[int, Decimal | None] = {}
    if model is not None:
        debts = Debt.objects.filter(status__in=Debt.ACTIVE_STATUSES, case__in=cases, opened_on__lte=as_of)
        rows = feature_rows(load_history(debts), as_of=as_of)
        summary.debts = len(rows)
        weighted: dict[int, list[tuple[float, float]]] = defaultdict(list)
        for row, p in zip(rows, predict(params_of(model), rows), strict=True):
            weighted[row.case_id].append((float(p), float(row.balance)))
        for case_id, pairs in weighted.items():
            total = sum(b for _, b in pairs)
            mean = sum(p * b for p, b in pairs) / total if total > 0 else max(p for p, _ in pairs)
            scores[case_id] = _four(min(max(mean, 0.0), 1.0))
    changed = []
    for case in cases.only("id", "risk_score"):
        new = scores.get(case.pk)
        if case.risk_score != new:
            case.risk_score = new
            changed.append(case)
    if changed:
        source = f"model v{model.version}" if model else "no model: scorecard"
        bulk_update_with_history(
            changed,
            CollectionCase,
            ["risk_score"],
            batch_size=500,
            default_user=actor,
            default_change_reason=f"risk scoring {as_of.isoformat()} ({source})",
        )
    summary.changed = len(changed)
    return summary


# --- early warning -------------------------------------------------------------


def risk_signs(*, business_date: date) -> dict[int, list[str]]:
    """Reason codes per current debt (0 DPD, open, in an open case)."""
    debts = list(
        Debt.objects.filter(status__in=Debt.ACTIVE_STATUSES, days_past_due=0, case__isnull=False)
        .exclude(case__stage=CollectionCase.Stage.CLOSED)
        .values_list("id", "customer_id", "case_id")
    )
    customers = {c for _, c, _ in debts}
    since = business_date - SIGN_LOOKBACK
    missed = set(
        PlanInstalment.objects.filter(
            status=PlanInstalment.Status.MISSED,
            due_on__gte=since,
            due_on__lte=business_date,
            plan__debt__customer_id__in=customers,
        ).values_list("plan__debt__customer_id", flat=True)
    )
    broken: dict[int, set] = defaultdict(set)
    for customer_id, debt_id, case_id in PromiseToPay.objects.filter(
        status=PromiseToPay.Status.BROKEN,
        settled_on__gte=since,
        settled_on__lte=business_date,
        case__customer_id__in=customers,
    ).values_list("case__customer_id", "debt_id", "case_id"):
        broken[customer_id].add((debt_id, case_id))
    phones: dict[int, set] = defaultdict(set)
    for customer_id, pk in ContactPoint.objects.filter(
        customer_id__in=customers, kind=ContactPoint.Kind.PHONE
    ).values_list("customer_id", "id"):
        phones[customer_id].add(pk)
    latest: dict[int, str] = {}
    for point_id, outcome in (
        ContactAttempt.objects.filter(contact_point_id__in={p for s in phones.values() for p in s})
        .exclude(outcome=ContactAttempt.Outcome.REFUSED)
        .order_by("started_at", "id")
        .values_list("contact_point_id", "outcome")
    ):
        latest[point_id] = outcome
    failing = {
        c
        for c, points in phones.items()
        if points and all(latest.get(p) == ContactAttempt.Outcome.WRONG_NUMBER for p in points)
    }
    dropped = score_drops(
        customer_ids=customers, on_or_before=business_date, threshold=settings.BUREAU_SCORE_DROP_POINTS
    )
    signs: dict[int, list[str]] = {}
    for debt_id, customer_id, case_id in debts:
        reasons = []
        if customer_id in missed:
            reasons.append(Reason.MISSED_PLAN_INSTALMENT.value)
        # A case-level promise (no debt) on this debt's own case is about this debt.
        if any(d != debt_id and not (d is None and c == case_id) for d, c in broken.get(customer_id, ())):
            reasons.append(Reason.BROKEN_PROMISE_OTHER_DEBT.value)
        if customer_id in failing:
            reasons.append(Reason.CONTACT_POINTS_FAILING.value)
        if customer_id in dropped:
            reasons.append(Reason.BUREAU_SCORE_DROP.value)
        if reasons:
            signs[debt_id] = reasons
    return signs


@dataclass
class WatchSummary:
    business_date: date
    added: int = 0
    updated: int = 0
    cleared: int = 0
    watched: int = 0

    def as_dict(self) -> dict:
        return {
            "business_date": self.business_date.isoformat(),
            "added": self.added,
            "updated": self.updated,
            "cleared": self.cleared,
            "watched": self.watched,
        }


def early_warning(*, business_date: date, actor=None) -> WatchSummary:
    """Bring the watch list up to date for ``business_date``; idempotent."""
    signs = risk_signs(business_date=business_date)
    summary = WatchSummary(business_date)
    reason = f"early warning {business_date.isoformat()}"
    with transaction.atomic():
        open_entries = {
            e.debt_id: e for e in WatchListEntry.objects.select_for_update().filter(cleared_on__isnull=True)
        }
        for debt_id, entry in open_entries.items():
            if debt_id not in signs:
                entry.cleared_on = business_date
                record(entry, actor=actor, reason=reason).save(update_fields=["cleared_on"])
                summary.cleared += 1
            elif entry.reasons != signs[debt_id]:
                entry.reasons = signs[debt_id]
                record(entry, actor=actor, reason=reason).save(update_fields=["reasons"])
                summary.updated += 1
        for debt_id, reasons in signs.items():
            if debt_id not in open_entries:
                entry = WatchListEntry(debt_id=debt_id, reasons=reasons, since=business_date)
                record(entry, actor=actor, reason=reason).save()
                summary.added += 1
    summary.watched = len(signs)
    return summary
