"""Money helpers: every amount is a ``Decimal`` with two places.

Rounding follows RULES.md §2: a day's penalty is rounded half-up to 0.01,
the cost cap is rounded down.
"""

import re
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# Every money column: DecimalField(**MONEY) (DESIGN.md, Money).
MONEY = {"max_digits": 18, "decimal_places": 2}


def to_money(value) -> Decimal:
    """Parse ``value`` into a two-place Decimal; floats are refused."""
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def round_half_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def round_down(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_DOWN)


# A plain decimal as people and files write money: an optional minus, at most
# 16 digits (MONEY's 18 less two places), an optional point with one or two
# decimals. No exponent (``1e3``), no spaces, no thousands separators, no
# ``NaN``/``Infinity``: Python's ``Decimal`` takes all of those, and an
# amount that is not exactly what it looks like must be refused, not guessed.
# ``[0-9]``, not ``\d``: ``Decimal`` also reads other scripts' digits ("１").
_PLAIN_AMOUNT = re.compile(r"-?[0-9]{1,16}(?:\.[0-9]{1,2})?")
_DECIMALS = re.compile(r"-?[0-9]+\.[0-9]{3,}")
_TOO_LONG = re.compile(r"-?[0-9]{17,}(?:\.[0-9]{1,2})?")
# Digits, or what ``Decimal`` would read as a number (``NaN``, ``Infinity``).
_LOOKS_NUMERIC = re.compile(r"[0-9]|nan|inf", re.IGNORECASE)


class PlainAmountError(ValueError):
    """``text`` is not a plain decimal amount; the message says why."""


def parse_plain_amount(text: str) -> Decimal:
    """``text`` as a two-place ``Decimal``; ``PlainAmountError`` unless it is
    a plain decimal with at most two places (see ``_PLAIN_AMOUNT``)."""
    if not isinstance(text, str):
        raise PlainAmountError(f"{text!r} is not an amount.")
    if _PLAIN_AMOUNT.fullmatch(text):
        return Decimal(text).quantize(CENT)
    if _DECIMALS.fullmatch(text):
        raise PlainAmountError(f"{text} has more than two decimal places.")
    if _TOO_LONG.fullmatch(text):
        raise PlainAmountError(f"{text} is too large for an amount.")
    if _LOOKS_NUMERIC.search(text):
        raise PlainAmountError(
            f"{text!r} is not a plain amount: write digits with at most two decimals, e.g. 1413.50 "
            "(no spaces, thousands separators, exponents or signs other than a leading minus)."
        )
    raise PlainAmountError(f"{text!r} is not an amount.")
