"""2016-17's risk share: the ring-fenced NHS money an area not planning a fall in emergency
admissions holds back, worked by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from carepool.domain.money import Pence
from carepool.domain.payment import (
    PaymentError,
    PaymentStatus,
    QuarterResult,
    ring_fence_shares,
    rule_for,
)
from carepool.frameworks import load_framework

DESIGN = load_framework("2016-17").payment_in_force


def _result(plan: int, actual: int | None) -> QuarterResult:
    return QuarterResult(
        "E06000001",
        "2016-17 Q1",
        Decimal(1000),
        Decimal(plan),
        None if actual is None else Decimal(actual),
    )


def test_the_ring_fence_is_shared_by_nhs_minimum_exactly() -> None:
    """£1,000,000,000 ring-fence over NHS minimums of £3m, £1m and £2m (3:1:2):
    £500,000,000, £166,666,666.67 and £333,333,333.33; the odd penny goes to the largest
    remainder (the middle area: .666... beats .333...), so the parts add to the whole."""
    shares = ring_fence_shares(
        Pence(100_000_000_000),
        {"A": Pence(300_000_000), "B": Pence(100_000_000), "C": Pence(200_000_000)},
    )
    assert shares == {"A": 50_000_000_000, "B": 16_666_666_667, "C": 33_333_333_333}
    assert sum(shares.values()) == 100_000_000_000


@pytest.mark.parametrize(
    ("plan", "actual", "held", "retained", "status"),
    [
        # No fall planned (plan 1,010 ≥ baseline 1,000): the share of £100,000 is held.
        # 1,040 admissions: 40 above baseline × £1,490 = £59,600 retained, £40,400 released.
        (1010, 1040, 10_000_000, 5_960_000, PaymentStatus.NOT_MET),
        # 1,100 admissions: 100 × £1,490 = £149,000, capped at the £100,000 held.
        (1010, 1100, 10_000_000, 10_000_000, PaymentStatus.NOT_MET),
        # 995 admissions, below baseline: nothing retained, all £100,000 released.
        (1010, 995, 10_000_000, 0, PaymentStatus.MET),
        # A fall is planned (plan 990 < baseline): nothing is held back at all.
        (990, 1040, 0, 0, PaymentStatus.MET),
    ],
)
def test_held_retained_and_released_by_hand(
    plan: int, actual: int, held: int, retained: int, status: PaymentStatus
) -> None:
    rule = rule_for(DESIGN.kind, DESIGN.parameters, {"E06000001": Pence(10_000_000)})
    line = rule.assess(_result(plan, actual))
    assert (line.pot_pence, line.retained_pence) == (held, retained)
    assert line.released_pence == held - retained
    assert line.status is status
    assert line.unit_cost_pence == 149_000


def test_without_area_shares_the_payment_machinery_names_the_rule_kind() -> None:
    with pytest.raises(PaymentError, match="payment kind 'non_elective_risk_share' needs"):
        rule_for(DESIGN.kind, DESIGN.parameters)


def test_a_design_kind_with_no_payment_rule_is_named() -> None:
    design = load_framework("2019-20").payment_in_force
    with pytest.raises(PaymentError, match="payment kind 'local_risk_share' cannot be run"):
        rule_for(design.kind, design.parameters)
