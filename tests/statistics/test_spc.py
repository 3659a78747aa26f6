"""XmR charts as Making Data Count reads them, each rule worked by hand on a short series.

Most series below start with the same ten-month baseline, 11 9 11 9 … 9: its mean is 10 and
every moving range is 2, so the process limits are 10 ± 2.66 × 2 = 4.68 to 15.32, one sigma
is 2.66 × 2 ÷ 3 and two sigma lies at 10 ± 3.5466….
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from carepool.domain.direction import Direction
from carepool.domain.errors import CarepoolError
from carepool.domain.spc import (
    SHIFT_LENGTH,
    TREND_LENGTH,
    Assurance,
    Rule,
    Side,
    SpcAnalysis,
    Variation,
    analyse,
    assurance,
    process_limits,
    rounded,
)

BASELINE = [11, 9] * 5
HIGHER = Direction.HIGHER_IS_BETTER
LOWER = Direction.LOWER_IS_BETTER


def chart(
    values: list[int | Decimal], direction: Direction = HIGHER, **options: object
) -> SpcAnalysis:
    series = [(f"2015-{i:02d}", v) for i, v in enumerate(values, start=1)]
    return analyse(series, direction, **options)  # type: ignore[arg-type]


def after_baseline(values: list[int | Decimal], **options: object) -> SpcAnalysis:
    return chart([*BASELINE, *values], baseline=len(BASELINE), **options)


def flagged(analysis: SpcAnalysis, rule: Rule) -> list[int]:
    return [i for i, p in enumerate(analysis.points) if rule in p.rules]


def test_mean_moving_ranges_and_limits_by_hand() -> None:
    # 10 12 11 13 12: mean 58/5 = 11.6; moving ranges 2 1 2 1, mean 1.5; 2.66 × 1.5 = 3.99
    analysis = chart([10, 12, 11, 13, 12])
    limits = analysis.limits

    assert limits.mean == Fraction("11.6")
    assert [p.moving_range for p in analysis.points] == [None, 2, 1, 2, 1]
    assert limits.mean_moving_range == Fraction("1.5")
    assert (limits.lower, limits.upper) == (Fraction("7.61"), Fraction("15.59"))
    assert limits.sigma == Fraction("1.33")
    assert (limits.lower_two_sigma, limits.upper_two_sigma) == (Fraction("8.94"), Fraction("14.26"))
    assert all(p.variation is Variation.COMMON_CAUSE for p in analysis.points)
    assert analysis.provisional  # fewer than 15 points


def test_arithmetic_is_exact_for_decimal_values() -> None:
    limits = chart([Decimal("0.1"), Decimal("0.2"), Decimal("0.3")]).limits

    assert limits.mean == Fraction(1, 5)
    assert limits.upper == Fraction("0.466")  # 0.2 + 2.66 × 0.1, with no float error
    assert rounded(limits.upper, 2) == Decimal("0.47")


def test_a_point_beyond_a_limit_is_special_cause() -> None:
    analysis = after_baseline([16])  # above 15.32

    assert flagged(analysis, Rule.OUTSIDE_LIMITS) == [10]
    assert analysis.points[10].side is Side.HIGH
    assert analysis.variation is Variation.IMPROVEMENT  # higher is better


def test_a_point_on_a_limit_is_not_outside_it() -> None:
    analysis = after_baseline([Decimal("15.32"), 10, Decimal("4.68")])

    assert flagged(analysis, Rule.OUTSIDE_LIMITS) == []


def test_a_low_point_is_a_concern_when_higher_is_better_and_an_improvement_when_lower_is() -> None:
    assert after_baseline([4]).variation is Variation.CONCERN
    assert after_baseline([4], direction=LOWER).variation is Variation.IMPROVEMENT
    assert after_baseline([4], direction=Direction.NEITHER).variation is Variation.NEITHER


def test_seven_in_a_row_above_the_mean_is_a_shift_but_six_are_not() -> None:
    assert SHIFT_LENGTH == 7
    six = after_baseline([11] * 6)  # the baseline ends on 9, below the mean
    seven = after_baseline([11] * 7)

    assert flagged(six, Rule.SHIFT) == []
    assert flagged(seven, Rule.SHIFT) == list(range(10, 17))
    assert {seven.points[i].side for i in range(10, 17)} == {Side.HIGH}
    assert seven.points[9].variation is Variation.COMMON_CAUSE


def test_a_point_on_the_mean_breaks_a_run() -> None:
    analysis = after_baseline([11, 11, 11, 10, 11, 11, 11, 11])

    assert flagged(analysis, Rule.SHIFT) == []


def test_six_rising_points_are_a_trend_but_five_are_not() -> None:
    assert TREND_LENGTH == 6
    # 9 (the baseline's last) falls to 8, then 8 8.5 9 9.5 10.5 11 rise: six points.
    rising = [8, Decimal("8.5"), 9, Decimal("9.5"), Decimal("10.5"), 11]
    six = after_baseline(rising)
    five = after_baseline(rising[:5])

    assert flagged(six, Rule.TREND) == list(range(10, 16))
    assert flagged(five, Rule.TREND) == []
    # Four of the six are below the mean, but the trend rises: an improvement throughout.
    assert {six.points[i].variation for i in range(10, 16)} == {Variation.IMPROVEMENT}


def test_a_repeated_value_breaks_a_trend() -> None:
    analysis = after_baseline([5, 6, 7, 7, 8, 9, 10])

    assert flagged(analysis, Rule.TREND) == []


def test_a_falling_trend_is_a_concern_when_higher_is_better() -> None:
    analysis = after_baseline([14, 13, 12, 11, Decimal("10.5"), Decimal("10.2")])

    # 11 (baseline) is below 14, so the fall runs from 14: six points
    assert flagged(analysis, Rule.TREND) == list(range(10, 16))
    assert analysis.points[15].side is Side.LOW
    assert analysis.variation is Variation.CONCERN


def test_two_of_three_beyond_two_sigma_on_one_side() -> None:
    analysis = after_baseline([14, 10, 14])  # two sigma is 13.55; the limit 15.32

    assert flagged(analysis, Rule.TWO_OF_THREE) == [10, 12]  # not the 10 between them
    assert flagged(analysis, Rule.OUTSIDE_LIMITS) == []
    assert analysis.points[11].variation is Variation.COMMON_CAUSE


def test_one_of_three_or_two_on_opposite_sides_is_not_two_of_three() -> None:
    assert flagged(after_baseline([14, 10, 10, 14]), Rule.TWO_OF_THREE) == []
    assert flagged(after_baseline([14, 6]), Rule.TWO_OF_THREE) == []


def test_a_point_can_break_several_rules_at_once() -> None:
    analysis = after_baseline([14, 16])

    assert analysis.points[11].rules == {Rule.OUTSIDE_LIMITS, Rule.TWO_OF_THREE}


def test_position_decides_the_side_when_a_trend_disagrees() -> None:
    # Six points falling, all above the upper limit: high (an improvement), not a falling trend.
    analysis = after_baseline([20, 19, 18, 17, 16, Decimal("15.5")])

    assert flagged(analysis, Rule.TREND) == list(range(10, 16))
    assert {analysis.points[i].side for i in range(10, 16)} == {Side.HIGH}
    assert analysis.variation is Variation.IMPROVEMENT


def test_assurance_against_a_target() -> None:
    limits = chart(BASELINE).limits  # 4.68 to 15.32

    assert assurance(limits, Fraction(4), HIGHER) is Assurance.PASS
    assert assurance(limits, Fraction("4.68"), HIGHER) is Assurance.PASS
    assert assurance(limits, Fraction(10), HIGHER) is Assurance.HIT_AND_MISS
    assert assurance(limits, Fraction("15.32"), HIGHER) is Assurance.FAIL
    assert assurance(limits, Fraction(16), LOWER) is Assurance.PASS
    assert assurance(limits, Fraction(4), LOWER) is Assurance.FAIL
    assert assurance(limits, Fraction(10), LOWER) is Assurance.HIT_AND_MISS
    assert assurance(limits, Fraction(10), Direction.NEITHER) is None
    assert assurance(limits, None, HIGHER) is None


def test_a_chart_carries_its_target_and_assurance() -> None:
    analysis = chart(BASELINE, direction=LOWER, target=Decimal("3.5"))

    assert analysis.target == Fraction(7, 2)
    assert analysis.assurance is Assurance.FAIL
    assert Assurance.FAIL.label == "The target will consistently be missed"


def test_screening_leaves_a_wild_moving_range_out_of_the_limits() -> None:
    # Eleven moving ranges of 1 and one of 49: the mean is 5, and 49 > 3.267 × 5.
    values: list[int | Decimal] = [*([10, 11] * 6), 60]

    assert chart(values).limits.mean_moving_range == 5
    assert chart(values, screen_moving_ranges=True).limits.mean_moving_range == 1
    assert process_limits([Fraction(1), Fraction(1)]).mean_moving_range == 0


def test_a_flat_baseline_flags_any_later_change() -> None:
    analysis = chart([5, 5, 5, 6], baseline=3)

    assert analysis.limits.lower == analysis.limits.upper == 5
    assert flagged(analysis, Rule.OUTSIDE_LIMITS) == [3]


@pytest.mark.parametrize(
    ("values", "options", "message"),
    [
        ([1], {}, "at least two points"),
        ([1, 2, 3], {"baseline": 1}, "baseline must be 2 to 3"),
        ([1, 2, 3], {"baseline": 4}, "baseline must be 2 to 3"),
    ],
)
def test_too_short_a_series_or_baseline_is_refused(
    values: list[int | Decimal], options: dict[str, object], message: str
) -> None:
    with pytest.raises(CarepoolError, match=message):
        chart(values, **options)


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError, match="float"):
        analyse([("a", 1.0), ("b", 2.0)], HIGHER)  # type: ignore[list-item]
