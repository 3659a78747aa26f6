"""Which areas are like an area, so its metrics can be read against theirs.

A rate of care-home admissions means little alone: an area with many older residents in a
rural county will not look like an inner London borough. Social care already compares each
council with its "nearest neighbours"; carepool does the same with what it holds for every
area: its size, how old its residents are and what kind of council it is.

The distance is Euclidean over standardised measures (each measure's spread across all areas
counts the same), with the council kind as a fixed extra distance when it differs. The
measures are few and public so that anyone can reproduce the list.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

KIND_DIFFERS = 1.0
"""Distance added when two areas are different kinds of council (county, unitary, ...)."""

DEFAULT_NEIGHBOURS = 5


@dataclass(frozen=True, slots=True)
class AreaProfile:
    """What an area is compared on."""

    code: str
    kind: str
    population: int
    older: int  # residents aged 65+
    children: int  # residents aged 0-17

    def measures(self) -> tuple[float, float, float]:
        """Size (log scale: 200,000 and 400,000 differ as 1m and 2m do) and age shares."""
        return (
            math.log(max(self.population, 1)),
            self.older / self.population if self.population else 0.0,
            self.children / self.population if self.population else 0.0,
        )


def profiles(kinds: Mapping[str, str], bands: Mapping[str, Mapping[str, int]]) -> list[AreaProfile]:
    """Profiles of the areas that have all-ages, 65+ and 0-17 counts."""
    return [
        AreaProfile(code, kinds[code], counts["all"], counts["65+"], counts["0-17"])
        for code, counts in sorted(bands.items())
        if code in kinds and {"all", "65+", "0-17"} <= counts.keys()
    ]


def similar_areas(
    code: str, areas: Sequence[AreaProfile], count: int = DEFAULT_NEIGHBOURS
) -> list[str]:
    """The ``count`` areas nearest to ``code``, nearest first (ties broken by code)."""
    by_code = {a.code: a for a in areas}
    if code not in by_code:
        raise KeyError(f"no profile for area {code}")
    scales = _spreads(areas)
    target = by_code[code]
    ranked = sorted(
        (_distance(target, other, scales), other.code) for other in areas if other.code != code
    )
    return [other for _, other in ranked[:count]]


def _spreads(areas: Sequence[AreaProfile]) -> tuple[float, ...]:
    """Each measure's standard deviation across the areas (1 where it does not vary)."""
    columns = list(zip(*(a.measures() for a in areas), strict=True)) if areas else []
    spreads = []
    for column in columns:
        mean = sum(column) / len(column)
        spread = math.sqrt(sum((x - mean) ** 2 for x in column) / len(column))
        spreads.append(spread or 1.0)
    return tuple(spreads)


def _distance(a: AreaProfile, b: AreaProfile, scales: tuple[float, ...]) -> float:
    squares = sum(
        ((x - y) / scale) ** 2
        for x, y, scale in zip(a.measures(), b.measures(), scales, strict=True)
    )
    return math.sqrt(squares) + (KIND_DIFFERS if a.kind != b.kind else 0.0)
