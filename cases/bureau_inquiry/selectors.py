"""Reads of bureau data shared by the refresh task, the queue priority, the
risk features and the early warning."""

from collections import defaultdict
from datetime import date, timedelta

from django.db.models import Exists, OuterRef, Q, Subquery

from cases.bureau_inquiry.models import BureauReport
from cases.models import CollectionCase, Debt


def excluded_buckets(min_bucket: int) -> list[str]:
    """Buckets below ``M<min_bucket>``: ``current`` and ``M1`` … ``M<min_bucket - 1>``."""
    return ["current", *[f"M{i}" for i in range(1, max(min_bucket, 1))]]


def due_for_refresh(*, business_date: date, every_days: int, min_bucket: int) -> list[tuple[int, int]]:
    """``(customer_id, debt_id)`` of the customers to refresh on ``business_date``:
    an active debt in bucket ``M<min_bucket>`` or worse in an open case, and no
    report fetched (local date) or scheduled (period) in the last ``every_days``
    days. One row per customer (their worst debt), in customer order."""
    since = business_date - timedelta(days=every_days)
    # A scheduled report counts from its period (business date), any report from its fetch date.
    recent = BureauReport.objects.filter(customer_id=OuterRef("customer_id")).filter(
        Q(fetched_at__date__gt=since) | Q(period__gt=since.isoformat())
    )
    rows = (
        Debt.objects.filter(status__in=Debt.ACTIVE_STATUSES, case__isnull=False)
        .exclude(case__stage=CollectionCase.Stage.CLOSED)
        .exclude(bucket__in=excluded_buckets(min_bucket))
        .exclude(Exists(recent))
        .order_by("customer_id", "-days_past_due", "id")
        .values_list("customer_id", "id")
    )
    due: dict[int, int] = {}
    for customer_id, debt_id in rows:
        due.setdefault(customer_id, debt_id)
    return list(due.items())


def latest_scores(customer_ids) -> dict[int, int]:
    """The score of each customer's newest report that has one."""
    scores: dict[int, int] = {}
    for customer_id, score in (
        BureauReport.objects.filter(customer_id__in=customer_ids, score__isnull=False)
        .order_by("customer_id", "-fetched_at", "-id")
        .values_list("customer_id", "score")
    ):
        scores.setdefault(customer_id, score)
    return scores


def newest_score_of_customer(customer_field: str) -> Subquery:
    """An annotation: the score of the newest scored report of the row's customer."""
    return Subquery(
        BureauReport.objects.filter(customer_id=OuterRef(customer_field), score__isnull=False)
        .order_by("-fetched_at", "-id")
        .values("score")[:1]
    )


def score_history(customer_ids) -> dict[int, list[tuple[date, int]]]:
    """Every scored report per customer as ``(local fetch date, score)``, oldest first."""
    from django.utils import timezone

    history: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for customer_id, fetched_at, score in (
        BureauReport.objects.filter(customer_id__in=customer_ids, score__isnull=False)
        .order_by("customer_id", "fetched_at", "id")
        .values_list("customer_id", "fetched_at", "score")
    ):
        history[customer_id].append((timezone.localdate(fetched_at), score))
    return history


def score_drops(*, customer_ids, on_or_before: date, threshold: int) -> dict[int, tuple[int, int]]:
    """Customers whose newest score (reports fetched up to ``on_or_before``)
    is at least ``threshold`` points below the one before: ``{customer:
    (previous, newest)}``."""
    drops = {}
    for customer_id, scores in score_history(customer_ids).items():
        known = [s for day, s in scores if day <= on_or_before]
        if len(known) >= 2 and known[-2] - known[-1] >= threshold:
            drops[customer_id] = (known[-2], known[-1])
    return drops


def latest_report(customer_id: int) -> BureauReport | None:
    return BureauReport.objects.filter(customer_id=customer_id).order_by("-fetched_at", "-id").first()


def reports_of_period(*, bureau: str, period: str):
    return BureauReport.objects.filter(Q(bureau=bureau) & Q(period=period))
