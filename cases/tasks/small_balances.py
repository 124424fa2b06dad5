"""Celery tasks for small balances (docs/small-balances.md).

A large bulk settlement offer is approved in the background: the admin's
approve button queues ``approve_bulk_offer_task`` after its transaction
commits. The task re-reads the offer and the approver and calls the same
service, which approves only a draft under a row lock, so a retried or
duplicated task does nothing twice. ``close_expired_bulk_offers_task`` is
for the nightly schedule (or the close of business).
"""

from datetime import date, datetime

from celery import shared_task
from django.contrib.auth import get_user_model

from backoffice.audit import system_user
from cases.models import BulkSettlementOffer
from cases.services.small_balances import approve_bulk_offer, close_expired_bulk_offers


@shared_task(name="cases.tasks.approve_bulk_offer", acks_late=True)
def approve_bulk_offer_task(*, offer_id: int, actor_id: int, today: str, at: str, reason: str) -> dict:
    offer = BulkSettlementOffer.objects.get(pk=offer_id)
    actor = get_user_model().objects.get(pk=actor_id)
    result = approve_bulk_offer(
        offer=offer,
        actor=actor,
        today=date.fromisoformat(today),
        at=datetime.fromisoformat(at),
        reason=reason,
    )
    return {"approved_now": result.approved_now, "offered": result.offered, "skipped": result.skipped}


@shared_task(name="cases.tasks.close_expired_bulk_offers", acks_late=True)
def close_expired_bulk_offers_task(business_date: str) -> int:
    return close_expired_bulk_offers(business_date=date.fromisoformat(business_date), actor=system_user())
