"""The engines' shared plumbing: the data directory, engine choice and the DuckDB plan."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]
import pytest
from metric_tables import bands, single_years

from carepool.domain.errors import CarepoolError
from carepool.domain.metric import DiagnosisIn, MetricError
from carepool.domain.metric_catalogue import (
    CHRONIC_ACSC,
    FALLS_ADMISSIONS_65_PLUS,
    INJURY_CODES,
    catalogue,
)
from carepool.domain.person_level import RECORD_KINDS, SPELLS, RecordKind
from carepool.engines import ENGINES, compute, engine_named
from carepool.engines.data_directory import arrow_schema, kind_files, write_records
from carepool.engines.duckdb_engine import condition, query
from carepool.engines.plan import code_list_pattern, diagnosis_pattern, plans


@pytest.mark.parametrize("kind", RECORD_KINDS, ids=lambda kind: kind.name)
def test_written_records_have_the_kinds_columns_and_types(tmp_path: Path, kind: RecordKind) -> None:
    path = write_records(tmp_path, kind, [{"area_code": "E1"}])
    assert path == tmp_path / kind.name / "part-0.parquet"
    schema = pq.read_schema(path)
    assert schema.names == [c.name for c in kind.pseudonymised_columns()]
    assert schema.equals(arrow_schema(kind))
    assert "nhs_number" not in schema.names


def test_a_misspelt_column_is_refused_not_dropped(tmp_path: Path) -> None:
    with pytest.raises(CarepoolError, match="spells row 2: no such column admision_date"):
        write_records(tmp_path, SPELLS, [{"age": 1}, {"admision_date": dt.date(2015, 4, 1)}])
    assert kind_files(tmp_path, SPELLS) == []


def test_an_unknown_engine_is_named_with_the_choices() -> None:
    assert ENGINES == ("reference", "duckdb", "spark")
    with pytest.raises(CarepoolError, match="no metrics engine 'polars': use one of reference"):
        engine_named("polars")


def test_the_population_is_checked_before_any_data_is_read(tmp_path: Path) -> None:
    gappy = bands("E1", (0, 17, 10), (20, None, 5))
    with pytest.raises(MetricError, match="cannot be used for these metrics"):
        compute("duckdb", tmp_path / "no such directory", gappy)


def test_compute_without_any_data_gives_no_values(tmp_path: Path) -> None:
    assert compute("duckdb", tmp_path, single_years("E1")) == []


def test_each_kind_is_one_query_reading_only_the_columns_it_needs(tmp_path: Path) -> None:
    """Every spells metric comes from one grouped scan, which reads no identifier and no
    column no metric uses, with one filtered aggregate per numerator and denominator."""
    spells_plan = next(p for p in plans(catalogue()) if p.kind is SPELLS)
    assert set(spells_plan.columns) == {
        "area_code",
        "admission_date",
        "discharge_date",
        "age",
        "admission_method",
        "primary_diagnosis",
        "secondary_diagnoses",
        "discharge_destination",
    }
    assert len(plans(catalogue())) == 5
    sql = query(spells_plan, [tmp_path / "spells" / "part-0.parquet"])
    assert sql.count("read_parquet") == 1
    # 3 counts (the emergency admissions' count and rate share one), and a percentage's
    # numerator and denominator
    assert sql.count("FILTER") == 5
    assert "person_id" not in sql and "spell_id" not in sql


@pytest.mark.parametrize(
    ("codes", "pattern"),
    [
        (("J45",), "^J45"),
        (("E10-E14", "I24.0", "I24.8"), r"^(?:E1[0-4]|I24\.?[08])"),
        (INJURY_CODES, "^(?:S[0-9][0-9]|T(?:[0-8][0-9]|9[0-8]))"),
        (("I10", "I11.0", "I11.9", "I13.0"), r"^I1(?:0|1\.?[09]|3\.?0)"),
    ],
)
def test_diagnosis_codes_compile_to_one_pattern_sharing_their_prefixes(
    codes: tuple[str, ...], pattern: str
) -> None:
    """DuckDB runs a pattern written as a tree measurably faster than a flat list."""
    assert diagnosis_pattern(DiagnosisIn("primary_diagnosis", codes).prefixes) == pattern
    assert code_list_pattern(DiagnosisIn("primary_diagnosis", codes).prefixes) == (
        "(?:^|;)" + pattern[1:]
    )


def test_alternatives_on_one_diagnosis_column_are_tested_together_first() -> None:
    """Most rows match no code of any alternative, and meet one pattern only."""
    sql = condition(CHRONIC_ACSC)
    assert sql.startswith(
        'CASE WHEN regexp_matches("primary_diagnosis", \'^(?:B18\\.?[01]|D5(?:0\\.?[189]|[12])'
    )
    assert sql.count("WHEN") == 6  # the shared test, three alternatives, two with a second


def test_the_engines_package_imports_without_pyspark() -> None:
    """PySpark is a development dependency: importing the engines must not need it."""
    code = (
        "import sys; sys.modules['pyspark'] = None; import carepool.engines; "
        "from carepool.engines import spark_engine; print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.stdout.strip() == "ok", done.stderr


def test_files_breaking_the_contract_are_refused_by_every_engine(
    metrics_engine: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A file missing a column a metric needs, or holding it as the wrong type, is named
    with what is wrong before any engine reads it, and none of its values is quoted."""
    folder = tmp_path / "spells"
    folder.mkdir()
    pq.write_table(pa.table({"area_code": ["E1"], "age": ["70"]}), folder / "bad.parquet")
    spark = request.getfixturevalue("spark") if metrics_engine == "spark" else None
    with pytest.raises(
        CarepoolError, match="spells: the data directory's files cannot be used"
    ) as raised:
        compute(
            metrics_engine, tmp_path, single_years("E1"), [FALLS_ADMISSIONS_65_PLUS], spark=spark
        )
    messages = [problem.message for problem in raised.value.problems]
    assert "age is string, not int32" in messages
    assert "admission_date is missing, not date32[day]" in messages
    assert all(problem.file == str(folder / "bad.parquet") for problem in raised.value.problems)
    assert not any("70" in message for message in messages)
