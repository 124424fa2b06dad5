"""Demo data for small balances (docs/small-balances.md).

``seed_small_balances`` gives every policy of the demo a digital-only
threshold (CN 500.00, US 100.00, unless one is set), installs the settlement
offer templates and drafts one bulk settlement offer per policy, so a
supervisor can open "Bulk settlement offers", see the preview and approve.
Idempotent: a second run changes nothing.
"""

from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from backoffice.audit import record, system_user
from cases.models import BulkSettlementOffer, CollectionPolicy
from cases.services.small_balances import install_offer_templates, save_bulk_offer_draft

THRESHOLDS = {"CN": Decimal("500.00"), "US": Decimal("100.00")}
DISCOUNT = Decimal("30.00")


def seed_small_balances(*, business_date: date, actor=None) -> int:
    """Returns how many draft offers were created."""
    actor = actor or system_user()
    created = 0
    with transaction.atomic():
        install_offer_templates(actor=actor)
        for policy in CollectionPolicy.objects.select_for_update().order_by("id"):
            if policy.digital_only_below is None and policy.jurisdiction in THRESHOLDS:
                policy.digital_only_below = THRESHOLDS[policy.jurisdiction]
                record(policy, actor=actor, reason="demo: digital-only threshold")
                policy.save(update_fields=["digital_only_below"])
            if policy.digital_only_below is None:
                continue
            if BulkSettlementOffer.objects.filter(policy=policy).exists():
                continue
            save_bulk_offer_draft(
                offer=BulkSettlementOffer(
                    name=f"Small balances {business_date:%Y-%m} · {policy.name}",
                    policy=policy,
                    discount_percent=DISCOUNT,
                    expires_on=business_date + timedelta(days=30),
                ),
                actor=actor,
                today=business_date,
                reason="demo: draft bulk offer",
            )
            created += 1
    return created
