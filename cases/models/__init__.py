"""The cases app's tables, one module per area; Django and the rest of the code import them from here."""

from cases.models.accounts import (  # noqa: F401
    BALANCE_FIELD,
    MONEY,
    OWED_COMPONENTS,
    PAYMENT_CHANNEL_CHOICES,
    WATERFALL_STEPS,
    CollectionCase,
    CollectionPolicy,
    Component,
    Creditor,
    Debt,
    Instalment,
    LedgerEntry,
    LedgerEntryQuerySet,
    Payment,
    Product,
    Team,
    default_bucket_labels,
    validate_bucket_edges,
    validate_waterfall,
)
from cases.models.claims import PaymentClaim  # noqa: F401
from cases.models.dunning import (  # noqa: F401
    LANGUAGES,
    Channel,
    DunningFiring,
    DunningStep,
    Message,
    MessageTemplate,
)
from cases.models.risk import (  # noqa: F401
    RiskModel,
    WatchListEntry,
)
from cases.models.small_balances import (  # noqa: F401
    BulkSettlementOffer,
    BulkSettlementOfferItem,
)
from cases.models.work import (  # noqa: F401
    USER,
    Assignment,
    AssignmentRule,
    CollectorProfile,
    ContactAttempt,
    Dispute,
    Hold,
    PaymentPlan,
    PlanInstalment,
    PromiseToPay,
    Settlement,
)
