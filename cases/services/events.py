"""Business events that apps built on ``cases`` react to, in the same transaction.

The apps inside ``cases/`` (outside agencies, for one) import the cases
services; the cases services must not import them back, or the layers
circle. So a service announces what happened with a Django signal and the
app that cares connects its receiver in its ``AppConfig.ready``. Signals are
sent with ``send``: a receiver's error propagates and rolls the caller's
transaction back, exactly as a direct call would.
"""

from django.dispatch import Signal

# After a payment was applied to a debt of the case (``case_id``, ``on``:
# the received date, ``actor``). The agencies app recalls a case paid in full.
payment_applied = Signal()

# After a dispute put the case on hold (``case_id``, ``on``, ``actor``).
# The agencies app recalls the case from its agency at once.
dispute_raised = Signal()

# The end-of-day step between the stage refresh and risk scoring
# (``business_date``, ``actor``). The agencies app closes expired, disputed
# and paid-off placements.
business_day_finishing = Signal()
