"""Allocation: every level adds up to the framework's national totals, to the penny."""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carepool.domain.allocation import (
    AllocationLine,
    AllocationStatus,
    allocate_by_formula,
    check_move,
    reconcile,
    reconciliation_problems,
    split_area_amounts,
)
from carepool.domain.errors import CarepoolError, StateTransitionError
from carepool.domain.geography import Area, CommissionerShare, PopulationCount
from carepool.frameworks import load_framework


def _area(code: str, councils: tuple[str, ...] | None = None) -> Area:
    return Area(code, f"Area {code}", "London", "LBO", councils or (code,))


def _population(code: str, children: int, adults: int, older: int) -> list[PopulationCount]:
    return [
        PopulationCount(code, code, 0, 17, children),
        PopulationCount(code, code, 18, 64, adults),
        PopulationCount(code, code, 65, None, older),
    ]


def _share(ccg: str, council: str, population: int) -> CommissionerShare:
    return CommissionerShare(ccg, council, population, Fraction(1), Fraction(1))


nations = st.lists(
    st.tuples(
        st.integers(0, 400_000),
        st.integers(1, 900_000),
        st.integers(0, 300_000),
        st.lists(st.integers(1, 500_000), min_size=1, max_size=4),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(nations, st.sampled_from(["2015-16", "2017-19"]))
def test_formula_allocation_adds_up_at_every_level(nation: list, year: str) -> None:  # type: ignore[type-arg]
    framework = load_framework(year)
    areas, populations, shares = [], {}, []
    for index, (children, adults, older, served) in enumerate(nation):
        code = f"E0900{index:04d}"
        areas.append(_area(code))
        populations[code] = _population(code, children, adults, older)
        shares += [_share(f"E3800{k:04d}", code, p) for k, p in enumerate(served)]
    lines = allocate_by_formula(framework, areas, populations, shares)

    assert all(isinstance(line.amount, int) for line in lines)
    assert sum(line.amount for line in lines) == framework.minimum_total
    assert all(r.difference == 0 for r in reconcile(framework, lines))
    assert reconciliation_problems(framework, lines, populations) == []
    # Council streams have one line per area; NHS streams one per serving commissioner.
    for stream in framework.streams:
        for year_ in stream.totals:
            stream_lines = [
                line for line in lines if line.stream == stream.id and line.financial_year == year_
            ]
            if stream.payer.value == "council":
                assert {line.commissioner_code for line in stream_lines} == {None}
                assert len(stream_lines) == len(areas)


def test_areas_get_their_population_share_and_older_people_count_more() -> None:
    framework = load_framework("2015-16")
    areas = [_area("E09000001"), _area("E09000002")]
    populations = {
        "E09000001": _population("E09000001", 0, 100, 0),
        "E09000002": _population("E09000002", 0, 0, 100),
    }
    shares = [_share("E38000001", "E09000001", 1), _share("E38000001", "E09000002", 1)]
    lines = allocate_by_formula(framework, areas, populations, shares)
    by_area: dict[tuple[str, str], int] = defaultdict(int)
    for line in lines:
        by_area[(line.stream, line.area_code)] += line.amount
    # The CCG stream weights people aged 65+ three times; the capital streams weight evenly.
    assert by_area[("ccg_minimum", "E09000002")] == 3 * by_area[("ccg_minimum", "E09000001")]
    dfg = [by_area[("disabled_facilities_grant", a.code)] for a in areas]
    assert dfg == [11_000_000_000, 11_000_000_000]


def test_merged_councils_share_one_area_and_commissioner_lines_split_by_population() -> None:
    framework = load_framework("2015-16")
    cornwall = _area("E06000052", ("E06000052", "E06000053"))
    populations = {"E06000052": _population("E06000052", 10, 80, 10)}
    shares = [_share("E38000089", "E06000052", 300), _share("E38000089", "E06000053", 100),
              _share("E38000999", "E06000052", 100)]  # fmt: skip
    lines = allocate_by_formula(framework, [cornwall], populations, shares)
    ccg = {line.commissioner_code: line.amount for line in lines if line.stream == "ccg_minimum"}
    assert ccg["E38000089"] == 4 * ccg["E38000999"]
    assert sum(ccg.values()) == 346_000_000_000


def test_an_area_without_population_is_named_not_zeroed() -> None:
    framework = load_framework("2015-16")
    with pytest.raises(CarepoolError, match="1 areas have no population") as caught:
        allocate_by_formula(framework, [_area("E09000001")], {}, [])
    assert "Area E09000001 (E09000001)" in str(caught.value)


def test_an_area_with_no_commissioner_cannot_take_an_nhs_stream() -> None:
    framework = load_framework("2015-16")
    with pytest.raises(CarepoolError, match="no NHS commissioners"):
        allocate_by_formula(
            framework, [_area("E09000001")], {"E09000001": _population("E09000001", 1, 1, 1)}, []
        )


def test_imported_area_amounts_are_split_between_commissioners() -> None:
    framework = load_framework("2015-16")
    area = _area("E09000001")
    shares = [_share("E38000001", "E09000001", 1), _share("E38000002", "E09000001", 2)]
    lines = split_area_amounts(
        framework, {("2015-16", "ccg_minimum", "E09000001"): 301}, [area], shares
    )
    assert [(line.commissioner_code, line.amount) for line in lines] == [
        ("E38000001", 100),
        ("E38000002", 201),
    ]


def test_reconciliation_explains_what_does_not_add_up() -> None:
    framework = load_framework("2015-16")
    lines = [AllocationLine("2015-16", "ccg_minimum", "E09000001", None, 5)]
    problems = [p.message for p in reconciliation_problems(framework, lines, ["E09000002"])]
    assert any("ccg_minimum 2015-16: lines add up to 5 pence" in m for m in problems)
    assert any("E09000001 is not a HWB area" in m for m in problems)


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (current, target, (current, target) in {
            (AllocationStatus.DRAFT, AllocationStatus.APPROVED),
            (AllocationStatus.APPROVED, AllocationStatus.PUBLISHED),
            (AllocationStatus.APPROVED, AllocationStatus.DRAFT),
            (AllocationStatus.PUBLISHED, AllocationStatus.SUPERSEDED),
        })
        for current in AllocationStatus
        for target in AllocationStatus
    ],
)  # fmt: skip
def test_every_status_move(
    current: AllocationStatus, target: AllocationStatus, allowed: bool
) -> None:
    if allowed:
        check_move(current, target)
    else:
        with pytest.raises(StateTransitionError, match=f"cannot become {target.value}"):
            check_move(current, target)
