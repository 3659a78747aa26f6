"""Money: the one place that parses, formats and divides amounts.

Every amount in carepool is a whole number of pence held in a plain ``int``. Floats never
appear: a pooled budget has to reconcile to the penny across 151 areas, and binary floating
point cannot promise that. Nothing else in the code base turns text into money or splits a
sum; it asks this module.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import NewType, TypeVar

from carepool.domain.errors import MoneyError

Pence = NewType("Pence", int)
"""An amount in whole pence. Negative values are refunds, reversals or overspends."""

K = TypeVar("K")

MAX_PENCE = 100 * 10**12
"""The largest amount carepool accepts, in either direction: £1 trillion, far above any real
programme (the whole Better Care Fund is a few £bn a year) and far inside a signed 64-bit
integer, so a stored amount, and a sum of many, always fits the database and a spreadsheet."""

_MONEY_TEXT = re.compile(
    r"""^(?:(?P<sign>[-−])?£?|£(?P<sign2>[-−]))
        (?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)
        (?:\.(?P<fraction>[0-9]{1,2}))?$""",
    re.VERBOSE,
)


ONLY_ASCII_DIGITS = "only the digits 0-9 are accepted"
"""Why text with other digits (full-width ``１２３``, Arabic-Indic ``١٢٣``) is refused."""


def has_other_digits(text: str) -> bool:
    """Whether ``text`` holds a decimal digit other than 0-9.

    Python's ``int()`` and ``Decimal()`` read any script's digits, so ``１２３`` would become
    123 without anyone seeing it. carepool refuses such text rather than normalising it: a
    figure typed in another script's digits is more likely a paste from somewhere unexpected
    than a real amount, and whoever sent it should look at it.
    """
    return any(char.isdecimal() and not char.isascii() for char in text)


def pence(value: int) -> Pence:
    """Name an integer as pence, refusing anything that is not a true ``int``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise MoneyError(f"an amount must be whole pence, not {type(value).__name__}")
    return Pence(value)


def parse_money(text: str, *, allow_negative: bool = False) -> Pence:
    """Read an amount written the ways people write it: ``£1,234.56``, ``1234.56``, ``1234``.

    Thousands separators must be in the right places and at most two decimal places are
    allowed, because a third would be a fraction of a penny that someone would have to round.
    """
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "")
    if cleaned.startswith("(") and cleaned.endswith(")"):
        cleaned = "-" + cleaned[1:-1]
    if has_other_digits(cleaned):
        raise MoneyError(f"{text.strip()!r} is not an amount of money: {ONLY_ASCII_DIGITS}")
    match = _MONEY_TEXT.match(cleaned)
    if match is None:
        raise MoneyError(f"{text.strip()!r} is not an amount of money (expected e.g. £1,234.56)")
    negative = bool(match["sign"] or match["sign2"])
    whole = int(match["whole"].replace(",", ""))
    fraction = (match["fraction"] or "").ljust(2, "0")
    amount = whole * 100 + int(fraction)
    if negative and amount:
        if not allow_negative:
            raise MoneyError(f"{text.strip()!r} is negative; a negative amount is not allowed here")
        amount = -amount
    return _within_limit(Pence(amount))


def pounds_to_pence(amount: Decimal | int | str) -> Pence:
    """Convert an exact number of pounds to pence, refusing fractions of a penny."""
    if has_other_digits(str(amount)):
        raise MoneyError(f"{amount!r} is not a number of pounds: {ONLY_ASCII_DIGITS}")
    try:
        value = Decimal(str(amount))
    except InvalidOperation as exc:
        raise MoneyError(f"{amount!r} is not a number of pounds") from exc
    if not value.is_finite() or "e" in str(amount).lower():
        raise MoneyError(f"{amount!r} is not a number of pounds")
    if abs(value) * 100 > MAX_PENCE:
        raise _too_large(value)
    scaled = value * 100
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"£{amount} has a fraction of a penny")
    return Pence(int(scaled))


def _within_limit(amount: Pence) -> Pence:
    if abs(amount) > MAX_PENCE:
        raise _too_large(format_money(amount))
    return amount


def _too_large(written: Decimal | str) -> MoneyError:
    if isinstance(written, Decimal):
        sign = "-" if written < 0 else ""
        written = f"{sign}£{abs(written):,f}"
    limit = format_money(MAX_PENCE, pence_shown=False)
    return MoneyError(f"{written} is more than carepool accepts ({limit})")


def format_money(amount: int, *, pence_shown: bool = True) -> str:
    """Write an amount for people: ``£1,234.56`` or ``-£12.00``; ``pence_shown=False`` rounds
    half up to whole pounds for summary tables where pence are noise."""
    sign = "-" if amount < 0 else ""
    magnitude = abs(amount)
    if not pence_shown:
        pounds = int((Decimal(magnitude) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        return f"{sign}£{pounds:,}"
    return f"{sign}£{magnitude // 100:,}.{magnitude % 100:02d}"


def format_millions(amount: int) -> str:
    """Write a large amount as ``£3,800.0m``, the way national totals are quoted."""
    millions = (Decimal(amount) / 100 / 1_000_000).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return f"£{millions:,}m"


def split_by_weights(total: int, weights: Mapping[K, int | Fraction]) -> dict[K, Pence]:
    """Divide ``total`` pence between keys in proportion to their weights, exactly.

    Uses the largest-remainder method: everyone gets the floor of their exact share, then the
    pence left over go one each to the largest fractional remainders. Ties break by the order
    of the mapping so the result is deterministic. The parts always add up to ``total``.
    """
    keys = list(weights)
    if not keys:
        raise MoneyError("cannot divide money between nobody")
    values = [Fraction(weights[k]) for k in keys]
    if any(v < 0 for v in values):
        raise MoneyError("weights for dividing money cannot be negative")
    weight_sum = sum(values, Fraction(0))
    if weight_sum == 0:
        raise MoneyError("cannot divide money when every weight is zero")
    return dict(zip(keys, _largest_remainder(total, values, weight_sum), strict=True))


def _largest_remainder(total: int, values: Sequence[Fraction], weight_sum: Fraction) -> list[Pence]:
    sign = -1 if total < 0 else 1
    magnitude = abs(total)
    exact = [magnitude * v / weight_sum for v in values]
    parts = [int(share) for share in exact]  # floor, shares are non-negative
    leftover = magnitude - sum(parts)
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] - parts[i]), i))
    for index in by_remainder[:leftover]:
        parts[index] += 1
    return [Pence(sign * p) for p in parts]
