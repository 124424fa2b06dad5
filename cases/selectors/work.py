"""Reads for collection work: a collector's queue and the case page
(DESIGN.md: "My queue", "its whole story on one page").

Every function here runs a fixed number of queries, whatever the number of
rows (annotations, ``select_related``, one query per kind of event).
The callers (admin, API) are expected to have checked that the user may see
the case; ``my_queue`` only ever returns the user's own assigned cases.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import DecimalField, Exists, F, Max, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from cases.models import (
    BALANCE_FIELD,
    Assignment,
    CollectionCase,
    ContactAttempt,
    Debt,
    Dispute,
    Hold,
    Message,
    Payment,
    PaymentClaim,
    PaymentPlan,
    PromiseToPay,
    Settlement,
)
from customers.models import Customer

MONEY_FIELD = DecimalField(max_digits=18, decimal_places=2)


def outstanding_callbacks() -> QuerySet:
    """Callbacks the debtor asked for that nobody has made yet.

    A callback request (outcome ``callback`` with a ``callback_at``) is
    outstanding until a later attempt on the case; attempts the contact
    rules refused do not count as making it.
    """
    later = ContactAttempt.objects.filter(
        case_id=OuterRef("case_id"), started_at__gt=OuterRef("started_at")
    ).exclude(outcome=ContactAttempt.Outcome.REFUSED)
    return ContactAttempt.objects.filter(
        outcome=ContactAttempt.Outcome.CALLBACK, callback_at__isnull=False
    ).exclude(Exists(later))


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def my_queue(user, *, today: date) -> QuerySet:
    """The user's open cases in working order.

    Promises due today first, then callbacks due (today or overdue), then
    priority (highest first), then case id; cases on the small-balance
    digital-only track (no calls: docs/small-balances.md) come after all
    the others, in the same order among themselves. Each case carries
    ``total_balance`` (cached balances of its still-collectible debts),
    ``worst_dpd``, ``promise_due_today``, ``callback_due`` and
    ``digital_only``; ``customer`` and ``team`` are joined. One query.
    """
    from cases.services.small_balances import digital_only_case

    if user is None or not getattr(user, "is_authenticated", False):
        return CollectionCase.objects.none()
    active = Q(debts__status__in=Debt.ACTIVE_STATUSES)
    balance = sum((F(f"debts__{name}") for name in BALANCE_FIELD.values()), Value(Decimal("0")))
    promise_today = PromiseToPay.objects.filter(
        case_id=OuterRef("pk"), status=PromiseToPay.Status.PENDING, due_on=today
    )
    callback_due = outstanding_callbacks().filter(
        case_id=OuterRef("pk"), callback_at__lt=_start_of(today + timedelta(days=1))
    )
    return (
        CollectionCase.objects.filter(assigned_to=user)
        .exclude(stage=CollectionCase.Stage.CLOSED)
        .select_related("customer", "team")
        .annotate(
            total_balance=Coalesce(
                Sum(balance, filter=active, output_field=MONEY_FIELD),
                Value(Decimal("0.00")),
                output_field=MONEY_FIELD,
            ),
            worst_dpd=Coalesce(Max("debts__days_past_due", filter=active), Value(0)),
            promise_due_today=Exists(promise_today),
            callback_due=Exists(callback_due),
            digital_only=digital_only_case(),
        )
        .order_by("digital_only", "-promise_due_today", "-callback_due", "-priority", "id")
    )


# --- case page ---------------------------------------------------------------


def _when(moment: datetime | None, day: date) -> datetime:
    """The time of an event known by its business date: when it was recorded,
    if that was on the same day, else the start of that day (posted late)."""
    if moment is not None and timezone.localdate(moment) == day:
        return moment
    return _start_of(day)


def _event(at: datetime, kind: str, summary: str, actor) -> dict:
    return {"at": at, "kind": kind, "summary": summary, "actor": actor}


def _clip(text: str, length: int = 120) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= length else text[: length - 1] + "…"


def _contacts(case_id: int, limit: int | None, user=None) -> Iterable[dict]:
    rows = (
        _readable(user, ContactAttempt, "contacts_for")
        .filter(case_id=case_id)
        .select_related("created_by")
        .order_by("-started_at", "-id")
    )
    for c in rows[:limit]:
        summary = (
            f"{c.get_channel_display()} ({c.get_direction_display().lower()}): {c.get_outcome_display()}"
        )
        if c.outcome == ContactAttempt.Outcome.REFUSED and c.rules:
            summary += f" [{', '.join(c.rules)}]"
        if c.callback_at:
            summary += f", call back {timezone.localtime(c.callback_at):%Y-%m-%d %H:%M}"
        if c.note:
            summary += f" — {_clip(c.note)}"
        yield _event(c.started_at, "contact", summary, c.created_by)


def _payments(case_id: int, limit: int | None) -> Iterable[dict]:
    rows = (
        Payment.objects.filter(debt__case_id=case_id)
        .select_related("debt", "created_by")
        .order_by("-received_on", "-id")
    )
    for p in rows[:limit]:
        yield _event(
            _when(p.created_at, p.received_on),
            "payment",
            f"Payment {p.amount} {p.currency} by {p.get_channel_display()} on {p.received_on.isoformat()} "
            f"to {p.debt.account_number} (ref. {p.reference})",
            p.created_by,
        )
        if p.status == Payment.Status.REVERSED and p.reversed_on:
            yield _event(
                _start_of(p.reversed_on),
                "payment",
                f"Payment {p.reference} reversed: {_clip(p.reversal_reason)}",
                None,
            )


def _claims(case_id: int, limit: int | None, user=None) -> Iterable[dict]:
    """Payment claims (issue #14): when recorded, and when decided."""
    rows = (
        _readable(user, PaymentClaim, "payment_claims_for")
        .filter(debt__case_id=case_id)
        .select_related("debt", "claimed_by", "decided_by")
        .order_by("-created_at", "-id")
    )
    for c in rows[:limit]:
        yield _event(
            c.created_at,
            "claim",
            f"Payment claim {c.amount} {c.currency} by {c.get_channel_display()} received "
            f"{c.received_on.isoformat()} on {c.debt.account_number} (ref. {c.reference}): "
            f"{c.get_status_display().lower()}",
            c.claimed_by,
        )
        if c.decided_at is not None:
            summary = f"Payment claim {c.reference} {c.get_status_display().lower()}"
            if c.status == PaymentClaim.Status.REJECTED:
                summary += f": {_clip(c.reject_reason)}"
            yield _event(c.decided_at, "claim", summary, c.decided_by)


def _promises(case_id: int, limit: int | None) -> Iterable[dict]:
    rows = (
        PromiseToPay.objects.filter(case_id=case_id)
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )
    for p in rows[:limit]:
        yield _event(
            p.created_at,
            "promise",
            f"Promise to pay {p.amount} by {p.due_on.isoformat()} ({p.get_status_display().lower()})",
            p.created_by,
        )


def _assignments(case_id: int, limit: int | None, user=None) -> Iterable[dict]:
    rows = (
        _readable(user, Assignment, "assignments_for")
        .filter(case_id=case_id)
        .select_related("collector", "team", "assigned_by")
        .order_by("-assigned_at", "-id")
    )
    for a in rows[:limit]:
        target = " · ".join(str(x) for x in (a.collector, a.team) if x is not None) or "nobody"
        yield _event(a.assigned_at, "assignment", f"Assigned to {target}: {_clip(a.reason)}", a.assigned_by)


def _disputes(case_id: int, limit: int | None) -> Iterable[dict]:
    """Disputes raised, and resolved. ``Dispute`` has no "resolved by" column:
    the resolver is the user on the first historical row where the dispute is
    resolved (``resolve_dispute`` records the actor there), read for all the
    case's resolved disputes in one more query, users joined."""
    first_resolved = (
        Dispute.history.filter(id=OuterRef("pk"), status=Dispute.Status.RESOLVED)
        .order_by("history_date", "history_id")
        .values("history_id")[:1]
    )
    rows = list(
        Dispute.objects.filter(case_id=case_id)
        .select_related("created_by")
        .annotate(resolved_history_id=Subquery(first_resolved))
        .order_by("-opened_on", "-id")[:limit]
    )
    history_ids = [d.resolved_history_id for d in rows if d.resolved_on and d.resolved_history_id]
    resolutions = (
        Dispute.history.select_related("history_user").in_bulk(history_ids, field_name="history_id")
        if history_ids
        else {}
    )
    for d in rows:
        yield _event(
            _when(d.created_at, d.opened_on),
            "dispute",
            f"Dispute raised by {d.get_raised_via_display().lower()}: {_clip(d.reason)} "
            f"(resolve by {d.due_on.isoformat()})",
            d.created_by,
        )
        if d.resolved_on:
            outcome = d.get_outcome_display() or "resolved"
            resolution = resolutions.get(d.resolved_history_id)
            yield _event(
                _when(resolution.history_date if resolution else None, d.resolved_on),
                "dispute",
                f"Dispute resolved: {outcome}",
                resolution.history_user if resolution else None,
            )


def _plans(case_id: int, limit: int | None) -> Iterable[dict]:
    rows = (
        PaymentPlan.objects.filter(case_id=case_id)
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )
    for p in rows[:limit]:
        yield _event(
            p.created_at,
            "plan",
            f"Payment plan for {p.total} ({p.get_status_display().lower()})",
            p.created_by,
        )


def _settlements(case_id: int, limit: int | None) -> Iterable[dict]:
    rows = (
        Settlement.objects.filter(case_id=case_id)
        .select_related("requested_by", "approved_by")
        .order_by("-created_at", "-id")
    )
    for s in rows[:limit]:
        yield _event(
            s.created_at,
            "settlement",
            f"Settlement {s.discount_percent}% off: pay {s.amount} by {s.valid_until.isoformat()} "
            f"({s.get_status_display().lower()})",
            s.requested_by,
        )
        if s.decided_at and s.approved_by_id:
            yield _event(
                s.decided_at,
                "settlement",
                f"Settlement {s.get_status_display().lower()}: {_clip(s.decision_reason)}",
                s.approved_by,
            )


def _messages(case_id: int, limit: int | None, user=None) -> Iterable[dict]:
    """Outbound SMS, emails and letters, sent or refused, at the moment they
    went out (or were meant to); with ``user``, those ``messages_for`` gives
    them (agency staff: the lender's only where the placement shares them)."""
    rows = _readable(user, Message, "messages_for").filter(case_id=case_id)
    rows = rows.select_related("created_by", "template")
    rows = rows.order_by("-created_at", "-id")
    for m in rows[:limit]:
        summary = f"{m.get_channel_display()} to {m.recipient}: {m.get_status_display().lower()}"
        if m.template_id:
            summary += f" ({m.template.code}, {m.language})"
        if m.status == Message.Status.BLOCKED:
            summary += f" [{', '.join(m.rules)}] {_clip(m.blocked_reason)}"
        elif m.status == Message.Status.FAILED and m.last_error:
            summary += f" — {_clip(m.last_error)}"
        else:
            summary += f" — {_clip(m.subject or m.body)}"
        yield _event(m.sent_at or m.scheduled_for or m.created_at, "message", summary, m.created_by)


def _stage_changes(case_id: int, user=None) -> Iterable[dict]:
    """Stage changes from the case's history (two queries: rows, then users);
    with ``user``, none unless ``case_histories_for`` lets them read the
    case's history (issue #15: agency staff, unless the placement shares it)."""
    if user is not None:
        from backoffice import access

        if not access.may_read_case_history(user, case_id):
            return []
    rows = list(
        CollectionCase.history.filter(id=case_id)
        .order_by("history_date", "history_id")
        .values_list("stage", "history_date", "history_user_id", "history_change_reason")
    )
    changes = []
    previous = None
    for stage, at, user_id, reason in rows:
        if previous is not None and stage != previous:
            changes.append((previous, stage, at, user_id, reason))
        previous = stage
    if not changes:
        return []
    user_ids = {c[3] for c in changes if c[3] is not None}
    users = get_user_model().objects.in_bulk(user_ids) if user_ids else {}
    labels = dict(CollectionCase.Stage.choices)
    return [
        _event(
            at,
            "stage",
            f"Stage {labels.get(old, old)} → {labels.get(new, new)}"
            + (f": {_clip(reason)}" if reason else ""),
            users.get(user_id),
        )
        for old, new, at, user_id, reason in changes
    ]


def _readable(user, model, access_function: str):
    """Every row of ``model`` for internal callers (``user`` None), else the
    rows ``backoffice.access`` gives that user: agency staff must not read
    the lender's contact notes or assignment history on a case they work
    (issue #9) unless the placement shares them."""
    if user is None:
        return model.objects.all()
    from backoffice import access

    return getattr(access, access_function)(user)


def case_timeline(case: CollectionCase | int, *, limit: int | None = None, user=None) -> list[dict]:
    """The story of a case, newest first.

    Each event is ``{"at": datetime, "kind": str, "summary": str, "actor":
    User | None}`` with kind one of contact, payment, claim, promise, assignment,
    stage, dispute, plan, settlement, message. Events known only by a business date
    (a payment's received date, a dispute's opening) are placed when they
    were recorded that day, else at the start of that day. At most ``limit``
    events when given. About ten queries, whatever the case's size (one more
    when a dispute was resolved: its actor is the resolver, from the history).

    With ``user``, contact attempts, assignments, payment claims, messages
    and stage changes are the ones ``backoffice.access`` lets that user read
    (screens pass the viewer).
    """
    case_id = case.pk if isinstance(case, CollectionCase) else case
    events: list[dict] = []
    for source in (_contacts, _assignments, _claims, _messages):
        events.extend(source(case_id, limit, user))
    for source in (_payments, _promises, _disputes, _plans, _settlements):
        events.extend(source(case_id, limit))
    events.extend(_stage_changes(case_id, user))
    events.sort(key=lambda e: e["at"], reverse=True)
    return events[:limit] if limit is not None else events


@dataclass
class CaseOverview:
    case: CollectionCase
    customer: Customer
    contact_points: list = field(default_factory=list)
    third_parties: list = field(default_factory=list)
    debts: list[Debt] = field(default_factory=list)
    total_balance: Decimal = Decimal("0.00")
    open_promises: list[PromiseToPay] = field(default_factory=list)
    active_plan: PaymentPlan | None = None
    open_disputes: list[Dispute] = field(default_factory=list)
    holds: list[tuple[str, str]] = field(default_factory=list)


def case_overview(case: CollectionCase | int) -> CaseOverview:
    """What the case page shows at the top, in eight queries.

    ``debts`` have ``product`` and ``creditor`` joined; each offers
    ``balances()``. ``total_balance`` adds up the still-collectible debts.
    ``active_plan`` has its ``instalments`` prefetched. ``holds`` are
    ``(code, label)`` pairs.
    """
    case_id = case.pk if isinstance(case, CollectionCase) else case
    case = CollectionCase.objects.select_related("customer", "assigned_to", "team").get(pk=case_id)
    customer = case.customer
    debts = list(Debt.objects.filter(case_id=case_id).select_related("product", "creditor").order_by("id"))
    labels = dict(Hold.choices)
    return CaseOverview(
        case=case,
        customer=customer,
        contact_points=list(customer.contact_points.order_by("-primary", "kind", "id")),
        third_parties=list(customer.third_parties.order_by("id")),
        debts=debts,
        total_balance=sum(
            (d.total_balance for d in debts if d.status in Debt.ACTIVE_STATUSES), Decimal("0.00")
        ),
        open_promises=list(
            PromiseToPay.objects.filter(case_id=case_id, status=PromiseToPay.Status.PENDING).order_by(
                "due_on", "id"
            )
        ),
        active_plan=PaymentPlan.objects.filter(case_id=case_id, status=PaymentPlan.Status.ACTIVE)
        .prefetch_related("instalments")
        .order_by("-id")
        .first(),
        open_disputes=list(Dispute.objects.filter(case_id=case_id, status=Dispute.Status.OPEN)),
        holds=[(h, str(labels.get(h, h))) for h in (case.holds or [])],
    )
