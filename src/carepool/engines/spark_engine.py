"""The national-scale engine: PySpark DataFrames, compiled as DuckDB's queries are.

Each kind's metrics become one ``groupBy(...).agg(...)`` over the kind's Parquet files,
with every numerator and denominator a conditional aggregate (``count(when(cond, 1))``,
``sum(when(cond, x))``), so Spark reads each file once and shuffles only the small grouped
result, which the driver then adds up per metric (:meth:`KindPlan.tally`). In production it
runs on the cluster's session; given none, it starts a local one that binds to 127.0.0.1
and serves no web UI.

PySpark is imported only when this engine runs, so carepool works without it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import reduce
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING

from carepool.domain.metric import (
    AnyDiagnosisIn,
    AnyOf,
    Condition,
    CountKey,
    DiagnosisIn,
    EventCounts,
    InRange,
    MetricDefinition,
    NoDiagnosisIn,
    NoneOf,
    OneOf,
    Tally,
)
from carepool.domain.standard_population import BAND_WIDTH, OLDEST_BAND_FROM
from carepool.engines.data_directory import readable_files
from carepool.engines.plan import (
    AGE,
    AREA,
    AREA_KEY,
    BAND_KEY,
    Aggregate,
    KindPlan,
    aggregate_key,
    code_list_pattern,
    month_key,
    plans,
)

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession


def local_session(cores: int = 2) -> SparkSession:
    """A local Spark session on this machine only, without the web UI."""
    from pyspark.sql import SparkSession

    builder: SparkSession.Builder = SparkSession.builder
    return (
        builder.master(f"local[{cores}]")
        .appName("carepool")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", str(cores * 2))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )


class SparkEngine:
    """Counts with Spark: the given session, or a local one started on first use."""

    name = "spark"

    def __init__(self, spark: SparkSession | None = None) -> None:
        self._spark = spark

    def count(self, data_dir: Path, definitions: Sequence[MetricDefinition]) -> EventCounts:
        if self._spark is None:
            self._spark = local_session()
        tallies: dict[CountKey, Tally] = {}
        months: dict[str, tuple[dt.date, dt.date]] = {}
        for plan in plans(definitions):
            files = readable_files(data_dir, plan.kind, plan.columns)
            if files:
                plan.tally(grouped(self._spark, plan, files).collect(), tallies, months)
        return EventCounts(tallies, months)


def grouped(spark: SparkSession, plan: KindPlan, files: Sequence[Path]) -> DataFrame:
    """The grouped DataFrame computing every metric of ``plan``'s kind from ``files``."""
    from pyspark.sql import functions as F

    frame = spark.read.parquet(*(str(path) for path in files)).select(*plan.columns)
    keys = [F.col(AREA).alias(AREA_KEY)]
    keys += [_month(date).alias(month_key(i)) for i, date in enumerate(plan.dates)]
    if plan.banded:
        band = F.least(F.floor(F.col(AGE) / BAND_WIDTH), F.lit(OLDEST_BAND_FROM // BAND_WIDTH))
        keys.append((band * BAND_WIDTH).alias(BAND_KEY))
    aggregates = [
        _aggregate(aggregate).alias(aggregate_key(i)) for i, aggregate in enumerate(plan.aggregates)
    ]
    return frame.groupBy(*keys).agg(*aggregates)


def _month(column: str) -> Column:
    from pyspark.sql import functions as F

    return F.year(F.col(column)) * 12 + F.month(F.col(column)) - 1


def _aggregate(aggregate: Aggregate) -> Column:
    from pyspark.sql import functions as F

    value = F.lit(1) if aggregate.column is None else F.col(aggregate.column)
    if aggregate.where:
        value = F.when(reduce(lambda a, b: a & b, map(condition, aggregate.where)), value)
    return F.count(value) if aggregate.column is None else F.coalesce(F.sum(value), F.lit(0))


def condition(c: Condition) -> Column:
    """A condition as a Spark column; null (so not counted) wherever the value is missing,
    except that a missing list of codes holds none of :class:`NoDiagnosisIn`'s codes."""
    from pyspark.sql import functions as F

    if isinstance(c, AnyOf):
        return _any_of(c)
    column = F.col(c.column)
    if isinstance(c, OneOf):
        return column.isin(list(c.values))
    if isinstance(c, NoneOf):
        return ~column.isin(list(c.values))
    if isinstance(c, InRange):
        low = column >= c.lowest
        return low if c.highest is None else low & (column <= c.highest)
    if isinstance(c, AnyDiagnosisIn):
        return column.rlike(code_list_pattern(c.prefixes))
    if isinstance(c, NoDiagnosisIn):
        return F.coalesce(~column.rlike(code_list_pattern(c.prefixes)), F.lit(True))
    return _diagnosis(c)


def _any_of(c: AnyOf) -> Column:
    """True where some alternative holds, else false (never null, as in the other engines)."""
    from pyspark.sql import functions as F

    groups = [reduce(lambda a, b: a & b, map(condition, group)) for group in c.alternatives]
    return F.coalesce(reduce(lambda a, b: a | b, groups), F.lit(False))


def _diagnosis(c: DiagnosisIn) -> Column:
    """Prefix tests grouped by length, also matching ICD-10's dot in fourth place."""
    from pyspark.sql import functions as F

    column = F.col(c.column)
    tests = []
    for length, group in groupby(sorted(c.prefixes, key=len), key=len):
        prefixes = list(group)
        tests.append(F.substring(column, 1, length).isin(prefixes))
        if length > 3:
            dotted = [f"{p[:3]}.{p[3:]}" for p in prefixes]
            tests.append(F.substring(column, 1, length + 1).isin(dotted))
    return reduce(lambda a, b: a | b, tests)
