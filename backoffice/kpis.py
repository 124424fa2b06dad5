"""Supervisor KPIs (RULES.md §8): one selector per number on the dashboard.

Every selector is a pure read: it takes querysets that the caller has
already restricted to what the user may see (``backoffice.access``) and
narrowed with ``filter_*`` (collector, team, product), plus a ``Period``,
and returns ``Decimal``s, dicts and lists. Rates are ``Decimal`` ratios
rounded half-up to four places (``0.6538`` = 65.38 %), or ``None`` when the
denominator is empty (no call, no promise due …), which the screen shows
as "—" rather than a misleading 0 %.

Definitions the numbers rely on (where RULES §8 leaves a choice):

- A period is whole local days ``start``…``end`` inclusive. The state "at
  period start" is the state at the close of the day before ``start`` (so a
  payment received on ``start`` is collected in the period, not netted from
  the opening balance); the state "at period end" is the close of ``end``.
- A debt's bucket and status at a date come from its simple-history rows:
  the latest row with ``history_date`` before midnight after that date in
  ``settings.TIME_ZONE`` (close of business writes a history row whenever
  it changes the bucket). A debt without such a row did not exist yet.
- A debt's balance at a date is the sum of its ledger entries effective on
  or before it (every component, credit included), never the cached fields,
  which only know today.
- Delinquent = bucket other than ``current`` while ``open`` or
  ``charged_off``. Cured = delinquent at start and ``current`` at end.
- Collected = payments received in the period that are still ``posted``
  (a reversed payment counts for nothing: net of reversals).
- New placements = debts created during the period, at their original
  principal.
- Contacts and promises are attributed to whoever logged them
  (``created_by``); debts, payments and the portfolio to the case's current
  collector and team.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from cases.models import (
    OWED_COMPONENTS,
    CollectionCase,
    ContactAttempt,
    Debt,
    LedgerEntry,
    Payment,
    PromiseToPay,
)
from cases.policy_presets import DEFAULT_BUCKET_EDGES

ZERO = Decimal("0.00")
RATE_PLACES = Decimal("0.0001")
CURRENT = "current"
ACTIVE_STATUSES = tuple(str(s) for s in Debt.ACTIVE_STATUSES)
SETTLED_PROMISES = (
    PromiseToPay.Status.KEPT,
    PromiseToPay.Status.PARTIALLY_KEPT,
    PromiseToPay.Status.BROKEN,
)
REACHED = tuple(sorted(ContactAttempt.REACHED))


# --------------------------------------------------------------------------
# Period and filters


@dataclass(frozen=True)
class Period:
    """Whole local days ``start``…``end``, both included."""

    start: date
    end: date

    def __post_init__(self):
        if self.end < self.start:
            raise ValueError("A period cannot end before it starts.")

    @property
    def opening_date(self) -> date:
        """The business date whose close is the period's opening state."""
        return self.start - timedelta(days=1)

    @property
    def start_at(self) -> datetime:
        return day_end(self.opening_date)

    @property
    def end_at(self) -> datetime:
        return day_end(self.end)

    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


def day_end(day: date) -> datetime:
    """Midnight after ``day`` in ``settings.TIME_ZONE``: "on or before ``day``"
    for a timestamp is "before this instant"."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


def money(value) -> Decimal:
    """An amount to the cent (SQLite's sums come back without their places)."""
    return Decimal(value or 0).quantize(ZERO)


def rate(numerator, denominator) -> Decimal | None:
    """``numerator / denominator`` rounded half-up to 0.0001; ``None`` for 0/0."""
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def _case_filter(prefix: str, *, collector=None, team=None, product=None) -> Q:
    q = Q()
    if collector is not None:
        q &= Q(**{f"{prefix}assigned_to": collector})
    if team is not None:
        q &= Q(**{f"{prefix}team": team})
    return q


def filter_debts(debts: QuerySet, *, collector=None, team=None, product=None) -> QuerySet:
    """Debts of cases the collector / team works now, of the product."""
    debts = debts.filter(_case_filter("case__", collector=collector, team=team))
    if product is not None:
        debts = debts.filter(product=product)
    return debts


def filter_payments(payments: QuerySet, *, collector=None, team=None, product=None) -> QuerySet:
    payments = payments.filter(_case_filter("debt__case__", collector=collector, team=team))
    if product is not None:
        payments = payments.filter(debt__product=product)
    return payments


def _work_filter(rows: QuerySet, *, collector=None, team=None, product=None) -> QuerySet:
    """Contacts and promises: by who logged them; a team is its members and lead."""
    if collector is not None:
        rows = rows.filter(created_by=collector)
    if team is not None:
        members = team.members.through.objects.filter(team=team).values("user_id")
        by_team = Q(created_by__in=Subquery(members))
        if team.lead_id is not None:
            by_team |= Q(created_by=team.lead_id)
        rows = rows.filter(by_team)
    if product is not None:
        # The debt the row names, else any debt of its case with the product.
        rows = rows.filter(
            Q(debt__product=product)
            | Q(debt__isnull=True, case__in=Subquery(Debt.objects.filter(product=product).values("case_id")))
        )
    return rows


def filter_contacts(contacts: QuerySet, **filters) -> QuerySet:
    return _work_filter(contacts, **filters)


def filter_promises(promises: QuerySet, **filters) -> QuerySet:
    return _work_filter(promises, **filters)


# --------------------------------------------------------------------------
# States and balances at a date


def debt_states_on(debts: QuerySet, day: date) -> dict[int, tuple[str, str]]:
    """``{debt id: (bucket, status)}`` at the close of ``day``, from history.

    One query: per debt the latest history row before midnight after
    ``day``; debts placed later (or deleted by then) are absent.
    """
    history = Debt.history.model
    cutoff = day_end(day)
    latest = (
        history.objects.filter(id=OuterRef("id"), history_date__lt=cutoff)
        .order_by("-history_date", "-history_id")
        .values("history_id")[:1]
    )
    rows = (
        history.objects.filter(id__in=debts.values("pk"), history_date__lt=cutoff)
        .filter(history_id=Subquery(latest))
        .exclude(history_type="-")
        .values_list("id", "bucket", "status")
    )
    return {debt_id: (bucket, status) for debt_id, bucket, status in rows}


def balances_on(debts: QuerySet, *days: date) -> dict[int, list[Decimal]]:
    """``{debt id: [balance at close of day, …]}`` for each of ``days``, one
    query: a conditional sum of the ledger per date."""
    aggregates = {
        f"b{n}": Coalesce(Sum("amount", filter=Q(effective_on__lte=day)), ZERO) for n, day in enumerate(days)
    }
    rows = (
        LedgerEntry.objects.filter(debt_id__in=debts.values("pk"))
        .order_by()
        .values("debt_id")
        .annotate(**aggregates)
    )
    return {row["debt_id"]: [money(row[f"b{n}"]) for n in range(len(days))] for row in rows}


def _is_delinquent(state: tuple[str, str] | None) -> bool:
    return state is not None and state[1] in ACTIVE_STATUSES and state[0] != CURRENT


# --------------------------------------------------------------------------
# The KPIs


def call_attempts(contacts: QuerySet, period: Period) -> QuerySet:
    """Outbound calls made in the period (attempts the rules refused are not
    calls: nobody dialled)."""
    return contacts.filter(
        channel=ContactAttempt.Channel.CALL,
        direction=ContactAttempt.Direction.OUTBOUND,
        started_at__gte=period.start_at,
        started_at__lt=period.end_at,
    ).exclude(outcome=ContactAttempt.Outcome.REFUSED)


def right_party_contact_rate(contacts: QuerySet, period: Period) -> Decimal | None:
    """Outbound calls that reached the debtor / outbound call attempts."""
    counts = call_attempts(contacts, period).aggregate(
        attempts=Count("pk"), reached=Count("pk", filter=Q(outcome__in=REACHED))
    )
    return rate(counts["reached"], counts["attempts"])


def right_party_contacts(contacts: QuerySet, period: Period) -> QuerySet:
    """Contacts in the period, any channel or direction, that reached the debtor."""
    return contacts.filter(outcome__in=REACHED, started_at__gte=period.start_at, started_at__lt=period.end_at)


def promises_made(promises: QuerySet, period: Period) -> QuerySet:
    return promises.filter(created_at__gte=period.start_at, created_at__lt=period.end_at)


def promise_rate(contacts: QuerySet, promises: QuerySet, period: Period) -> Decimal | None:
    """Promises made in the period / right-party contacts in the period."""
    return rate(promises_made(promises, period).count(), right_party_contacts(contacts, period).count())


def _kept_totals(promises: QuerySet) -> dict:
    return promises.aggregate(
        due=Coalesce(Sum("amount"), ZERO),
        kept=Coalesce(Sum("amount", filter=Q(status=PromiseToPay.Status.KEPT)), ZERO),
        partly=Coalesce(Sum("paid_amount", filter=Q(status=PromiseToPay.Status.PARTIALLY_KEPT)), ZERO),
    )


def promises_due(promises: QuerySet, period: Period) -> QuerySet:
    """Promises due in the period and settled (kept, partially kept, broken);
    cancelled ones were never owed and pending ones are still in their grace."""
    return promises.filter(due_on__gte=period.start, due_on__lte=period.end, status__in=SETTLED_PROMISES)


def promise_kept_rate(promises: QuerySet, period: Period) -> Decimal | None:
    """(Kept amounts + amounts paid on partially kept promises) / amount of
    promises due in the period: weighted by amount (RULES §8)."""
    totals = _kept_totals(promises_due(promises, period))
    return rate(totals["kept"] + totals["partly"], totals["due"])


def cure_rate(debts: QuerySet, period: Period) -> Decimal | None:
    """Accounts delinquent at period start that are current at period end /
    accounts delinquent at period start."""
    start = debt_states_on(debts, period.opening_date)
    delinquent = [debt_id for debt_id, state in start.items() if _is_delinquent(state)]
    if not delinquent:
        return None
    end = debt_states_on(debts.filter(pk__in=delinquent), period.end)
    cured = sum(1 for debt_id in delinquent if end.get(debt_id, ("", ""))[0] == CURRENT)
    return rate(cured, len(delinquent))


def bucket_order(bucket: str) -> tuple[int, int]:
    """current < M1 < … < M6 < M6+ (RULES §1)."""
    if bucket == CURRENT:
        return (0, 0)
    label = bucket.removeprefix("M")
    try:
        return (int(label.rstrip("+")), 1 if label.endswith("+") else 0)
    except ValueError:
        return (99, 0)


def next_bucket(bucket: str, buckets: list[str]) -> str | None:
    ordered = sorted(set(buckets), key=bucket_order)
    index = ordered.index(bucket) if bucket in ordered else -1
    return ordered[index + 1] if 0 <= index < len(ordered) - 1 else None


def roll_rate_matrix(debts: QuerySet, period: Period, buckets: list[str] | None = None) -> dict:
    """Transition matrix by balance (RULES §8): for accounts in bucket *i* at
    period start (open or charged off), cell *i → j* = their balance at period
    end in bucket *j* / their balance at period start. The roll rate of *i*
    is the cell *i → i+1*.

    Returns ``{"buckets": [...], "rows": [{"bucket", "accounts",
    "start_balance", "cells": {j: rate}, "roll": rate, "closed": n}]}``;
    ``closed`` counts the row's accounts no longer open at period end.
    Three queries whatever the portfolio size.
    """
    start = {k: v for k, v in debt_states_on(debts, period.opening_date).items() if v[1] in ACTIVE_STATUSES}
    end = debt_states_on(debts.filter(pk__in=list(start)), period.end) if start else {}
    balances = balances_on(debts.filter(pk__in=list(start)), period.opening_date, period.end) if start else {}
    if buckets is None:
        edges = DEFAULT_BUCKET_EDGES
        buckets = [CURRENT, *[f"M{i}" for i in range(1, len(edges) + 1)], f"M{len(edges)}+"]
    seen = {state[0] for state in start.values()} | {state[0] for state in end.values()}
    buckets = sorted(set(buckets) | seen, key=bucket_order)

    start_balance: dict[str, Decimal] = defaultdict(lambda: ZERO)
    accounts: dict[str, int] = defaultdict(int)
    closed: dict[str, int] = defaultdict(int)
    moved: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for debt_id, (bucket, _status) in start.items():
        opening, closing = balances.get(debt_id, [ZERO, ZERO])
        start_balance[bucket] += opening
        accounts[bucket] += 1
        end_bucket, end_status = end.get(debt_id, (bucket, _status))
        if end_status not in ACTIVE_STATUSES:
            closed[bucket] += 1
            continue
        moved[(bucket, end_bucket)] += closing

    rows = []
    for bucket in buckets:
        if not accounts[bucket]:
            continue
        cells = {j: rate(moved[(bucket, j)], start_balance[bucket]) for j in buckets}
        following = next_bucket(bucket, buckets)
        rows.append(
            {
                "bucket": bucket,
                "accounts": accounts[bucket],
                "start_balance": start_balance[bucket],
                "cells": cells,
                "roll": cells.get(following) if following else None,
                "closed": closed[bucket],
            }
        )
    return {"buckets": buckets, "rows": rows}


def collected_payments(payments: QuerySet, period: Period) -> QuerySet:
    return payments.filter(
        status=Payment.Status.POSTED, received_on__gte=period.start, received_on__lte=period.end
    )


def collected_amount(payments: QuerySet, period: Period) -> Decimal:
    """Posted payments received in the period, net of reversals."""
    return money(collected_payments(payments, period).aggregate(total=Sum("amount"))["total"])


def collected_per_day(payments: QuerySet, period: Period) -> list[tuple[date, Decimal]]:
    """``[(day, amount)]`` for every day of the period, zeros included."""
    rows = (
        collected_payments(payments, period)
        .order_by()
        .values("received_on")
        .annotate(total=Sum("amount"))
        .values_list("received_on", "total")
    )
    by_day = dict(rows)
    return [(day, money(by_day.get(day))) for day in period.days()]


def placements(debts: QuerySet, period: Period) -> dict:
    """Debts created during the period: ``{"accounts", "balance"}`` (original principal)."""
    totals = debts.filter(created_at__gte=period.start_at, created_at__lt=period.end_at).aggregate(
        accounts=Count("pk"), balance=Coalesce(Sum("original_principal"), ZERO)
    )
    return {"accounts": totals["accounts"], "balance": money(totals["balance"])}


def delinquent_balance_at_start(debts: QuerySet, period: Period) -> Decimal:
    start = debt_states_on(debts, period.opening_date)
    delinquent = [debt_id for debt_id, state in start.items() if _is_delinquent(state)]
    if not delinquent:
        return ZERO
    balances = balances_on(debts.filter(pk__in=delinquent), period.opening_date)
    return sum((values[0] for values in balances.values()), ZERO)


def recovery_rate(debts: QuerySet, payments: QuerySet, period: Period) -> Decimal | None:
    """Collected in the period / (delinquent balance at period start + balance
    of debts placed during the period)."""
    base = delinquent_balance_at_start(debts, period) + placements(debts, period)["balance"]
    return rate(collected_amount(payments, period), base)


def portfolio_by_bucket(debts: QuerySet) -> list[dict]:
    """Open and charged-off debts now, per bucket: accounts and balance
    (cached balances, which are the ledger's sum)."""
    balance = sum((F(f"{c}_balance") for c in OWED_COMPONENTS), F("credit_balance"))
    rows = (
        debts.filter(status__in=ACTIVE_STATUSES)
        .order_by()
        .values("bucket")
        .annotate(accounts=Count("pk"), balance=Coalesce(Sum(balance), ZERO))
    )
    return sorted(
        ({"bucket": r["bucket"], "accounts": r["accounts"], "balance": money(r["balance"])} for r in rows),
        key=lambda r: bucket_order(r["bucket"]),
    )


def portfolio_by_stage(debts: QuerySet) -> list[dict]:
    """Open and charged-off debts now, per stage of their case."""
    balance = sum((F(f"{c}_balance") for c in OWED_COMPONENTS), F("credit_balance"))
    rows = (
        debts.filter(status__in=ACTIVE_STATUSES)
        .order_by()
        .values("case__stage")
        .annotate(
            accounts=Count("pk"), cases=Count("case", distinct=True), balance=Coalesce(Sum(balance), ZERO)
        )
    )
    order = {stage: n for n, stage in enumerate(CollectionCase.Stage.values)}
    return sorted(
        (
            {
                "stage": r["case__stage"] or "",
                "accounts": r["accounts"],
                "cases": r["cases"],
                "balance": money(r["balance"]),
            }
            for r in rows
        ),
        key=lambda r: order.get(r["stage"], len(order)),
    )


def kpi_summary(*, debts, contacts, promises, payments, period: Period) -> dict:
    """Every headline number of the dashboard."""
    return {
        "right_party_contact_rate": right_party_contact_rate(contacts, period),
        "promise_rate": promise_rate(contacts, promises, period),
        "promise_kept_rate": promise_kept_rate(promises, period),
        "cure_rate": cure_rate(debts, period),
        "recovery_rate": recovery_rate(debts, payments, period),
        "collected": collected_amount(payments, period),
    }


# --------------------------------------------------------------------------
# Collectors


def _per_user(rows) -> dict:
    return {row[0]: row[1:] for row in rows}


def collector_rows(
    *, cases, contacts, promises, payments, period: Period, collector_ids=None
) -> dict[int, dict]:
    """Per collector: worked cases, contacts, right-party contacts, promises
    made, promise-kept rate and amount collected in the period, and the
    cases assigned to them now. Five grouped queries."""

    def only(rows, field):
        return rows.filter(**{f"{field}__in": collector_ids}) if collector_ids is not None else rows

    in_period = contacts.filter(started_at__gte=period.start_at, started_at__lt=period.end_at).exclude(
        outcome=ContactAttempt.Outcome.REFUSED
    )
    work = _per_user(
        only(in_period.exclude(created_by=None), "created_by")
        .order_by()
        .values("created_by")
        .annotate(
            contacts=Count("pk"),
            reached=Count("pk", filter=Q(outcome__in=REACHED)),
            worked=Count("case", distinct=True),
        )
        .values_list("created_by", "contacts", "reached", "worked")
    )
    made = _per_user(
        only(promises_made(promises, period).exclude(created_by=None), "created_by")
        .order_by()
        .values("created_by")
        .annotate(n=Count("pk"))
        .values_list("created_by", "n")
    )
    due = _per_user(
        only(promises_due(promises, period).exclude(created_by=None), "created_by")
        .order_by()
        .values("created_by")
        .annotate(
            due=Sum("amount"),
            kept=Coalesce(Sum("amount", filter=Q(status=PromiseToPay.Status.KEPT)), ZERO),
            partly=Coalesce(Sum("paid_amount", filter=Q(status=PromiseToPay.Status.PARTIALLY_KEPT)), ZERO),
        )
        .values_list("created_by", "due", "kept", "partly")
    )
    collected = _per_user(
        only(
            collected_payments(payments, period).exclude(debt__case__assigned_to=None),
            "debt__case__assigned_to",
        )
        .order_by()
        .values("debt__case__assigned_to")
        .annotate(total=Sum("amount"))
        .values_list("debt__case__assigned_to", "total")
    )
    assigned = _per_user(
        only(cases.exclude(assigned_to=None).exclude(stage=CollectionCase.Stage.CLOSED), "assigned_to")
        .order_by()
        .values("assigned_to")
        .annotate(n=Count("pk"))
        .values_list("assigned_to", "n")
    )
    ids = set(work) | set(made) | set(due) | set(collected) | set(assigned)
    rows = {}
    for user_id in ids:
        contacts_n, reached, worked = work.get(user_id, (0, 0, 0))
        due_amount, kept, partly = due.get(user_id, (ZERO, ZERO, ZERO))
        rows[user_id] = {
            "user_id": user_id,
            "assigned_cases": assigned.get(user_id, (0,))[0],
            "worked_cases": worked,
            "contacts": contacts_n,
            "right_party_contacts": reached,
            "promises": made.get(user_id, (0,))[0],
            "promised_due": money(due_amount),
            "kept_rate": rate(kept + partly, due_amount),
            "collected": money(collected.get(user_id, (ZERO,))[0]),
        }
    return rows


def leaderboard(*, users, cases, contacts, promises, payments, period: Period) -> list[dict]:
    """Collectors ranked by amount collected, then right-party contacts.

    ``users`` is the queryset of people who may appear (for a team lead:
    their teams); each row carries its ``user``. Six queries.
    """
    rows = collector_rows(cases=cases, contacts=contacts, promises=promises, payments=payments, period=period)
    people = {u.pk: u for u in users.filter(pk__in=list(rows))}
    board = [dict(row, user=people[user_id]) for user_id, row in rows.items() if user_id in people]
    board.sort(key=lambda r: (-r["collected"], -r["right_party_contacts"], r["user"].get_username()))
    for rank, row in enumerate(board, start=1):
        row["rank"] = rank
    return board


def collector_summary(*, collector, cases, contacts, promises, payments, debts, period: Period) -> dict:
    """One collector's numbers for the period: the leaderboard row, their
    right-party contact rate, promise rate, collections per day and the
    portfolio they hold now."""
    row = collector_rows(
        cases=cases,
        contacts=contacts,
        promises=promises,
        payments=payments,
        period=period,
        collector_ids=[collector.pk],
    ).get(collector.pk)
    if row is None:
        row = {
            "user_id": collector.pk,
            "assigned_cases": 0,
            "worked_cases": 0,
            "contacts": 0,
            "right_party_contacts": 0,
            "promises": 0,
            "promised_due": ZERO,
            "kept_rate": None,
            "collected": ZERO,
        }
    own_contacts = contacts.filter(created_by=collector)
    own_promises = promises.filter(created_by=collector)
    own_payments = payments.filter(debt__case__assigned_to=collector)
    return {
        **row,
        "user": collector,
        "right_party_contact_rate": right_party_contact_rate(own_contacts, period),
        "promise_rate": promise_rate(own_contacts, own_promises, period),
        "per_day": collected_per_day(own_payments, period),
        "by_bucket": portfolio_by_bucket(debts.filter(case__assigned_to=collector)),
    }
