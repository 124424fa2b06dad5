"""Demand letters (催缴单): context, templates and PDF rendering.

``render_demand_letter(*, debt, language, today, deadline_days=14) -> bytes``
is the entry point; ``letter_context`` is what the templates print.
Storing a letter with the case is ``cases.services.letters.issue_demand_letter``.
"""

from cases.letters.context import LANGUAGES, letter_context
from cases.letters.render import render_demand_letter, render_demand_letter_html

__all__ = ["LANGUAGES", "letter_context", "render_demand_letter", "render_demand_letter_html"]
