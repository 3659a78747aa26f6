"""Metric execution engines: the reference oracle, DuckDB (default) and Spark.

An engine reads a data directory (see :mod:`carepool.engines.data_directory`) and returns
exact counts per metric, area, month and standard age band; it does no arithmetic on them.
:func:`compute` hands those counts to :func:`carepool.domain.metric.finalise`, so every
engine's figures come from the same few lines of exact arithmetic and can be compared for
equality, not closeness.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from carepool.domain.errors import CarepoolError
from carepool.domain.geography import PopulationCount
from carepool.domain.metric import (
    EventCounts,
    MetricDefinition,
    finalise,
    require_some_population,
)
from carepool.domain.metric_catalogue import catalogue
from carepool.domain.metric_value import MetricValue

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

ENGINES = ("reference", "duckdb", "spark")
DEFAULT_ENGINE = "duckdb"


class Engine(Protocol):
    """Counts events for metric definitions from a data directory."""

    name: str

    def count(self, data_dir: Path, definitions: Sequence[MetricDefinition]) -> EventCounts:
        """Exact counts for every definition; see :class:`EventCounts` for what is counted."""
        ...


def engine_named(name: str, *, spark: SparkSession | None = None) -> Engine:
    """The engine called ``name`` (one of :data:`ENGINES`)."""
    if name == "reference":
        from carepool.engines.reference import ReferenceEngine

        return ReferenceEngine()
    if name == "duckdb":
        from carepool.engines.duckdb_engine import DuckDBEngine

        return DuckDBEngine()
    if name == "spark":
        from carepool.engines.spark_engine import SparkEngine

        return SparkEngine(spark)
    raise CarepoolError(f"there is no metrics engine {name!r}: use one of {', '.join(ENGINES)}")


def compute(
    engine: str,
    data_dir: Path,
    population: Sequence[PopulationCount],
    definitions: Sequence[MetricDefinition] = catalogue(),
    *,
    spark: SparkSession | None = None,
) -> list[MetricValue]:
    """Every definition's value for every area in ``population``, month, quarter and year.

    The population is checked before any data is read, so a population that can serve no
    definition in any area fails at once; one that serves only some gets values for those
    (:func:`carepool.domain.metric.population_gaps` names the rest). Values are sorted by
    metric, area, grain and period.
    """
    require_some_population(definitions, population)
    counts = engine_named(engine, spark=spark).count(data_dir, definitions)
    return finalise(definitions, counts, population)
