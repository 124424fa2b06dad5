"""Payment claims waiting for a second person (issue #14, maker–checker):
the demo collector has reported two payments received by hand, so the
claims queue and the Payments role's landing have work on first login."""

from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model

from cases.models import Debt, Payment, PaymentClaim
from cases.services.claims import submit_claim

CLAIMS = 2
CLAIM_AMOUNT = Decimal("200.00")


def seed_payment_claims(*, business_date: date) -> int:
    """Two pending claims on the demo collector's own open debts; nothing
    when claims exist already. Returns how many were recorded."""
    if PaymentClaim.objects.exists():
        return 0
    collector = get_user_model().objects.filter(username="collector").first()
    if collector is None:
        return 0
    debts = (
        Debt.objects.filter(case__assigned_to=collector, status=Debt.Status.OPEN, days_past_due__gt=0)
        .select_related("case")
        .order_by("id")[:CLAIMS]
    )
    recorded = 0
    for number, debt in enumerate(debts, start=1):
        submit_claim(
            debt=debt,
            amount=min(debt.total_balance, CLAIM_AMOUNT),
            received_on=business_date - timedelta(days=number),
            channel=Payment.Channel.CASH,
            reference=f"DEMO-CLAIM-{number}",
            actor=collector,
            reason="demo: cash received at the branch",
            today=business_date,
        )
        recorded += 1
    return recorded
