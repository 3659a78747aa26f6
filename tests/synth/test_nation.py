"""The synthetic nation has the shape of England in 2015, and the same seed gives the same one.

Demos and every other test lean on it, so these pin down what they may rely on: 151 Health and
Wellbeing Board areas in both shipped framework years, ~55 million people with a believable
age structure, ~211 CCGs overlapping councils many-to-many, and shares that add up exactly.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import time
from collections import Counter, defaultdict
from fractions import Fraction
from pathlib import Path

import pytest

from carepool.domain.geography import (
    REGIONS,
    SOCIAL_CARE_COUNCIL_TYPES,
    code_history,
    hwb_areas,
    resolve_populations,
)
from carepool.frameworks import load_framework
from carepool.synth.nation import ISLANDS_CODE, LARGE_UNITARY_CODE, SyntheticNation, build_nation

SEEDS = (2015, 1, 99)
REAL_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
GSS = {"UA": "E06", "NMD": "E07", "MD": "E08", "LBO": "E09", "CC": "E09", "CTY": "E10"}


@pytest.fixture(scope="module", params=SEEDS, ids=lambda seed: f"seed{seed}")
def nation(request: pytest.FixtureRequest) -> SyntheticNation:
    seed: int = request.param
    return build_nation(seed)


def _social_care(nation: SyntheticNation) -> list[str]:
    return [c.code for c in nation.councils if c.kind in SOCIAL_CARE_COUNCIL_TYPES]


def _council_totals(nation: SyntheticNation) -> Counter[str]:
    totals: Counter[str] = Counter()
    for count in nation.populations:
        totals[count.geo_code] += count.persons
    return totals


def _band(nation: SyntheticNation, low: int, high: int | None, code: str | None = None) -> int:
    return sum(
        c.persons
        for c in nation.populations
        if c.age_from >= low
        and (high is None or c.age_from <= high)
        and (code is None or c.geo_code == code)
    )


def test_the_same_seed_gives_an_equal_nation_and_another_seed_a_different_one() -> None:
    assert build_nation(7) == build_nation(7)
    assert build_nation(7) != build_nation(8)
    assert build_nation() == build_nation(2015)


def test_building_a_nation_takes_well_under_a_second() -> None:
    started = time.perf_counter()
    build_nation(31)
    assert time.perf_counter() - started < 1.0  # typically ~30 ms


def test_the_label_says_the_data_is_synthetic(nation: SyntheticNation) -> None:
    assert "synthetic" in nation.label.lower()
    assert str(nation.seed) in nation.label


@pytest.mark.parametrize("year", ["2015-16", "2017-19"])
def test_152_councils_make_151_board_areas(nation: SyntheticNation, year: str) -> None:
    areas = hwb_areas(nation.councils, load_framework(year).geography)

    assert len(_social_care(nation)) == 152
    assert len(areas) == 151
    merged = [a for a in areas if len(a.councils) > 1]
    assert [a.councils for a in merged] == [(LARGE_UNITARY_CODE, ISLANDS_CODE)]


def test_council_types_and_regions_are_as_in_england(nation: SyntheticNation) -> None:
    kinds = Counter(c.kind for c in nation.councils if c.kind in SOCIAL_CARE_COUNCIL_TYPES)
    regions = Counter(c.region for c in nation.councils if c.kind in SOCIAL_CARE_COUNCIL_TYPES)

    assert kinds == {"CTY": 27, "MD": 36, "LBO": 32, "CC": 1, "UA": 56}
    assert set(regions) == set(REGIONS)
    assert regions["London"] == 33
    assert all(c.region == "London" for c in nation.councils if c.kind in ("LBO", "CC"))


def test_councils_are_in_force_throughout_both_years(nation: SyntheticNation) -> None:
    for council in nation.councils:
        assert council.start is not None and council.start < dt.date(2015, 4, 1)
        assert council.end is None
        assert council.nation == "England"


def test_districts_sit_in_their_counties(nation: SyntheticNation) -> None:
    counties = {c.short_code: c for c in nation.councils if c.kind == "CTY"}
    districts = [c for c in nation.councils if c.kind == "NMD"]
    per_county = Counter(d.county for d in districts)

    assert len(districts) <= 200
    assert set(per_county) == set(counties)
    assert min(per_county.values()) >= 2
    assert all(d.region == counties[d.county].region for d in districts)
    assert code_history(nation.councils).successors == {}


def test_codes_are_unique_well_formed_and_not_real(nation: SyntheticNation) -> None:
    codes = [c.code for c in nation.councils]
    short_codes = [c.short_code for c in nation.councils]

    assert len(set(codes)) == len(codes)
    assert len(set(short_codes)) == len(short_codes)
    assert all(re.fullmatch(r"[A-Z]{3}", s) for s in short_codes)
    for council in nation.councils:
        assert re.fullmatch(GSS[council.kind] + r"\d{6}", council.code), council
        if council.code not in (LARGE_UNITARY_CODE, ISLANDS_CODE):
            assert int(council.code[3:]) >= 901, council
    assert len({c.name for c in nation.councils}) == len(nation.councils)


def test_commissioner_codes_and_names_are_unique_and_well_formed(nation: SyntheticNation) -> None:
    commissioners = nation.commissioners

    assert len({c.code for c in commissioners}) == len(commissioners)
    assert len({c.ods_code for c in commissioners}) == len(commissioners)
    assert len({c.name for c in commissioners}) == len(commissioners)
    for commissioner in commissioners:
        assert re.fullmatch(r"E38\d{6}", commissioner.code)
        assert int(commissioner.code[3:]) >= 901
        assert re.fullmatch(r"6\d[A-Z]", commissioner.ods_code)  # no 2015 CCG used 6x
        assert re.fullmatch(r"NHS \S.* CCG", commissioner.name)


@pytest.mark.skipif(not REAL_DATA.is_dir(), reason="real reference data not available")
def test_no_council_takes_a_real_authority_name(nation: SyntheticNation) -> None:
    with (REAL_DATA / "uk_local_authorities.csv").open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    real = {row[column].lower() for row in rows for column in ("official-name", "nice-name")}

    assert [c.name for c in nation.councils if c.name.lower() in real] == []


def test_the_nation_has_about_55_million_people(nation: SyntheticNation) -> None:
    assert 54_000_000 <= sum(c.persons for c in nation.populations) <= 56_500_000


def test_every_council_has_single_years_of_age_to_90_plus(nation: SyntheticNation) -> None:
    by_council: dict[str, list[tuple[int, int | None]]] = defaultdict(list)
    for count in nation.populations:
        assert count.persons > 0
        by_council[count.geo_code].append((count.age_from, count.age_to))
    expected = [(age, age) for age in range(90)] + [(90, None)]

    assert sorted(by_council) == sorted(_social_care(nation))
    assert all(ages == expected for ages in by_council.values())


def test_the_age_structure_is_believable(nation: SyntheticNation) -> None:
    total = sum(c.persons for c in nation.populations)
    five_year_old_age = [_band(nation, low, low + 4) for low in range(65, 90, 5)]

    assert 0.195 <= _band(nation, 0, 17) / total <= 0.225
    assert 0.59 <= _band(nation, 18, 64) / total <= 0.63
    assert 0.165 <= _band(nation, 65, None) / total <= 0.20
    assert five_year_old_age == sorted(five_year_old_age, reverse=True)


def test_area_sizes_vary_as_in_england(nation: SyntheticNation) -> None:
    totals = _council_totals(nation)
    by_kind: dict[str, list[int]] = defaultdict(list)
    for council in nation.councils:
        if council.code not in (LARGE_UNITARY_CODE, ISLANDS_CODE) and council.kind != "NMD":
            by_kind[council.kind].append(totals[council.code])

    assert totals[ISLANDS_CODE] < 3_000
    assert 450_000 <= totals[LARGE_UNITARY_CODE] <= 600_000
    assert all(5_000 <= n <= 10_000 for n in by_kind["CC"])
    assert all(450_000 <= n <= 1_600_000 for n in by_kind["CTY"])
    assert all(130_000 <= n <= 420_000 for n in by_kind["LBO"])
    assert all(90_000 <= n <= 600_000 for n in by_kind["UA"])
    assert all(140_000 <= n <= 1_250_000 for n in by_kind["MD"])


def test_older_shares_differ_from_place_to_place(nation: SyntheticNation) -> None:
    region_of = {c.code: c.region for c in nation.councils}
    older = {code: _band(nation, 65, None, code) / n for code, n in _council_totals(nation).items()}
    london = [share for code, share in older.items() if region_of[code] == "London"]
    elsewhere = [share for code, share in older.items() if region_of[code] != "London"]

    assert max(older.values()) - min(older.values()) > 0.12
    assert sum(london) / len(london) < sum(elsewhere) / len(elsewhere) - 0.05


def test_about_211_commissioners_overlap_councils_many_to_many(nation: SyntheticNation) -> None:
    councils_per_ccg = Counter(s.commissioner_code for s in nation.shares)
    ccgs_per_council = Counter(s.council_code for s in nation.shares)
    kind = {c.code: c.kind for c in nation.councils}

    assert 205 <= len(nation.commissioners) <= 215
    assert set(councils_per_ccg) == {c.code for c in nation.commissioners}
    assert set(ccgs_per_council) == set(_social_care(nation))
    assert 24 <= sum(n > 1 for n in councils_per_ccg.values()) <= 32
    assert max(councils_per_ccg.values()) <= 3
    assert 32 <= sum(n > 1 for n in ccgs_per_council.values()) <= 40
    assert max(n for code, n in ccgs_per_council.items() if kind[code] == "CTY") >= 4
    assert ccgs_per_council[ISLANDS_CODE] == 1


def test_shares_add_up_exactly(nation: SyntheticNation) -> None:
    totals = _council_totals(nation)
    by_council: dict[str, list[int]] = defaultdict(list)
    by_ccg: dict[str, Fraction] = defaultdict(Fraction)
    for share in nation.shares:
        assert share.population > 0
        assert isinstance(share.share_of_area, Fraction)
        assert share.share_of_area == Fraction(share.population, totals[share.council_code])
        by_council[share.council_code].append(share.population)
        by_ccg[share.commissioner_code] += share.share_of_commissioner

    assert {code: sum(parts) for code, parts in by_council.items()} == dict(totals)
    assert set(by_ccg.values()) == {Fraction(1)}


def test_populations_resolve_onto_every_board_area(nation: SyntheticNation) -> None:
    areas = hwb_areas(nation.councils, load_framework("2015-16").geography)
    resolved = resolve_populations(areas, nation.populations, code_history(nation.councils))
    merged = resolved.counts[LARGE_UNITARY_CODE]

    assert resolved.unmatched == {}
    assert len(resolved.counts) == 151
    assert sum(c.persons for c in merged) == sum(
        c.persons for c in nation.populations if c.geo_code in (LARGE_UNITARY_CODE, ISLANDS_CODE)
    )
