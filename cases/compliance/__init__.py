"""Compliance: the contact-rules engine (RULES.md §4).

``decide`` is pure; ``gather_facts`` reads the database to build its input.
"""

from cases.compliance.engine import ContactRequest, Decision, Refusal, decide, gather_facts
from cases.compliance.rules import RULE_TABLE, RULES

__all__ = ["RULES", "RULE_TABLE", "ContactRequest", "Decision", "Refusal", "decide", "gather_facts"]
