"""Queue priority of a case, with the reasons a collector reads (DESIGN.md:
"My queue"; RULES.md §5: a broken promise raises priority).

priority = expected recovery + bumps, where

- expected recovery = probability of paying × balance of the case's
  still-collectible debts. The probability is the case's ``risk_score`` when
  a model has set one (``cases.services.risk.score_debts``; the reason names
  the active model's version: "P(pay in 30d)=0.42 × balance 3,000.00 (model
  v3)"), otherwise a transparent scorecard on the worst days
  past due (``FALLBACK_SCORECARD``: 0.60 up to DPD 30, 0.35 to 60, 0.20 to
  90, 0.10 to 180, 0.05 beyond);
- bumps (``PriorityWeights``): a pending promise due today, a callback the
  debtor asked for that is due, and each broken promise;
- the customer's newest credit bureau score (``cases.bureau_inquiry``)
  scales the expected recovery by ``BUREAU_SCORE_FACTORS`` ("Bureau score
  540: expected recovery × 0.80"), unless the active risk model already has
  the score among its features (then it is in P(pay) itself).

A case on hold may not be contacted (RULES §3): its priority is 0 and it has
no next action, with the hold named as the reason.

``next_action_on`` is the earliest pending promise due date (today or later)
or requested callback date; otherwise today for a delinquent case and none
for a current one. The stored ``next_action_on`` is this module's own
output, so it is never read back as an input (it would keep every case
"due" for ever).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from backoffice.money import ZERO, round_half_up
from cases.models import BALANCE_FIELD, CollectionCase, Debt, PromiseToPay, RiskModel
from cases.selectors.work import outstanding_callbacks
from cases.services.assignment import case_ids_of
from cases.services.promises import BROKEN_PROMISE_PRIORITY_BUMP

FALLBACK_SCORECARD: tuple[tuple[int, Decimal], ...] = (
    (30, Decimal("0.60")),
    (60, Decimal("0.35")),
    (90, Decimal("0.20")),
    (180, Decimal("0.10")),
)
FALLBACK_BEYOND = Decimal("0.05")
PRIORITY_MAX = Decimal("9999999999.99")  # the field's max_digits=12, decimal_places=2
PRIORITY_FIELDS = ["priority", "priority_reasons", "next_action_on"]
# (lowest score of the band, factor on the expected recovery), best band first.
BUREAU_SCORE_FACTORS: tuple[tuple[int, Decimal], ...] = (
    (700, Decimal("1.20")),
    (600, Decimal("1.00")),
    (500, Decimal("0.80")),
)
BUREAU_SCORE_FACTOR_BELOW = Decimal("0.60")


@dataclass(frozen=True)
class PriorityWeights:
    """Points added on top of the expected recovery.

    The broken-promise weight is the promises service's own bump, so a case
    scores the same whether the bump was just added there or recomputed here.
    """

    promise_due_today: Decimal = Decimal("1000.00")
    callback_due: Decimal = Decimal("500.00")
    per_broken_promise: Decimal = BROKEN_PROMISE_PRIORITY_BUMP


DEFAULT_WEIGHTS = PriorityWeights()


def bureau_score_factor(score: int) -> Decimal:
    for lowest, factor in BUREAU_SCORE_FACTORS:
        if score >= lowest:
            return factor
    return BUREAU_SCORE_FACTOR_BELOW


def fallback_probability(worst_dpd: int) -> Decimal:
    for upto, probability in FALLBACK_SCORECARD:
        if worst_dpd <= upto:
            return probability
    return FALLBACK_BEYOND


@dataclass
class CaseSignals:
    """Everything the score of one case depends on."""

    balance: Decimal = ZERO
    worst_dpd: int = 0
    risk_score: Decimal | None = None
    risk_model_version: int | None = None
    broken_promises: int = 0
    holds: list = field(default_factory=list)
    promises_due_today: list[Decimal] = field(default_factory=list)
    promise_dates: list[date] = field(default_factory=list)
    callback_dates: list[date] = field(default_factory=list)
    bureau_score: int | None = None
    bureau_score_in_model: bool = False


@dataclass(frozen=True)
class Score:
    priority: Decimal
    reasons: list[str]
    next_action_on: date | None


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def score_case(signals: CaseSignals, *, today: date, weights: PriorityWeights = DEFAULT_WEIGHTS) -> Score:
    """Priority, reasons and next action of one case; a pure function."""
    if signals.holds:
        holds = ", ".join(str(h) for h in signals.holds)
        return Score(ZERO, [f"On hold ({holds}): no contact"], None)
    reasons = []
    balance = max(signals.balance, ZERO)
    if signals.risk_score is not None and signals.risk_model_version is not None:
        probability = Decimal(signals.risk_score)
        priority = round_half_up(probability * balance)
        reasons.append(
            f"Expected recovery {_money(priority)} = P(pay in 30d)={probability:.2f}"
            f" × balance {_money(balance)} (model v{signals.risk_model_version})"
        )
    else:
        if signals.risk_score is not None:
            probability, source = Decimal(signals.risk_score), "risk score"
        else:
            probability = fallback_probability(signals.worst_dpd)
            source = f"scorecard at DPD {signals.worst_dpd}"
        priority = round_half_up(probability * balance)
        reasons.append(
            f"Expected recovery {_money(priority)} = {probability:.0%} ({source}) × balance {_money(balance)}"
        )
    if signals.bureau_score is not None and not signals.bureau_score_in_model:
        factor = bureau_score_factor(signals.bureau_score)
        priority = round_half_up(priority * factor)
        reasons.append(f"Bureau score {signals.bureau_score}: expected recovery × {factor:.2f}")
    if signals.promises_due_today:
        priority += weights.promise_due_today
        promised = sum(signals.promises_due_today, ZERO)
        reasons.append(f"Promise of {_money(promised)} due today")
    due_callbacks = sorted(d for d in signals.callback_dates if d <= today)
    if due_callbacks:
        priority += weights.callback_due
        when = "today" if due_callbacks[0] == today else f"since {due_callbacks[0].isoformat()}"
        reasons.append(f"Callback due {when}")
    if signals.broken_promises:
        priority += weights.per_broken_promise * signals.broken_promises
        plural = "s" if signals.broken_promises != 1 else ""
        reasons.append(f"{signals.broken_promises} broken promise{plural}")
    upcoming = [d for d in signals.promise_dates if d >= today] + list(signals.callback_dates)
    if upcoming:
        next_action = min(upcoming)
    elif signals.worst_dpd > 0:
        next_action = today
    else:
        next_action = None
    return Score(min(priority, PRIORITY_MAX), reasons, next_action)


@dataclass
class PriorityRefresh:
    today: date
    changed: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict:
        return {"today": self.today.isoformat(), "changed": self.changed, "unchanged": self.unchanged}


def refresh_priorities(
    *,
    today: date,
    actor,
    cases=None,
    chunk_size: int | None = None,
    weights: PriorityWeights = DEFAULT_WEIGHTS,
) -> PriorityRefresh:
    """Recompute priority, reasons and next action of every open case (or ``cases``).

    One transaction per chunk of ``chunk_size`` case ids; only cases whose
    values change are written, with a history row each (reason ``priority
    refresh <today>``), so a second run the same day writes nothing.
    """
    size = chunk_size or settings.COB_CHUNK_SIZE
    queryset = CollectionCase.objects.exclude(stage=CollectionCase.Stage.CLOSED)
    if cases is not None:
        queryset = queryset.filter(pk__in=case_ids_of(cases))
    ids = list(queryset.order_by("id").values_list("id", flat=True))
    total = PriorityRefresh(today)
    for start in range(0, len(ids), size):
        changed, unchanged = _refresh_chunk(
            ids[start : start + size], today=today, actor=actor, weights=weights
        )
        total.changed += changed
        total.unchanged += unchanged
    return total


def _refresh_chunk(ids: list[int], *, today: date, actor, weights: PriorityWeights) -> tuple[int, int]:
    reason = f"priority refresh {today.isoformat()}"
    with transaction.atomic():
        locked = list(
            CollectionCase.objects.select_for_update(of=("self",))
            .filter(pk__in=ids)
            .exclude(stage=CollectionCase.Stage.CLOSED)
            .order_by("id")
        )
        signals = load_signals(locked, today=today)
        changed = []
        for case in locked:
            score = score_case(signals[case.pk], today=today, weights=weights)
            if (case.priority, case.priority_reasons, case.next_action_on) == (
                score.priority,
                score.reasons,
                score.next_action_on,
            ):
                continue
            case.priority = score.priority
            case.priority_reasons = score.reasons
            case.next_action_on = score.next_action_on
            changed.append(case)
        if changed:
            bulk_update_with_history(
                changed,
                CollectionCase,
                PRIORITY_FIELDS,
                batch_size=500,
                default_user=actor,
                default_change_reason=reason,
            )
    return len(changed), len(locked) - len(changed)


def load_signals(cases: list[CollectionCase], *, today: date) -> dict[int, CaseSignals]:
    """The signals of ``cases`` in three queries (debts, promises, callbacks)."""
    # Imported here: the bureau app and the risk features import this module's neighbours.
    from cases.bureau_inquiry.selectors import newest_score_of_customer
    from cases.risk.features import BUREAU_FEATURE_NAMES

    ids = [c.pk for c in cases]
    model, feature_names = RiskModel.objects.filter(active=True).values_list(
        "version", "feature_names"
    ).first() or (None, [])
    in_model = model is not None and set(BUREAU_FEATURE_NAMES) <= set(feature_names or [])
    signals = {
        c.pk: CaseSignals(
            risk_score=c.risk_score,
            risk_model_version=model if c.risk_score is not None else None,
            broken_promises=c.broken_promises,
            holds=list(c.holds or []),
            # Only a model that scored this case has the bureau score in its P(pay).
            bureau_score_in_model=in_model and c.risk_score is not None,
        )
        for c in cases
    }
    balance_fields = list(BALANCE_FIELD.values())
    # A case's debts are its customer's: the newest bureau score rides along.
    debts = (
        Debt.objects.filter(case_id__in=ids, status__in=Debt.ACTIVE_STATUSES)
        .annotate(bureau_score=newest_score_of_customer("customer_id"))
        .values_list("case_id", "days_past_due", "bureau_score", *balance_fields)
    )
    for case_id, dpd, bureau_score, *balances in debts:
        s = signals[case_id]
        s.balance += sum(balances, ZERO)
        s.worst_dpd = max(s.worst_dpd, dpd)
        s.bureau_score = bureau_score
    promises = PromiseToPay.objects.filter(
        case_id__in=ids, status=PromiseToPay.Status.PENDING, due_on__gte=today
    ).values_list("case_id", "due_on", "amount")
    for case_id, due_on, amount in promises:
        signals[case_id].promise_dates.append(due_on)
        if due_on == today:
            signals[case_id].promises_due_today.append(amount)
    callbacks: dict[int, list[date]] = defaultdict(list)
    for case_id, callback_at in (
        outstanding_callbacks().filter(case_id__in=ids).values_list("case_id", "callback_at")
    ):
        callbacks[case_id].append(timezone.localdate(callback_at))
    for case_id, dates in callbacks.items():
        signals[case_id].callback_dates = dates
    return signals
