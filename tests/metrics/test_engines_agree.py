"""Every engine gives exactly the reference engine's counts, on any records at all.

Hypothesis writes small random data directories, drawing every column from values chosen
to sit on either side of each metric's conditions: ages at band edges, codes with and
without their dot, dates around the start of a financial year, areas outside the
population, missing values, a kind split over two files, written empty or not at all.
DuckDB and Spark must then give the reference engine's counts, and so its values, exactly.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from metric_tables import single_years

from carepool.domain.geography import PopulationCount
from carepool.domain.metric import finalise
from carepool.domain.metric_catalogue import REABLEMENT_91_DAYS, catalogue
from carepool.domain.metric_value import Grain
from carepool.domain.periods import quarter_label, year_label
from carepool.domain.person_level import (
    CARE_HOME_ADMISSIONS,
    DELAYS,
    REABLEMENT,
    SPELLS,
    SURVEY_RESPONSES,
    RecordKind,
)
from carepool.engines import Engine, compute
from carepool.engines.data_directory import write_records
from carepool.engines.duckdb_engine import DuckDBEngine
from carepool.engines.reference import ReferenceEngine

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFINITIONS = catalogue()


def maybe(*values: object) -> st.SearchStrategy[Any]:
    """One of ``values``, or now and then missing."""
    return st.sampled_from([*values, None])


areas = st.sampled_from(["E1", "E1", "E2", "E9", None])
days = st.one_of(
    st.dates(dt.date(2015, 2, 20), dt.date(2015, 7, 10)),
    st.dates(dt.date(2015, 9, 25), dt.date(2016, 1, 5)),  # a year of some months only
    st.none(),
)
months = maybe(dt.date(2015, 3, 1), dt.date(2015, 4, 1), dt.date(2015, 6, 1))
ages = maybe(-1, 0, 4, 5, 17, 18, 30, 64, 65, 69, 70, 84, 85, 89, 90, 91, 120)
codes = maybe(
    *("J45", "J45.0", "J459", "I24.0", "I240", "I24", "I24.1", "I2", "I24..0", "J4.5"),
    *("W00", "W19.9", "W20", "E10", "E15X", "B18.0", "Z03.4", "J20", "", ".J45", "j45"),
    *("S72.0", "S00", "T98.3", "T99", "J20.9", "B181", "I13.0", "G40", "D57"),
)
#: Lists of secondary diagnoses: the codes the definitions look for, first, later or
#: alone, and lists no ingest would accept (empty codes, stray spaces, lower case).
secondary = maybe(
    *("J44.9", "I10;J44.9", "J47;I10", "D57.1", "E11.9;D571", "W01", "I10;W19.9;E11"),
    *("W20", "J40;I10", "I10", "", ";", "J44;", ";D57", "I10; W01", "d57", "XD57", "J4.4"),
    *(";".join(["I10"] * 18 + ["J44"]), "I10;;J44"),
)
spells = st.fixed_dictionaries(
    {
        "spell_id": st.just("s"),
        "admission_date": days,
        "discharge_date": days,
        "admission_method": maybe("elective", "non_elective", "maternity", "other"),
        "primary_diagnosis": codes,
        "secondary_diagnoses": secondary,
        "age": ages,
        "sex": maybe("F", "M"),
        "area_code": areas,
        "discharge_destination": maybe(
            "usual_residence", "care_home", "other_hospital", "died", "other"
        ),
    }
)
delays = st.fixed_dictionaries(
    {
        "month": months,
        "responsible": maybe("nhs", "social_care", "both"),
        "care_type": maybe("acute", "non_acute"),
        "reason": maybe("A", "B", "O"),
        "delayed_days": st.one_of(st.integers(0, 31), st.none()),
        "age": ages,
        "area_code": areas,
    }
)
care_home_admissions = st.fixed_dictionaries(
    {
        "admission_date": days,
        "setting": maybe("residential", "nursing"),
        "funding": maybe("council", "self", "nhs", "joint"),
        "previous_setting": maybe("community", "hospital", "residential", "nursing", "not_known"),
        "age": ages,
        "area_code": areas,
    }
)
reablement = st.fixed_dictionaries(
    {
        "discharge_date": days,
        "status_91_days": maybe("at_home", "in_care_home", "in_hospital", "died", "not_known"),
        "age": ages,
        "area_code": areas,
    }
)
survey_responses = st.fixed_dictionaries(
    {
        "response_date": days,
        "question": maybe("care_coordination", "other_question"),
        "positive": maybe(0, 1, 2),
        "age": ages,
        "area_code": areas,
    }
)
KINDS: dict[RecordKind, st.SearchStrategy[dict[str, object]]] = {
    SPELLS: spells,
    DELAYS: delays,
    CARE_HOME_ADMISSIONS: care_home_admissions,
    REABLEMENT: reablement,
    SURVEY_RESPONSES: survey_responses,
}

#: Per kind: its records, where to split them over two files, and whether to write a file
#: when there are none (an empty file) or leave the kind's folder out.
datasets = st.fixed_dictionaries(
    {
        kind: st.tuples(st.lists(rows, max_size=12), st.integers(0, 12), st.booleans())
        for kind, rows in KINDS.items()
    }
)
populations = st.tuples(
    st.lists(st.integers(0, 40), min_size=91, max_size=91),
    st.lists(st.integers(1, 40), min_size=91, max_size=91),
)

Dataset = dict[RecordKind, tuple[list[dict[str, object]], int, bool]]


def write_dataset(folder: Path, dataset: Dataset) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for kind, (records, split, write_empty) in dataset.items():
        if records or write_empty:
            write_records(folder, kind, records[:split], part="part-0")
        if records[split:]:
            write_records(folder, kind, records[split:], part="part-1")
    return folder


def population_of(persons: tuple[list[int], list[int]]) -> list[PopulationCount]:
    """Areas E1 (where a single year of age may have no one) and E2."""
    return [
        PopulationCount(area, area, age, None if age == 90 else age, count)
        for area, counts in zip(("E1", "E2"), persons, strict=True)
        for age, count in enumerate(counts)
    ]


def assert_agrees(engine: Engine, folder: Path, persons: tuple[list[int], list[int]]) -> None:
    expected = ReferenceEngine().count(folder, DEFINITIONS)
    counted = engine.count(folder, DEFINITIONS)
    assert dict(counted.months) == dict(expected.months)
    assert dict(counted.tallies) == dict(expected.tallies)
    population = population_of(persons)
    assert finalise(DEFINITIONS, counted, population) == finalise(DEFINITIONS, expected, population)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dataset=datasets, persons=populations)
def test_duckdb_gives_the_reference_counts(
    tmp_path_factory: pytest.TempPathFactory, dataset: Dataset, persons: Any
) -> None:
    folder = write_dataset(tmp_path_factory.getbasetemp() / "agree-duckdb", dataset)
    assert_agrees(DuckDBEngine(threads=2), folder, persons)


@pytest.mark.spark
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dataset=datasets, persons=populations)
def test_spark_gives_the_reference_counts(
    tmp_path_factory: pytest.TempPathFactory, spark: SparkSession, dataset: Dataset, persons: Any
) -> None:
    from carepool.engines.spark_engine import SparkEngine

    folder = write_dataset(tmp_path_factory.getbasetemp() / "agree-spark", dataset)
    assert_agrees(SparkEngine(spark), folder, persons)


@settings(max_examples=30, deadline=None)
@given(records=st.lists(delays, max_size=15))
def test_the_delayed_days_splits_add_up_to_the_total(
    tmp_path_factory: pytest.TempPathFactory, records: list[dict[str, object]]
) -> None:
    """Every delay is attributed to exactly one organisation, so the three splits' days
    add up to the total's in every area and period."""
    attributed = [r for r in records if r["responsible"] is not None]
    folder = write_dataset(
        tmp_path_factory.getbasetemp() / "splits", {DELAYS: (attributed, 15, False)}
    )
    values = compute("duckdb", folder, single_years("E1") + single_years("E2"), DEFINITIONS)
    total: dict[tuple[str, str], int] = defaultdict(int)
    for value in values:
        if value.metric.startswith("delayed_transfers_of_care_"):
            total[(value.area_code, value.period)] += value.numerator
    for value in values:
        if value.metric == "delayed_transfers_of_care":
            assert total[(value.area_code, value.period)] == value.numerator


@settings(max_examples=30, deadline=None)
@given(records=st.lists(reablement, max_size=15))
def test_quarters_and_years_add_up_their_months(
    tmp_path_factory: pytest.TempPathFactory, records: list[dict[str, object]]
) -> None:
    """A quarter's numerator and denominator are its months' added up, and a year's those
    of the months its definition names (October to December for reablement), for a
    percentage as for a count (a value is never an average of values)."""
    folder = write_dataset(
        tmp_path_factory.getbasetemp() / "rollup", {REABLEMENT: (records, 15, False)}
    )
    values = compute("duckdb", folder, single_years("E1") + single_years("E2"), DEFINITIONS)
    sums: dict[tuple[Grain, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for value in values:
        if value.grain is Grain.MONTH:
            month = dt.date.fromisoformat(value.period + "-01")
            periods = [(Grain.QUARTER, quarter_label(month))]
            if month.month in REABLEMENT_91_DAYS.year_months:
                periods.append((Grain.YEAR, year_label(month)))
            for grain, period in periods:
                sums[(grain, value.area_code, period)][0] += value.numerator
                sums[(grain, value.area_code, period)][1] += value.denominator or 0
    rolled = [v for v in values if v.grain is not Grain.MONTH]
    for value in rolled:
        assert sums[(value.grain, value.area_code, value.period)] == [
            value.numerator,
            value.denominator,
        ]
