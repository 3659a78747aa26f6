"""Payment for performance, worked by hand: the July 2014 formula and the December 2013 design.

The 2015-16 unit cost is £1,490 an admission (149,000 pence), so a fall of one admission is
worth £1,490 and every figure below can be checked on the back of an envelope.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carepool.domain.money import Pence
from carepool.domain.payment import (
    ConditionsAndMetrics,
    NonElectiveReduction,
    PaymentError,
    PaymentStatus,
    QuarterResult,
    outlook,
    rule_for,
    variation,
)
from carepool.frameworks import load_framework

UNIT = Pence(149_000)
JULY_2014 = NonElectiveReduction(UNIT)


def result(baseline: str, plan: str, actual: str | None) -> QuarterResult:
    measured = None if actual is None else Decimal(actual)
    return QuarterResult("E1", "2015-16 Q1", Decimal(baseline), Decimal(plan), measured)


@pytest.mark.parametrize(
    ("baseline", "plan", "actual", "pot", "earned", "status"),
    [
        # A planned fall of 30 admissions: a pot of 30 × £1,490 = £44,700.
        ("1000", "970", "970", 4_470_000, 4_470_000, PaymentStatus.MET),
        # Over-achievement is capped at the pot: 100 fewer earns only the 30 planned.
        ("1000", "970", "900", 4_470_000, 4_470_000, PaymentStatus.MET),
        # Half the fall achieved: 15 × £1,490 = £22,350 earned, the rest retained.
        ("1000", "970", "985", 4_470_000, 2_235_000, PaymentStatus.PARTLY_MET),
        # Admissions above the baseline earn nothing: the whole pot stays with the CCG.
        ("1000", "970", "1020", 4_470_000, 0, PaymentStatus.NOT_MET),
        # No planned reduction: nothing to earn; the status says whether the plan held.
        ("1000", "1000", "990", 0, 0, PaymentStatus.MET),
        ("1000", "1010", "1020", 0, 0, PaymentStatus.NOT_MET),
        # Tenths of an admission: a pot of 10.3 × £1,490 = £15,347; 5.15 fewer earns £7,673.50.
        ("1000.5", "990.2", "995.35", 1_534_700, 767_350, PaymentStatus.PARTLY_MET),
    ],
)
def test_july_2014_pot_earned_released_and_retained(
    baseline: str, plan: str, actual: str, pot: int, earned: int, status: PaymentStatus
) -> None:
    line = JULY_2014.assess(result(baseline, plan, actual))

    assert (line.pot_pence, line.earned_pence, line.status) == (pot, earned, status)
    assert line.released_pence == earned
    assert line.retained_pence == pot - earned


def test_a_quarter_without_a_measured_value_earns_nothing_and_says_so() -> None:
    line = JULY_2014.assess(result("1000", "970", None))

    assert line.status is PaymentStatus.NO_DATA
    assert (line.pot_pence, line.released_pence, line.retained_pence) == (4_470_000, 0, 4_470_000)


def test_the_working_shows_the_formula_with_the_numbers_filled_in() -> None:
    line = JULY_2014.assess(result("1000", "970", "985"))

    assert line.working == (
        "pot = max(0, 1000 − 970) × £1,490.00 = £44,700.00; earned = min(pot, max(0, 1000 − "
        "985) × £1,490.00) = £22,350.00"
    )


quantities = st.decimals(min_value=0, max_value=100_000, places=1, allow_nan=False)


@given(quantities, quantities, quantities, quantities)
def test_money_is_conserved_and_a_lower_actual_never_earns_less(
    baseline: Decimal, plan: Decimal, actual: Decimal, better: Decimal
) -> None:
    line = JULY_2014.assess(QuarterResult("E1", "Q1", baseline, plan, actual))
    lower = JULY_2014.assess(QuarterResult("E1", "Q1", baseline, plan, min(actual, better)))

    assert line.released_pence + line.retained_pence == line.pot_pence
    assert 0 <= line.earned_pence <= line.pot_pence
    assert lower.earned_pence >= line.earned_pence
    assert JULY_2014.assess(QuarterResult("E1", "Q1", baseline, plan, actual)) == line


def test_the_framework_in_force_in_2015_16_runs_at_its_unit_cost() -> None:
    design = load_framework("2015-16").payment_in_force

    rule = rule_for(design.kind, design.parameters)

    assert rule == NonElectiveReduction(Pence(149_000))


def test_december_2013_releases_everything_and_names_contingency_or_recovery() -> None:
    rule = ConditionsAndMetrics({"E1": Pence(1_000_000)})

    at_seventy = rule.assess(result("1000", "900", "930"))  # 70 of a planned 100
    below = rule.assess(result("1000", "900", "931"))

    assert at_seventy.status is PaymentStatus.PARTLY_MET
    assert below.status is PaymentStatus.NOT_MET
    assert "recovery plan" in below.working
    assert below.released_pence == 1_000_000 and below.retained_pence == 0


def test_a_kind_carepool_does_not_run_is_named_with_those_it_does() -> None:
    with pytest.raises(PaymentError, match="'local_risk_share' cannot be run: carepool runs"):
        rule_for("local_risk_share", {})


def test_an_ambition_within_the_areas_variation_is_credible_and_its_earnings_spread() -> None:
    """Monthly admissions of 330, 340 and 335 … : a quarter of about 1,005, sigma small."""
    monthly = [330, 340, 335, 345, 330, 338, 342, 336, 331, 339, 344, 333]
    spread = variation(monthly)
    assert spread.mean is not None and 1000 < spread.mean < 1020

    modest = outlook(JULY_2014, Decimal(1010), Decimal(990), spread)
    steep = outlook(JULY_2014, Decimal(1010), Decimal(800), spread)

    assert modest.credible and not steep.credible
    assert steep.lower_limit is not None and Decimal(800) < steep.lower_limit
    assert modest.pot_pence == 20 * 149_000
    # Delivering the ambition exactly: half the time at least the pot, half the time less.
    assert modest.p10_pence <= modest.p50_pence <= modest.p90_pence == modest.pot_pence
    assert modest.p50_pence == modest.pot_pence
    assert Decimal("0.5") < modest.chance_of_any <= 1


def test_with_no_history_the_spread_is_poisson_and_nothing_is_flagged() -> None:
    spread = variation([12])
    found = outlook(JULY_2014, Decimal(100), Decimal(90), spread, expected=Decimal(100))

    assert found.sigma == Decimal(10) and found.credible and found.lower_limit is None
    assert found.chance_of_any == Decimal("0.480")  # P(X < 99.5) for X ~ N(100, 10²)
    assert found.p10_pence == 0 and found.p90_pence == found.pot_pence
