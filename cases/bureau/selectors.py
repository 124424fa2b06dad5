"""Reads of bureau furnishing shared by the task, the commands and the admin."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from cases.bureau.models import FurnishingState
from cases.models import Creditor, Debt, Message

PRENOTICE_DONE = (Message.Status.QUEUED, Message.Status.SENT, Message.Status.DELIVERED)


def creditors_to_report() -> QuerySet:
    """Creditors with at least one debt and no disabled furnisher profile."""
    return (
        Creditor.objects.filter(Exists(Debt.objects.filter(creditor=OuterRef("pk"))))
        .exclude(furnisher_profile__enabled=False)
        .order_by("pk")
    )


def debts_due_prenotice(*, creditor: Creditor):
    """CN accounts with negative data (30 DPD reached, or charged off) whose
    customer has not yet been told (RULES §6), oldest first."""
    told = FurnishingState.objects.filter(debt=OuterRef("pk"), prenotice__status__in=PRENOTICE_DONE)
    return (
        Debt.objects.filter(creditor=creditor, product__policy__jurisdiction="CN", case__isnull=False)
        .filter(status__in=Debt.ACTIVE_STATUSES)
        .filter(Q(delinquent_30_on__isnull=False) | Q(status=Debt.Status.CHARGED_OFF))
        .exclude(Exists(told))
        .select_related("case")
        .order_by("pk")
        .iterator(chunk_size=500)
    )
