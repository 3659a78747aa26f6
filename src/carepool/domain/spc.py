"""Statistical process control as NHS England's "Making Data Count" (MDC) draws it: XmR charts.

An XmR chart asks one question of a time series: is the latest change signal or noise? It
compares each point with *process limits* worked out from the series' own point-to-point
variation, so an area is judged against its own history rather than a league table. BCF
metric pages use it for every monthly, quarterly or yearly series.

How the chart is built (all in exact :class:`~fractions.Fraction` arithmetic, so every
engine, page and export shows the very same limits):

- the **mean** of the values;
- the **moving ranges**, the absolute difference between each point and the one before;
- the **process limits**, mean ± :data:`LIMIT_FACTOR` (2.66) × mean moving range. 2.66 is
  3 ÷ 1.128, the bias-correction constant for ranges of two, so the limits sit three
  estimated standard deviations ("sigma") from the mean. One sigma is therefore
  2.66 ÷ 3 × mean moving range.

Optionally (``baseline``) the mean and limits come from the first points only and are
extended over the rest, as MDC recommends once a process has been stable for a while; and
(``screen_moving_ranges``) moving ranges above 3.267 × the mean moving range (the upper
range limit) are left out of the mean moving range, so one wild month does not widen the
limits. Both are off unless asked for: the plain XmR chart is the default.

Special-cause rules, as the MDC guidance states them (the run lengths are constants here):

1. **Outside the limits** — a point strictly above the upper or below the lower limit.
2. **Shift** — a run of :data:`SHIFT_LENGTH` (7) or more consecutive points all above, or
   all below, the mean. A point exactly on the mean ends a run.
3. **Trend** — :data:`TREND_LENGTH` (6) or more consecutive points each strictly higher (or
   each strictly lower) than the one before. A repeated value ends a trend. A point where a
   rising trend turns into a falling one belongs to the trend it ends.
4. **Two of three** — two or three out of any three consecutive points further than two
   sigma from the mean on the same side (in the outer third between the mean and a limit,
   or beyond it). Only the points beyond two sigma are flagged, not the third.

A flagged point is a *high* or *low* special cause. For the outside-limits, shift and
two-of-three rules that is the side of the mean it lies on; a trend point is high when the
trend rises. Where rules disagree the position rules win, because a point far above the mean
is high whichever way the latest months are moving. The metric's :class:`Direction` then
makes a high point an improvement (higher is better) or a concern (lower is better); for a
metric with no better direction it is special cause of neither kind (MDC's purple).

The **variation** verdict of a chart is the verdict of its latest point, as on MDC's icons.
The **assurance** verdict compares a target with the limits: a target the process cannot
help meeting (beyond the limit on the worse side) is *consistently passed*; one it cannot
meet without a special cause (beyond, or on, the limit on the better side) is *consistently
failed*; a target within the limits will be *hit and missed* at random.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction
from itertools import pairwise

from carepool.domain.direction import Direction
from carepool.domain.errors import CarepoolError

LIMIT_FACTOR = Fraction(266, 100)
"""Process limits lie this many mean moving ranges from the mean (3 ÷ 1.128, as MDC rounds it)."""

SIGMA_FACTOR = LIMIT_FACTOR / 3
"""One sigma, in mean moving ranges."""

RANGE_LIMIT_FACTOR = Fraction(3267, 1000)
"""Moving ranges above this many mean moving ranges are screened out when asked to."""

SHIFT_LENGTH = 7
"""Consecutive points on one side of the mean that make a shift."""

TREND_LENGTH = 6
"""Consecutive points each higher (or each lower) than the last that make a trend."""

MINIMUM_POINTS = 15
"""MDC's advice: limits from fewer points than this are provisional."""

Number = int | Decimal | Fraction


class Side(StrEnum):
    HIGH = "high"
    LOW = "low"


class Rule(StrEnum):
    OUTSIDE_LIMITS = "outside_limits"
    SHIFT = "shift"
    TREND = "trend"
    TWO_OF_THREE = "two_of_three"

    @property
    def label(self) -> str:
        return _RULE_LABELS[self]


_RULE_LABELS = {
    Rule.OUTSIDE_LIMITS: "a point outside the process limits",
    Rule.SHIFT: f"a run of {SHIFT_LENGTH} or more points on one side of the mean",
    Rule.TREND: f"{TREND_LENGTH} or more points in a row rising or falling",
    Rule.TWO_OF_THREE: "two out of three points beyond two sigma on the same side",
}


class Variation(StrEnum):
    COMMON_CAUSE = "common_cause"
    IMPROVEMENT = "special_cause_improvement"
    CONCERN = "special_cause_concern"
    NEITHER = "special_cause_neither"

    @property
    def label(self) -> str:
        return _VARIATION_LABELS[self]


_VARIATION_LABELS = {
    Variation.COMMON_CAUSE: "Common cause variation",
    Variation.IMPROVEMENT: "Special cause variation: improvement",
    Variation.CONCERN: "Special cause variation: concern",
    Variation.NEITHER: "Special cause variation: neither improvement nor concern",
}


class Assurance(StrEnum):
    PASS = "consistently_pass"
    FAIL = "consistently_fail"
    HIT_AND_MISS = "hit_and_miss"

    @property
    def label(self) -> str:
        return _ASSURANCE_LABELS[self]


_ASSURANCE_LABELS = {
    Assurance.PASS: "The target will consistently be met",
    Assurance.FAIL: "The target will consistently be missed",
    Assurance.HIT_AND_MISS: "The target will be hit and missed at random",
}


@dataclass(frozen=True, slots=True)
class Limits:
    """The centre line and process limits of an XmR chart."""

    mean: Fraction
    mean_moving_range: Fraction

    @property
    def sigma(self) -> Fraction:
        return SIGMA_FACTOR * self.mean_moving_range

    @property
    def lower(self) -> Fraction:
        return self.mean - LIMIT_FACTOR * self.mean_moving_range

    @property
    def upper(self) -> Fraction:
        return self.mean + LIMIT_FACTOR * self.mean_moving_range

    @property
    def lower_two_sigma(self) -> Fraction:
        return self.mean - 2 * self.sigma

    @property
    def upper_two_sigma(self) -> Fraction:
        return self.mean + 2 * self.sigma


@dataclass(frozen=True, slots=True)
class Point:
    """One point of the chart, with the rules it breaks and what that means."""

    period: str
    value: Fraction
    moving_range: Fraction | None  # None for the first point
    rules: frozenset[Rule]
    side: Side | None
    variation: Variation


@dataclass(frozen=True, slots=True)
class SpcAnalysis:
    """A series read as an XmR chart."""

    points: tuple[Point, ...]
    limits: Limits
    direction: Direction
    target: Fraction | None
    baseline: int  # how many leading points the mean and limits were worked out from
    assurance: Assurance | None

    @property
    def variation(self) -> Variation:
        """The latest point's verdict, as MDC's variation icon shows it."""
        return self.points[-1].variation

    @property
    def provisional(self) -> bool:
        """Whether the limits rest on fewer points than MDC advises."""
        return self.baseline < MINIMUM_POINTS


def analyse(
    series: Sequence[tuple[str, Number]],
    direction: Direction,
    *,
    target: Number | None = None,
    baseline: int | None = None,
    screen_moving_ranges: bool = False,
) -> SpcAnalysis:
    """Read ``(period, value)`` pairs, oldest first, as an XmR chart."""
    if len(series) < 2:
        raise CarepoolError("an SPC chart needs at least two points")
    used = len(series) if baseline is None else baseline
    if not 2 <= used <= len(series):
        raise CarepoolError(f"the baseline must be 2 to {len(series)} points, not {used}")
    values = [exact(value) for _, value in series]
    limits = process_limits(values[:used], screen_moving_ranges=screen_moving_ranges)
    goal = None if target is None else exact(target)
    ranges: list[Fraction | None] = [None, *moving_ranges(values)]
    points = tuple(
        Point(period, value, ranges[i], rules, side, variation_of(side, direction))
        for i, ((period, _), value, (rules, side)) in enumerate(
            zip(series, values, special_causes(values, limits), strict=True)
        )
    )
    return SpcAnalysis(points, limits, direction, goal, used, assurance(limits, goal, direction))


def exact(value: Number) -> Fraction:
    """A value as an exact fraction; floats are refused, as they are not exact."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | Fraction):
        raise TypeError(f"SPC values must be int, Decimal or Fraction, not {type(value).__name__}")
    return Fraction(value)


def moving_ranges(values: Sequence[Fraction]) -> list[Fraction]:
    """The absolute change from each point to the next: one fewer than the points."""
    return [abs(b - a) for a, b in pairwise(values)]


def process_limits(values: Sequence[Fraction], *, screen_moving_ranges: bool = False) -> Limits:
    """The mean and mean moving range of the values the limits are to be worked out from."""
    ranges = moving_ranges(values)
    mean_range = _mean(ranges)
    if screen_moving_ranges:
        kept = [r for r in ranges if r <= RANGE_LIMIT_FACTOR * mean_range]
        mean_range = _mean(kept)
    return Limits(_mean(values), mean_range)


def special_causes(
    values: Sequence[Fraction], limits: Limits
) -> list[tuple[frozenset[Rule], Side | None]]:
    """For each point, the rules it breaks and which side of the process that puts it on."""
    flags: Mapping[Rule, Mapping[int, Side]] = {
        Rule.OUTSIDE_LIMITS: _outside_limits(values, limits),
        Rule.SHIFT: _shifts(values, limits.mean),
        Rule.TREND: _trends(values),
        Rule.TWO_OF_THREE: _two_of_three(values, limits),
    }
    return [_resolve(index, flags) for index in range(len(values))]


def variation_of(side: Side | None, direction: Direction) -> Variation:
    """What a special cause on one side means for a metric with this direction."""
    if side is None:
        return Variation.COMMON_CAUSE
    if direction is Direction.NEITHER:
        return Variation.NEITHER
    better = Side.HIGH if direction is Direction.HIGHER_IS_BETTER else Side.LOW
    return Variation.IMPROVEMENT if side is better else Variation.CONCERN


def assurance(limits: Limits, target: Fraction | None, direction: Direction) -> Assurance | None:
    """Whether a stable process will meet a target; none without a target or a direction."""
    if target is None or direction is Direction.NEITHER:
        return None
    if direction is Direction.HIGHER_IS_BETTER:
        passes, fails = target <= limits.lower, target >= limits.upper
    else:
        passes, fails = target >= limits.upper, target <= limits.lower
    if passes:
        return Assurance.PASS
    return Assurance.FAIL if fails else Assurance.HIT_AND_MISS


def rounded(value: Fraction, places: int = 1) -> Decimal:
    """A fraction as a decimal for people to read, halves rounded away from zero."""
    quantum = Decimal(1).scaleb(-places)
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        quantum, rounding=ROUND_HALF_UP
    )


def _mean(values: Sequence[Fraction]) -> Fraction:
    return sum(values, Fraction(0)) / len(values) if values else Fraction(0)


def _side_of(value: Fraction, centre: Fraction) -> Side | None:
    if value == centre:
        return None
    return Side.HIGH if value > centre else Side.LOW


def _runs(sides: Sequence[Side | None]) -> Iterator[tuple[int, int, Side]]:
    """Maximal runs of one side: ``(first, last + 1, side)``; ``None`` breaks runs."""
    start = 0
    for index in range(1, len(sides) + 1):
        if index == len(sides) or sides[index] != sides[start]:
            side = sides[start]
            if side is not None:
                yield start, index, side
            start = index


def _outside_limits(values: Sequence[Fraction], limits: Limits) -> dict[int, Side]:
    return {
        index: Side.HIGH if value > limits.upper else Side.LOW
        for index, value in enumerate(values)
        if value > limits.upper or value < limits.lower
    }


def _shifts(values: Sequence[Fraction], mean: Fraction) -> dict[int, Side]:
    sides = [_side_of(value, mean) for value in values]
    return {
        index: side
        for start, end, side in _runs(sides)
        if end - start >= SHIFT_LENGTH
        for index in range(start, end)
    }


def _trends(values: Sequence[Fraction]) -> dict[int, Side]:
    steps = [_side_of(after, before) for before, after in pairwise(values)]
    flagged: dict[int, Side] = {}
    for start, end, side in _runs(steps):
        # steps start … end-1 join points start … end
        if end - start + 1 >= TREND_LENGTH:
            for index in range(start, end + 1):
                flagged.setdefault(index, side)
    return flagged


def _two_of_three(values: Sequence[Fraction], limits: Limits) -> dict[int, Side]:
    beyond = [
        Side.HIGH
        if value > limits.upper_two_sigma
        else Side.LOW
        if value < limits.lower_two_sigma
        else None
        for value in values
    ]
    flagged: dict[int, Side] = {}
    for start in range(len(values) - 2):
        for side in Side:
            hits = [i for i in range(start, start + 3) if beyond[i] is side]
            if len(hits) >= 2:
                flagged.update(dict.fromkeys(hits, side))
    return flagged


def _resolve(
    index: int, flags: Mapping[Rule, Mapping[int, Side]]
) -> tuple[frozenset[Rule], Side | None]:
    rules = frozenset(rule for rule, flagged in flags.items() if index in flagged)
    positional = [
        flagged[index]
        for rule, flagged in flags.items()
        if rule is not Rule.TREND and index in flagged
    ]
    if positional:
        return rules, positional[0]
    return rules, flags[Rule.TREND].get(index)
