"""Monthly Metro 2 furnishing as Celery tasks (thin wrappers over services).

Beat runs ``furnish_month`` on the 2nd of each month (migration
``bureau/0002_monthly_furnishing``) with no arguments: the period is the
month before, in ``settings.TIME_ZONE``, so close of business for its last
day has run. It fans out one ``furnish_creditor`` task per creditor; each is
idempotent by (creditor, period): a second run finds the submission and
only sends it if it was not sent yet.
"""

import logging
from datetime import date
from zoneinfo import ZoneInfo

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from backoffice.audit import system_user
from cases.bureau.export import months_back
from cases.bureau.selectors import creditors_to_report
from cases.bureau.services import parse_period, run_month_for_creditor
from cases.bureau.transport import TransportError
from cases.models import Creditor

logger = logging.getLogger(__name__)


def previous_period() -> date:
    today = timezone.localdate(timezone=ZoneInfo(settings.TIME_ZONE))
    return months_back(today.replace(day=1), 1)


@shared_task(
    name="cases.bureau.tasks.furnish_creditor",
    acks_late=True,
    autoretry_for=(TransportError,),
    retry_backoff=60,
    retry_backoff_max=3600,
    max_retries=6,
)
def furnish_creditor(creditor_id: int, period: str) -> dict:
    """Generate (once) and send one creditor's file for ``period`` (YYYY-MM)."""
    creditor = Creditor.objects.get(pk=creditor_id)
    submission = run_month_for_creditor(
        creditor=creditor, period=parse_period(period), actor=system_user(), at=timezone.now()
    )
    return {"submission": submission.pk, "status": submission.status, "records": submission.base_records}


@shared_task(name="cases.bureau.tasks.furnish_month")
def furnish_month(period: str | None = None) -> list[int]:
    """Fan out one ``furnish_creditor`` per creditor for ``period`` (default: last month)."""
    label = period or f"{previous_period():%Y-%m}"
    parse_period(label)
    ids = list(creditors_to_report().values_list("pk", flat=True))
    for creditor_id in ids:
        furnish_creditor.delay(creditor_id, label)
    logger.info("bureau furnishing %s: %d creditors", label, len(ids))
    return ids
