"""Reads for the legal screens and API: a matter's timeline, what is coming up.

Callers pass querysets already restricted by ``legal.access``; these
functions never widen them.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from cases.models import Payment
from legal.models import Deadline, Hearing, LegalMatter


@dataclass(frozen=True)
class TimelineItem:
    on: date
    kind: str  # transition, filing, hearing, judgment, deadline, cost, payment, enforcement
    title: str
    detail: str = ""
    url: str = ""

    def as_dict(self) -> dict:
        return {"on": self.on.isoformat(), "kind": self.kind, "title": self.title, "detail": self.detail}


def _day(value) -> date:
    if isinstance(value, datetime):
        return timezone.localtime(value).date()
    return value


def matter_timeline(matter: LegalMatter) -> list[TimelineItem]:
    """Everything that happened on a matter, oldest first: stage moves,
    filings, hearings, the judgment, costs, enforcement actions and the
    payments on its debts since the referral (enforcement recoveries too)."""
    items: list[TimelineItem] = []
    for t in matter.transitions.select_related("actor"):
        who = t.actor.get_username() if t.actor else ""
        doc = f" · document {t.document.name}" if t.document else ""
        items.append(
            TimelineItem(
                t.on, "transition", f"{t.from_stage or '—'} → {t.to_stage}", f"{t.reason} ({who}){doc}"
            )
        )
    for f in matter.filings.all():
        doc = f" · {f.document.name}" if f.document else ""
        items.append(
            TimelineItem(f.filed_on, "filing", f.get_kind_display(), f"{f.court_reference}{doc}".strip())
        )
    for h in matter.hearings.all():
        where = ", ".join(x for x in (h.court_room, h.judge) if x)
        items.append(
            TimelineItem(
                _day(h.starts_at),
                "hearing",
                f"Hearing {timezone.localtime(h.starts_at):%H:%M}",
                f"{where}{' · ' + h.result if h.result else ''}",
            )
        )
    judgment = getattr(matter, "judgment", None) if hasattr(matter, "judgment") else None
    if judgment is not None:
        items.append(
            TimelineItem(
                judgment.judged_on,
                "judgment",
                f"Judgment {judgment.amount}",
                f"interest {judgment.interest}, costs {judgment.costs_awarded}; "
                f"served {judgment.served_on or '—'}, effective {judgment.effective_on or '—'}",
            )
        )
    for c in matter.costs.select_related("debt"):
        items.append(TimelineItem(c.incurred_on, "cost", f"{c.get_kind_display()} {c.amount}", str(c.debt)))
    for a in matter.enforcement_actions.all():
        items.append(TimelineItem(a.applied_on, "enforcement", a.get_kind_display(), a.court_reference))
    payments = Payment.objects.filter(
        debt__in=matter.debts.values("pk"), received_on__gte=matter.referred_on
    ).select_related("debt")
    for p in payments:
        status = "" if p.status == Payment.Status.POSTED else f" ({p.get_status_display()})"
        items.append(
            TimelineItem(
                p.received_on,
                "payment",
                f"Payment {p.amount} {p.currency}{status}",
                f"{p.get_channel_display()} · {p.reference}",
            )
        )
    order = {"transition": 0}
    items.sort(key=lambda i: (i.on, order.get(i.kind, 1)))
    return items


def upcoming_hearings(matters: QuerySet, *, today: date, days: int) -> QuerySet:
    start = timezone.make_aware(datetime.combine(today, datetime.min.time()))
    end = start + timedelta(days=days + 1)
    return (
        Hearing.objects.filter(matter__in=matters.values("pk"), starts_at__gte=start, starts_at__lt=end)
        .select_related("matter__court")
        .order_by("starts_at")
    )


def open_deadlines(matters: QuerySet, *, until: date) -> QuerySet:
    """Deadlines not done and due by ``until`` (overdue ones included)."""
    return (
        Deadline.objects.filter(matter__in=matters.values("pk"), done=False, due_on__lte=until)
        .exclude(matter__stage=LegalMatter.Stage.CLOSED)
        .select_related("matter")
        .order_by("due_on", "id")
    )


def calendar_items(matters: QuerySet, *, since: date):
    """Hearings and open deadlines from ``since`` on, for the .ics feed."""
    start = timezone.make_aware(datetime.combine(since, datetime.min.time()))
    hearings = (
        Hearing.objects.filter(matter__in=matters.values("pk"), starts_at__gte=start)
        .select_related("matter__court")
        .order_by("starts_at")
    )
    deadlines = (
        Deadline.objects.filter(matter__in=matters.values("pk"), done=False, due_on__gte=since)
        .exclude(kind=Deadline.Kind.HEARING)  # the hearing itself is the event
        .select_related("matter")
        .order_by("due_on")
    )
    return hearings, deadlines
