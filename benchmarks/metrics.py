"""Metrics from pseudonymised person-level data: a national year, and what computing it costs.

A national year is about twenty million hospital spells, plus delayed transfers of care,
care-home admissions, reablement episodes and survey answers. This benchmark builds that year
and asks, in one run, whether carepool's default engine is as fast as DuckDB can be made to go
by hand, clearly faster than the obvious pandas program, and small enough for a laptop.

1. **Generate** the synthetic national year (``--scale 1.0``) as raw files, with NHS numbers,
   in a temporary folder outside the repository. Timed for information; not a target.
2. **Ingest** it: every NHS number checked and replaced by its keyed pseudonym (a random key,
   made for the run), every row checked, Parquet written. Reported: seconds, rows/s, peak
   memory. Target: under 60 s on 2 cores.
3. **Compute every catalogue metric for every area and month** (quarters and years too) in
   four ways, each run in a fresh process so that its peak RSS is its own, best of
   ``REPEATS``, the four interleaved so that a change in the machine's load falls on all alike:

   - **carepool**: ``carepool.engines.compute("duckdb", ...)``, the engine and ``finalise``;
   - **hand-written DuckDB SQL**: the quickest SQL found by hand for the same numbers, one
     grouped scan per record kind (see the notes above ``SPELLS_SCAN``);
   - **pandas**: the obvious program (read the columns, filter, ``groupby``);
   - **scan floor**: DuckDB reading every column the metrics need and folding each value into
     a checksum (``bit_xor(hash(column))``). ``count(column)`` would not do: DuckDB answers it
     from the Parquet footers without reading a value.

   The hand-written SQL and pandas hand their counts to the same ``finalise`` as the engine,
   so all three must give identical ``MetricValue`` lists; any difference fails the run.
   Targets: carepool within 1.2x of hand-written SQL, at least 5x faster than pandas, peak
   memory under 1 GB.
4. **Spark** (local, 2 cores, in its own process) computes the same values from the same data
   directory; they must be identical (``--skip-spark`` leaves it out). Spark's own log goes to
   ``spark.log`` in the work folder.

Times are wall-clock seconds. The machine may be shared, so CPU seconds (every thread of the
process) are reported beside them, with the one-minute load average; a ratio of CPU seconds
is the steadier one when the load moves, and each round's ratios are printed too. Peak
memory is the whole process's peak RSS in MB (Python and this module's imports, pandas
included, count against every implementation), with any process it started (Spark's JVM)
added.

Run: ``python -m benchmarks metrics`` or
``python -m benchmarks.metrics [--scale 1.0] [--keep DIR] [--skip-spark]``. ``--keep DIR``
works in DIR (raw files in ``raw/``, the data directory in ``data/``) and leaves it there.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import resource
import secrets
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import duckdb
import pandas as pd

from benchmarks.common import parser, run
from carepool.domain.geography import (
    PopulationCount,
    code_history,
    hwb_areas,
    resolve_populations,
)
from carepool.domain.metric import (
    CountKey,
    DiagnosisIn,
    EventCounts,
    MetricDefinition,
    Tally,
    finalise,
)
from carepool.domain.metric_catalogue import (
    ACUTE_BRONCHITIS_CODES,
    CHRONIC_ACSC_CODES,
    COPD_CODES,
    FALLS_CODES,
    HEPATITIS_B_CODES,
    INJURY_CODES,
    SICKLE_CELL_CODES,
    catalogue,
)
from carepool.domain.metric_value import MetricValue
from carepool.domain.person_level import (
    CARE_HOME_ADMISSIONS,
    DELAYS,
    REABLEMENT,
    SPELLS,
    SURVEY_RESPONSES,
    RecordKind,
)
from carepool.engines import compute
from carepool.engines.data_directory import kind_files
from carepool.person_data import service as person_data
from carepool.synth.nation import build_nation
from carepool.synth.person_level import framework_for

YEAR = "2015-16"
SEED = 2015
REPEATS = 3
INGEST_TARGET_SECONDS = 60.0
HANDWRITTEN_TARGET = 1.2  # carepool ÷ hand-written SQL, at most
PANDAS_TARGET = 5.0  # pandas ÷ carepool, at least
MEMORY_TARGET_MB = 1000.0  # peak RSS, under

Cell = tuple[str, str, int, int | None, int, int]
"""One count from the hand-written SQL or pandas: metric, area, month number
(``year * 12 + month - 1``), standard band (its first age; ``None`` when not standardised),
numerator, event denominator (0 when the metric has none)."""

Spans = dict[str, tuple[int, int]]
"""Each metric's first and last month number over every record of its kind."""


# --------------------------------------------------------------------------------------------
# The year's areas and populations


def areas_and_population(seed: int) -> tuple[set[str], list[PopulationCount]]:
    """The year's HWB area codes, and each area's residents by single year of age.

    The synthetic nation's council populations are put onto the year's areas as the
    geography service does, without a database; an area of two councils (Cornwall with the
    Isles of Scilly) gets one count per age, their sum, as ``geography.service.denominators``
    gives it.
    """
    nation = build_nation(seed)
    areas = hwb_areas(nation.councils, framework_for(YEAR).geography)
    resolved = resolve_populations(areas, nation.populations, code_history(nation.councils))
    persons: dict[tuple[str, str, int, int | None], int] = defaultdict(int)
    for counts in resolved.counts.values():
        for count in counts:
            persons[(count.geo_code, count.geo_name, count.age_from, count.age_to)] += count.persons
    return {a.code for a in areas}, [PopulationCount(*key, n) for key, n in persons.items()]


# --------------------------------------------------------------------------------------------
# Steps: each runs in a fresh process


def generate(raw: Path, scale: float) -> dict[str, int]:
    """Write the synthetic raw files; rows written per record kind."""
    report = person_data.generate(raw, seed=SEED, scale=scale, financial_year=YEAR)
    return {kind: rows for kind, (_path, rows) in report.files.items()}


def ingest(raw: Path, data: Path, area_codes: set[str]) -> tuple[int, int, int]:
    """Check and pseudonymise the raw files; rows read, rows quarantined, distinct people."""
    report = person_data.ingest(raw, data, area_codes, secrets.token_bytes(32))
    return report.rows_read, report.quarantined, report.people


def carepool_values(data: Path, population: list[PopulationCount]) -> list[MetricValue]:
    """carepool's default engine and finalisation, as ``carepool metrics compute`` runs them."""
    return compute("duckdb", data, population)


def handwritten_values(data: Path, population: list[PopulationCount]) -> list[MetricValue]:
    """The hand-written SQL's counts, finalised as the engine's are."""
    return finalise(catalogue(), handwritten_counts(data), population)


def pandas_values(data: Path, population: list[PopulationCount]) -> list[MetricValue]:
    """pandas's counts, finalised as the engine's are."""
    return finalise(catalogue(), pandas_counts(data), population)


def scan_floor(data: Path, _population: list[PopulationCount]) -> None:
    """Read every column the metrics need, of every kind, and nothing more."""
    with duckdb.connect() as db:
        for kind, columns in needed_columns(catalogue()).items():
            files = kind_files(data, kind)
            if files:
                checksums = ", ".join(f"bit_xor(hash({column}))" for column in columns)
                db.sql(f"SELECT {checksums} FROM {parquet(files)}").fetchall()


def spark_values(
    data: Path, population: list[PopulationCount], log: Path
) -> tuple[list[MetricValue], float]:
    """Spark's values, and the seconds its local session took to start (its JVM's output
    going to ``log``)."""
    from carepool.engines.spark_engine import local_session

    started = time.perf_counter()
    with output_to(log):
        session = local_session(2)
    startup = time.perf_counter() - started
    try:
        return compute("spark", data, population, spark=session), startup
    finally:
        session.stop()


@contextmanager
def output_to(log: Path, descriptor: int = 2) -> Iterator[None]:
    """Send standard error (or another descriptor) to ``log`` for a while, and so the output
    of any process started meanwhile, for as long as that process runs."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(descriptor)
    with log.open("ab") as handle:
        os.dup2(handle.fileno(), descriptor)
    try:
        yield
    finally:
        os.dup2(saved, descriptor)
        os.close(saved)


def needed_columns(definitions: Sequence[MetricDefinition]) -> dict[RecordKind, list[str]]:
    """Per record kind, every column some metric reads: area, event date, conditions."""
    needed: dict[RecordKind, dict[str, None]] = defaultdict(dict)
    for d in definitions:
        needed[d.record_kind].update(dict.fromkeys(("area_code", d.event_date, *d.columns)))
    return {kind: list(columns) for kind, columns in needed.items()}


def parquet(files: Sequence[Path]) -> str:
    paths = ", ".join("'" + str(path).replace("'", "''") + "'" for path in files)
    return f"read_parquet([{paths}])"


# --------------------------------------------------------------------------------------------
# (a) Hand-written DuckDB SQL
#
# One grouped scan per kind into a temporary table; then each metric's cells, and the span of
# months, from that small table. Each number is a filtered count, and a costly test (a regular
# expression on the diagnosis) sits inside CASE behind the cheap ones, so DuckDB runs it only
# on the rows that pass them (an AND in a filter does not spare it). The code lists are the
# catalogue's, written compactly (the dot after ICD-10's third character optional, as the
# definitions allow); conditions every record meets (aged 0+) are left out. The chronic ACSC
# test is one pattern for every primary diagnosis that may count, and only its rare hepatitis
# B and acute bronchitis rows go on to read the secondary diagnoses. Tried and found slower:
# grouping by condition outcomes with a bare count(*), and GROUPING SETS.

MONTH_MACRO = "CREATE OR REPLACE TEMP MACRO month_number(d) AS year(d) * 12 + month(d) - 1"

ACSC = (
    r"^(?:B18\.?[01]|D50\.?[189]|D5[12]|E1[0-4]|F0[0-3]|G4[01]|I10|I11\.?[09]|I13\.?0"
    r"|I2[05]|I48|I50|J20|J4[1-7]|J81)"
)
SICKLE_CELL = r"(?:^|;)D57"
COPD = r"(?:^|;)J4[1-47]"
INJURY = r"^(?:S|T[0-8]|T9[0-8])"
FALL = r"(?:^|;)W[01]"

SPELLS_SCAN = f"""
SELECT
  area_code AS area,
  month_number(admission_date) AS admitted,
  month_number(discharge_date) AS discharged,
  least(age // 5, 18) * 5 AS band,
  count(*) FILTER (WHERE admission_method = 'non_elective') AS emergency,
  count(*) FILTER (WHERE CASE WHEN admission_method = 'non_elective'
    AND regexp_matches(primary_diagnosis, '{ACSC}') THEN CASE left(primary_diagnosis, 3)
      WHEN 'B18' THEN NOT coalesce(regexp_matches(secondary_diagnoses, '{SICKLE_CELL}'), false)
      WHEN 'J20' THEN coalesce(regexp_matches(secondary_diagnoses, '{COPD}'), false)
      ELSE true END
    ELSE false END) AS acsc,
  count(*) FILTER (WHERE CASE WHEN admission_method = 'non_elective' AND age >= 65
    AND regexp_matches(primary_diagnosis, '{INJURY}')
    THEN regexp_matches(secondary_diagnoses, '{FALL}') ELSE false END) AS falls,
  count(*) FILTER (WHERE discharge_destination = 'usual_residence') AS home,
  count(*) FILTER (WHERE discharge_destination <> 'died') AS alive
FROM {{source}}
GROUP BY ALL
"""

SPELLS_CELLS = """
SELECT metric, area, admitted, NULL, sum(emergency), 0
FROM spells, (VALUES ('non_elective_admissions'), ('non_elective_admissions_rate')) m(metric)
GROUP BY metric, area, admitted HAVING sum(emergency) > 0
UNION ALL
SELECT 'avoidable_admissions', area, admitted, band, sum(acsc), 0
FROM spells GROUP BY area, admitted, band HAVING sum(acsc) > 0
UNION ALL
SELECT 'falls_admissions_65_plus', area, admitted, band, sum(falls), 0
FROM spells GROUP BY area, admitted, band HAVING sum(falls) > 0
UNION ALL
SELECT 'discharge_to_usual_residence', area, discharged, NULL, sum(home), sum(alive)
FROM spells GROUP BY area, discharged HAVING sum(alive) > 0
"""

DELAYS_SCAN = """
SELECT area_code AS area, month_number(month) AS in_month, responsible,
  sum(delayed_days) FILTER (WHERE age >= 18) AS days
FROM {source}
GROUP BY ALL
"""

DELAYS_CELLS = """
SELECT 'delayed_transfers_of_care', area, in_month, NULL, sum(days), 0
FROM delays GROUP BY area, in_month HAVING sum(days) > 0
UNION ALL
SELECT 'delayed_transfers_of_care_' || responsible, area, in_month, NULL, sum(days), 0
FROM delays GROUP BY ALL HAVING sum(days) > 0
"""

CARE_HOMES_SCAN = """
SELECT area_code AS area, month_number(admission_date) AS admitted,
  count(*) FILTER (WHERE age >= 65 AND funding IN ('council', 'joint')
    AND previous_setting NOT IN ('residential', 'nursing')) AS supported
FROM {source}
GROUP BY ALL
"""

CARE_HOMES_CELLS = """
SELECT 'care_home_admissions_65_plus', area, admitted, NULL, supported, 0
FROM care_homes WHERE supported > 0
"""

REABLEMENT_SCAN = """
SELECT area_code AS area, month_number(discharge_date) AS discharged,
  count(*) FILTER (WHERE age >= 65 AND status_91_days = 'at_home') AS at_home,
  count(*) FILTER (WHERE age >= 65) AS older
FROM {source}
GROUP BY ALL
"""

REABLEMENT_CELLS = """
SELECT 'reablement_91_days', area, discharged, NULL, at_home, older
FROM reablement WHERE older > 0
"""

SURVEY_SCAN = """
SELECT area_code AS area, month_number(response_date) AS answered,
  count(*) FILTER (WHERE question = 'care_coordination' AND positive = 1) AS positive,
  count(*) FILTER (WHERE question = 'care_coordination') AS answers
FROM {source}
GROUP BY ALL
"""

SURVEY_CELLS = """
SELECT 'patient_experience', area, answered, NULL, positive, answers
FROM survey WHERE answers > 0
"""


@dataclass(frozen=True, slots=True)
class HandWritten:
    """One kind's hand-written SQL: the scan into ``table``, its metrics' cells, and which
    month column dates each metric."""

    kind: RecordKind
    table: str
    scan: str
    cells: str
    dated_by: dict[str, str]


_DELAY_METRICS = ("", "_nhs", "_social_care", "_both")

HANDWRITTEN: tuple[HandWritten, ...] = (
    HandWritten(
        SPELLS,
        "spells",
        SPELLS_SCAN,
        SPELLS_CELLS,
        {
            "non_elective_admissions": "admitted",
            "non_elective_admissions_rate": "admitted",
            "avoidable_admissions": "admitted",
            "falls_admissions_65_plus": "admitted",
            "discharge_to_usual_residence": "discharged",
        },
    ),
    HandWritten(
        DELAYS,
        "delays",
        DELAYS_SCAN,
        DELAYS_CELLS,
        {f"delayed_transfers_of_care{suffix}": "in_month" for suffix in _DELAY_METRICS},
    ),
    HandWritten(
        CARE_HOME_ADMISSIONS,
        "care_homes",
        CARE_HOMES_SCAN,
        CARE_HOMES_CELLS,
        {"care_home_admissions_65_plus": "admitted"},
    ),
    HandWritten(
        REABLEMENT,
        "reablement",
        REABLEMENT_SCAN,
        REABLEMENT_CELLS,
        {"reablement_91_days": "discharged"},
    ),
    HandWritten(
        SURVEY_RESPONSES, "survey", SURVEY_SCAN, SURVEY_CELLS, {"patient_experience": "answered"}
    ),
)


def handwritten_counts(data: Path) -> EventCounts:
    """Every metric's counts from the hand-written SQL."""
    cells: list[Cell] = []
    spans: Spans = {}
    with duckdb.connect(config={"preserve_insertion_order": False}) as db:
        db.execute(MONTH_MACRO)
        for sql in HANDWRITTEN:
            files = kind_files(data, sql.kind)
            if not files:
                continue
            scan = sql.scan.format(source=parquet(files))
            db.execute(f"CREATE OR REPLACE TEMP TABLE {sql.table} AS {scan}")
            cells += db.sql(sql.cells).fetchall()
            for metric, column in sql.dated_by.items():
                query = f"SELECT min({column}), max({column}) FROM {sql.table}"
                low, high = db.sql(query).fetchall()[0]
                if low is not None:
                    spans[metric] = (low, high)
    return event_counts(cells, spans)


# --------------------------------------------------------------------------------------------
# (b) pandas, as an analyst would write it


def pandas_counts(data: Path) -> EventCounts:
    """Every metric's counts with pandas: read the columns, filter, group, count."""
    cells: list[Cell] = []
    spans: Spans = {}
    for count in PANDAS_KINDS:
        count(data, cells, spans)
    return event_counts(cells, spans)


def _read(data: Path, kind: RecordKind, columns: list[str]) -> pd.DataFrame | None:
    if not kind_files(data, kind):
        return None
    return pd.read_parquet(data / kind.name, columns=columns)


def _month_numbers(dates: pd.Series) -> pd.Series:
    moments = pd.to_datetime(dates)
    return moments.dt.year * 12 + moments.dt.month - 1


def _span(metric: str, months: pd.Series, spans: Spans) -> None:
    if months.notna().any():
        spans[metric] = (int(months.min()), int(months.max()))


def _pandas_spells(data: Path, cells: list[Cell], spans: Spans) -> None:
    columns = ["area_code", "admission_date", "discharge_date", "age", "admission_method"]
    columns += ["primary_diagnosis", "secondary_diagnoses", "discharge_destination"]
    spells = _read(data, SPELLS, columns)
    if spells is None:
        return
    frame = pd.DataFrame(
        {
            "area": spells["area_code"],
            "admitted": _month_numbers(spells["admission_date"]),
            "discharged": _month_numbers(spells["discharge_date"]),
            "band": spells["age"].clip(upper=90) // 5 * 5,
        }
    )
    emergency = spells["admission_method"] == "non_elective"
    diagnosis = spells["primary_diagnosis"].str.replace(".", "", regex=False)
    secondary = spells["secondary_diagnoses"].fillna("").str.replace(".", "", regex=False)
    acsc = emergency & _acsc(diagnosis, secondary)
    falls = emergency & (spells["age"] >= 65)
    falls &= diagnosis.str.startswith(_prefixes(INJURY_CODES))
    falls &= _any_listed(secondary, FALLS_CODES)
    alive = spells["discharge_destination"] != "died"
    home = spells["discharge_destination"] == "usual_residence"
    admitted, banded = ["area", "admitted"], ["area", "admitted", "band"]
    cells += _counted("non_elective_admissions", frame[emergency], admitted)
    cells += _counted("non_elective_admissions_rate", frame[emergency], admitted)
    cells += _counted("avoidable_admissions", frame[acsc], banded)
    cells += _counted("falls_admissions_65_plus", frame[falls], banded)
    cells += _percentage("discharge_to_usual_residence", frame, ["area", "discharged"], home, alive)
    for metric in SPELLS_BY_ADMISSION:
        _span(metric, frame["admitted"], spans)
    _span("discharge_to_usual_residence", frame["discharged"], spans)


SPELLS_BY_ADMISSION = (
    "non_elective_admissions",
    "non_elective_admissions_rate",
    "avoidable_admissions",
    "falls_admissions_65_plus",
)


def _acsc(primary: pd.Series, secondary: pd.Series) -> pd.Series:
    """Chronic ACSC primary diagnoses, hepatitis B without sickle-cell disease, and acute
    bronchitis with COPD (primary and secondary diagnoses without their dots)."""
    listed = primary.str.startswith(_prefixes(CHRONIC_ACSC_CODES))
    hepatitis = primary.str.startswith(_prefixes(HEPATITIS_B_CODES))
    hepatitis &= ~_any_listed(secondary, SICKLE_CELL_CODES)
    bronchitis = primary.str.startswith(_prefixes(ACUTE_BRONCHITIS_CODES))
    bronchitis &= _any_listed(secondary, COPD_CODES)
    return listed | hepatitis | bronchitis


def _any_listed(secondary: pd.Series, codes: tuple[str, ...]) -> pd.Series:
    """Whether some code of each list (dots removed) starts with one of ``codes``."""
    return secondary.str.contains(f"(?:^|;)(?:{'|'.join(_prefixes(codes))})", regex=True)


def _prefixes(codes: tuple[str, ...]) -> tuple[str, ...]:
    """The ICD-10 prefixes (without dots) that match ``codes``, as the definitions read them."""
    return DiagnosisIn("primary_diagnosis", codes).prefixes


def _pandas_delays(data: Path, cells: list[Cell], spans: Spans) -> None:
    delays = _read(data, DELAYS, ["area_code", "month", "responsible", "delayed_days", "age"])
    if delays is None:
        return
    delays["in_month"] = _month_numbers(delays["month"])
    adults = delays[delays["age"] >= 18].rename(columns={"area_code": "area"})
    cells += _days("delayed_transfers_of_care", adults, ["area", "in_month"])
    for responsible, rows in adults.groupby("responsible"):
        cells += _days(f"delayed_transfers_of_care_{responsible}", rows, ["area", "in_month"])
    for suffix in _DELAY_METRICS:
        _span(f"delayed_transfers_of_care{suffix}", delays["in_month"], spans)


def _pandas_care_homes(data: Path, cells: list[Cell], spans: Spans) -> None:
    columns = ["area_code", "admission_date", "age", "funding", "previous_setting"]
    homes = _read(data, CARE_HOME_ADMISSIONS, columns)
    if homes is None:
        return
    homes["admitted"] = _month_numbers(homes["admission_date"])
    supported = (homes["age"] >= 65) & homes["funding"].isin(["council", "joint"])
    supported &= ~homes["previous_setting"].isin(["residential", "nursing"])
    rows = homes[supported].rename(columns={"area_code": "area"})
    cells += _counted("care_home_admissions_65_plus", rows, ["area", "admitted"])
    _span("care_home_admissions_65_plus", homes["admitted"], spans)


def _pandas_reablement(data: Path, cells: list[Cell], spans: Spans) -> None:
    columns = ["area_code", "discharge_date", "age", "status_91_days"]
    episodes = _read(data, REABLEMENT, columns)
    if episodes is None:
        return
    frame = pd.DataFrame(
        {"area": episodes["area_code"], "discharged": _month_numbers(episodes["discharge_date"])}
    )
    older = episodes["age"] >= 65
    home = older & (episodes["status_91_days"] == "at_home")
    cells += _percentage("reablement_91_days", frame, ["area", "discharged"], home, older)
    _span("reablement_91_days", frame["discharged"], spans)


def _pandas_survey(data: Path, cells: list[Cell], spans: Spans) -> None:
    columns = ["area_code", "response_date", "question", "positive"]
    answers = _read(data, SURVEY_RESPONSES, columns)
    if answers is None:
        return
    frame = pd.DataFrame(
        {"area": answers["area_code"], "answered": _month_numbers(answers["response_date"])}
    )
    asked = answers["question"] == "care_coordination"
    positive = asked & (answers["positive"] == 1)
    cells += _percentage("patient_experience", frame, ["area", "answered"], positive, asked)
    _span("patient_experience", frame["answered"], spans)


PANDAS_KINDS = (
    _pandas_spells,
    _pandas_delays,
    _pandas_care_homes,
    _pandas_reablement,
    _pandas_survey,
)


def _counted(metric: str, rows: pd.DataFrame, keys: list[str]) -> list[Cell]:
    """Rows counted by area, month and (when given) band."""
    return [_cell(metric, key, int(n), 0) for key, n in rows.groupby(keys).size().items()]


def _days(metric: str, rows: pd.DataFrame, keys: list[str]) -> list[Cell]:
    """Delayed days added up by area and month (cells with none left out)."""
    sums = rows.groupby(keys)["delayed_days"].sum()
    return [_cell(metric, key, int(n), 0) for key, n in sums.items() if n]


def _percentage(
    metric: str, frame: pd.DataFrame, keys: list[str], numerator: pd.Series, denominator: pd.Series
) -> list[Cell]:
    """Rows passing ``denominator`` counted, beside those passing ``numerator`` (among them)."""
    totals = frame[denominator].groupby(keys).size()
    passing = frame[numerator].groupby(keys).size().reindex(totals.index, fill_value=0)
    return [
        _cell(metric, key, int(n), int(d))
        for (key, n), d in zip(passing.items(), totals, strict=True)
    ]


def _cell(metric: str, key: Hashable, numerator: int, denominator: int) -> Cell:
    """A cell from a group's key: (area, month) or (area, month, band)."""
    area, month, *band = cast(tuple[Any, ...], key)
    return (metric, str(area), int(month), int(band[0]) if band else None, numerator, denominator)


# --------------------------------------------------------------------------------------------
# Counts for finalise


def month_start(number: int) -> dt.date:
    return dt.date(number // 12, number % 12 + 1, 1)


def event_counts(cells: Iterable[Cell], spans: Spans) -> EventCounts:
    """Cells (a standardised metric's one per band) as the tallies ``finalise`` takes."""
    bands = {d.id: [band.age_from for band in d.standard_bands] for d in catalogue()}
    gathered: dict[CountKey, list[int]] = {}
    for metric, area, month, band, numerator, denominator in cells:
        key = CountKey(metric, area, month_start(month))
        cell = gathered.setdefault(key, [0, 0] + [0] * len(bands[metric]))
        cell[0] += numerator
        cell[1] += denominator
        if band is not None:
            cell[2 + bands[metric].index(band)] += numerator
    tallies = {
        key: Tally(numerator, denominator, tuple(by_band))
        for key, (numerator, denominator, *by_band) in gathered.items()
        if numerator or denominator
    }
    months = {
        metric: (month_start(low), month_start(high)) for metric, (low, high) in spans.items()
    }
    return EventCounts(tallies, months)


# --------------------------------------------------------------------------------------------
# Measuring


@dataclass(frozen=True, slots=True)
class Run:
    """One measured run: wall seconds, CPU seconds (every thread of the process), peak RSS
    in MB (with any process it started), and the one-minute load average when it ended."""

    seconds: float
    cpu: float
    peak_mb: float
    load: float


def in_child(step: Callable[..., Any], *args: Any) -> tuple[Any, Run]:
    """Run one step in a fresh spawned process: its result and how it ran."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        result, seconds, cpu, peak = pool.apply(_measured, (step, *args))
    return result, Run(seconds, cpu, peak, os.getloadavg()[0])


def _measured(step: Callable[..., Any], *args: Any) -> tuple[Any, float, float, float]:
    """Time one step. Its standard output is dropped: DuckDB draws a progress bar there for
    any query that runs over two seconds."""
    cpu_before = _cpu()
    started = time.perf_counter()
    with output_to(Path(os.devnull), 1):
        result = step(*args)
    seconds = time.perf_counter() - started
    return result, seconds, _cpu() - cpu_before, peak_mb()


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_mb() -> float:
    """This process's peak RSS, plus the peaks of the processes it started: those still
    running (Spark's JVM) and the largest that has ended (ingest's workers, if any)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    ended = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + ended + sum(_peak_kib(pid) for pid in _descendants())) * 1024 / 1e6


def _descendants() -> list[int]:
    children: dict[int, list[int]] = defaultdict(list)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children[parent].append(int(stat.parent.name))
    found, waiting = [], list(children[os.getpid()])
    while waiting:
        pid = waiting.pop()
        found.append(pid)
        waiting += children[pid]
    return found


def _peak_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"


# --------------------------------------------------------------------------------------------
# The run


IMPLEMENTATIONS: tuple[tuple[str, Callable[..., Any]], ...] = (
    ("carepool (DuckDB engine)", carepool_values),
    ("hand-written DuckDB SQL", handwritten_values),
    ("pandas", pandas_values),
    ("scan floor (DuckDB)", scan_floor),
)


def prepare(work: Path, scale: float, area_codes: set[str]) -> Path:
    """Generate and ingest the year under ``work``; the data directory."""
    raw, data = work / "raw", work / "data"
    print(f"generating the synthetic national year at scale {scale:g} ({load()})…", flush=True)
    rows, run = in_child(generate, raw, scale)
    made = ", ".join(f"{kind} {n:,}" for kind, n in rows.items())
    print(f"  {sum(rows.values()):,} rows ({made}) in {run.seconds:.1f} s, CPU {run.cpu:.1f} s")
    print(f"ingesting and pseudonymising ({load()})…", flush=True)
    (read, quarantined, people), run = in_child(ingest, raw, data, area_codes)
    print(
        f"  {read:,} rows ({quarantined:,} quarantined), {people:,} people, in {run.seconds:.1f} s"
        f" = {read / run.seconds:,.0f} rows/s; CPU {run.cpu:.1f} s; peak {run.peak_mb:,.0f} MB;"
        f" load {run.load:.2f}\n  target < {INGEST_TARGET_SECONDS:.0f} s:"
        f" {_met(run.seconds < INGEST_TARGET_SECONDS)}"
    )
    return data


def time_implementations(
    data: Path, population: list[PopulationCount]
) -> tuple[dict[str, list[Run]], dict[str, Any]]:
    """Each implementation ``REPEATS`` times, interleaved; every run, and each one's values."""
    runs: dict[str, list[Run]] = defaultdict(list)
    values: dict[str, Any] = {}
    for repeat in range(1, REPEATS + 1):
        for name, step in IMPLEMENTATIONS:
            values[name], run = in_child(step, data, population)
            runs[name].append(run)
            print(
                f"  run {repeat}/{REPEATS} {name:<26}{run.seconds:>8.2f} s  CPU {run.cpu:>7.2f} s"
                f"  peak {run.peak_mb:>6,.0f} MB  load {run.load:.2f}",
                flush=True,
            )
    return runs, values


def check_identical(values: dict[str, Any]) -> int:
    """1 if the hand-written SQL or pandas gave different values from carepool's."""
    expected = values[IMPLEMENTATIONS[0][0]]
    status = 0
    for name, _step in IMPLEMENTATIONS[1:3]:
        same = values[name] == expected
        print(f"{name}: {len(values[name]):,} values, identical to carepool's: {_yes(same)}")
        if not same:
            status = 1
            _show_difference(values[name], expected)
    return status


def _show_difference(found: list[MetricValue], expected: list[MetricValue]) -> None:
    missing, extra = set(expected) - set(found), set(found) - set(expected)
    print(f"  {len(missing):,} of carepool's values missing, {len(extra):,} others instead")
    for value in sorted(missing, key=str)[:5]:
        print(f"  carepool: {value}")
    for value in sorted(extra, key=str)[:5]:
        print(f"  instead:  {value}")


def _yes(flag: bool) -> str:
    return "yes" if flag else "NO"


def report(runs: dict[str, list[Run]]) -> None:
    print(f"\n{'best of ' + str(REPEATS):<28}{'seconds':>9}{'CPU s':>9}{'peak MB':>9}")
    best = {name: _best(r) for name, r in runs.items()}
    for name, (seconds, cpu, peak) in best.items():
        print(f"{name:<28}{seconds:>9.2f}{cpu:>9.2f}{peak:>9,.0f}")
    names = [name for name, _ in IMPLEMENTATIONS]
    carepool, hand, pandas, floor = (best[name] for name in names)
    print()
    target = f"≤ {HANDWRITTEN_TARGET}×"
    _ratio("carepool ÷ hand-written SQL", carepool, hand, target, lambda r: r <= HANDWRITTEN_TARGET)
    print(f"  the same, round by round: {_rounds(runs[names[0]], runs[names[1]])}")
    _ratio(
        "pandas ÷ carepool", pandas, carepool, f"≥ {PANDAS_TARGET:g}×", lambda r: r >= PANDAS_TARGET
    )
    print(f"  the same, round by round: {_rounds(runs[names[2]], runs[names[0]])}")
    _ratio("carepool ÷ scan floor", carepool, floor)
    print(
        f"carepool peak memory {carepool[2]:,.0f} MB (target < {MEMORY_TARGET_MB:,.0f} MB):"
        f" {_met(carepool[2] < MEMORY_TARGET_MB)}"
    )


def _rounds(top: list[Run], bottom: list[Run]) -> str:
    """Each round's ratio, wall and CPU: runs next to each other met much the same load."""
    pairs = zip(top, bottom, strict=True)
    return ", ".join(f"{a.seconds / b.seconds:.2f}× ({a.cpu / b.cpu:.2f}× CPU)" for a, b in pairs)


Best = tuple[float, float, float]


def _best(runs: list[Run]) -> Best:
    """Fastest wall time, least CPU time, largest peak memory."""
    return min(r.seconds for r in runs), min(r.cpu for r in runs), max(r.peak_mb for r in runs)


def _ratio(
    label: str,
    top: Best,
    bottom: Best,
    target: str = "",
    meets: Callable[[float], bool] | None = None,
) -> None:
    wall, cpu = top[0] / bottom[0], top[1] / bottom[1]
    line = f"{label}: {wall:.2f}× wall, {cpu:.2f}× CPU"
    if meets is not None:
        line += f" (target {target}): wall {_met(meets(wall))}, CPU {_met(meets(cpu))}"
    print(line)


def _met(flag: bool) -> str:
    return "met" if flag else "MISSED"


def run_spark(data: Path, population: list[PopulationCount], expected: Any, log: Path) -> int:
    print(f"\nSpark, local[2] ({load()})…", flush=True)
    (values, startup), run = in_child(spark_values, data, population, log)
    same = values == expected
    print(
        f"Spark: {run.seconds - startup:.1f} s computing (+ {startup:.1f} s starting its "
        f"session); peak {run.peak_mb:,.0f} MB with its JVM; load {run.load:.2f}\n"
        f"Spark: {len(values):,} values, identical to DuckDB's: {_yes(same)}"
    )
    if not same:
        _show_difference(values, expected)
    return 0 if same else 1


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark as the command line asks (``--scale``, ``--keep``, ``--skip-spark``)."""
    options = _arguments(argv or [])
    return run(lambda: measure(options))


def measure(options: argparse.Namespace) -> int:
    work = options.keep or Path(tempfile.mkdtemp(prefix="carepool-bench-metrics-"))
    try:
        return _run(work, options.scale, options.skip_spark)
    finally:
        if options.keep is None:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept the raw files and data directory in {work}")


def _run(work: Path, scale: float, skip_spark: bool) -> int:
    print(f"metrics benchmark: {YEAR}, seed {SEED}; {load()}")
    area_codes, population = areas_and_population(SEED)
    data = prepare(work, scale, area_codes)
    print(f"\ncomputing {len(catalogue())} metrics for {len(area_codes)} areas, four ways…")
    runs, values = time_implementations(data, population)
    report(runs)
    status = check_identical(values)
    if not skip_spark:
        status |= run_spark(data, population, values[IMPLEMENTATIONS[0][0]], work / "spark.log")
    print(f"\n{load()}")
    return status


def _arguments(argv: list[str]) -> argparse.Namespace:
    parsing = parser("benchmarks.metrics", __doc__)
    parsing.add_argument("--scale", type=float, default=1.0, help="share of a national year")
    parsing.add_argument("--keep", type=Path, metavar="DIR", help="work in DIR and keep it")
    parsing.add_argument("--skip-spark", action="store_true", help="leave Spark out")
    return parsing.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
