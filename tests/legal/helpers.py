"""Walking a matter along the stage machine in tests."""

from datetime import date, timedelta
from decimal import Decimal

from legal.models import LegalMatter
from legal.services import transition_matter

Stage = LegalMatter.Stage

# The shortest way from demand_letter to each stage.
PATH_TO: dict[str, list[str]] = {
    Stage.DEMAND_LETTER: [],
    Stage.MEDIATION: [Stage.MEDIATION],
    Stage.PAYMENT_ORDER: [Stage.PAYMENT_ORDER],
    Stage.FILED: [Stage.FILED],
    Stage.SERVED: [Stage.FILED, Stage.SERVED],
    Stage.HEARING: [Stage.FILED, Stage.SERVED, Stage.HEARING],
    Stage.JUDGMENT: [Stage.FILED, Stage.SERVED, Stage.HEARING, Stage.JUDGMENT],
    Stage.ENFORCEMENT: [Stage.FILED, Stage.SERVED, Stage.HEARING, Stage.JUDGMENT, Stage.ENFORCEMENT],
    Stage.CLOSED: [Stage.CLOSED],
}


def extra_for(stage: str) -> dict:
    """What a move to ``stage`` needs besides the date and reason."""
    if stage == Stage.JUDGMENT:
        return {"amount": Decimal("3150.00")}
    if stage == Stage.CLOSED:
        return {"outcome": LegalMatter.Outcome.WITHDRAWN}
    return {}


def move(matter, stage: str, actor, on: date):
    return transition_matter(
        matter=matter, stage=stage, on=on, actor=actor, reason=f"to {stage}", **extra_for(stage)
    )


def walk_to(matter, stage: str, actor, start: date = date(2026, 3, 2)):
    on = start
    for step in PATH_TO[stage]:
        move(matter, step, actor, on)
        on += timedelta(days=1)
    matter.refresh_from_db()
    return matter
