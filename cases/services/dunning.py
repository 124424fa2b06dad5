"""The dunning ladder (RULES.md §3: "Escalation follows the dunning ladder").

Each ``CollectionPolicy`` has ordered ``DunningStep``s. Close of business
calls ``evaluate_ladder(business_date=D)`` once the debts are aged through D.

When a step hits a debt (``due_cycles``):

- ``days_from_due`` with offset d ≥ 1: the debt's days past due on D are at
  least d. The *cycle* is the date of first delinquency, so a step fires at
  most once per delinquency; a cured and re-delinquent debt starts a new
  cycle. "At least" (not "exactly") means a night that was skipped, or a
  ladder switched on for an old account, still fires every missed step, in
  order, each once.
- ``days_from_due`` with offset d ≤ 0 (pre-due reminder): the debt is
  current and an unpaid instalment falls due within −d days; the cycle is
  ``pre:<that due date>``. A debt on the early-warning watch list
  (``cases.services.risk.early_warning``) is reminded earlier: its next
  unpaid instalment within ``WATCH_PRE_DUE_DAYS`` counts (same cycle, so the
  reminder still goes once per due date).
- ``promise_broken``: a promise on the debt (or on its case, for the case's
  first debt) was settled as broken within the last ``EVENT_LOOKBACK`` days;
  cycle ``promise:<id>``. ``plan_defaulted``: a payment plan of the debt has
  defaulted; cycle ``plan:<id>``.

Conditions: the debt's bucket (empty list: any), its balance above the
step's ``min_balance``. A debt that does not meet them is not hit tonight
and may be hit on a later night. A step with ``skip_on_hold`` on a case with
a hold is recorded as ``skipped`` with the hold named and is **not retried**
once the hold ends: a hold (dispute, cease, bankruptcy…) makes the reminder
that was due moot, and the ladder continues with its next steps; a
collector decides what to say after a dispute is resolved.

``DunningFiring`` (unique per step, debt, cycle) is written in the same
transaction as the step's action, so a step fires at most once however often
and however concurrently the ladder runs. Actions:

- ``sms``/``email``/``letter``: ``queue_message`` with the key
  ``dunning:<step>:<debt>:<cycle>``, meant to go out the next morning at the
  policy's first contact hour + 1 in the customer's zone. Refused by the
  contact rules with a foreseeable end (hours, daily caps): the firing
  *waits* with ``retry_at`` = the engine's next allowed moment, and
  ``retry_waiting`` (beat, every 15 minutes) queues it then. A missing or
  broken template waits a day (fix the template; nothing is lost). Refused
  for good (do-not-contact) or no usable contact point: ``skipped``, with the
  blocked message kept.
- ``call_task``: the case's next action becomes the next working day, with
  the step named in its priority reasons (run after ``refresh_priorities``).
- ``stage_change``: escalates the case to the step's stage (never moves it
  back; a case already there or beyond is noted); ``refer_legal``: moves it
  to ``legal`` unless the debt is time-barred or below the policy's legal
  minimum. The system acts here, so these write the stage like the nightly
  stage refresh does, with a history row naming the step.

Work is split by debt id range (``ladder_id_ranges``, ``evaluate_ladder_chunk``)
so several workers can share a night.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from backoffice.audit import record, system_user
from cases.compliance.engine import candidate_zones
from cases.messaging.render import Rendered
from cases.models import (
    CollectionCase,
    CollectionPolicy,
    Debt,
    DunningFiring,
    DunningStep,
    Message,
    MessageTemplate,
    PaymentPlan,
    PromiseToPay,
    WatchListEntry,
)
from cases.services.holds import lock_case
from cases.services.messages import queue_message
from cases.services.stages import STAGE_ORDER

Step = DunningStep
Firing = DunningFiring
MESSAGE_ACTIONS = {Step.Action.SMS: "sms", Step.Action.EMAIL: "email", Step.Action.LETTER: "letter"}
EVENT_LOOKBACK = timedelta(days=7)
TEMPLATE_RETRY = timedelta(days=1)
WATCH_PRE_DUE_DAYS = 31
Stage = CollectionCase.Stage


@dataclass
class LadderSummary:
    business_date: date
    debts: int = 0
    done: int = 0
    waiting: int = 0
    skipped: int = 0
    by_step: dict[str, int] = field(default_factory=dict)

    def add(self, other: "LadderSummary") -> None:
        self.debts += other.debts
        self.done += other.done
        self.waiting += other.waiting
        self.skipped += other.skipped
        for key, value in other.by_step.items():
            self.by_step[key] = self.by_step.get(key, 0) + value

    def count(self, firing: DunningFiring) -> None:
        setattr(self, firing.status, getattr(self, firing.status) + 1)
        key = str(firing.step_id)
        self.by_step[key] = self.by_step.get(key, 0) + 1

    def as_dict(self) -> dict:
        return {
            "business_date": self.business_date.isoformat(),
            "debts": self.debts,
            "done": self.done,
            "waiting": self.waiting,
            "skipped": self.skipped,
            "by_step": dict(self.by_step),
        }


# --- which debts a step hits -------------------------------------------------


def _laddered_debts() -> QuerySet:
    active_steps = DunningStep.objects.filter(policy_id=OuterRef("product__policy_id"), active=True)
    return Debt.objects.filter(status__in=Debt.ACTIVE_STATUSES, case__isnull=False).filter(
        Exists(active_steps)
    )


def ladder_id_ranges(business_date: date, chunk_size: int | None = None) -> list[tuple[int, int]]:
    """Id ranges of the debts the ladder looks at on ``business_date``."""
    size = chunk_size or settings.COB_CHUNK_SIZE
    ids = list(
        _laddered_debts().filter(opened_on__lte=business_date).order_by("id").values_list("id", flat=True)
    )
    return [(ids[i], ids[min(i + size, len(ids)) - 1]) for i in range(0, len(ids), size)]


@dataclass
class DebtFacts:
    """What the hit rules read about one debt, loaded per chunk."""

    unpaid_due_dates: list[date] = field(default_factory=list)
    broken_promises: list[PromiseToPay] = field(default_factory=list)
    defaulted_plans: list[PaymentPlan] = field(default_factory=list)
    watch_listed: bool = False


def _load_facts(debts: list[Debt], business_date: date) -> dict[int, DebtFacts]:
    facts = {d.pk: DebtFacts() for d in debts}
    tolerance = {d.pk: d.product.policy.tolerance for d in debts}
    from cases.models import Instalment

    for debt_id, due_on, principal, interest in (
        Instalment.objects.filter(debt_id__in=facts, due_on__gte=business_date)
        .order_by("due_on")
        .values_list("debt_id", "due_on", "principal_balance", "interest_balance")
    ):
        if principal + interest > tolerance[debt_id]:
            facts[debt_id].unpaid_due_dates.append(due_on)
    first_debt_of_case: dict[int, int] = {}
    for d in sorted(debts, key=lambda d: d.pk):
        first_debt_of_case.setdefault(d.case_id, d.pk)
    case_ids = list(first_debt_of_case)
    promises = PromiseToPay.objects.filter(
        Q(debt_id__in=facts) | Q(debt__isnull=True, case_id__in=case_ids),
        status=PromiseToPay.Status.BROKEN,
        settled_on__gte=business_date - EVENT_LOOKBACK,
        settled_on__lte=business_date,
    ).order_by("id")
    for promise in promises:
        debt_id = promise.debt_id or first_debt_of_case.get(promise.case_id)
        if debt_id in facts:
            facts[debt_id].broken_promises.append(promise)
    for debt_id in WatchListEntry.objects.filter(debt_id__in=facts, cleared_on__isnull=True).values_list(
        "debt_id", flat=True
    ):
        facts[debt_id].watch_listed = True
    for plan in PaymentPlan.objects.filter(debt_id__in=facts, status=PaymentPlan.Status.DEFAULTED).order_by(
        "id"
    ):
        facts[plan.debt_id].defaulted_plans.append(plan)
    return facts


def due_cycles(step: DunningStep, debt: Debt, facts: DebtFacts, business_date: date) -> list[str]:
    """The cycles in which ``step`` hits ``debt`` on ``business_date`` (before
    conditions and before looking at what already fired)."""
    if step.trigger == Step.Trigger.DAYS_FROM_DUE:
        if step.offset_days >= 1:
            if debt.days_past_due >= step.offset_days and debt.date_of_first_delinquency:
                return [debt.date_of_first_delinquency.isoformat()]
            return []
        if debt.days_past_due > 0:
            return []
        days = max(-step.offset_days, WATCH_PRE_DUE_DAYS if facts.watch_listed else 0)
        horizon = business_date + timedelta(days=days)
        return [f"pre:{d.isoformat()}" for d in facts.unpaid_due_dates if business_date <= d <= horizon][:1]
    if step.trigger == Step.Trigger.PROMISE_BROKEN:
        return [f"promise:{p.pk}" for p in facts.broken_promises]
    if step.trigger == Step.Trigger.PLAN_DEFAULTED:
        return [f"plan:{p.pk}" for p in facts.defaulted_plans]
    return []


def meets_conditions(step: DunningStep, debt: Debt) -> bool:
    if step.buckets and debt.bucket not in step.buckets:
        return False
    return debt.total_balance > (step.min_balance or Decimal("0"))


def _hold_note(case: CollectionCase) -> str | None:
    if case.holds:
        return f"On hold ({', '.join(case.holds)}): not sent, not retried."
    return None


# --- when messages go out ----------------------------------------------------


def planned_send_at(*, debt: Debt, business_date: date) -> datetime:
    """The morning after ``business_date`` at the policy's first contact hour
    + 1, in the customer's (first candidate) zone."""
    customer = debt.customer
    phones = [p.value for p in customer.contact_points.all() if p.kind == "phone"]
    zones = candidate_zones(
        time_zone=customer.time_zone, phone_numbers=phones, jurisdiction=customer.jurisdiction
    )
    hour = min(debt.product.policy.contact_hours_start + 1, 23)
    return datetime.combine(business_date + timedelta(days=1), time(hour), tzinfo=ZoneInfo(zones[0]))


# --- evaluation ----------------------------------------------------------------


def evaluate_ladder(
    *,
    business_date: date,
    actor=None,
    chunk_size: int | None = None,
    send_at: datetime | None = None,
    now: datetime | None = None,
) -> LadderSummary:
    """Fire the ladder for every collectible debt on ``business_date``.

    Call it after the debts are aged for ``business_date`` and after the
    day's promises, plans, stages and priorities (see the module docstring).
    Safe to run twice: the second run fires nothing. ``send_at`` overrides
    the planned moment of the messages (a run by hand in the evening).
    """
    actor = actor or system_user()
    total = LadderSummary(business_date)
    for first_id, last_id in ladder_id_ranges(business_date, chunk_size):
        total.add(
            evaluate_ladder_chunk(
                first_id=first_id,
                last_id=last_id,
                business_date=business_date,
                actor=actor,
                send_at=send_at,
                now=now,
            )
        )
    return total


def _steps_by_policy(policy_ids) -> dict[int, list[DunningStep]]:
    steps: dict[int, list[DunningStep]] = defaultdict(list)
    for step in DunningStep.objects.filter(policy_id__in=policy_ids, active=True).order_by(
        "policy_id", "order", "offset_days", "id"
    ):
        steps[step.policy_id].append(step)
    return steps


def evaluate_ladder_chunk(
    *,
    first_id: int,
    last_id: int,
    business_date: date,
    actor=None,
    send_at: datetime | None = None,
    now: datetime | None = None,
) -> LadderSummary:
    """Evaluate the ladder for the debts with ids in ``[first_id, last_id]``."""
    actor = actor or system_user()
    summary = LadderSummary(business_date)
    debts = list(
        _laddered_debts()
        .filter(id__gte=first_id, id__lte=last_id, opened_on__lte=business_date)
        .select_related("case", "customer", "creditor", "product__policy")
        .prefetch_related("customer__contact_points")
        .order_by("id")
    )
    if not debts:
        return summary
    summary.debts = len(debts)
    steps = _steps_by_policy({d.product.policy_id for d in debts})
    facts = _load_facts(debts, business_date)
    fired = set(
        DunningFiring.objects.filter(debt_id__in=[d.pk for d in debts]).values_list(
            "step_id", "debt_id", "cycle"
        )
    )
    for debt in debts:
        for step in steps.get(debt.product.policy_id, []):
            for cycle in due_cycles(step, debt, facts[debt.pk], business_date):
                if (step.pk, debt.pk, cycle) in fired or not meets_conditions(step, debt):
                    continue
                firing = _fire(
                    step=step,
                    debt=debt,
                    cycle=cycle,
                    business_date=business_date,
                    actor=actor,
                    send_at=send_at,
                    now=now,
                )
                if firing is not None:
                    fired.add((step.pk, debt.pk, cycle))
                    summary.count(firing)
    return summary


def _fire(*, step, debt, cycle, business_date, actor, send_at, now) -> DunningFiring | None:
    """Record and perform one step for one debt; ``None`` when another run
    fired it first."""
    try:
        with transaction.atomic():
            firing = DunningFiring(
                step=step,
                debt=debt,
                cycle=cycle,
                status=Firing.Status.WAITING,
                fired_on=business_date,
            )
            record(firing, actor=actor, reason=f"dunning step {step.pk} for {business_date.isoformat()}")
            firing.save()
            case = CollectionCase.objects.get(pk=debt.case_id)
            note = _hold_note(case) if step.skip_on_hold else None
            if note:
                _finish(firing, Firing.Status.SKIPPED, note, actor=actor)
            elif step.action in MESSAGE_ACTIONS:
                at = send_at or planned_send_at(debt=debt, business_date=business_date)
                _send_step_message(firing, step=step, debt=debt, case=case, at=at, actor=actor, now=now)
            elif step.action == Step.Action.CALL_TASK:
                _call_task(firing, step=step, case=case, business_date=business_date, actor=actor)
            elif step.action in (Step.Action.STAGE_CHANGE, Step.Action.REFER_LEGAL):
                _move_stage(firing, step=step, debt=debt, business_date=business_date, actor=actor)
            else:
                _finish(firing, Firing.Status.SKIPPED, f"Unknown action {step.action!r}.", actor=actor)
            return firing
    except IntegrityError:
        if DunningFiring.objects.filter(step=step, debt=debt, cycle=cycle).exists():
            return None
        raise


def _finish(firing: DunningFiring, status: str, note: str, *, actor, message=None, retry_at=None) -> None:
    firing.status = status
    firing.note = note[:300]
    firing.retry_at = retry_at
    if message is not None:
        firing.message = message
    record(firing, actor=actor, reason=f"dunning step {status}")
    firing.save(update_fields=["status", "note", "retry_at", "message"])


def _step_key(step_id: int, debt_id: int, cycle: str) -> str:
    return f"dunning:{step_id}:{debt_id}:{cycle}"


def _send_step_message(firing, *, step, debt, case, at: datetime, actor, now) -> None:
    channel = MESSAGE_ACTIONS[step.action]
    try:
        with transaction.atomic():
            message = queue_message(
                case=case,
                debt=debt,
                channel=channel,
                template_code=step.template_code,
                actor=actor,
                at=at,
                idempotency_key=_step_key(step.pk, debt.pk, firing.cycle),
                dunning_step=step,
                retry=True,
                now=now,
            )
    except ValidationError as exc:
        messages = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        if "contact_point" in exc.message_dict:
            _finish(firing, Firing.Status.SKIPPED, messages, actor=actor)
        else:
            _finish(firing, Firing.Status.WAITING, messages, actor=actor, retry_at=at + TEMPLATE_RETRY)
        return
    if message.status in (Message.Status.QUEUED, Message.Status.SENT, Message.Status.DELIVERED):
        _finish(firing, Firing.Status.DONE, f"{channel} {message.status}", actor=actor, message=message)
    elif message.status == Message.Status.BLOCKED:
        decision = getattr(message, "decision", None)
        retry_at = decision.next_allowed_at if decision is not None else None
        if retry_at is not None:
            note = f"Waiting for an allowed time ({', '.join(message.rules)}): {message.blocked_reason}"
            _finish(firing, Firing.Status.WAITING, note, actor=actor, message=message, retry_at=retry_at)
        else:
            note = f"Blocked ({', '.join(message.rules)}): {message.blocked_reason}"
            _finish(firing, Firing.Status.SKIPPED, note, actor=actor, message=message)
    else:  # failed on its template: wait for the template to be fixed
        _finish(
            firing,
            Firing.Status.WAITING,
            message.last_error,
            actor=actor,
            message=message,
            retry_at=at + TEMPLATE_RETRY,
        )


def _call_task(firing, *, step, case, business_date: date, actor) -> None:
    locked = lock_case(case.pk)
    day = business_date + timedelta(days=1)
    reason = f"Dunning: {step.name}"
    fields = []
    if locked.next_action_on is None or locked.next_action_on > day:
        locked.next_action_on = day
        fields.append("next_action_on")
    if reason not in (locked.priority_reasons or []):
        locked.priority_reasons = [*(locked.priority_reasons or []), reason]
        fields.append("priority_reasons")
    if fields:
        record(locked, actor=actor, reason=f"dunning step {step.pk}: call")
        locked.save(update_fields=fields)
    _finish(firing, Firing.Status.DONE, f"Call queued for {day.isoformat()}", actor=actor)


def _move_stage(firing, *, step, debt, business_date: date, actor) -> None:
    target = Stage.LEGAL if step.action == Step.Action.REFER_LEGAL else step.target_stage
    if target not in Stage.values or target == Stage.CLOSED:
        _finish(firing, Firing.Status.SKIPPED, f"Cannot move a case to stage {target!r}.", actor=actor)
        return
    if target == Stage.LEGAL:
        if debt.limitation_on and business_date > debt.limitation_on:
            _finish(firing, Firing.Status.SKIPPED, "Time-barred: cannot go to legal (RULES §1).", actor=actor)
            return
        minimum = debt.product.policy.legal_minimum_balance
        if debt.total_balance < minimum:
            _finish(firing, Firing.Status.SKIPPED, f"Balance below the legal minimum {minimum}.", actor=actor)
            return
    case = lock_case(debt.case_id)
    if STAGE_ORDER.index(case.stage) >= STAGE_ORDER.index(target):
        _finish(firing, Firing.Status.DONE, f"Case already in stage {case.stage}.", actor=actor)
        return
    case.stage = target
    case.stage_changed_on = business_date
    record(case, actor=actor, reason=f"dunning: {step.name}"[:100])
    case.save(update_fields=["stage", "stage_changed_on"])
    _finish(firing, Firing.Status.DONE, f"Case moved to {target}.", actor=actor)


# --- waiting steps ---------------------------------------------------------------


def retry_waiting(*, now: datetime, actor=None, limit: int | None = None) -> LadderSummary:
    """Queue the messages of waiting firings whose ``retry_at`` has come.

    A firing whose debt is no longer collectible, is current again or is in
    a new delinquency cycle is skipped; one on hold (for a ``skip_on_hold``
    step) too. Returns the counts of the firings' new states.
    """
    actor = actor or system_user()
    summary = LadderSummary(now.date())
    ids = list(
        DunningFiring.objects.filter(status=Firing.Status.WAITING, retry_at__lte=now)
        .order_by("retry_at", "id")
        .values_list("id", flat=True)
    )
    for firing_id in ids[:limit] if limit else ids:
        with transaction.atomic():
            firing = (
                DunningFiring.objects.select_for_update(of=("self",))
                .select_related("step", "debt__product__policy", "debt__customer", "debt__creditor")
                .filter(pk=firing_id, status=Firing.Status.WAITING)
                .first()
            )
            if firing is None:
                continue
            step, debt = firing.step, firing.debt
            case = CollectionCase.objects.get(pk=debt.case_id)
            stale = _stale(firing, debt)
            note = stale or (_hold_note(case) if step.skip_on_hold else None)
            if note:
                _finish(firing, Firing.Status.SKIPPED, note, actor=actor)
            elif step.action in MESSAGE_ACTIONS and step.active:
                _send_step_message(firing, step=step, debt=debt, case=case, at=now, actor=actor, now=now)
            else:
                _finish(firing, Firing.Status.SKIPPED, "The step was switched off.", actor=actor)
            summary.count(firing)
    return summary


def _stale(firing: DunningFiring, debt: Debt) -> str | None:
    if debt.status not in Debt.ACTIVE_STATUSES:
        return f"The debt is {debt.status}: nothing to remind."
    cycle = firing.cycle
    if cycle.startswith(("pre:", "promise:", "plan:")):
        return None
    if debt.days_past_due == 0 or not debt.date_of_first_delinquency:
        return "The debt is current again."
    if debt.date_of_first_delinquency.isoformat() != cycle:
        return "A new delinquency cycle has started."
    return None


# --- admin previews ------------------------------------------------------------


def preview_step(step: DunningStep, today: date, *, limit: int = 500) -> QuerySet:
    """The debts ``step`` would hit if the ladder ran for ``today`` (without
    anything it already fired, conditions applied, holds not: a held case is
    hit and recorded as skipped). At most ``limit`` debts are examined."""
    candidates = _laddered_debts().filter(product__policy_id=step.policy_id, opened_on__lte=today)
    if step.trigger == Step.Trigger.DAYS_FROM_DUE:
        if step.offset_days >= 1:
            candidates = candidates.filter(days_past_due__gte=step.offset_days)
        else:
            candidates = candidates.filter(
                days_past_due=0,
                instalments__due_on__gte=today,
                instalments__due_on__lte=today + timedelta(days=-step.offset_days),
            ).distinct()
    if step.buckets:
        candidates = candidates.filter(bucket__in=step.buckets)
    debts = list(candidates.select_related("case", "product__policy").order_by("id")[:limit])
    facts = _load_facts(debts, today)
    fired = set(
        DunningFiring.objects.filter(step=step, debt_id__in=[d.pk for d in debts]).values_list(
            "debt_id", "cycle"
        )
    )
    hit = [
        d.pk
        for d in debts
        if meets_conditions(step, d)
        and any((d.pk, c) not in fired for c in due_cycles(step, d, facts[d.pk], today))
    ]
    return Debt.objects.filter(pk__in=hit).select_related("customer", "case").order_by("id")


# --- the demo ladder ---------------------------------------------------------------


@dataclass(frozen=True)
class StepSpec:
    order: int
    name: str
    offset_days: int
    action: str
    template_code: str = ""
    target_stage: str = ""
    skip_on_hold: bool = True


DEFAULT_LADDER: tuple[StepSpec, ...] = (
    StepSpec(10, "Pre-due reminder (SMS)", -3, Step.Action.SMS, "pre-due-reminder"),
    StepSpec(20, "Day 1 reminder (SMS)", 1, Step.Action.SMS, "overdue-day-1"),
    StepSpec(30, "Day 3 reminder (email)", 3, Step.Action.EMAIL, "overdue-day-3"),
    StepSpec(40, "Day 7 call", 7, Step.Action.CALL_TASK),
    StepSpec(50, "Day 15 reminder (SMS)", 15, Step.Action.SMS, "overdue-day-15"),
    StepSpec(60, "Day 30 demand letter", 30, Step.Action.LETTER, "demand-letter"),
    StepSpec(
        70,
        "Day 60 hard collection",
        60,
        Step.Action.STAGE_CHANGE,
        target_stage=Stage.HARD,
        skip_on_hold=False,
    ),
    StepSpec(80, "Day 60 call", 60, Step.Action.CALL_TASK),
)

# (code, channel) → {language: (subject, body)}
DEFAULT_TEMPLATES: dict[tuple[str, str], dict[str, tuple[str, str]]] = {
    ("pre-due-reminder", "sms"): {
        "en": (
            "",
            "{{ creditor }}: Dear {{ customer_name }}, your instalment of {{ currency }}"
            " {{ next_due_amount }} "
            "on account {{ account_number }} is due on {{ next_due_date }}. {{ how_to_pay }} {{ opt_out }}",
        ),
        "zh-hans": (
            "",
            "【{{ creditor }}】尊敬的{{ customer_name }}，您的账户{{ account_number }}本期应还"
            "{{ currency }} {{ next_due_amount }}，还款日为{{ next_due_date }}"
            "。{{ how_to_pay }}{{ opt_out }}",
        ),
    },
    ("overdue-day-1", "sms"): {
        "en": (
            "",
            "{{ creditor }}: Dear {{ customer_name }}, your payment on account {{ account_number }} due "
            "{{ due_date }} is overdue. Amount overdue: {{ currency }} {{ amount_overdue }}. "
            "Please pay by {{ pay_by }}. {{ how_to_pay }} {{ opt_out }}",
        ),
        "zh-hans": (
            "",
            "【{{ creditor }}】尊敬的{{ customer_name }}，您的账户{{ account_number }}于{{ due_date }}到期的"
            "款项已逾期，逾期金额{{ currency }} {{ amount_overdue }}，请于{{ pay_by }}前还款。"
            "{{ how_to_pay }}{{ opt_out }}",
        ),
    },
    ("overdue-day-3", "email"): {
        "en": (
            "Payment overdue on account {{ account_number }}",
            "Dear {{ customer_name }},\n\nOur records show that the payment due on {{ due_date }} on your "
            "account {{ account_number }} with {{ creditor }} has not been received. The account is "
            "{{ days_past_due }} days past due; the overdue amount is {{ currency }} {{ amount_overdue }} "
            "and the total balance {{ currency }} {{ balance }}.\n\nPlease pay by {{ pay_by }}. "
            "{{ how_to_pay }}\n\nIf you have already paid, please disregard this message.\n\n"
            "{{ creditor }}\n\n{{ opt_out }}",
        ),
        "zh-hans": (
            "账户{{ account_number }}逾期还款提醒",
            "尊敬的{{ customer_name }}：\n\n您在{{ creditor }}的账户{{ account_number }}于{{ due_date }}"
            "到期的款项尚未收到，目前已逾期{{ days_past_due }}天，逾期金额{{ currency }}"
            " {{ amount_overdue }}，"
            "欠款总额{{ currency }} {{ balance }}。\n\n请于{{ pay_by }}前还款。{{ how_to_pay }}\n\n"
            "如您已还款，请忽略本邮件。\n\n{{ creditor }}\n\n{{ opt_out }}",
        ),
    },
    ("overdue-day-15", "sms"): {
        "en": (
            "",
            "{{ creditor }}: {{ customer_name }}, account {{ account_number }} is {{ days_past_due }} days "
            "past due ({{ currency }} {{ amount_overdue }} overdue). Pay by {{ pay_by }} to avoid further "
            "collection. {{ how_to_pay }} {{ opt_out }}",
        ),
        "zh-hans": (
            "",
            "【{{ creditor }}】{{ customer_name }}，您的账户{{ account_number }}已逾期{{ days_past_due }}天，"
            "逾期金额{{ currency }} {{ amount_overdue }}，请于{{ pay_by }}"
            "前还款。{{ how_to_pay }}{{ opt_out }}",
        ),
    },
    ("demand-letter", "letter"): {
        "en": (
            "Demand for payment: account {{ account_number }}",
            "{{ customer_name }}\n\nDemand for payment\n\nAccount {{ account_number }} with {{ creditor }} "
            "is {{ days_past_due }} days past due. The balance of {{ currency }} {{ balance }} (principal "
            "{{ principal }}, interest {{ interest }}, penalty {{ penalty }}, fees {{ fees }}) is due. "
            "Please pay {{ currency }} {{ amount_overdue }} by {{ pay_by }}.\n\n{{ how_to_pay }}\n\n"
            "{{ creditor }}, {{ today }}",
        ),
        "zh-hans": (
            "催收函：账户{{ account_number }}",
            "{{ customer_name }}：\n\n催收函\n\n您在{{ creditor }}的账户{{ account_number }}已逾期"
            "{{ days_past_due }}天，欠款总额{{ currency }} {{ balance }}"
            "（本金{{ principal }}，利息{{ interest }}，"
            "罚息{{ penalty }}，费用{{ fees }}）。请于{{ pay_by }}前偿还逾期款项{{ currency }}"
            " {{ amount_overdue }}。"
            "\n\n{{ how_to_pay }}\n\n{{ creditor }}　{{ today }}",
        ),
    },
}


def install_default_templates(*, actor=None) -> list[MessageTemplate]:
    """Create the demo templates (English and Simplified Chinese) that do not
    exist yet; existing ones (perhaps edited) are left alone."""
    actor = actor or system_user()
    created = []
    for (code, channel), languages in DEFAULT_TEMPLATES.items():
        for language, (subject, body) in languages.items():
            if MessageTemplate.objects.filter(code=code, channel=channel, language=language).exists():
                continue
            template = MessageTemplate(
                code=code, channel=channel, language=language, subject=subject, body=body
            )
            record(template, actor=actor, reason="default dunning templates")
            template.save()
            created.append(template)
    return created


def install_default_ladder(policy: CollectionPolicy, *, actor=None) -> list[DunningStep]:
    """Give ``policy`` the demo ladder (and the templates it uses) unless it
    already has steps; returns the policy's steps. Idempotent."""
    actor = actor or system_user()
    with transaction.atomic():
        install_default_templates(actor=actor)
        CollectionPolicy.objects.select_for_update().get(pk=policy.pk)
        if not DunningStep.objects.filter(policy=policy).exists():
            for spec in DEFAULT_LADDER:
                step = DunningStep(
                    policy=policy,
                    order=spec.order,
                    name=spec.name,
                    trigger=Step.Trigger.DAYS_FROM_DUE,
                    offset_days=spec.offset_days,
                    action=spec.action,
                    template_code=spec.template_code,
                    target_stage=spec.target_stage,
                    skip_on_hold=spec.skip_on_hold,
                )
                record(step, actor=actor, reason="default dunning ladder")
                step.save()
        return list(DunningStep.objects.filter(policy=policy).order_by("order", "id"))


__all__ = [
    "DEFAULT_LADDER",
    "DEFAULT_TEMPLATES",
    "LadderSummary",
    "Rendered",
    "due_cycles",
    "evaluate_ladder",
    "evaluate_ladder_chunk",
    "install_default_ladder",
    "install_default_templates",
    "ladder_id_ranges",
    "planned_send_at",
    "preview_step",
    "retry_waiting",
]
