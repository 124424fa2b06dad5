"""The demo's second layer: the features built on top of the portfolio.

``seed_demo`` builds the book (``cases.demo.portfolio``), then calls ``seed_features``
so every screen of the later features has something to show: a placement
file with its report, a bank statement with suspense lines, two outside
agencies with placed cases, small-balance bulk offers in draft, bureau
reports (and the scores they feed) and last month's Metro 2 submission.
Each app's ``demo.seed`` goes through that app's real services and does
nothing when run twice.

Order matters: placements add debts, statements post payments against
them, agencies place some of the resulting cases, bureau inquiries score
customers, and the Metro 2 file is written last so it reports all of it.
"""

import random
from datetime import date

from cases.agencies import demo as agencies_demo
from cases.bureau import demo as furnishing_demo
from cases.bureau_inquiry import demo as inquiry_demo
from cases.demo.claims import seed_payment_claims
from cases.demo.small_balances import seed_small_balances
from cases.placements import demo as placements_demo
from cases.statements import demo as statements_demo


def seed_features(*, business_date: date, actor, seed: int = 2026) -> list[str]:
    """Seed every feature's demo rows; returns one line per feature for the command to print."""
    lines = []
    placement = placements_demo.seed(business_date=business_date)
    if placement is not None:
        lines.append(
            f"Placement file #{placement.pk}: {placement.loaded} accounts loaded, "
            f"{placement.rejected} rejected (see its report)."
        )
    statements_demo.seed(business_date=business_date)
    lines.append("Bank and platform statements imported (posted lines and a suspense queue).")
    placed = agencies_demo.seed(business_date=business_date)
    lines.append("Outside agencies: " + ", ".join(f"{k} {v}" for k, v in placed.items()) + ".")
    offers = seed_small_balances(business_date=business_date, actor=actor)
    lines.append(f"Small balances: {offers} bulk settlement offer(s) in draft.")
    reports = inquiry_demo.seed(actor=actor, business_date=business_date, rng=random.Random(seed))
    lines.append(f"Bureau reports fetched for {reports} customer(s).")
    claims = seed_payment_claims(business_date=business_date)
    lines.append(f"Payment claims waiting for approval: {claims}.")
    submissions = furnishing_demo.seed(business_date=business_date, actor=actor)
    lines.append(f"Metro 2 submissions generated: {len(submissions)}.")
    return lines
