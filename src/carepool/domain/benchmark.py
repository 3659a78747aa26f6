"""Comparing an area's metric with England's, the way public health profiles do.

The method is the one OHID's Fingertips profiles state for their "compared with England"
colours, so a reader who knows those pages reads carepool's the same way:

- a **percentage** gets a 95% Wilson score interval for its proportion;
- a **crude rate per 100,000** gets a 95% interval for its count by Byar's approximation to
  the Poisson distribution, divided by the population;
- the area is **better** or **worse** than England when its whole interval lies on one side
  of England's value (which side is better is the metric's direction), and **similar** when
  the interval holds England's value;
- a **count**, an **age-standardised rate** (whose interval needs the age-specific counts,
  Dobson's method, which carepool does not store) and a metric with no better direction are
  **not compared**; their position among all areas (which quarter of areas they fall in) is
  shown instead, which needs no interval.

England's value is worked out from England's counts (the sum of every area's numerators over
the sum of their denominators), never as an average of areas' rates. Everything here is
Decimal arithmetic on whole counts, so the same inputs give the same colours on every engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from enum import StrEnum

from carepool.domain.direction import Direction
from carepool.domain.metric import Measure

Z_95 = Decimal("1.959963984540054")
"""The standard normal quantile of a two-sided 95% interval."""

_SCALES = {Measure.PERCENTAGE: Decimal(100), Measure.RATE_PER_100000: Decimal(100_000)}


class Verdict(StrEnum):
    """How an area compares with England, in the words the page shows."""

    BETTER = "Better than England"
    SIMILAR = "Similar to England"
    WORSE = "Worse than England"
    NOT_COMPARED = "Not compared"


@dataclass(frozen=True, slots=True)
class Interval:
    """A 95% confidence interval on the metric's own scale."""

    lower: Decimal
    upper: Decimal

    def holds(self, value: Decimal) -> bool:
        return self.lower <= value <= self.upper


def wilson(numerator: int, denominator: int) -> Interval:
    """The Wilson score interval of a proportion ``numerator / denominator`` (0 to 1)."""
    if denominator <= 0 or not 0 <= numerator <= denominator:
        raise ValueError(f"no proportion of {numerator} in {denominator}")
    with localcontext() as context:
        context.prec = 28
        n = Decimal(denominator)
        p = Decimal(numerator) / n
        z2 = Z_95 * Z_95
        centre = p + z2 / (2 * n)
        spread = Z_95 * (p * (1 - p) / n + z2 / (4 * n * n)).sqrt()
        scale = 1 + z2 / n
        # At 0 or n the exact limit is 0 or 1; the arithmetic would leave a rounding crumb.
        lower = Decimal(0) if numerator == 0 else (centre - spread) / scale
        upper = Decimal(1) if numerator == denominator else (centre + spread) / scale
        return Interval(lower, upper)


def byar(count: int) -> Interval:
    """Byar's approximate 95% interval for a Poisson count (exact enough above a handful)."""
    if count < 0:
        raise ValueError(f"no interval for a negative count {count}")
    with localcontext() as context:
        context.prec = 28
        above = Decimal(count + 1)
        upper = above * (1 - 1 / (9 * above) + Z_95 / (3 * above.sqrt())) ** 3
        if count == 0:
            return Interval(Decimal(0), upper)
        x = Decimal(count)
        lower = x * (1 - 1 / (9 * x) - Z_95 / (3 * x.sqrt())) ** 3
        return Interval(lower, upper)


def interval(
    measure: Measure, numerator: int, denominator: int | None, *, standardised: bool = False
) -> Interval | None:
    """The value's 95% interval on its own scale, or ``None`` where the method gives none."""
    scale = _SCALES.get(measure)
    if scale is None or standardised or not denominator or denominator <= 0:
        return None
    if measure is Measure.PERCENTAGE:
        if numerator > denominator:
            return None
        found = wilson(numerator, denominator)
        return Interval(found.lower * scale, found.upper * scale)
    counted = byar(numerator)
    return Interval(counted.lower * scale / denominator, counted.upper * scale / denominator)


def england_value(
    measure: Measure, counts: Sequence[tuple[int, int | None]], *, standardised: bool = False
) -> Decimal | None:
    """England's value from every area's (numerator, denominator): the ratio of the sums."""
    scale = _SCALES.get(measure)
    if scale is None or standardised:
        return None
    paired = [(n, d) for n, d in counts if d]
    bottom = sum(d for _, d in paired if d)
    if not paired or bottom <= 0:
        return None
    return Decimal(sum(n for n, _ in paired)) * scale / bottom


def compare(found: Interval | None, england: Decimal | None, direction: Direction) -> Verdict:
    """Better, similar or worse than England, or not compared when either side is missing."""
    if found is None or england is None or direction is Direction.NEITHER:
        return Verdict.NOT_COMPARED
    if found.holds(england):
        return Verdict.SIMILAR
    above = found.lower > england
    higher_is_better = direction is Direction.HIGHER_IS_BETTER
    return Verdict.BETTER if above == higher_is_better else Verdict.WORSE


def quarter_of_areas(value: Decimal, values: Sequence[Decimal], direction: Direction) -> int | None:
    """Which quarter of areas ``value`` falls in, 1 the best, by rank among ``values``.

    ``None`` when there are fewer than four areas to rank or no better direction.
    """
    if len(values) < 4 or direction is Direction.NEITHER:
        return None
    better = sum(
        1
        for other in values
        if (other > value if direction is Direction.HIGHER_IS_BETTER else other < value)
    )
    return min(4, 1 + better * 4 // len(values))
