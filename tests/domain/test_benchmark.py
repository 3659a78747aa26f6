"""Comparing with England: hand-worked intervals and the verdicts they give."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carepool.domain.benchmark import (
    Interval,
    Verdict,
    byar,
    compare,
    england_value,
    interval,
    quarter_of_areas,
    wilson,
)
from carepool.domain.direction import Direction
from carepool.domain.metric import Measure

LOWER = Direction.LOWER_IS_BETTER
HIGHER = Direction.HIGHER_IS_BETTER


def _near(found: Decimal, expected: str) -> bool:
    return abs(found - Decimal(expected)) < Decimal("0.0001")


def test_wilson_matches_the_worked_example_of_half_of_a_hundred() -> None:
    # 50 of 100 at 95%: 0.4038 to 0.5962 (Newcombe 1998, table I method 3).
    found = wilson(50, 100)
    assert _near(found.lower, "0.4038") and _near(found.upper, "0.5962")


def test_wilson_keeps_an_interval_off_zero_and_one() -> None:
    none = wilson(0, 20)
    assert none.lower == 0 and _near(none.upper, "0.1611")
    every = wilson(20, 20)
    assert _near(every.lower, "0.8389") and every.upper <= 1


def test_byar_matches_the_poisson_limits_of_ten_events() -> None:
    # Exact Poisson 95% limits of 10 are 4.795 and 18.390; Byar's approximation agrees to 0.01.
    found = byar(10)
    assert abs(found.lower - Decimal("4.795")) < Decimal("0.01")
    assert abs(found.upper - Decimal("18.390")) < Decimal("0.01")
    assert byar(0).lower == 0 and abs(byar(0).upper - Decimal("3.689")) < Decimal("0.05")


def test_a_rate_interval_is_the_count_interval_over_the_population() -> None:
    found = interval(Measure.RATE_PER_100000, 10, 50_000)
    assert found is not None
    assert abs(found.lower - byar(10).lower * 2) < Decimal("0.000001")
    assert interval(Measure.COUNT, 10, None) is None
    assert interval(Measure.RATE_PER_100000, 10, 50_000, standardised=True) is None
    assert interval(Measure.PERCENTAGE, 5, 0) is None


def test_england_is_the_ratio_of_the_sums_not_the_mean_of_the_rates() -> None:
    counts = [(10, 100), (90, 900), (1, None)]  # 10% and 10%; an area with no denominator
    assert england_value(Measure.PERCENTAGE, counts) == Decimal(10)
    skewed = [(50, 100), (10, 900)]  # 50% and 1.1%: the mean would be 25.6%, England is 6%
    assert england_value(Measure.PERCENTAGE, skewed) == Decimal(6)
    assert england_value(Measure.COUNT, skewed) is None


@pytest.mark.parametrize(
    ("lower", "upper", "direction", "verdict"),
    [
        ("8", "9", LOWER, Verdict.BETTER),
        ("8", "9", HIGHER, Verdict.WORSE),
        ("11", "12", LOWER, Verdict.WORSE),
        ("11", "12", HIGHER, Verdict.BETTER),
        ("9", "11", LOWER, Verdict.SIMILAR),
        ("10", "11", HIGHER, Verdict.SIMILAR),
        ("8", "9", Direction.NEITHER, Verdict.NOT_COMPARED),
    ],
)
def test_the_verdict_depends_on_which_side_of_england_the_whole_interval_lies(
    lower: str, upper: str, direction: Direction, verdict: Verdict
) -> None:
    assert compare(Interval(Decimal(lower), Decimal(upper)), Decimal(10), direction) is verdict


def test_nothing_to_compare_is_not_compared() -> None:
    assert compare(None, Decimal(10), LOWER) is Verdict.NOT_COMPARED
    assert compare(Interval(Decimal(1), Decimal(2)), None, LOWER) is Verdict.NOT_COMPARED


def test_quarters_of_areas_put_the_best_first() -> None:
    values = [Decimal(v) for v in range(1, 9)]  # eight areas, 1 to 8
    assert quarter_of_areas(Decimal(1), values, LOWER) == 1
    assert quarter_of_areas(Decimal(8), values, LOWER) == 4
    assert quarter_of_areas(Decimal(8), values, HIGHER) == 1
    assert quarter_of_areas(Decimal(4), values, LOWER) == 2
    assert quarter_of_areas(Decimal(1), values[:3], LOWER) is None


@given(st.integers(0, 10_000), st.integers(1, 10_000))
def test_a_proportions_interval_holds_the_proportion(numerator: int, denominator: int) -> None:
    numerator = min(numerator, denominator)
    found = wilson(numerator, denominator)
    assert 0 <= found.lower <= Decimal(numerator) / denominator <= found.upper <= 1


@given(st.integers(0, 1_000_000))
def test_a_counts_interval_holds_the_count(count: int) -> None:
    found = byar(count)
    assert 0 <= found.lower <= count < found.upper
