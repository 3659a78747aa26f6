"""Geography: areas from councils and the framework; populations mapped through code history."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

from carepool.domain.geography import (
    CommissionerShare,
    Council,
    PopulationCount,
    apportion_unmatched,
    band_total,
    carry_shares,
    code_history,
    hwb_areas,
    population_bands,
    resolve_populations,
)
from carepool.frameworks import load_framework

ENDED_2019 = dt.date(2019, 3, 31)

COUNCILS = [
    Council("E10000009", "DOR", "Dorset County", "CTY", "South West", end=ENDED_2019,
            replaced_by=("DST",)),
    Council("E07000048", "CHC", "Christchurch", "NMD", "", end=ENDED_2019, replaced_by=("BPC",),
            county="DOR"),
    Council("E06000028", "BMH", "Bournemouth", "UA", "", end=ENDED_2019, replaced_by=("BPC",)),
    Council("E06000058", "BPC", "Bournemouth, Christchurch and Poole", "UA", "South West",
            start=dt.date(2019, 4, 1)),
    Council("E06000059", "DST", "Dorset Council", "UA", "South West", start=dt.date(2019, 4, 1)),
    Council("E10000021", "NTH", "Northamptonshire", "CTY", "East Midlands",
            end=dt.date(2021, 4, 1), replaced_by=("NNT", "WNT")),
    Council("E06000061", "NNT", "North Northamptonshire", "UA", "East Midlands",
            start=dt.date(2021, 4, 1)),
    Council("E06000062", "WNT", "West Northamptonshire", "UA", "East Midlands",
            start=dt.date(2021, 4, 1)),
    Council("E06000052", "CON", "Cornwall", "UA", "South West"),
    Council("E06000053", "IOS", "Isles of Scilly", "UA", "South West"),
    Council("W06000001", "AGY", "Isle of Anglesey", "UA", "Wales", nation="Wales"),
]  # fmt: skip


def _single_years(code: str, persons: int) -> list[PopulationCount]:
    ages = [PopulationCount(code, code, age, age, persons) for age in range(90)]
    return [*ages, PopulationCount(code, code, 90, None, persons)]


def test_areas_come_from_the_framework_with_merges_and_region_fallback() -> None:
    areas = {a.code: a for a in hwb_areas(COUNCILS, load_framework("2015-16").geography)}
    assert set(areas) == {"E10000009", "E06000028", "E10000021", "E06000052"}
    assert areas["E06000052"].councils == ("E06000052", "E06000053")
    assert areas["E06000052"].name == "Cornwall and Isles of Scilly"
    assert areas["E06000028"].region == "South West"  # taken from its successor


def test_populations_map_through_exact_successors_and_report_the_rest() -> None:
    areas = hwb_areas(COUNCILS, load_framework("2015-16").geography)
    counts = [
        *_single_years("E06000058", 1),
        *_single_years("E06000059", 1),
        *_single_years("E06000061", 2),
        *_single_years("E06000062", 3),
        *_single_years("E06000052", 4),
        *_single_years("E06000053", 1),
    ]
    resolved = resolve_populations(areas, counts, code_history(COUNCILS))
    assert resolved.mapped["E10000021"] == ("E06000061", "E06000062")
    assert population_bands(resolved.counts["E10000021"])["all"] == 91 * 5
    assert population_bands(resolved.counts["E06000052"])["all"] == 91 * 5
    assert set(resolved.unmatched) == {"E10000009", "E06000028"}
    assert "cannot be split back" in resolved.unmatched["E06000028"]
    assert "Bournemouth" in resolved.unmatched["E06000028"]


def _broad(code: str, children: int, adults: int, older: int) -> list[PopulationCount]:
    return [
        PopulationCount(code, code, 0, 17, children),
        PopulationCount(code, code, 18, 64, adults),
        PopulationCount(code, code, 65, None, older),
    ]


def test_a_reorganised_group_is_apportioned_by_the_guide_keeping_every_age_exact() -> None:
    """Bournemouth and Dorset County (2015) became BCP and Dorset Council (2019) together:
    each single year of age of the pair is split by the areas' shares of its broad band in
    the guide, and the areas' counts add up to the group's at every age."""
    areas = hwb_areas(COUNCILS, load_framework("2015-16").geography)
    counts = [*_single_years("E06000058", 10), *_single_years("E06000059", 7)]
    resolved = resolve_populations(areas, counts, code_history(COUNCILS))
    guide = {
        "E06000028": _broad("E06000028", 1, 3, 1),  # Bournemouth: a quarter of children
        "E10000009": _broad("E10000009", 3, 3, 4),  # Dorset County: four fifths of 65+
    }

    split = apportion_unmatched(areas, resolved, counts, code_history(COUNCILS), guide, "g")

    assert set(split.unmatched) == {"E10000021", "E06000052"}  # given no counts at all
    bournemouth, dorset = split.counts["E06000028"], split.counts["E10000009"]
    by_age = {c.age_from: c.persons for c in bournemouth}
    assert by_age[0] == 4 and by_age[17] == 4  # 17 × 1/4, rounded down: 4.25
    assert by_age[18] == 9 and by_age[64] == 9  # 17 × 1/2 = 8.5: the half goes to the first
    assert by_age[65] == 3 and by_age[90] == 3  # 17 × 1/5 = 3.4
    for mine, theirs in zip(bournemouth, dorset, strict=True):
        assert (mine.age_from, mine.age_to) == (theirs.age_from, theirs.age_to)
        assert mine.persons + theirs.persons == 17
    assert "apportioned from E06000058, E06000059" in split.apportioned["E06000028"]
    assert "'g'" in split.apportioned["E10000009"]


def test_a_group_the_guide_cannot_cover_stays_unmatched() -> None:
    areas = hwb_areas(COUNCILS, load_framework("2015-16").geography)
    counts = [*_single_years("E06000058", 10), *_single_years("E06000059", 7)]
    resolved = resolve_populations(areas, counts, code_history(COUNCILS))
    guide = {"E06000028": _broad("E06000028", 1, 3, 1)}  # nothing for Dorset County

    split = apportion_unmatched(areas, resolved, counts, code_history(COUNCILS), guide, "g")

    assert {"E10000009", "E06000028"} <= set(split.unmatched)
    assert not split.apportioned


def test_bands_are_exact_or_absent() -> None:
    broad = [PopulationCount("x", "x", 0, 17, 5), PopulationCount("x", "x", 18, 64, 7),
             PopulationCount("x", "x", 65, None, 3)]  # fmt: skip
    assert band_total(broad, 18, 64) == 7
    assert band_total(broad, 0, 4) is None  # too coarse to say
    bands = population_bands(broad)
    assert bands == {"all": 15, "0-17": 5, "18-64": 7, "65+": 3}
    fine = population_bands(_single_years("y", 1))
    assert fine["0-4"] == 5 and fine["90+"] == 1 and fine["65+"] == 26


def test_a_council_ending_the_day_its_successor_starts_gives_way() -> None:
    geography = load_framework("2015-16").geography.model_copy(
        update={"as_at": dt.date(2021, 4, 1)}
    )
    codes = {a.code for a in hwb_areas(COUNCILS, geography)}
    assert "E10000021" not in codes
    assert {"E06000061", "E06000062"} <= codes


BUCKS = [
    Council("E10000002", "BKM", "Buckinghamshire County", "CTY", "South East",
            end=dt.date(2020, 3, 31), replaced_by=("BUC",)),
    Council("E07000004", "AYL", "Aylesbury Vale", "NMD", "", end=dt.date(2020, 3, 31),
            replaced_by=("BUC",), county="BKM"),
    Council("E06000060", "BUC", "Buckinghamshire", "UA", "South East",
            start=dt.date(2020, 4, 1)),
]  # fmt: skip


def test_a_council_that_replaced_one_whole_takes_its_figures_from_an_older_vintage() -> None:
    """Buckinghamshire's unitary council (2020) covers exactly the old county, so the mid-2019
    figures for the county are its figures; Dorset's successors took parts of others and are
    not guessed."""
    areas = hwb_areas([*BUCKS, *COUNCILS], load_framework("2020-21").geography)
    assert {"E06000060", "E06000058", "E06000059"} <= {a.code for a in areas}
    counts = [*_single_years("E10000002", 2), *_single_years("E10000009", 1)]
    resolved = resolve_populations(areas, counts, code_history([*BUCKS, *COUNCILS]))
    assert resolved.mapped["E06000060"] == ("E10000002",)
    assert population_bands(resolved.counts["E06000060"])["all"] == 91 * 2
    assert "E06000058" in resolved.unmatched and "E06000059" in resolved.unmatched


def test_councils_newer_than_the_shares_are_served_by_their_predecessors_commissioners() -> None:
    """Bournemouth (CCG A, 10 people) and Dorset County (CCG A 5, CCG B 20): Bournemouth,
    Christchurch and Poole is served by both, weighted 15 and 20; Dorset Council, whose only
    predecessor is the county, by A 5 and B 20. Councils in the shares keep theirs alone."""
    areas = hwb_areas(COUNCILS, load_framework("2019-20").geography)
    share = Fraction(1, 2)
    shares = [
        CommissionerShare("A", "E06000028", 10, share, share),
        CommissionerShare("A", "E10000009", 5, share, share),
        CommissionerShare("B", "E10000009", 20, share, share),
        CommissionerShare("C", "E06000052", 7, share, share),
    ]
    carried = carry_shares(shares, areas, code_history(COUNCILS))
    served: dict[str, dict[str, int]] = {}
    for s in carried:
        served.setdefault(s.council_code, {}).setdefault(s.commissioner_code, 0)
        served[s.council_code][s.commissioner_code] += s.population
    assert served["E06000058"] == {"A": 15, "B": 20}
    assert served["E06000059"] == {"A": 5, "B": 20}
    assert served["E06000052"] == {"C": 7}
