"""The case stage machine (RULES.md §3).

``reminder`` (pre-due to DPD 7, automated messages only) → ``soft`` (the
policy's first bucket, M1: DPD 8–30 with the default edges) → ``hard`` (M2
and beyond; RULES names M2–M3, and nothing past M3 is automatic, so older
accounts stay ``hard``) → ``legal`` (only by an explicit referral) →
``closed`` (every debt paid, settled, written off or recalled).

The automatic stage comes from the worst days past due of the case's
still-collectible debts (``stage_for``). Close of business applies it every
night (``refresh_stages``): escalation and cure for cases not in ``legal``,
closing for every case whose debts are all closed. People move cases by hand
with ``change_stage``; moving back is allowed and recorded. Holds never
change the stage (they stop contact, not ageing).

``REMINDER_UNTIL_DPD`` has no policy field yet; it is a keyword argument of
``stage_for`` so a policy value can be passed in once it exists.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from backoffice.audit import record
from backoffice.bulk import copy_history, update_rows
from backoffice.errors import Conflict, NotAllowed
from backoffice.roles import ADMINISTRATOR, LEGAL, ROLE_NAMES, SUPERVISOR
from cases.models import CollectionCase, Debt
from cases.policy_presets import DEFAULT_BUCKET_EDGES
from cases.services.assignment import case_ids_of, role_names

Stage = CollectionCase.Stage
REMINDER_UNTIL_DPD = 7
STAGE_ORDER = [Stage.REMINDER, Stage.SOFT, Stage.HARD, Stage.LEGAL, Stage.CLOSED]
CLOSED_DEBT_STATUSES = frozenset(
    {Debt.Status.PAID, Debt.Status.SETTLED, Debt.Status.WRITTEN_OFF, Debt.Status.RECALLED}
)
LEGAL_ROLES = frozenset({LEGAL, SUPERVISOR, ADMINISTRATOR})
STAGE_FIELDS = ["stage", "stage_changed_on", "closed_on"]


@dataclass(frozen=True)
class DebtState:
    """What the stage of a case depends on, per debt."""

    status: str
    days_past_due: int
    bucket_edges: tuple[int, ...] | list[int] | None = None


def debt_stage(days_past_due: int, *, bucket_edges=None, reminder_until_dpd: int = REMINDER_UNTIL_DPD) -> str:
    """The automatic stage for one collectible debt at ``days_past_due``."""
    edges = bucket_edges or DEFAULT_BUCKET_EDGES
    if days_past_due <= reminder_until_dpd:
        return Stage.REMINDER
    if days_past_due <= edges[0]:
        return Stage.SOFT
    return Stage.HARD


def stage_for(debts: Iterable, *, reminder_until_dpd: int = REMINDER_UNTIL_DPD) -> str | None:
    """The automatic stage of a case from its debts; a pure function.

    ``debts`` holds ``DebtState``s, ``Debt``s or ``(status, days_past_due[,
    bucket_edges])`` tuples. Returns ``closed`` when every debt is closed,
    otherwise the stage of the worst collectible debt (``reminder``, ``soft``
    or ``hard``; never ``legal``), and ``None`` for a case with no debts.
    """
    states = [_state(d) for d in debts]
    if not states:
        return None
    active = [s for s in states if s.status not in CLOSED_DEBT_STATUSES]
    if not active:
        return Stage.CLOSED
    return max(
        (
            debt_stage(s.days_past_due, bucket_edges=s.bucket_edges, reminder_until_dpd=reminder_until_dpd)
            for s in active
        ),
        key=STAGE_ORDER.index,
    )


def _state(debt) -> DebtState:
    if isinstance(debt, DebtState):
        return debt
    if isinstance(debt, tuple):
        return DebtState(*debt)
    return DebtState(debt.status, debt.days_past_due)


def _may_move_legal(user) -> bool:
    return bool(user and user.is_active and (user.is_superuser or role_names(user) & LEGAL_ROLES))


def change_stage(
    *, case: CollectionCase | int, stage: str, actor, reason: str, today: date
) -> CollectionCase:
    """Move a case to ``stage`` by hand (RULES §3).

    Moving back (a cure, a mistake) is allowed and recorded like any move.
    Into or out of ``legal`` only for superusers and the Legal, Supervisor
    and Administrator groups (``NotAllowed``). ``closed`` needs every debt
    closed, and a case whose debts are all closed cannot leave ``closed``
    (``Conflict``). Returns the saved case.
    """
    errors: dict[str, list[str]] = {}
    if stage not in Stage.values:
        errors["stage"] = [f"Unknown stage {stage!r}."]
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = ["A reason is required."]
    if errors:
        raise ValidationError(errors)
    if not (actor and actor.is_active and (actor.is_superuser or role_names(actor) & set(ROLE_NAMES))):
        raise NotAllowed({"stage": ["You may not change the stage of cases."]})
    case_id = case.pk if isinstance(case, CollectionCase) else case
    with transaction.atomic():
        locked = CollectionCase.objects.select_for_update().filter(pk=case_id).first()
        if locked is None:
            raise ValidationError({"case": ["Unknown case."]})
        if locked.stage == stage:
            raise ValidationError({"stage": [f"The case is already in stage {stage}."]})
        if Stage.LEGAL in (stage, locked.stage) and not _may_move_legal(actor):
            raise NotAllowed({"stage": ["Only legal staff and supervisors move cases into or out of legal."]})
        statuses = list(Debt.objects.filter(case_id=case_id).values_list("status", flat=True))
        all_closed = bool(statuses) and all(s in CLOSED_DEBT_STATUSES for s in statuses)
        if stage == Stage.CLOSED and not all_closed:
            raise Conflict({"stage": ["The case still has debts to collect; it cannot be closed."]})
        if locked.stage == Stage.CLOSED and all_closed:
            raise Conflict({"stage": ["Every debt of the case is closed; the case cannot be reopened."]})
        locked.stage = stage
        locked.stage_changed_on = today
        locked.closed_on = today if stage == Stage.CLOSED else None
        record(locked, actor=actor, reason=reason)
        locked.save(update_fields=STAGE_FIELDS)
    if isinstance(case, CollectionCase):
        case.stage, case.stage_changed_on, case.closed_on = stage, today, locked.closed_on
    return locked


@dataclass
class StageRefresh:
    business_date: date
    escalated: int = 0
    cured: int = 0
    closed: int = 0
    unchanged: int = 0

    def add(self, other: "StageRefresh") -> None:
        self.escalated += other.escalated
        self.cured += other.cured
        self.closed += other.closed
        self.unchanged += other.unchanged

    def as_dict(self) -> dict:
        return {
            "business_date": self.business_date.isoformat(),
            "escalated": self.escalated,
            "cured": self.cured,
            "closed": self.closed,
            "unchanged": self.unchanged,
        }


def _pending_cases():
    return CollectionCase.objects.exclude(stage=Stage.CLOSED)


def refresh_stages(*, business_date: date, actor, cases=None, chunk_size: int | None = None) -> StageRefresh:
    """Apply the automatic stage to every case not closed (or to ``cases``).

    Close of business calls this after the debts are aged for
    ``business_date``. Works in id-range chunks of ``chunk_size`` cases, one
    transaction each (``refresh_stages_chunk``); safe to run twice.
    """
    size = chunk_size or settings.COB_CHUNK_SIZE
    queryset = _pending_cases()
    if cases is not None:
        queryset = queryset.filter(pk__in=case_ids_of(cases))
    ids = list(queryset.order_by("id").values_list("id", flat=True))
    total = StageRefresh(business_date)
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        total.add(
            refresh_stages_chunk(
                first_id=chunk[0],
                last_id=chunk[-1],
                business_date=business_date,
                actor=actor,
                only=chunk if cases is not None else None,
            )
        )
    return total


def refresh_stages_chunk(
    *, first_id: int, last_id: int, business_date: date, actor, only: list[int] | None = None
) -> StageRefresh:
    """Refresh the stages of the cases with ids in ``[first_id, last_id]``; one transaction.

    Changed cases are written with one set-based update and one history row
    each, reason ``close of business <date>``.
    """
    reason = f"close of business {business_date.isoformat()}"
    summary = StageRefresh(business_date)
    with transaction.atomic():
        queryset = _pending_cases().filter(id__gte=first_id, id__lte=last_id)
        if only is not None:
            queryset = queryset.filter(pk__in=only)
        locked = list(queryset.select_for_update(of=("self",)).order_by("id"))
        if not locked:
            return summary
        debts: dict[int, list[DebtState]] = defaultdict(list)
        rows = Debt.objects.filter(case_id__in=[c.pk for c in locked]).values_list(
            "case_id", "status", "days_past_due", "product__policy__bucket_edges"
        )
        for case_id, status, dpd, edges in rows:
            debts[case_id].append(DebtState(status, dpd, edges))
        changed = []
        for case in locked:
            target = stage_for(debts.get(case.pk, []))
            if target is None or target == case.stage:
                summary.unchanged += 1
                continue
            if case.stage == Stage.LEGAL and target != Stage.CLOSED:
                # Only a person takes a case out of legal (RULES §3, §7).
                summary.unchanged += 1
                continue
            if target == Stage.CLOSED:
                summary.closed += 1
                case.closed_on = business_date
            elif STAGE_ORDER.index(target) > STAGE_ORDER.index(case.stage):
                summary.escalated += 1
            else:
                summary.cured += 1
            case.stage = target
            case.stage_changed_on = business_date
            changed.append(record(case, actor=actor, reason=reason))
        update_rows(CollectionCase, changed, STAGE_FIELDS)
        copy_history(CollectionCase, changed, history_type="~", user=actor, reason=reason)
    return summary
