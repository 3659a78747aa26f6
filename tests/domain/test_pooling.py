"""The pooling measure by hand: allocations split by where residents live, the council's
revised gross with its Better Care Fund income counted once, and shares to four places."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from carepool.domain.framework import PoolingAmbition
from carepool.domain.geography import Area, CommissionerShare
from carepool.domain.plan import PlanContent
from carepool.domain.pooling import (
    AreaYear,
    CouncilSpend,
    behind_their_plans,
    council_side,
    furthest_behind,
    nhs_side_by_area,
    nhs_side_by_council,
    scope,
    share_of,
    year_totals,
)


def _share(ccg: str, council: str, of_ccg: Fraction) -> CommissionerShare:
    return CommissionerShare(ccg, council, 0, of_ccg, Fraction(0))


def test_allocations_split_by_residents_to_the_penny() -> None:
    # CCG A: £1,000.01 — three quarters of its residents in X, a quarter in Y.
    # CCG B: £500 — all in Y. CCG C has no shares held, so it cannot be placed.
    shares = [
        _share("A", "X", Fraction(3, 4)),
        _share("A", "Y", Fraction(1, 4)),
        _share("B", "Y", Fraction(1)),
    ]
    by_council, unplaced = nhs_side_by_council({"A": 100_001, "B": 50_000, "C": 7}, shares)
    # 100,001 × 3/4 = 75,000.75 and × 1/4 = 25,000.25: the odd penny goes to X.
    assert by_council == {"X": 75_001, "Y": 25_000 + 50_000}
    assert unplaced == ("C",)
    areas = [Area("AREA1", "One", "R", "UA", ("X", "Y")), Area("AREA2", "Two", "R", "UA", ("Z",))]
    assert nhs_side_by_area(by_council, areas) == {"AREA1": 150_001}


def test_the_council_side_is_the_revised_gross_and_counts_bcf_income_once() -> None:
    assert CouncilSpend(1_000, 100).revised_gross == 1_100
    assert council_side([CouncilSpend(1_000, 100), CouncilSpend(500, None)]) == CouncilSpend(
        1_500, 100
    )
    assert council_side([CouncilSpend(1_000, 100), None]) is None  # one council missing
    row = AreaYear("AREA1", "2015-16", 9_000, CouncilSpend(1_000, 100), 400, 200, Decimal("0.1"),
                   approved_plan=True)  # fmt: skip
    # In scope: 9,000 + (1,000 + 100) - 100 = 10,000; pooled 600: a share of 0.06.
    assert (row.council_revised, row.in_scope, row.pooled) == (1_100, 10_000, 600)
    assert row.share_pooled == Decimal("0.0600")
    assert row.behind_plan == Decimal("0.0400")
    assert row.missing == ()


def test_a_bridging_year_figure_is_marked_through_the_sum() -> None:
    summed = council_side([CouncilSpend(1_000, 100, bridging=True), CouncilSpend(500, 50)])
    assert summed == CouncilSpend(1_500, 150, bridging=True)


def test_no_share_without_every_figure() -> None:
    no_plan = AreaYear("A", "2016-17", 9_000, CouncilSpend(1_000), 0, 0)
    no_nhs = AreaYear("B", "2015-16", None, CouncilSpend(1_000), 10, 0, approved_plan=True)
    assert no_plan.share_pooled is None and no_plan.missing == ("approved plan",)
    assert no_nhs.share_pooled is None and no_nhs.missing == ("CCG allocations",)


def test_shares_round_half_to_even_at_four_places() -> None:
    assert share_of(1, 3) == Decimal("0.3333")
    assert share_of(1, 20_000) == Decimal("0.0000")  # 0.00005: a half, to the even 0
    assert share_of(3, 20_000) == Decimal("0.0002")  # 0.00015: a half, to the even 2
    assert share_of(5, 80_000) == Decimal("0.0001")  # 0.0000625
    assert share_of(1, 0) is None


def _row(code: str, pooled: int, planned: str | None) -> AreaYear:
    return AreaYear(code, "2015-16", 900, CouncilSpend(100), pooled, 0,
                    Decimal(planned) if planned else None, approved_plan=True)  # fmt: skip


def test_totals_and_the_areas_furthest_behind() -> None:
    rows = [_row("A", 50, "0.04"), _row("B", 10, "0.05"), _row("C", 200, None)]
    totals = year_totals("2015-16", rows)
    assert (totals.areas, totals.in_scope, totals.pooled) == (3, 3_000, 260)
    assert totals.share_pooled == Decimal("0.0867")
    assert [r.area_code for r in furthest_behind(rows, 2)] == ["B", "A"]
    assert [r.area_code for r in behind_their_plans(rows)] == ["B"]  # A is ahead of its plan


def test_the_framework_says_what_is_counted() -> None:
    default = scope(PoolingAmbition())
    assert len(default.counted) == 2 and not default.counted_without_figures
    assert any("public health" in text for text in default.not_counted)
    wider = scope(PoolingAmbition(public_health=True))
    assert any("public health" in text for text in wider.counted_without_figures)
    assert PoolingAmbition().target_year == "2018-19"


def test_a_trajectory_gives_one_share_a_year() -> None:
    content = PlanContent.model_validate(
        {
            "trajectory": [
                {"financial_year": "2016-17", "share": "0.2"},
                {"financial_year": "2015-16", "share": "0.1"},
            ]
        }
    )
    assert [p.financial_year for p in content.trajectory] == ["2015-16", "2016-17"]
    assert content.planned_share("2016-17") == Decimal("0.2")
    assert content.planned_share("2018-19") is None
    with pytest.raises(ValueError, match="more than one share"):
        PlanContent.model_validate(
            {"trajectory": [{"financial_year": "2015-16", "share": "0.1"}] * 2}
        )
    with pytest.raises(ValueError):
        PlanContent.model_validate({"trajectory": [{"financial_year": "2015-16", "share": "1.5"}]})
    assert PlanContent().trajectory == ()
