"""The default engine: DuckDB over the Parquet files, one aggregate query per record kind.

Each kind's metrics compile (see :mod:`carepool.engines.plan`) to a single
``SELECT … GROUP BY`` over ``read_parquet`` that reads only the columns the metrics need
and computes every numerator and denominator as a filtered aggregate in the same pass. Its
result, a few thousand rows however large the input, goes into a temporary table, from
which a second, small query adds up each metric by area and month (a standardised
metric's bands side by side) and a third finds the months spanned. So memory stays small
and Python handles one row per metric, area and month, never a record. Quarters and years
are added up from months by :func:`carepool.domain.metric.finalise`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import cast

import duckdb

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
    MetricPlan,
    aggregate_key,
    code_list_pattern,
    diagnosis_pattern,
    month_key,
    month_start,
    plans,
)

GROUPED = "grouped"


class DuckDBEngine:
    """Counts with an in-process DuckDB database, using every core unless told otherwise."""

    name = "duckdb"

    def __init__(self, *, threads: int | None = None) -> None:
        self._threads = threads

    def count(self, data_dir: Path, definitions: Sequence[MetricDefinition]) -> EventCounts:
        tallies: dict[CountKey, Tally] = {}
        months: dict[str, tuple[dt.date, dt.date]] = {}
        with duckdb.connect(config=self._config()) as connection:
            connection.execute("SET enable_progress_bar = false")  # stdout is the caller's
            for plan in plans(definitions):
                files = readable_files(data_dir, plan.kind, plan.columns)
                if not files:
                    continue
                connection.execute(
                    f"CREATE OR REPLACE TEMP TABLE {GROUPED} AS {query(plan, files)}"
                )
                _read_cells(connection.sql(cells_query(plan)).fetchall(), tallies)
                _read_spans(plan, connection.sql(spans_query(plan)).fetchall()[0], months)
        return EventCounts(tallies, months)

    def _config(self) -> dict[str, str | bool | int | float | list[str]]:
        config: dict[str, str | bool | int | float | list[str]] = {
            "preserve_insertion_order": False
        }
        if self._threads is not None:
            config["threads"] = self._threads
        return config


_Cell = tuple[str, str, int, int, int, list[int]]


def _read_cells(rows: list[tuple[object, ...]], tallies: dict[CountKey, Tally]) -> None:
    """Rows of :func:`cells_query` into tallies."""
    starts: dict[int, dt.date] = {}
    for row in rows:
        metric, area, month, numerator, denominator, bands = cast(_Cell, row)
        start = starts.get(month) or starts.setdefault(month, month_start(month))
        tallies[CountKey(metric, area, start)] = Tally(numerator, denominator, tuple(bands))


def _read_spans(
    plan: KindPlan, spans: tuple[object, ...], months: dict[str, tuple[dt.date, dt.date]]
) -> None:
    """The row of :func:`spans_query` into each metric's first and last month."""
    for metric in plan.metrics:
        low, high = spans[2 * metric.date], spans[2 * metric.date + 1]
        if isinstance(low, int) and isinstance(high, int):
            months[metric.definition.id] = (month_start(low), month_start(high))


def query(plan: KindPlan, files: Sequence[Path]) -> str:
    """The one SQL query that computes every metric of ``plan``'s kind from ``files``."""
    keys = [f"{_name(AREA)} AS {AREA_KEY}"]
    keys += [f"{_month(date)} AS {month_key(i)}" for i, date in enumerate(plan.dates)]
    if plan.banded:
        oldest = OLDEST_BAND_FROM // BAND_WIDTH
        keys.append(f"least({_name(AGE)} // {BAND_WIDTH}, {oldest}) * {BAND_WIDTH} AS {BAND_KEY}")
    aggregates = [
        f"CAST(coalesce({_aggregate(aggregate)}, 0) AS BIGINT) AS {aggregate_key(i)}"
        for i, aggregate in enumerate(plan.aggregates)
    ]
    source = f"read_parquet([{', '.join(_text(str(path)) for path in files)}])"
    columns = ",\n  ".join([*keys, *aggregates])
    group = ", ".join(str(position) for position in range(1, len(keys) + 1))
    return f"SELECT\n  {columns}\nFROM {source}\nGROUP BY {group}"


def cells_query(plan: KindPlan) -> str:
    """Each metric's counts by area and month, from the grouped table, in one result."""
    return "\nUNION ALL\n".join(_metric_cells(metric) for metric in plan.metrics)


def _metric_cells(metric: MetricPlan) -> str:
    month = month_key(metric.date)
    numerator = f"sum({aggregate_key(metric.numerator)})"
    denominator = "0"
    if metric.denominator is not None:
        denominator = f"sum({aggregate_key(metric.denominator)})"
    bands = ", ".join(
        f"coalesce(sum({aggregate_key(metric.numerator)}) FILTER (WHERE {BAND_KEY} = {band}), 0)"
        for band in metric.bands
    )
    return (
        f"SELECT {_text(metric.definition.id)}, {AREA_KEY}, {month}, "
        f"CAST({numerator} AS BIGINT), CAST({denominator} AS BIGINT), "
        f"CAST([{bands}] AS BIGINT[])\n"
        f"FROM {GROUPED} WHERE {AREA_KEY} IS NOT NULL AND {month} IS NOT NULL\n"
        f"GROUP BY {AREA_KEY}, {month} HAVING {numerator} <> 0 OR {denominator} <> 0"
    )


def spans_query(plan: KindPlan) -> str:
    """The first and last month of each date, over every record of the kind."""
    spans = ", ".join(f"min({month_key(i)}), max({month_key(i)})" for i in range(len(plan.dates)))
    return f"SELECT {spans} FROM {GROUPED}"


def _aggregate(aggregate: Aggregate) -> str:
    """The aggregate with its filter (see :func:`all_of`)."""
    value = "count(*)" if aggregate.column is None else f"sum({_name(aggregate.column)})"
    if not aggregate.where:
        return value
    return f"{value} FILTER (WHERE {all_of(aggregate.where)})"


def all_of(conditions: Sequence[Condition]) -> str:
    """Every condition, the costly ones tested only on rows that pass all cheaper ones.

    DuckDB evaluates every term of an ``AND`` in a filter on every row, and a diagnosis
    pattern costs far more than a comparison (a pattern over a list of codes, or a choice
    between alternatives, more again), so each step of cost goes behind a ``CASE`` that
    reaches it only for rows the cheaper conditions let through. A missing value makes a
    comparison NULL, which a ``CASE`` treats as false, as a filter does.
    """
    steps: dict[int, list[str]] = {}
    for c in _without_implied(conditions):
        steps.setdefault(_cost(c), []).append(condition(c))
    tests = [" AND ".join(steps[cost]) for cost in sorted(steps)]
    test = tests.pop()
    for guard in reversed(tests):
        test = f"CASE WHEN {guard} THEN {test} ELSE false END"
    return test


def _without_implied(conditions: Sequence[Condition]) -> list[Condition]:
    """The conditions less any that another implies, which need not be tested again: a
    percentage's numerator carries its denominator's conditions too, so "discharged to
    their usual residence" comes with "did not die", which it implies. A missing value
    fails both alike."""
    fixed = {c.column: set(c.values) for c in conditions if isinstance(c, OneOf)}
    return [
        c
        for c in conditions
        if not (isinstance(c, NoneOf) and c.column in fixed and not fixed[c.column] & set(c.values))
    ]


def _cost(c: Condition) -> int:
    """How dear a condition is to test, in steps: comparisons, one pattern, several."""
    if isinstance(c, AnyOf):
        return 3
    if isinstance(c, AnyDiagnosisIn | NoDiagnosisIn):
        return 2
    return 1 if isinstance(c, DiagnosisIn) else 0


def any_of(c: AnyOf) -> str:
    """The first alternative that holds makes it true: a ``CASE`` tests each alternative
    only on the rows every earlier one failed, so none is tested once one has held.

    When every alternative tests the same diagnosis column (the chronic ACSC list, its
    hepatitis B and its acute bronchitis), one pattern for all their codes goes first, so
    the rows that can pass none (most of them) meet one pattern, not one per alternative.
    """
    whens = " ".join(f"WHEN {all_of(group)} THEN true" for group in c.alternatives)
    chain = f"(CASE {whens} ELSE false END)"
    guard = _shared_diagnosis(c)
    return chain if guard is None else f"CASE WHEN {condition(guard)} THEN {chain} ELSE false END"


def _shared_diagnosis(c: AnyOf) -> DiagnosisIn | None:
    """A diagnosis condition every alternative implies: all their codes on the one column
    each alternative tests with :class:`DiagnosisIn`, if there is such a column."""
    tests = [[d for d in group if isinstance(d, DiagnosisIn)] for group in c.alternatives]
    columns = {d.column for group in tests for d in group}
    if len(columns) != 1 or not all(tests):
        return None
    codes = tuple(dict.fromkeys(code for group in tests for d in group for code in d.codes))
    return DiagnosisIn(columns.pop(), codes)


def _month(column: str) -> str:
    return f"year({_name(column)}) * 12 + month({_name(column)}) - 1"


def condition(c: Condition) -> str:
    """A condition as a SQL boolean; NULL (so not counted) wherever the value is missing,
    except that a missing list of codes holds none of :class:`NoDiagnosisIn`'s codes."""
    if isinstance(c, AnyOf):
        return any_of(c)
    column = _name(c.column)
    if isinstance(c, OneOf):
        if len(c.values) == 1:
            return f"{column} = {_text(c.values[0])}"
        return f"{column} IN ({_texts(c.values)})"
    if isinstance(c, NoneOf):
        if len(c.values) == 1:
            return f"{column} <> {_text(c.values[0])}"
        return f"{column} NOT IN ({_texts(c.values)})"
    if isinstance(c, InRange):
        if c.highest is None:
            return f"{column} >= {c.lowest}"
        return f"{column} BETWEEN {c.lowest} AND {c.highest}"
    if isinstance(c, DiagnosisIn):
        return f"regexp_matches({column}, {_text(diagnosis_pattern(c.prefixes))})"
    found = f"regexp_matches({column}, {_text(code_list_pattern(c.prefixes))})"
    return found if isinstance(c, AnyDiagnosisIn) else f"NOT coalesce({found}, false)"


def _name(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _texts(values: Sequence[str]) -> str:
    return ", ".join(_text(value) for value in values)
