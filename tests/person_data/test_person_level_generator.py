"""The synthetic year of person-level records: seeded, and shaped like the real thing.

At a small scale the volumes are the national ones scaled down, admission rates rise with
age, emergencies peak in winter, areas differ by more than chance, and every NHS number is
a valid one from the range reserved for testing, most people having several records.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter, defaultdict
from itertools import islice
from pathlib import Path

import nhs_number
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from carepool.domain.errors import CarepoolError
from carepool.domain.person_level import RECORD_KINDS
from carepool.person_data.files.ingest import raw_schema
from carepool.synth.nation import build_nation
from carepool.synth.person_level import financial_year, person_level_chunks

SEED = 2015
SCALE = 0.002


def tables(**options: object) -> dict[str, pa.Table]:
    parts: dict[str, list[pa.Table]] = defaultdict(list)
    for kind, table in person_level_chunks(**options):  # type: ignore[arg-type]
        parts[kind.name].append(table)
    return {name: pa.concat_tables(found) for name, found in parts.items()}


@pytest.fixture(scope="module")
def year() -> dict[str, pa.Table]:
    return tables(seed=SEED, scale=SCALE)


@pytest.fixture(scope="module")
def population() -> dict[str, dict[int, int]]:
    """Persons by area and single year of age (90 meaning 90 and over), areas merged as the
    2015-16 framework merges them."""
    found: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for row in build_nation(SEED).populations:
        area = "E06000052" if row.geo_code == "E06000053" else row.geo_code
        found[area][row.age_from] += row.persons
    return found


def fingerprint(chunks: object) -> str:
    digest = hashlib.sha256()
    for kind, table in chunks:  # type: ignore[attr-defined]
        digest.update(kind.name.encode())
        for batch in table.to_batches():
            for column in batch.columns:
                for buffer in column.buffers():
                    digest.update(b"" if buffer is None else buffer.to_pybytes())
    return digest.hexdigest()


def test_the_same_seed_gives_the_same_records_and_another_seed_others() -> None:
    first = fingerprint(islice(person_level_chunks(seed=SEED, scale=SCALE), 6))
    again = fingerprint(islice(person_level_chunks(seed=SEED, scale=SCALE), 6))
    other = fingerprint(islice(person_level_chunks(seed=SEED + 1, scale=SCALE), 6))
    assert first == again != other


def test_records_have_the_raw_files_columns_and_types(year: dict[str, pa.Table]) -> None:
    assert list(year) == [kind.name for kind in RECORD_KINDS]
    for kind in RECORD_KINDS:
        assert year[kind.name].schema.equals(raw_schema(kind), check_metadata=False)
        assert year[kind.name].num_rows > 0


def test_volumes_are_a_national_year_scaled_down(year: dict[str, pa.Table]) -> None:
    spells = year["spells"]
    assert spells.num_rows == pytest.approx(20_000_000 * SCALE, rel=0.05)
    methods = Counter(spells.column("admission_method").to_pylist())
    assert methods["non_elective"] == pytest.approx(6_000_000 * SCALE, rel=0.05)
    days = pc.sum(year["delays"].column("delayed_days")).as_py()
    assert days / 12 == pytest.approx(150_000 * SCALE, rel=0.2)


def test_admission_rates_rise_with_age(
    year: dict[str, pa.Table], population: dict[str, dict[int, int]]
) -> None:
    ages = np.asarray(_emergencies(year).column("age").to_numpy())
    people = Counter[int]()
    for counts in population.values():
        people.update(counts)

    def rate(low: int, high: int) -> float:
        admitted = ((ages >= low) & (ages <= high)).sum()
        return float(admitted / sum(people[a] for a in range(low, min(high, 90) + 1)))

    assert rate(20, 39) < rate(65, 79) < rate(80, 104)
    assert rate(80, 104) > 3 * rate(20, 39)


def test_emergencies_peak_in_winter(year: dict[str, pa.Table]) -> None:
    dates = _emergencies(year).column("admission_date").to_pylist()
    months = Counter(d.month for d in dates)
    winter = (months[12] + months[1] + months[2]) / (31 + 31 + 29)
    summer = (months[6] + months[7] + months[8]) / (30 + 31 + 31)
    assert winter > 1.08 * summer


def test_areas_differ_by_more_than_chance(
    year: dict[str, pa.Table], population: dict[str, dict[int, int]]
) -> None:
    """Indirectly standardised emergency admissions vary between areas far more than
    Poisson noise would make them (a dispersion index well above 1)."""
    emergencies = _emergencies(year)
    ages = np.minimum(np.asarray(emergencies.column("age").to_numpy()), 90)
    areas = emergencies.column("area_code").to_pylist()
    national = Counter[int]()
    for counts in population.values():
        national.update(counts)
    by_age = Counter(ages.tolist())
    rate = {age: by_age[age] / national[age] for age in national}
    observed = Counter(areas)
    expected = {
        a: sum(n * rate[age] for age, n in counts.items()) for a, counts in population.items()
    }
    dispersion = sum((observed[a] - e) ** 2 / e for a, e in expected.items()) / (len(expected) - 1)
    assert len(expected) == 151 and set(observed) <= set(expected)
    assert dispersion > 1.5


def test_people_have_valid_test_numbers_and_several_records(year: dict[str, pa.Table]) -> None:
    numbers = year["spells"].column("nhs_number").to_pylist()
    assert all(n.startswith("999") and len(n) == 10 for n in numbers)
    assert all(nhs_number.is_valid(n) for n in numbers[:2000])
    assert len(set(numbers)) < len(numbers) / 1.8
    survey = year["survey_responses"].column("nhs_number").to_pylist()
    assert len(set(survey)) == len(survey)  # one answer per person


def test_records_are_internally_consistent(year: dict[str, pa.Table]) -> None:
    spells = year["spells"]
    assert pc.all(pc.greater_equal(spells["discharge_date"], spells["admission_date"])).as_py()
    maternity = spells.filter(pc.equal(spells["admission_method"], "maternity"))
    assert set(maternity.column("sex").to_pylist()) == {"F"}
    assert pc.min(maternity["age"]).as_py() >= 16 and pc.max(maternity["age"]).as_py() <= 46
    year_ = financial_year("2015-16")
    assert pc.min(spells["admission_date"]).as_py() >= year_.start
    assert pc.max(spells["admission_date"]).as_py() <= year_.end
    months = year["delays"].column("month").to_pylist()
    assert {m.day for m in months} == {1}
    assert len(set(year["spells"].column("spell_id").to_pylist())) == spells.num_rows


def test_delays_care_homes_and_reablement_have_their_national_shape(
    year: dict[str, pa.Table], population: dict[str, dict[int, int]]
) -> None:
    responsible = Counter(year["delays"].column("responsible").to_pylist())
    total = sum(responsible.values())
    assert responsible["nhs"] / total == pytest.approx(0.55, abs=0.07)
    assert responsible["social_care"] / total == pytest.approx(0.35, abs=0.07)
    assert responsible["both"] / total == pytest.approx(0.10, abs=0.05)
    homes = year["care_home_admissions"]
    older = pc.sum(pc.greater_equal(homes["age"], 65)).as_py()
    aged_65 = sum(n for counts in population.values() for age, n in counts.items() if age >= 65)
    assert older / (aged_65 * SCALE) * 100_000 == pytest.approx(600, rel=0.25)
    assert pc.sum(pc.less(homes["age"], 65)).as_py() >= 1 or homes.num_rows < 150
    status = Counter(year["reablement"].column("status_91_days").to_pylist())
    assert status["at_home"] / sum(status.values()) == pytest.approx(0.8, abs=0.05)


def test_spells_have_realistic_secondary_diagnoses(year: dict[str, pa.Table]) -> None:
    """Most spells have none to six secondary diagnoses, older patients more; the
    injuries of older people's emergency admissions are mostly falls, coded as their
    external cause; and acute bronchitis is often coded with COPD, so some counts as a
    chronic ambulatory care sensitive condition and some does not."""
    spells = year["spells"]
    listed = pc.add(pc.fill_null(pc.count_substring(spells["secondary_diagnoses"], ";"), -1), 1)
    counts = np.asarray(listed.to_numpy(zero_copy_only=False))
    ages = np.asarray(spells["age"].to_numpy(zero_copy_only=False))
    assert np.mean(counts <= 6) > 0.95 and counts.max() <= 19
    assert counts[ages >= 80].mean() > 2 * counts[ages < 40].mean()
    emergencies = _emergencies(year)
    older = emergencies.filter(pc.greater_equal(emergencies["age"], 65))
    injured = older.filter(pc.match_substring_regex(older["primary_diagnosis"], "^[ST]"))
    falls = pc.match_substring_regex(injured["secondary_diagnoses"], r"(^|;)W[01][0-9]")
    assert pc.mean(pc.cast(falls, pa.float64())).as_py() == pytest.approx(0.85, abs=0.08)
    bronchitis = emergencies.filter(pc.starts_with(emergencies["primary_diagnosis"], "J20"))
    copd = pc.match_substring_regex(bronchitis["secondary_diagnoses"], r"(^|;)J4[1-47]")
    assert 0.3 < pc.mean(pc.cast(copd, pa.float64())).as_py() < 0.8


def test_some_care_home_admissions_are_transfers_from_another_care_home(
    year: dict[str, pa.Table],
) -> None:
    previous = Counter(year["care_home_admissions"].column("previous_setting").to_pylist())
    transfers = (previous["residential"] + previous["nursing"]) / sum(previous.values())
    assert transfers == pytest.approx(0.1, abs=0.05)
    assert previous["hospital"] > previous["residential"]


def test_a_year_that_is_not_a_financial_year_is_refused() -> None:
    with pytest.raises(CarepoolError, match="financial year"):
        list(person_level_chunks(seed=SEED, scale=SCALE, financial_year="2015"))
    with pytest.raises(CarepoolError, match="no framework covers"):
        list(person_level_chunks(seed=SEED, scale=SCALE, financial_year="1999-00"))
    assert financial_year("2016-17").start == dt.date(2016, 4, 1)


def test_progress_is_reported_area_by_area() -> None:
    seen: list[tuple[str, int, int | None]] = []
    for _ in islice(
        person_level_chunks(seed=SEED, scale=0.0005, progress=lambda *a: seen.append(a)), 3
    ):
        pass
    assert seen[0] == ("Generating spells", 1, 151)


def _emergencies(year: dict[str, pa.Table]) -> pa.Table:
    spells = year["spells"]
    return spells.filter(pc.equal(spells["admission_method"], "non_elective"))


def test_flaws_are_only_made_when_asked(tmp_path: Path) -> None:
    clean = tables(seed=SEED, scale=0.0005)
    spoilt = tables(seed=SEED, scale=0.0005, flaws=True)
    assert clean["spells"].num_rows == spoilt["spells"].num_rows
    changed = pc.sum(
        pc.invert(pc.equal(clean["spells"]["nhs_number"], spoilt["spells"]["nhs_number"]))
    ).as_py()
    assert 0 < changed < 0.01 * clean["spells"].num_rows
