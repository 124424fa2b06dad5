"""Every write the business knows about debts and money.

Split by subject; import from the submodule (``cases.services.payments``)
or from here.
"""

from backoffice.errors import PaymentConflict
from cases.services.close_of_business import close_chunk, run_close_of_business
from cases.services.payments import post_payment, reverse_payment
from cases.services.placement import place_debt

__all__ = [
    "PaymentConflict",
    "close_chunk",
    "place_debt",
    "post_payment",
    "reverse_payment",
    "run_close_of_business",
]
