"""The one CSV writer every export of the project goes through (issue #14).

A spreadsheet that opens a CSV runs a cell beginning with ``=``, ``+``,
``-`` or ``@`` as a formula (``=HYPERLINK(…)`` leaks data, ``=cmd|' /C
calc'!A0`` starts programs on old Excel), and a leading tab or carriage
return can hide such a cell's first character from the eye. Account
numbers, names, references and reasons in our exports come from files and
forms that outsiders fill in, so every cell is made safe here:

- a text cell starting with one of those characters (or their full-width
  forms, which some CJK spreadsheet versions also evaluate) is written with
  a leading single quote ``'``, which spreadsheets take as "this is text";
- a cell that is a plain decimal number (``-120.50``, ``-3``: an optional
  minus, digits, an optional fraction) is written as it is, even with its
  leading ``-``: a spreadsheet reads it as a number and runs nothing, and
  money columns (reversals, negative adjustments) stay numbers a person can
  sum. ``int`` and ``Decimal`` values are written in that plain form
  (never ``1E+3``); anything else a minus starts (``-2+3``) is quoted.

``writer(stream)`` wraps ``csv.writer``; ``streamed(rows)`` yields the lines
of a ``StreamingHttpResponse`` one at a time.
"""

import csv
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal

# What a spreadsheet may take as the start of a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def safe_cell(value) -> str:
    """``value`` as the text of one cell that no spreadsheet runs."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, Decimal) and value.is_finite():
        return format(value, "f")
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if text.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


class SafeWriter:
    """``csv.writer``'s ``writerow``/``writerows``, every cell through ``safe_cell``."""

    def __init__(self, stream, **kwargs):
        self._writer = csv.writer(stream, **kwargs)

    def writerow(self, row: Iterable):
        return self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable]) -> None:
        for row in rows:
            self.writerow(row)


def writer(stream, **kwargs) -> SafeWriter:
    """A formula-safe ``csv.writer`` over ``stream`` (anything with ``write``)."""
    return SafeWriter(stream, **kwargs)


class _Echo:
    """A file-like object whose ``write`` returns the line, for streaming."""

    def write(self, value: str) -> str:
        return value


def streamed(rows: Iterable[Iterable]) -> Iterator[str]:
    """One CSV line per row, formula-safe, for a ``StreamingHttpResponse``."""
    line_writer = SafeWriter(_Echo())
    for row in rows:
        yield line_writer.writerow(row)
