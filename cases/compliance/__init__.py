"""Compliance: the contact-rules engine (RULES.md §4).

``decide`` is pure; ``gather_facts`` reads the database to build its input.
"""

from cases.compliance.engine import ContactRequest, Decision, Refusal, decide, gather_facts

__all__ = ["ContactRequest", "Decision", "Refusal", "decide", "gather_facts"]
