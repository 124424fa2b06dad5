"""Feature rows per debt as of a date, rebuilt from the project's own history.

Everything is read from dated facts, never from today's caches, so a
snapshot at a past date sees only what was known on that date:

- balance and days past due from the ledger (entries with ``effective_on``
  up to the date) and the instalment schedule, with the same rule as close
  of business (the oldest instalment due before the date still owing more
  than the policy's tolerance);
- payments by ``received_on`` (a reversed payment counts until it was
  reversed);
- promises by ``settled_on`` (kept / broken), contacts by ``started_at``.

Promises and contacts belong to a case; a debt sees those of its own case.

The label of a row is "paid within 30 days": the posted payments received
in the 30 days after the snapshot date add up to at least ``LABEL_SHARE`` of
the balance on that date (and at least ``LABEL_MINIMUM``).

Credit bureau score (``cases.bureau_inquiry``): when any debt of the history
has a customer with a scored bureau report, every row also carries
``BUREAU_FEATURE_NAMES``: the newest score fetched on or before the date
(``bureau_score``, 0 when none yet) and whether there was one
(``has_bureau_score``). A portfolio without bureau data keeps exactly the
base ``FEATURE_NAMES``, and a stored model only reads the features it was
trained on, so older model versions keep scoring.
"""

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from backoffice.money import ZERO
from cases.models import (
    ContactAttempt,
    Debt,
    Instalment,
    LedgerEntry,
    Payment,
    PromiseToPay,
)

HORIZON_DAYS = 30
LOOKBACK_DAYS = 90
LABEL_SHARE = Decimal("0.05")
LABEL_MINIMUM = Decimal("1.00")
NEVER_PAID_DAYS = 365
FAILED_OUTCOMES = {"no_answer", "busy", "wrong_number"}

FEATURE_NAMES = [
    "dpd",
    "bucket_index",
    "due_in_30d",
    "log_balance",
    "payments_90d",
    "days_since_payment",
    "ever_paid",
    "broken_promises",
    "kept_promises",
    "reached_contacts_90d",
    "failed_contacts_90d",
]
BUREAU_FEATURE_NAMES = ["bureau_score", "has_bureau_score"]


def feature_names_of(rows) -> list[str]:
    """The features a set of rows carries: the base ones, plus the bureau
    ones when every row has them."""
    if rows and all(name in row.values for row in rows for name in BUREAU_FEATURE_NAMES):
        return [*FEATURE_NAMES, *BUREAU_FEATURE_NAMES]
    return list(FEATURE_NAMES)


@dataclass
class FeatureRow:
    debt_id: int
    case_id: int | None
    as_of: date
    balance: Decimal
    values: dict[str, float]
    label: bool | None = None

    def vector(self, names: list[str] | None = None) -> list[float]:
        return [self.values[name] for name in (names or FEATURE_NAMES)]


@dataclass
class _Debt:
    pk: int
    case_id: int | None
    opened_on: date
    tolerance: Decimal
    policy: object
    entries: list[tuple[date, int | None, Decimal]] = field(default_factory=list)
    instalments: list[tuple[int, int, date]] = field(default_factory=list)  # (number, id, due_on)
    payments: list[tuple[date, Decimal, date | None]] = field(default_factory=list)
    customer_id: int | None = None


@dataclass
class History:
    """Every dated fact the features read, loaded once for many snapshot dates."""

    debts: dict[int, _Debt]
    promises: dict[int, list[tuple[str, date]]]
    contacts: dict[int, list[tuple[date, str]]]
    # customer id → [(local fetch date, score)], oldest first; empty: no bureau features.
    bureau: dict[int, list[tuple[date, int]]] = field(default_factory=dict)


def load_history(debts=None) -> History:
    """Load the facts of ``debts`` (a queryset; default: every debt placed in a case)."""
    queryset = debts if debts is not None else Debt.objects.filter(case__isnull=False)
    rows = {}
    for debt in queryset.select_related("product__policy").order_by("id"):
        policy = debt.product.policy
        rows[debt.pk] = _Debt(
            debt.pk, debt.case_id, debt.opened_on, policy.tolerance, policy, customer_id=debt.customer_id
        )
    ids = list(rows)
    for debt_id, number, pk, due_on in Instalment.objects.filter(debt_id__in=ids).values_list(
        "debt_id", "number", "id", "due_on"
    ):
        rows[debt_id].instalments.append((number, pk, due_on))
    for debt in rows.values():
        debt.instalments.sort()
    for debt_id, effective_on, instalment_id, amount in LedgerEntry.objects.filter(
        debt_id__in=ids
    ).values_list("debt_id", "effective_on", "instalment_id", "amount"):
        rows[debt_id].entries.append((effective_on, instalment_id, amount))
    for debt_id, received_on, amount, status, reversed_on in Payment.objects.filter(
        debt_id__in=ids
    ).values_list("debt_id", "received_on", "amount", "status", "reversed_on"):
        if status == Payment.Status.REVERSED and reversed_on is None:
            continue
        rows[debt_id].payments.append((received_on, amount, reversed_on))
    case_ids = {d.case_id for d in rows.values() if d.case_id}
    promises: dict[int, list[tuple[str, date]]] = defaultdict(list)
    for case_id, status, settled_on in PromiseToPay.objects.filter(
        case_id__in=case_ids, settled_on__isnull=False
    ).values_list("case_id", "status", "settled_on"):
        promises[case_id].append((status, settled_on))
    contacts: dict[int, list[tuple[date, str]]] = defaultdict(list)
    for case_id, started_at, outcome in ContactAttempt.objects.filter(case_id__in=case_ids).values_list(
        "case_id", "started_at", "outcome"
    ):
        contacts[case_id].append((timezone.localdate(started_at), outcome))
    from cases.bureau_inquiry.selectors import score_history

    bureau = dict(score_history({d.customer_id for d in rows.values()}))
    return History(rows, promises, contacts, bureau)


def _paid_on(payments, day: date) -> list[tuple[date, Decimal]]:
    """Payments received up to ``day`` and not reversed by then."""
    return [(r, a) for r, a, rev in payments if r <= day and (rev is None or rev > day)]


def _row(debt: _Debt, history: History, as_of: date) -> FeatureRow | None:
    if debt.opened_on > as_of:
        return None
    balance = ZERO
    owed_by_instalment: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for effective_on, instalment_id, amount in debt.entries:
        if effective_on <= as_of:
            balance += amount
            if instalment_id is not None:
                owed_by_instalment[instalment_id] += amount
    if balance <= 0:
        return None
    dpd = 0
    for _, pk, due_on in debt.instalments:
        if due_on < as_of and owed_by_instalment[pk] > debt.tolerance:
            dpd = (as_of - due_on).days
            break
    # The schedule is known on the date: an instalment falls due in the window.
    due_soon = any(
        as_of <= due_on <= as_of + timedelta(days=HORIZON_DAYS) for _, _, due_on in debt.instalments
    )
    bucket_index = debt.policy.bucket_labels().index(debt.policy.bucket_for(dpd))
    paid = _paid_on(debt.payments, as_of)
    recent = [r for r, _ in paid if (as_of - r).days < LOOKBACK_DAYS]
    last = max((r for r, _ in paid), default=None)
    promises = [s for s, settled in history.promises.get(debt.case_id, ()) if settled <= as_of]
    contacts = [
        o
        for day, o in history.contacts.get(debt.case_id, ())
        if day <= as_of and (as_of - day).days < LOOKBACK_DAYS
    ]
    values = {
        "dpd": float(dpd),
        "bucket_index": float(bucket_index),
        "due_in_30d": 1.0 if due_soon else 0.0,
        "log_balance": math.log1p(float(balance)),
        "payments_90d": float(len(recent)),
        "days_since_payment": float(min((as_of - last).days, NEVER_PAID_DAYS) if last else NEVER_PAID_DAYS),
        "ever_paid": 1.0 if last else 0.0,
        "broken_promises": float(sum(1 for s in promises if s == PromiseToPay.Status.BROKEN)),
        "kept_promises": float(
            sum(1 for s in promises if s in (PromiseToPay.Status.KEPT, PromiseToPay.Status.PARTIALLY_KEPT))
        ),
        "reached_contacts_90d": float(sum(1 for o in contacts if o in ContactAttempt.REACHED)),
        "failed_contacts_90d": float(sum(1 for o in contacts if o in FAILED_OUTCOMES)),
    }
    if history.bureau:
        known = [score for day, score in history.bureau.get(debt.customer_id, ()) if day <= as_of]
        values["bureau_score"] = float(known[-1]) if known else 0.0
        values["has_bureau_score"] = 1.0 if known else 0.0
    return FeatureRow(debt.pk, debt.case_id, as_of, balance, values)


def label_for(debt: _Debt, as_of: date, balance: Decimal, *, known_through: date) -> bool | None:
    """Paid enough in the 30 days after ``as_of``; ``None`` while not yet known."""
    end = as_of + timedelta(days=HORIZON_DAYS)
    if end > known_through:
        return None
    paid = sum((a for r, a, rev in debt.payments if as_of < r <= end and (rev is None or rev > end)), ZERO)
    return paid >= max(LABEL_MINIMUM, balance * LABEL_SHARE)


def feature_rows(history: History, *, as_of: date, known_through: date | None = None) -> list[FeatureRow]:
    """A row per debt with a balance on ``as_of``; labelled when
    ``known_through`` covers the 30 days after ``as_of``."""
    rows = []
    for debt in history.debts.values():
        row = _row(debt, history, as_of)
        if row is None:
            continue
        if known_through is not None:
            row.label = label_for(debt, as_of, row.balance, known_through=known_through)
        rows.append(row)
    return rows
