"""Jurisdiction presets for ``CollectionPolicy`` (RULES.md: every number is a
default of a policy, stored in the database, never a constant in code).

A policy created with only a jurisdiction starts from one of these.
"""

from decimal import Decimal

CN_WATERFALL = [
    "legal_cost",
    "fees",
    "penalty",
    "overdue_interest",
    "overdue_principal",
    "current_interest",
    "current_principal",
]
US_WATERFALL = ["legal_cost", "fees", "penalty", "interest", "principal"]

DEFAULT_BUCKET_EDGES = [30, 60, 90, 120, 150, 180]

PRESETS: dict[str, dict] = {
    "CN": {
        "currency": "CNY",
        "penalty_daily_rate": Decimal("0.000500"),
        "penalty_base": "principal",
        "grace_days": 3,
        "tolerance": Decimal("1.00"),
        "cost_cap_annual_rate": Decimal("0.2400"),
        "late_fee_fixed": Decimal("0.00"),
        "late_fee_percent": Decimal("0.0000"),
        "late_fee_cap": None,
        "charge_off_dpd": 180,
        "accrue_after_charge_off": True,
        "waterfall": CN_WATERFALL,
        "bucket_edges": DEFAULT_BUCKET_EDGES,
        "allow_credit_balance": False,
        "limitation_years": 3,
        "contact_hours_start": 8,
        "contact_hours_end": 22,
        "calls_answered_per_day": 3,
        "unanswered_calls_per_number_per_day": 6,
        "call_attempts_per_7_days": None,
        "quiet_days_after_conversation": None,
        "messages_per_day": 3,
        "validation_notice_days": None,
        "rule_modes": {},
        "first_party": False,
        "promise_grace_days": 2,
        "plan_default_after_missed": 2,
        "settlement_limit_collector": Decimal("20.00"),
        "settlement_limit_team_lead": Decimal("40.00"),
        "legal_minimum_balance": Decimal("1000.00"),
    },
    "US": {
        "currency": "USD",
        "penalty_daily_rate": Decimal("0"),
        "penalty_base": "principal",
        "grace_days": 3,
        "tolerance": Decimal("1.00"),
        "cost_cap_annual_rate": None,
        "late_fee_fixed": Decimal("0.00"),
        "late_fee_percent": Decimal("0.0000"),
        "late_fee_cap": None,
        "charge_off_dpd": 180,
        "accrue_after_charge_off": False,
        "waterfall": US_WATERFALL,
        "bucket_edges": DEFAULT_BUCKET_EDGES,
        "allow_credit_balance": False,
        "limitation_years": 6,
        "contact_hours_start": 8,
        "contact_hours_end": 21,
        "calls_answered_per_day": None,
        "unanswered_calls_per_number_per_day": None,
        "call_attempts_per_7_days": 7,
        "quiet_days_after_conversation": 7,
        "messages_per_day": None,
        "validation_notice_days": 5,
        "rule_modes": {},
        "first_party": False,
        "promise_grace_days": 2,
        "plan_default_after_missed": 2,
        "settlement_limit_collector": Decimal("20.00"),
        "settlement_limit_team_lead": Decimal("40.00"),
        "legal_minimum_balance": Decimal("500.00"),
    },
}


def preset(jurisdiction: str) -> dict:
    """A fresh copy of the preset for ``jurisdiction`` (``CN`` or ``US``)."""
    try:
        values = PRESETS[jurisdiction]
    except KeyError:
        raise ValueError(f"no preset for jurisdiction {jurisdiction!r}") from None
    return {key: (list(v) if isinstance(v, list) else v) for key, v in values.items()}
