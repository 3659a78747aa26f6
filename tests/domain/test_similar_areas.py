"""Nearest-neighbour comparators for an area's metrics."""

from __future__ import annotations

import pytest

from carepool.domain.similar_areas import AreaProfile, profiles, similar_areas


def _area(code: str, kind: str, population: int, older: int, children: int) -> AreaProfile:
    return AreaProfile(code, kind, population, older, children)


AREAS = [
    _area("A", "CTY", 800_000, 190_000, 150_000),
    _area("B", "CTY", 780_000, 185_000, 152_000),  # near twin of A
    _area("C", "CTY", 300_000, 40_000, 80_000),
    _area("D", "LBO", 800_000, 190_000, 150_000),  # same numbers as A, other kind
    _area("E", "CTY", 1_500_000, 200_000, 330_000),
]


def test_the_nearest_area_comes_first_and_the_area_itself_is_left_out() -> None:
    found = similar_areas("A", AREAS, count=4)
    assert found[0] == "B"
    assert "A" not in found
    assert len(found) == 4


def test_a_different_kind_of_council_counts_as_further_away() -> None:
    assert similar_areas("A", AREAS, count=4).index("D") > 0
    assert similar_areas("A", AREAS, count=1) == ["B"]


def test_an_older_area_is_nearer_an_older_area_than_a_younger_one() -> None:
    older = _area("F", "CTY", 800_000, 260_000, 120_000)
    found = similar_areas("F", [*AREAS, older], count=5)
    assert found.index("A") < found.index("C")


def test_the_order_is_the_same_whatever_order_the_areas_come_in() -> None:
    assert similar_areas("C", AREAS) == similar_areas("C", list(reversed(AREAS)))


def test_an_unknown_area_is_a_clear_error() -> None:
    with pytest.raises(KeyError, match="ZZ"):
        similar_areas("ZZ", AREAS)


def test_profiles_are_made_from_population_bands_and_skip_areas_without_them() -> None:
    bands = {
        "A": {"all": 1000, "65+": 200, "0-17": 220, "18-64": 580},
        "B": {"all": 500},  # too coarse to profile
    }
    made = profiles({"A": "UA", "B": "UA"}, bands)
    assert made == [AreaProfile("A", "UA", 1000, 200, 220)]
