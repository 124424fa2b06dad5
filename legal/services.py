"""Legal work: referral, the stage machine, deadlines, costs and recoveries (RULES.md §7).

Every write here is a keyword-only service in ``transaction.atomic()`` that
re-reads and locks the rows it changes, records who and why
(``backoffice.audit.record``) and refuses with ``Conflict`` (409) when the
state does not allow it, ``NotAllowed`` (409) when the actor may not, and
``ValidationError`` (400) for bad input. Money moves only through the cases
services: costs through ``cases.services.legal_costs.post_legal_cost``,
recoveries through ``cases.services.payments.post_payment``.

Numbers from RULES §7 (the appeal period, the enforcement window) are read
from the debt's policy when it has the field (``legal_appeal_days``,
``legal_enforcement_window_years``) and default to the CN values.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from backoffice.audit import record
from backoffice.errors import Conflict, NotAllowed
from backoffice.money import ZERO, to_money
from cases.models import CollectionCase, Debt, Dispute, Hold, Payment
from cases.services.holds import clean_reason, lock_case, place_hold, release_hold
from cases.services.legal_costs import post_legal_cost
from cases.services.limitation import add_years
from cases.services.payments import post_payment
from cases.services.stages import CLOSED_DEBT_STATUSES, change_stage
from legal.access import may_refer
from legal.models import (
    CalendarToken,
    Deadline,
    EnforcementAction,
    Filing,
    Hearing,
    Judgment,
    LegalCost,
    LegalMatter,
    LegalNotification,
    Recovery,
    StageTransition,
    default_reminders,
    new_calendar_token,
)

logger = logging.getLogger(__name__)

Stage = LegalMatter.Stage

# RULES §7. ``closed`` is reachable from every open stage and leads nowhere.
NEXT_STAGES: dict[str, tuple[str, ...]] = {
    Stage.DEMAND_LETTER: (Stage.MEDIATION, Stage.FILED, Stage.PAYMENT_ORDER, Stage.CLOSED),
    Stage.MEDIATION: (Stage.FILED, Stage.CLOSED),
    Stage.PAYMENT_ORDER: (Stage.ENFORCEMENT, Stage.CLOSED),
    Stage.FILED: (Stage.SERVED, Stage.CLOSED),
    Stage.SERVED: (Stage.HEARING, Stage.CLOSED),
    Stage.HEARING: (Stage.JUDGMENT, Stage.CLOSED),
    Stage.JUDGMENT: (Stage.ENFORCEMENT, Stage.CLOSED),
    Stage.ENFORCEMENT: (Stage.CLOSED,),
    Stage.CLOSED: (),
}
# Stages that put the claim before a court: refused on a time-barred debt (RULES §1, §7).
COURT_STAGES = frozenset({Stage.FILED, Stage.PAYMENT_ORDER})

APPEAL_DAYS = 15  # CN, counted from the day after service
ENFORCEMENT_WINDOW_YEARS = 2  # CN, from the day the judgment takes effect

# Debt status → matter outcome when every debt of a matter is closed.
OUTCOME_FOR_DEBTS = {
    Debt.Status.PAID: LegalMatter.Outcome.PAID,
    Debt.Status.SETTLED: LegalMatter.Outcome.SETTLED,
    Debt.Status.WRITTEN_OFF: LegalMatter.Outcome.UNCOLLECTIBLE,
    Debt.Status.RECALLED: LegalMatter.Outcome.WITHDRAWN,
}


def allowed_next(stage: str) -> tuple[str, ...]:
    return NEXT_STAGES.get(stage, ())


def _ensure_perm(actor, perm: str, what: str) -> None:
    if not (actor and actor.is_active and (actor.is_superuser or actor.has_perm(perm))):
        raise NotAllowed({"detail": [f"You may not {what}."]})


def _money(value, field: str) -> Decimal:
    try:
        amount = to_money(value)
    except (TypeError, ArithmeticError, ValueError):
        raise ValidationError({field: "Must be a decimal number."}) from None
    return amount


def _policy_number(debt: Debt, field: str, default: int) -> int:
    value = getattr(debt.product.policy, field, None)
    return default if value is None else int(value)


def appeal_last_day(served_on: date, *, days: int = APPEAL_DAYS) -> date:
    """Last day to appeal: ``days`` counted from the day after service
    (RULES §7: served on the 4th, 15 days → the 19th)."""
    return served_on + timedelta(days=days)


def enforcement_window_end(effective_on: date, *, years: int = ENFORCEMENT_WINDOW_YEARS) -> date:
    """Last day to apply for enforcement: ``years`` after the judgment took
    effect (29 February falls back to the 28th)."""
    return add_years(effective_on, years)


def _lock_matter(matter: LegalMatter | int) -> LegalMatter:
    matter_id = matter.pk if isinstance(matter, LegalMatter) else matter
    try:
        return LegalMatter.objects.select_for_update(of=("self",)).select_related("case").get(pk=matter_id)
    except LegalMatter.DoesNotExist:
        raise ValidationError({"matter": "Unknown legal matter."}) from None


def _ensure_open(matter: LegalMatter) -> None:
    if matter.is_closed:
        raise Conflict({"matter": f"Matter {matter.pk} is closed."})


def _time_barred(debts, on: date) -> list[Debt]:
    return [d for d in debts if d.limitation_on is not None and d.limitation_on < on]


# --- referral -----------------------------------------------------------------------------


def refer_to_legal(
    *,
    case: CollectionCase | int,
    debts,
    court=None,
    case_number: str = "",
    law_firm=None,
    claim_amount,
    actor,
    reason: str,
    on: date,
    attorney=None,
    assigned_to=None,
) -> LegalMatter:
    """Open a matter at ``demand_letter`` for ``debts`` of ``case``.

    Refuses with ``Conflict`` naming the failed check (the error's key):
    ``time_barred`` (a debt's limitation date is before ``on``),
    ``open_dispute`` (the case has an open dispute), ``minimum_balance``
    (the debts owe less than the policy's ``legal_minimum_balance``),
    ``open_matter`` (a debt is already in an open matter). On success the
    case moves to stage ``legal`` (``change_stage``; an actor it refuses is
    refused here too, nothing written) and gets the ``legal`` hold.
    """
    reason = clean_reason(reason)
    if not may_refer(actor):
        raise NotAllowed(
            {"detail": ["Only legal staff, supervisors and administrators refer cases to legal."]}
        )
    debt_ids = sorted({d.pk if isinstance(d, Debt) else int(d) for d in debts})
    if not debt_ids:
        raise ValidationError({"debts": "Name at least one debt."})
    claim = _money(claim_amount, "claim_amount")
    if claim <= 0:
        raise ValidationError({"claim_amount": "The claim must be greater than zero."})
    if attorney is not None and law_firm is not None and attorney.law_firm_id != law_firm.pk:
        raise ValidationError({"attorney": "The attorney is not with that law firm."})
    with transaction.atomic():
        locked_case = lock_case(case)
        rows = list(
            Debt.objects.select_for_update(of=("self",))
            .select_related("product__policy")
            .filter(pk__in=debt_ids)
        )
        if len(rows) != len(debt_ids) or any(d.case_id != locked_case.pk for d in rows):
            raise ValidationError({"debts": "Every debt must belong to the case."})
        if locked_case.stage == CollectionCase.Stage.CLOSED:
            raise Conflict({"case": "The case is closed."})
        if len({d.currency for d in rows}) > 1:
            raise ValidationError({"debts": "The debts of one matter must share a currency."})
        busy = LegalMatter.objects.filter(debts__in=debt_ids).exclude(stage=Stage.CLOSED).distinct()
        if busy.exists():
            raise Conflict({"open_matter": f"A debt is already in open matter {busy.first().pk}."})
        barred = _time_barred(rows, on)
        if barred:
            names = ", ".join(f"{d.account_number} (limitation {d.limitation_on})" for d in barred)
            raise Conflict({"time_barred": f"Time-barred debt cannot go to legal: {names}."})
        if Dispute.objects.filter(case=locked_case, status=Dispute.Status.OPEN).exists():
            raise Conflict({"open_dispute": "The case has an open dispute; resolve it before referring."})
        total = sum((d.total_balance for d in rows), ZERO)
        minimum = max(d.product.policy.legal_minimum_balance for d in rows)
        if total < minimum:
            raise Conflict(
                {"minimum_balance": f"The debts owe {total}, below the policy's legal minimum ({minimum})."}
            )
        matter = LegalMatter(
            case=locked_case,
            court=court,
            case_number=(case_number or "").strip(),
            law_firm=law_firm,
            attorney=attorney,
            claim_amount=claim,
            currency=rows[0].currency,
            stage=Stage.DEMAND_LETTER,
            assigned_to=assigned_to or (actor if actor.has_perm("legal.change_legalmatter") else None),
            referred_on=on,
            stage_changed_on=on,
            created_by=actor,
        )
        matter.full_clean(exclude=["debts"])
        record(matter, actor=actor, reason=reason)
        matter.save()
        matter.debts.set(rows)
        transition = StageTransition(
            matter=matter, to_stage=Stage.DEMAND_LETTER, on=on, reason=reason, actor=actor
        )
        record(transition, actor=actor, reason=reason)
        transition.save()
        if locked_case.stage != CollectionCase.Stage.LEGAL:
            change_stage(
                case=locked_case.pk, stage=CollectionCase.Stage.LEGAL, actor=actor, reason=reason, today=on
            )
        if Hold.LEGAL not in (locked_case.holds or []):
            place_hold(case=locked_case.pk, hold=Hold.LEGAL, actor=actor, reason=reason)
    return matter


# --- the stage machine ----------------------------------------------------------------------


def transition_matter(
    *,
    matter: LegalMatter | int,
    stage: str,
    on: date,
    actor,
    reason: str,
    document=None,
    outcome: str = "",
    amount=None,
    interest=None,
    costs_awarded=None,
    judged_on: date | None = None,
    served_on: date | None = None,
    effective_on: date | None = None,
) -> LegalMatter:
    """Move ``matter`` to ``stage`` (RULES §7) on ``on``.

    Any move not in ``NEXT_STAGES`` is a ``Conflict`` naming the allowed next
    stages. ``filed`` and ``payment_order`` are refused on a time-barred
    debt. ``judgment`` needs ``amount`` and records the ``Judgment``
    (deadlines computed from ``served_on``/``effective_on``). ``closed``
    needs an ``outcome``; the case's ``legal`` hold is released when its
    last open matter closes. The move is a ``StageTransition`` with
    ``document`` (a file) when one is given.
    """
    _ensure_perm(actor, "legal.change_legalmatter", "move legal matters")
    moved = _apply_transition(
        matter=matter,
        stage=stage,
        on=on,
        actor=actor,
        reason=reason,
        document=document,
        outcome=outcome,
        amount=amount,
        interest=interest,
        costs_awarded=costs_awarded,
        judged_on=judged_on,
        served_on=served_on,
        effective_on=effective_on,
    )
    if isinstance(matter, LegalMatter):
        matter.refresh_from_db()
    return moved


def _apply_transition(
    *,
    matter,
    stage: str,
    on: date,
    actor,
    reason: str,
    document=None,
    outcome: str = "",
    amount=None,
    interest=None,
    costs_awarded=None,
    judged_on=None,
    served_on=None,
    effective_on=None,
) -> LegalMatter:
    """``transition_matter`` without the actor check (tasks act as the system user)."""
    reason = clean_reason(reason)
    if stage not in Stage.values:
        raise ValidationError({"stage": f"Unknown stage {stage!r}."})
    with transaction.atomic():
        locked = _lock_matter(matter)
        allowed = allowed_next(locked.stage)
        if stage not in allowed:
            names = ", ".join(allowed) or "none (the matter is closed)"
            raise Conflict(
                {"stage": f"A matter in {locked.stage} cannot move to {stage}; allowed next: {names}."}
            )
        if on < locked.stage_changed_on:
            raise ValidationError(
                {"on": f"The matter last moved on {locked.stage_changed_on}; pick a later date."}
            )
        debts = list(locked.debts.select_related("product__policy"))
        if stage in COURT_STAGES:
            barred = _time_barred(debts, on)
            if barred:
                names = ", ".join(d.account_number for d in barred)
                raise Conflict({"time_barred": f"Filing on a time-barred debt is refused: {names}."})
        if stage == Stage.CLOSED:
            if outcome not in LegalMatter.Outcome.values:
                choices = ", ".join(LegalMatter.Outcome.values)
                raise ValidationError({"outcome": f"Closing needs an outcome: {choices}."})
            locked.outcome = outcome
            locked.closed_on = on
        if stage == Stage.JUDGMENT:
            if amount in (None, ""):
                raise ValidationError({"amount": "A judgment needs its amount."})
            judgment = Judgment(
                matter=locked,
                amount=_money(amount, "amount"),
                interest=_money(interest or 0, "interest"),
                costs_awarded=_money(costs_awarded or 0, "costs_awarded"),
                judged_on=judged_on or on,
                served_on=served_on,
                effective_on=effective_on,
            )
            judgment.full_clean(exclude=["matter"])
            record(judgment, actor=actor, reason=reason)
            judgment.save()
            _compute_judgment_deadlines(judgment, debts=debts, actor=actor, reason=reason)
        transition = StageTransition(
            matter=locked, from_stage=locked.stage, to_stage=stage, on=on, reason=reason, actor=actor
        )
        if document is not None:
            transition.document = document
        record(transition, actor=actor, reason=reason)
        transition.save()
        locked.stage = stage
        locked.stage_changed_on = on
        record(locked, actor=actor, reason=reason)
        locked.save()
        if stage == Stage.CLOSED:
            _release_legal_hold_if_last(locked, actor=actor, reason=reason)
    return locked


def _release_legal_hold_if_last(matter: LegalMatter, *, actor, reason: str) -> None:
    others = (
        LegalMatter.objects.filter(case_id=matter.case_id).exclude(pk=matter.pk).exclude(stage=Stage.CLOSED)
    )
    case = CollectionCase.objects.get(pk=matter.case_id)
    if not others.exists() and Hold.LEGAL in (case.holds or []):
        release_hold(case=case.pk, hold=Hold.LEGAL, actor=actor, reason=reason)


def close_matters_with_closed_debts(*, on: date, actor) -> int:
    """Close every open matter whose debts are all closed (RULES §7: a
    matter closes when its debts are paid, settled, withdrawn or deemed
    uncollectible). Outcome from the debts (one paid → ``paid`` unless any
    was settled). Safe to run twice; returns how many closed."""
    closed = 0
    open_matters = LegalMatter.objects.exclude(stage=Stage.CLOSED).prefetch_related("debts")
    for matter in open_matters:
        statuses = [d.status for d in matter.debts.all()]
        if not statuses or any(s not in CLOSED_DEBT_STATUSES for s in statuses):
            continue
        outcomes = {OUTCOME_FOR_DEBTS[s] for s in statuses}
        for preferred in (
            LegalMatter.Outcome.SETTLED,
            LegalMatter.Outcome.PAID,
            LegalMatter.Outcome.WITHDRAWN,
        ):
            if preferred in outcomes:
                outcome = preferred
                break
        else:
            outcome = LegalMatter.Outcome.UNCOLLECTIBLE
        _apply_transition(
            matter=matter.pk,
            stage=Stage.CLOSED,
            on=max(on, matter.stage_changed_on),
            actor=actor,
            reason=f"debts closed ({outcome})",
            outcome=outcome,
        )
        closed += 1
    return closed


# --- deadlines -------------------------------------------------------------------------------


def _set_computed_deadline(
    matter: LegalMatter, *, kind: str, source: str, due_on: date, title: str, actor, reason: str, hearing=None
) -> Deadline:
    """Create or move the deadline computed from ``source``; reminders follow the new date."""
    deadline = Deadline.objects.select_for_update().filter(matter=matter, source=source).first()
    if deadline is None:
        deadline = Deadline(matter=matter, kind=kind, source=source, computed=True, hearing=hearing)
    elif deadline.due_on == due_on and deadline.title == title:
        return deadline
    deadline.due_on = due_on
    deadline.title = title
    deadline.reminders = default_reminders(due_on)
    record(deadline, actor=actor, reason=reason)
    deadline.save()
    return deadline


def _compute_judgment_deadlines(judgment: Judgment, *, debts, actor, reason: str) -> list[Deadline]:
    policy_debt = debts[0] if debts else None
    made = []
    if judgment.served_on:
        days = _policy_number(policy_debt, "legal_appeal_days", APPEAL_DAYS) if policy_debt else APPEAL_DAYS
        made.append(
            _set_computed_deadline(
                judgment.matter,
                kind=Deadline.Kind.APPEAL,
                source=f"judgment:{judgment.pk}:appeal",
                due_on=appeal_last_day(judgment.served_on, days=days),
                title=f"Appeal period ends (served {judgment.served_on})",
                actor=actor,
                reason=reason,
            )
        )
    if judgment.effective_on:
        years = (
            _policy_number(policy_debt, "legal_enforcement_window_years", ENFORCEMENT_WINDOW_YEARS)
            if policy_debt
            else ENFORCEMENT_WINDOW_YEARS
        )
        made.append(
            _set_computed_deadline(
                judgment.matter,
                kind=Deadline.Kind.ENFORCEMENT_WINDOW,
                source=f"judgment:{judgment.pk}:enforcement",
                due_on=enforcement_window_end(judgment.effective_on, years=years),
                title=f"Apply for enforcement (judgment effective {judgment.effective_on})",
                actor=actor,
                reason=reason,
            )
        )
    return made


def update_judgment_dates(
    *, matter: LegalMatter | int, served_on: date | None, effective_on: date | None, actor, reason: str
) -> Judgment:
    """Record when the judgment was served and took effect; recomputes its deadlines."""
    reason = clean_reason(reason)
    _ensure_perm(actor, "legal.change_judgment", "change judgments")
    with transaction.atomic():
        locked = _lock_matter(matter)
        judgment = Judgment.objects.select_for_update().filter(matter=locked).first()
        if judgment is None:
            raise Conflict({"judgment": "The matter has no judgment yet."})
        if served_on is not None:
            judgment.served_on = served_on
        if effective_on is not None:
            judgment.effective_on = effective_on
        record(judgment, actor=actor, reason=reason)
        judgment.save()
        judgment.matter = locked
        _compute_judgment_deadlines(
            judgment, debts=list(locked.debts.select_related("product__policy")), actor=actor, reason=reason
        )
        return judgment


def _clean_reminders(reminders, due_on: date) -> list[str]:
    if reminders is None:
        return default_reminders(due_on)
    cleaned = set()
    for value in reminders:
        try:
            day = value if isinstance(value, date) else date.fromisoformat(str(value))
        except ValueError:
            raise ValidationError({"reminders": f"{value!r} is not a date (YYYY-MM-DD)."}) from None
        if day > due_on:
            raise ValidationError({"reminders": f"Reminder {day} is after the due date {due_on}."})
        cleaned.add(day.isoformat())
    return sorted(cleaned)


def add_deadline(
    *, matter: LegalMatter | int, kind: str, due_on: date, actor, reason: str, title: str = "", reminders=None
) -> Deadline:
    """A manual deadline; reminders default to T−7, T−1 and T."""
    reason = clean_reason(reason)
    _ensure_perm(actor, "legal.add_deadline", "add deadlines")
    if kind not in Deadline.Kind.values:
        raise ValidationError({"kind": f"Unknown kind {kind!r}."})
    with transaction.atomic():
        locked = _lock_matter(matter)
        _ensure_open(locked)
        deadline = Deadline(
            matter=locked,
            kind=kind,
            due_on=due_on,
            title=title,
            reminders=_clean_reminders(reminders, due_on),
        )
        record(deadline, actor=actor, reason=reason)
        deadline.save()
        return deadline


def update_deadline(
    *, deadline: Deadline | int, actor, reason: str, done=None, due_on=None, reminders=None, on: date
) -> Deadline:
    """Mark done (or not), move or re-remind a deadline. Moving a computed
    deadline makes it manual (the event no longer decides it)."""
    reason = clean_reason(reason)
    _ensure_perm(actor, "legal.change_deadline", "change deadlines")
    deadline_id = deadline.pk if isinstance(deadline, Deadline) else deadline
    with transaction.atomic():
        locked = Deadline.objects.select_for_update().filter(pk=deadline_id).first()
        if locked is None:
            raise ValidationError({"deadline": "Unknown deadline."})
        if due_on is not None and due_on != locked.due_on:
            locked.due_on = due_on
            locked.computed = False
            locked.source = ""
            if reminders is None:
                locked.reminders = default_reminders(due_on)
        if reminders is not None:
            locked.reminders = _clean_reminders(reminders, locked.due_on)
        if done is not None:
            locked.done = bool(done)
            locked.done_on = on if locked.done else None
        record(locked, actor=actor, reason=reason)
        locked.save()
        return locked


# --- filings and hearings --------------------------------------------------------------------


def add_filing(
    *,
    matter: LegalMatter | int,
    kind: str,
    filed_on: date,
    actor,
    reason: str,
    court_reference: str = "",
    document=None,
    note: str = "",
) -> Filing:
    """A document filed with (or received from) the court, kept with the matter."""
    reason = clean_reason(reason)
    _ensure_perm(actor, "legal.add_filing", "add filings")
    if kind not in Filing.Kind.values:
        raise ValidationError({"kind": f"Unknown filing type {kind!r}."})
    with transaction.atomic():
        locked = _lock_matter(matter)
        _ensure_open(locked)
        filing = Filing(
            matter=locked,
            kind=kind,
            filed_on=filed_on,
            court_reference=court_reference,
            note=note,
            created_by=actor,
        )
        if document is not None:
            filing.document = document
        record(filing, actor=actor, reason=reason)
        filing.save()
        return filing


def schedule_hearing(
    *,
    matter: LegalMatter | int,
    starts_at: datetime,
    actor,
    reason: str,
    court_room: str = "",
    judge: str = "",
) -> Hearing:
    """A hearing, and its deadline on the hearing date (reminded T−7, T−1, T)."""
    reason = clean_reason(reason)
    _ensure_perm(actor, "legal.add_hearing", "schedule hearings")
    with transaction.atomic():
        locked = _lock_matter(matter)
        _ensure_open(locked)
        hearing = Hearing(matter=locked, starts_at=starts_at, court_room=court_room, judge=judge)
        record(hearing, actor=actor, reason=reason)
        hearing.save()
        sync_hearing_deadline(hearing, actor=actor, reason=reason)
        return hearing


def sync_hearing_deadline(hearing: Hearing, *, actor, reason: str) -> Deadline:
    """The hearing's deadline, on the hearing's local date (created or moved)."""
    day = timezone.localtime(hearing.starts_at).date()
    room = f", room {hearing.court_room}" if hearing.court_room else ""
    return _set_computed_deadline(
        hearing.matter,
        kind=Deadline.Kind.HEARING,
        source=f"hearing:{hearing.pk}",
        due_on=day,
        title=f"Hearing {timezone.localtime(hearing.starts_at):%H:%M}{room}",
        hearing=hearing,
        actor=actor,
        reason=reason,
    )


def update_hearing(
    *, hearing: Hearing | int, actor, reason: str, starts_at=None, court_room=None, judge=None, result=None
) -> Hearing:
    """Reschedule a hearing (its deadline follows) or record its result."""
    reason = clean_reason(reason)
    _ensure_perm(actor, "legal.change_hearing", "change hearings")
    hearing_id = hearing.pk if isinstance(hearing, Hearing) else hearing
    with transaction.atomic():
        locked = Hearing.objects.select_for_update().select_related("matter").filter(pk=hearing_id).first()
        if locked is None:
            raise ValidationError({"hearing": "Unknown hearing."})
        for field, value in (
            ("starts_at", starts_at),
            ("court_room", court_room),
            ("judge", judge),
            ("result", result),
        ):
            if value is not None:
                setattr(locked, field, value)
        record(locked, actor=actor, reason=reason)
        locked.save()
        sync_hearing_deadline(locked, actor=actor, reason=reason)
        return locked


# --- money ------------------------------------------------------------------------------------


def add_legal_cost(
    *,
    matter: LegalMatter | int,
    debt: Debt | int,
    kind: str,
    amount,
    incurred_on: date,
    actor,
    reason: str = "",
    key: str | None = None,
    note: str = "",
) -> LegalCost:
    """Record a court or lawyer fee and charge it to the debt's ``legal_cost``.

    Idempotent by ``key`` (default: a fresh one, i.e. not idempotent): a
    repeat returns the first cost and posts nothing.
    """
    _ensure_perm(actor, "legal.add_legalcost", "add legal costs")
    if kind not in LegalCost.Kind.values:
        raise ValidationError({"kind": f"Unknown cost kind {kind!r}."})
    reason = clean_reason(reason or f"legal cost: {kind}")
    ledger_key = f"legal-cost:{key}" if key else f"legal-cost:{uuid.uuid4()}"
    debt_id = debt.pk if isinstance(debt, Debt) else debt
    with transaction.atomic():
        locked = _lock_matter(matter)
        existing = LegalCost.objects.filter(ledger_entry__idempotency_key=ledger_key).first()
        if existing is not None and existing.matter_id == locked.pk and existing.kind == kind:
            post_legal_cost(
                debt=debt_id,
                amount=amount,
                incurred_on=incurred_on,
                kind=kind,
                actor=actor,
                reason=reason,
                key=ledger_key,
            )  # checks the repeat carries the same details
            return existing
        _ensure_open(locked)
        if not locked.debts.filter(pk=debt_id).exists():
            raise ValidationError({"debt": "The debt is not part of this matter."})
        entry = post_legal_cost(
            debt=debt_id,
            amount=amount,
            incurred_on=incurred_on,
            kind=kind,
            actor=actor,
            reason=reason,
            key=ledger_key,
        )
        cost = LegalCost.objects.filter(ledger_entry=entry).first()
        if cost is not None:
            return cost
        cost = LegalCost(
            matter=locked,
            debt_id=debt_id,
            kind=kind,
            amount=entry.amount,
            incurred_on=incurred_on,
            ledger_entry=entry,
            note=note,
            created_by=actor,
        )
        record(cost, actor=actor, reason=reason)
        cost.save()
        return cost


def start_enforcement_action(
    *,
    matter: LegalMatter | int,
    kind: str,
    applied_on: date,
    actor,
    reason: str,
    court_reference: str = "",
    note="",
) -> EnforcementAction:
    """Garnishment, asset freeze or execution; only for a matter in ``enforcement``."""
    reason = clean_reason(reason)
    _ensure_perm(actor, "legal.add_enforcementaction", "start enforcement actions")
    if kind not in EnforcementAction.Kind.values:
        raise ValidationError({"kind": f"Unknown enforcement kind {kind!r}."})
    with transaction.atomic():
        locked = _lock_matter(matter)
        if locked.stage != Stage.ENFORCEMENT:
            raise Conflict(
                {"stage": f"Enforcement actions need a matter in enforcement (it is in {locked.stage})."}
            )
        action = EnforcementAction(
            matter=locked, kind=kind, applied_on=applied_on, court_reference=court_reference, note=note
        )
        record(action, actor=actor, reason=reason)
        action.save()
        return action


def record_recovery(
    *,
    action: EnforcementAction | int,
    debt: Debt | int,
    amount,
    received_on: date,
    reference: str,
    actor,
    today: date,
    reason: str = "recovered by enforcement",
) -> Recovery:
    """Money the court recovered: posted through ``post_payment`` (channel
    ``enforcement``), so it is allocated by the waterfall like any payment.
    Idempotent by ``reference`` (``post_payment``'s own rule)."""
    reason = clean_reason(reason)
    _ensure_perm(actor, "legal.add_recovery", "record recoveries")
    action_id = action.pk if isinstance(action, EnforcementAction) else action
    debt_id = debt.pk if isinstance(debt, Debt) else debt
    with transaction.atomic():
        locked_action = EnforcementAction.objects.select_related("matter").filter(pk=action_id).first()
        if locked_action is None:
            raise ValidationError({"action": "Unknown enforcement action."})
        if not locked_action.matter.debts.filter(pk=debt_id).exists():
            raise ValidationError({"debt": "The debt is not part of this matter."})
        result = post_payment(
            debt=debt_id,
            amount=amount,
            received_on=received_on,
            reference=reference,
            channel=Payment.Channel.ENFORCEMENT,
            actor=actor,
            reason=reason,
            today=today,
        )
        recovery = Recovery.objects.filter(payment=result.payment).first()
        if recovery is None:
            recovery = Recovery(action=locked_action, payment=result.payment)
            record(recovery, actor=actor, reason=reason)
            recovery.save()
        return recovery


def recovered_total(matter: LegalMatter) -> Decimal:
    total = Recovery.objects.filter(action__matter=matter, payment__status=Payment.Status.POSTED).aggregate(
        s=Sum("payment__amount")
    )["s"]
    return total or ZERO


# --- reminders --------------------------------------------------------------------------------


@dataclass
class ReminderRun:
    today: date
    sent: int = 0
    emailed: int = 0
    unassigned: int = 0

    def as_dict(self) -> dict:
        return {
            "today": self.today.isoformat(),
            "sent": self.sent,
            "emailed": self.emailed,
            "unassigned": self.unassigned,
        }


def send_deadline_reminders(*, today: date, actor) -> ReminderRun:
    """Remind the assigned legal staff of deadlines (RULES §7: T−7, T−1, T).

    For each open deadline not yet due, the latest reminder date on or
    before ``today`` gets one ``LegalNotification`` (unique per deadline and
    reminder date, so a second run sends nothing) and one email. A run that
    was missed catches up with the latest reminder only.
    """
    run = ReminderRun(today)
    stamp = today.isoformat()
    deadlines = (
        Deadline.objects.filter(done=False, due_on__gte=today)
        .exclude(matter__stage=Stage.CLOSED)
        .select_related("matter__assigned_to")
        .order_by("id")
    )
    for deadline in deadlines:
        due = sorted(r for r in (deadline.reminders or []) if r <= stamp)
        if not due:
            continue
        sent_for = date.fromisoformat(due[-1])
        user = deadline.matter.assigned_to
        if user is None or not user.is_active:
            run.unassigned += 1
            continue
        days = (deadline.due_on - today).days
        when = "today" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"
        matter = deadline.matter
        message = (
            f"{deadline.title or deadline.get_kind_display()} due {deadline.due_on} ({when}) · {matter}"[:255]
        )
        with transaction.atomic():
            notification, created = LegalNotification.objects.get_or_create(
                deadline=deadline, sent_for=sent_for, defaults={"user": user, "message": message}
            )
            if not created:
                continue
            locked = Deadline.objects.select_for_update().get(pk=deadline.pk)
            locked.reminded_on = sorted({*(locked.reminded_on or []), sent_for.isoformat()})
            record(locked, actor=actor, reason=f"reminder for {sent_for}")
            locked.save(update_fields=["reminded_on"])
        run.sent += 1
        if user.email:
            try:
                send_mail(f"[Ledgerline legal] {message}", message, None, [user.email])
            except Exception:  # the notification stands; the admin list shows it
                logger.exception("reminder email for deadline %s failed", deadline.pk)
                continue
            notification.emailed = True
            record(notification, actor=actor, reason=f"reminder for {sent_for} emailed")
            notification.save(update_fields=["emailed"])
            run.emailed += 1
    return run


# --------------------------------------------------------------------------
# Calendar feed


def rotate_calendar_token(*, user, actor, reason: str) -> CalendarToken:
    """Give ``user`` a new calendar feed secret. From the commit on, the old
    ``/legal/calendar/<token>.ics`` URL answers 404 and only the new one
    works. The history row names the actor and the reason, not the secret
    (``CalendarToken.history`` leaves the token out). Only ``user`` themself
    or a superuser may do it: every Legal member holds the legal app's
    permissions, and one must not be able to cut off a colleague's feed."""
    if actor.pk != user.pk and not actor.is_superuser:
        raise NotAllowed("Only the owner of a calendar link may replace it.")
    reason = clean_reason(reason)
    with transaction.atomic():
        token = CalendarToken.objects.select_for_update().filter(user=user).first()
        if token is None:
            token = CalendarToken(user=user)
        else:
            token.token = new_calendar_token()
        token.rotated_at = timezone.now()
        record(token, actor=actor, reason=reason)
        token.save()
    return token
