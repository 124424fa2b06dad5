"""Demo data for outside agencies: two agencies with commission rates, one
agency login (``agency``, the demo password) and a placement of some M1–M3
cases, made through the real services.

The lead wires it into ``seed_demo`` after the portfolio is built and
``setup_roles`` has run: ``from cases.agencies.demo import seed;
seed(business_date=business_date)``.
"""

from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction

from backoffice.roles import AGENCY, SUPERVISOR
from cases.agencies.models import Agency, AgencyCommissionRate, AgencyMember
from cases.agencies.services import PlacementCriteria, cases_matching, place_with_agency

DEMO_PASSWORD = "ledgerline-demo"
AGENCIES = (
    # name, licence, rates by bucket (percent)
    ("华南催收服务有限公司", "GD-CS-2024-0117", {"M1": "8.00", "M2": "12.00", "M3": "15.00", "M4": "18.00"}),
    ("Keystone Recovery LLC", "PA-CA-88213", {"M1": "10.00", "M2": "14.00", "M3": "18.00", "M4": "22.00"}),
)
FALLBACK_RATE = Decimal("25.00")  # M5 and beyond, and "current"
BUCKETS = ("current", "M1", "M2", "M3", "M4", "M5", "M6", "M6+")


def _placer():
    """A supervisor to place as (the demo's ``supervisor`` login if present)."""
    user_model = get_user_model()
    user = user_model.objects.filter(groups__name=SUPERVISOR).order_by("id").first()
    return user or user_model.objects.filter(is_superuser=True).order_by("id").first()


def seed(*, business_date: date, cases: int = 40) -> dict[str, int]:
    """Create the agencies, the ``agency`` login and up to ``cases``
    placements (half with each agency) starting ``business_date``; returns
    counts. Does nothing when the agencies exist already."""
    if Agency.objects.filter(licence_number=AGENCIES[0][1]).exists():
        return {"agencies": 0, "placements": 0}
    actor = _placer()
    with transaction.atomic():
        agencies = []
        for name, licence, rates in AGENCIES:
            agency = Agency.objects.create(name=name, licence_number=licence, contact_name="Operations desk")
            for bucket in BUCKETS:
                AgencyCommissionRate.objects.create(
                    agency=agency, bucket=bucket, rate_percent=Decimal(rates.get(bucket, FALLBACK_RATE))
                )
            agencies.append(agency)
        user, _ = get_user_model().objects.get_or_create(username="agency")
        user.is_staff, user.is_active, user.password = True, True, make_password(DEMO_PASSWORD)
        user.save()
        user.groups.add(Group.objects.get(name=AGENCY))
        AgencyMember.objects.get_or_create(user=user, defaults={"agency": agencies[0]})
        eligible = list(
            cases_matching(PlacementCriteria(buckets=["M1", "M2", "M3"])).values_list("pk", flat=True)[:cases]
        )
        halves = (eligible[::2], eligible[1::2])
        placed = 0
        for agency, chunk in zip(agencies, halves, strict=True):
            if not chunk:
                continue
            placed += len(
                place_with_agency(
                    cases=chunk,
                    agency=agency,
                    start_on=business_date,
                    end_on=business_date + timedelta(days=90),
                    actor=actor,
                    reason="demo placement",
                    instructions="Calls and SMS only; no visits. Offer plans up to 6 months.",
                    share_contact_history=agency is agencies[0],
                )
            )
    return {"agencies": len(agencies), "placements": placed}
