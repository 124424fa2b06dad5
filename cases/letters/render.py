"""Demand letters as PDF: a Django template per language, laid out by WeasyPrint.

The templates are ``letters/demand_letter_<language>.html`` (both extend
``letters/demand_letter.html``); the text is set in Noto CJK (Debian
``fonts-noto-cjk``), which has the Latin and the Chinese glyphs, so a Chinese
name in an English letter prints too. WeasyPrint is given no way to fetch a
URL: the letter is self-contained and a value from a record can never make
the renderer read a file or call the network.
"""

from datetime import date

import weasyprint
from django.template.loader import render_to_string
from django.utils import translation

from cases.letters.context import DEFAULT_DEADLINE_DAYS, letter_context
from cases.models import Debt


def _no_fetching() -> weasyprint.URLFetcher:
    """A fetcher that refuses every scheme (file, http, data…)."""
    return weasyprint.URLFetcher(allowed_protocols=frozenset(), allow_redirects=False)


def template_name(language: str) -> str:
    return f"letters/demand_letter_{language}.html"


def render_demand_letter_html(
    *, debt: Debt, language: str, today: date, deadline_days: int = DEFAULT_DEADLINE_DAYS
) -> str:
    """The letter as HTML (the PDF's source), rendered in ``language``."""
    context = letter_context(debt=debt, language=language, today=today, deadline_days=deadline_days)
    with translation.override(language):
        return render_to_string(template_name(language), context)


def render_demand_letter(
    *, debt: Debt, language: str, today: date, deadline_days: int = DEFAULT_DEADLINE_DAYS
) -> bytes:
    """The demand letter for ``debt`` on business date ``today`` as PDF bytes.

    ``language`` is ``"zh-hans"`` or ``"en"`` (``ValueError`` otherwise); the
    payment deadline is ``today + deadline_days`` (US letters: not before the
    validation period ends, see ``letter_context``).
    """
    html = render_demand_letter_html(debt=debt, language=language, today=today, deadline_days=deadline_days)
    return weasyprint.HTML(string=html, url_fetcher=_no_fetching()).write_pdf()
