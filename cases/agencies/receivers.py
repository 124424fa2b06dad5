"""What the agencies app does when the cases services announce an event
(``cases.services.events``); connected in ``AgenciesConfig.ready``."""

from backoffice.audit import system_user
from cases.agencies.services import close_placements, recall_case_placement, recall_if_paid_in_full
from cases.services import events


def on_payment_applied(sender, *, case_id, on, actor, **kwargs) -> None:
    """Paid in full (or settled): the case comes back from its agency (issue #9)."""
    recall_if_paid_in_full(case_id=case_id, on=on, actor=actor or system_user())


def on_dispute_raised(sender, *, case_id, on, actor, **kwargs) -> None:
    """A disputed case comes back from an outside agency at once (issue #9)."""
    recall_case_placement(
        case_id=case_id, on=on, kind="dispute", actor=actor, reason="recalled: dispute raised"
    )


def on_business_day_finishing(sender, *, business_date, actor, **kwargs) -> None:
    """Expired periods, disputed and paid-off cases come back."""
    close_placements(business_date=business_date, actor=actor)


def connect() -> None:
    events.payment_applied.connect(on_payment_applied, dispatch_uid="agencies.payment_applied")
    events.dispute_raised.connect(on_dispute_raised, dispatch_uid="agencies.dispute_raised")
    events.business_day_finishing.connect(on_business_day_finishing, dispatch_uid="agencies.business_day")
