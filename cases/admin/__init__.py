"""The cases app's admin screens, one module per area; importing the package registers them all."""

from cases.admin import (  # noqa: F401,E402  (registers each area's screens)
    claims,
    letters,
    messaging,
    risk,
    small_balances,
    work,
)
from cases.admin.accounts import (  # noqa: F401
    LEDGER_INLINE_LIMIT,
    BucketFilter,
    CollectionPolicyAdmin,
    CreditorAdmin,
    DebtAdmin,
    InstalmentInline,
    LedgerEntryAdmin,
    LedgerEntryInline,
    PaymentAdmin,
    PaymentInline,
    PostPaymentForm,
    ProductAdmin,
    ReadOnlyAdmin,
    ReversePaymentForm,
    TeamAdmin,
)
