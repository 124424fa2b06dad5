"""Reads used by more than one caller: ledger checks and the collector's queue, timeline and overview."""

from cases.selectors.ledger import (  # noqa: F401
    LedgerMismatch,
    ledger_mismatches,
)
from cases.selectors.work import (  # noqa: F401
    MONEY_FIELD,
    CaseOverview,
    case_overview,
    case_timeline,
    my_queue,
    outstanding_callbacks,
)
