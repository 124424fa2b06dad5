"""Limitation dates (RULES.md §1).

Counted from the last due date or the last payment, whichever is later, for
the policy's number of years. A time-barred debt cannot go to legal.
"""

from datetime import date

from cases.models import Debt


def add_years(day: date, years: int) -> date:
    """Same calendar day ``years`` later; 29 February falls back to the 28th."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def limitation_date(debt: Debt) -> date | None:
    last_due = debt.instalments.order_by("-due_on").values_list("due_on", flat=True).first()
    starts = [d for d in (last_due, debt.last_payment_on) if d is not None]
    if not starts:
        return None
    return add_years(max(starts), debt.product.policy.limitation_years)
