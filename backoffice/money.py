"""Money helpers: every amount is a ``Decimal`` with two places.

Rounding follows RULES.md §2: a day's penalty is rounded half-up to 0.01,
the cost cap is rounded down.
"""

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
