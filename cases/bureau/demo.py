"""Demo data for bureau furnishing: a furnisher profile per creditor and last
month's Metro 2 submission of each (generated, not sent), so the admin's
"Bureau submissions" screen has files to open and download.

Called by ``seed_demo`` (the lead wires it): ``seed(business_date=…, actor=…)``.
"""

from datetime import date

from django.utils import timezone

from backoffice.audit import record, system_user
from cases.bureau.export import months_back
from cases.bureau.models import FurnisherProfile
from cases.bureau.services import generate_submission
from cases.models import Creditor


def seed(*, business_date: date, actor=None) -> list:
    """Profiles for creditors without one, then the month before
    ``business_date`` generated for each creditor; returns the submissions."""
    actor = actor or system_user()
    period = months_back(business_date.replace(day=1), 1)
    submissions = []
    for creditor in Creditor.objects.order_by("pk"):
        if not FurnisherProfile.objects.filter(creditor=creditor).exists():
            profile = FurnisherProfile(
                creditor=creditor,
                identification_number=f"{creditor.short_code[:12].upper()}{creditor.pk:08d}"[:20],
                equifax_program_identifier="DEMO",
                reporter_address=creditor.address.replace("\n", " ")[:96],
            )
            record(profile, actor=actor, reason="demo furnisher profile")
            profile.save()
        submissions.append(
            generate_submission(creditor=creditor, period=period, actor=actor, generated_at=timezone.now())
        )
    return submissions
