"""Fixtures for the metric tests: every engine, and one Spark session for every Spark test.

``metrics_engine`` runs a test once per engine (the Spark case is marked ``spark`` and is
skipped when PySpark is not installed; under pytest-xdist every ``spark`` test runs on the same
worker, so only that worker starts a session). ``run`` writes the test's tables as a data
directory and computes the definitions on that engine.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from metric_tables import Run, rows

from carepool.domain.geography import PopulationCount
from carepool.domain.metric import MetricDefinition
from carepool.domain.metric_value import MetricValue
from carepool.domain.person_level import record_kind
from carepool.engines import compute
from carepool.engines.data_directory import write_records

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

ENGINE_CASES = [
    pytest.param("reference", id="reference"),
    pytest.param("duckdb", id="duckdb"),
    pytest.param("spark", id="spark", marks=pytest.mark.spark),
]


TINY_DATA = {
    "spark.sql.shuffle.partitions": "1",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
}


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """One local Spark session (two cores, no UI, 127.0.0.1 only) shared by every test."""
    pytest.importorskip("pyspark")
    from carepool.engines.spark_engine import local_session

    session = local_session(cores=2)
    session.sparkContext.setLogLevel("ERROR")
    # The tests' data are a few rows: compiling code for them, or re-planning them
    # adaptively, costs seconds per query and saves nothing.
    for key, value in TINY_DATA.items():
        session.conf.set(key, value)
    yield session
    session.stop()


@pytest.fixture(params=ENGINE_CASES)
def metrics_engine(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def run(metrics_engine: str, request: pytest.FixtureRequest, tmp_path: Path) -> Run:
    """``run(definitions, population, spells=TABLE, …)`` on the test's engine.

    Each keyword names a record kind and gives its records as a table.
    """
    session = request.getfixturevalue("spark") if metrics_engine == "spark" else None

    def computed(
        definitions: Sequence[MetricDefinition],
        population: Sequence[PopulationCount],
        **tables: str,
    ) -> list[MetricValue]:
        for name, text in tables.items():
            kind = record_kind(name)
            write_records(tmp_path, kind, rows(kind, text))
        return compute(metrics_engine, tmp_path, population, definitions, spark=session)

    return computed
