"""Celery tasks for risk scoring (issue 7).

- ``retrain_risk_model`` (weekly): trains and activates a new model version on
  the history up to ``as_of``; idempotent per ISO week: a model trained as of
  a date in the same week is kept and nothing is trained.
- ``score_risk`` (nightly): writes the cases' ``risk_score`` for ``as_of``
  (close of business also scores, in ``finish_business_day``).

Dates are resolved here, never inside a service; the system user acts.
"""

from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone

from backoffice.audit import system_user
from cases.models import RiskModel
from cases.services.risk import score_debts, train_and_activate


def _resolve_date(value: str | date | None) -> date:
    if value is None:
        return timezone.localdate()
    if isinstance(value, date):
        return value
    return date.fromisoformat(value)


@shared_task(name="cases.tasks.retrain_risk_model", acks_late=True)
def retrain_risk_model(as_of: str | None = None) -> dict:
    day = _resolve_date(as_of)
    monday = day - timedelta(days=day.weekday())
    existing = (
        RiskModel.objects.filter(as_of__gte=monday, as_of__lt=monday + timedelta(days=7))
        .order_by("-version")
        .first()
    )
    if existing is not None:
        return {"as_of": day.isoformat(), "trained": False, "version": existing.version}
    model = train_and_activate(as_of=day, actor=system_user())
    if model is None:
        return {"as_of": day.isoformat(), "trained": False, "version": None, "reason": "not enough data"}
    return {
        "as_of": day.isoformat(),
        "trained": True,
        "version": model.version,
        "active": model.active,
        "auc": model.metrics.get("auc"),
    }


@shared_task(name="cases.tasks.score_risk", acks_late=True)
def score_risk(as_of: str | None = None) -> dict:
    return score_debts(as_of=_resolve_date(as_of), actor=system_user()).as_dict()
