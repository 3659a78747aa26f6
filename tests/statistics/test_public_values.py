"""What the public may see of computed metric values."""

from __future__ import annotations

from decimal import Decimal

from carepool.domain.metric_value import Grain, MetricValue
from carepool.metrics.service.results import public_values


def _value(metric: str, numerator: int, denominator: int | None, value: str) -> MetricValue:
    return MetricValue(
        metric, 1, "E10000001", "2015-16", Grain.YEAR, numerator, denominator, Decimal(value)
    )


def test_a_count_metric_is_published_rounded_even_with_a_population_beside_it() -> None:
    [(_, shown)] = public_values([_value("non_elective_admissions", 1234, 500_000, "1234")])
    assert shown.value == Decimal(1235)


def test_a_small_count_is_withheld() -> None:
    [(_, shown)] = public_values([_value("non_elective_admissions", 6, 500_000, "6")])
    assert shown.value is None


def test_a_rate_is_shown_as_computed_when_its_counts_are_not_small() -> None:
    rate = _value("care_home_admissions_65_plus", 640, 100_000, "640.0")
    [(_, shown)] = public_values([rate])
    assert shown.value == Decimal("640.0")


def test_a_rate_on_a_small_count_is_withheld() -> None:
    [(_, shown)] = public_values([_value("care_home_admissions_65_plus", 5, 100_000, "5.0")])
    assert shown.value is None
