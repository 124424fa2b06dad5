"""Legal rows per user: defined in ``backoffice.access`` (the one place that
decides access) and re-exported here for the legal app's callers."""

from backoffice.access import (  # noqa: F401
    REFERS_TO_LEGAL,
    SEES_EVERY_MATTER,
    SEES_OWN_CASES_MATTERS,
    deadlines_for,
    enforcement_actions_for,
    filings_for,
    hearings_for,
    judgments_for,
    legal_costs_for,
    matters_for,
    may_refer,
    notifications_for,
    referable_cases_for,
    referable_debts_for,
)
