"""How the set-based engines (DuckDB, Spark) turn definitions into one grouped scan per kind.

Every metric of one record kind is computed from a single pass over that kind's files: rows
are grouped by area, by the month of each date some metric uses, and (when a metric is
age-standardised) by ESP 2013 band, and each distinct numerator or denominator becomes one
conditional aggregate (``count(*) FILTER (WHERE …)``, ``sum(x) FILTER (WHERE …)``). Rows
failing every condition still form groups, with zero aggregates, which is how the first and
last month of the kind are found in the same pass.

The grouped result is small (areas × months × bands, whatever the number of records). It
is then added up per metric, by area and month, with a standardised metric's bands side
by side: DuckDB does this in SQL, and :meth:`KindPlan.tally` in Python for Spark.

Months travel as a whole number, ``year * 12 + month - 1``, which is cheaper to group on
than a date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from carepool.domain.metric import (
    Condition,
    CountEvents,
    CountKey,
    MetricDefinition,
    SumOf,
    Tally,
    columns_of,
)
from carepool.domain.person_level import LIST_SEPARATOR, RecordKind

AREA = "area_code"
AGE = "age"

#: Names of the grouped result's columns.
AREA_KEY = "area"
BAND_KEY = "band"


def month_key(index: int) -> str:
    return f"m{index}"


def aggregate_key(index: int) -> str:
    return f"a{index}"


@dataclass(frozen=True, slots=True)
class Aggregate:
    """One conditional aggregate: a count of rows, or the sum of ``column``, over ``where``."""

    column: str | None
    where: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class MetricPlan:
    """Which grouped columns hold a metric's numbers."""

    definition: MetricDefinition
    date: int  # index into KindPlan.dates
    numerator: int  # index into KindPlan.aggregates
    denominator: int | None
    bands: tuple[int, ...]  # first age of each standard band, if standardised


@dataclass(frozen=True, slots=True)
class KindPlan:
    """The one grouped scan that computes every metric of a record kind.

    A grouped row is :data:`AREA_KEY`, ``m0``… (the month of each of ``dates``),
    :data:`BAND_KEY` if ``banded``, then ``a0``… (each of ``aggregates``, a whole number,
    zero rather than null when no row passed).
    """

    kind: RecordKind
    dates: tuple[str, ...]
    banded: bool
    aggregates: tuple[Aggregate, ...]
    metrics: tuple[MetricPlan, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        """The only columns the scan needs to read."""
        names = dict.fromkeys((AREA, *self.dates))
        if self.banded:
            names[AGE] = None
        for aggregate in self.aggregates:
            for condition in aggregate.where:
                names.update(dict.fromkeys(columns_of(condition)))
            if aggregate.column is not None:
                names[aggregate.column] = None
        return tuple(names)

    @property
    def first_aggregate(self) -> int:
        """Position of ``a0`` in a grouped row."""
        return 1 + len(self.dates) + (1 if self.banded else 0)

    def tally(
        self,
        rows: Iterable[Sequence[object]],
        tallies: dict[CountKey, Tally],
        months: dict[str, tuple[dt.date, dt.date]],
    ) -> None:
        """Add grouped rows up per metric, area and month, into ``tallies`` and ``months``."""
        cells = _Cells(self)
        for row in rows:
            for metric in self.metrics:
                cells.add(metric, row)
        cells.into(tallies, months)


class _Cells:
    """Cells and month spans being added up from one plan's grouped rows."""

    def __init__(self, plan: KindPlan) -> None:
        self.first = plan.first_aggregate
        self.cells: dict[tuple[str, str, int], list[int]] = {}
        self.spans: dict[str, tuple[int, int]] = {}

    def add(self, metric: MetricPlan, row: Sequence[object]) -> None:
        if row[1 + metric.date] is None:
            return
        month = _whole(row[1 + metric.date])
        name = metric.definition.id
        low, high = self.spans.get(name, (month, month))
        self.spans[name] = (min(low, month), max(high, month))
        numerator = _whole(row[self.first + metric.numerator])
        denominator = 0
        if metric.denominator is not None:
            denominator = _whole(row[self.first + metric.denominator])
        if row[0] is None or (numerator == 0 and denominator == 0):
            return
        cell = self.cells.setdefault((name, str(row[0]), month), [0] * (2 + len(metric.bands)))
        cell[0] += numerator
        cell[1] += denominator
        if metric.bands:
            cell[2 + metric.bands.index(_whole(row[self.first - 1]))] += numerator

    def into(
        self, tallies: dict[CountKey, Tally], months: dict[str, tuple[dt.date, dt.date]]
    ) -> None:
        for (name, area, month), (numerator, denominator, *bands) in self.cells.items():
            if numerator == 0 and denominator == 0:
                continue
            key = CountKey(name, area, month_start(month))
            tallies[key] = Tally(numerator, denominator, tuple(bands))
        for name, (low, high) in self.spans.items():
            months[name] = (month_start(low), month_start(high))


def _whole(value: object) -> int:
    if not isinstance(value, int):
        raise TypeError(f"expected a whole number from the engine, got {value!r}")
    return value


def month_start(index: int) -> dt.date:
    """The first day of the month numbered ``year * 12 + month - 1``."""
    return dt.date(index // 12, index % 12 + 1, 1)


def plans(definitions: Sequence[MetricDefinition]) -> list[KindPlan]:
    """One plan per record kind, in the order the kinds first appear in ``definitions``."""
    by_kind: dict[str, list[MetricDefinition]] = {}
    for definition in definitions:
        by_kind.setdefault(definition.record_kind.name, []).append(definition)
    return [_plan(group) for group in by_kind.values()]


def _plan(definitions: list[MetricDefinition]) -> KindPlan:
    dates = tuple(dict.fromkeys(d.event_date for d in definitions))
    aggregates: dict[Aggregate, int] = {}

    def index_of(aggregate: Aggregate) -> int:
        return aggregates.setdefault(aggregate, len(aggregates))

    metrics = []
    for d in definitions:
        column = d.numerator.column if isinstance(d.numerator, SumOf) else None
        numerator = index_of(Aggregate(column, d.numerator_where))
        denominator = None
        if isinstance(d.denominator, CountEvents):
            denominator = index_of(Aggregate(None, d.denominator_where or ()))
        bands = tuple(band.age_from for band in d.standard_bands)
        metrics.append(MetricPlan(d, dates.index(d.event_date), numerator, denominator, bands))
    return KindPlan(
        kind=definitions[0].record_kind,
        dates=dates,
        banded=any(m.bands for m in metrics),
        aggregates=tuple(aggregates),
        metrics=tuple(metrics),
    )


def diagnosis_pattern(prefixes: Sequence[str]) -> str:
    """One anchored regular expression for every prefix: ``^(?:E1[0-4]|I24\\.?0|…)``.

    A prefix longer than three characters may have ICD-10's dot in fourth place, so
    ``I240`` is looked for as ``I24``, perhaps a dot, then ``0``: exactly the codes whose
    dot-less form starts with ``I240``. One expression is markedly faster in DuckDB than a
    list of prefix tests, and faster again written as a tree (see :func:`prefix_tree`).
    """
    return f"^{prefix_tree(prefixes)}"


def code_list_pattern(prefixes: Sequence[str]) -> str:
    """The same for a list of codes: a prefix at the start of the list or just after a
    separator, ``(?:^|;)J4[1-47]``, so it matches where some code of the list starts with
    it, as the reference engine finds by splitting the list."""
    return f"(?:^|{LIST_SEPARATOR}){prefix_tree(prefixes)}"


_DOT_BEFORE = 3  # ICD-10's dot comes before the fourth character

_Trie = dict[str, "_Trie"]


def prefix_tree(prefixes: Sequence[str]) -> str:
    """The prefixes as one regular expression that shares what they share: ``E10`` to
    ``E14`` become ``E1[0-4]``, ``S00`` to ``T98`` ``(?:S[0-9][0-9]|T(?:[0-8][0-9]|9[0-8]))``.

    DuckDB's regular expressions run measurably faster over the shared form than over a
    flat list of the same prefixes. None of the prefixes may start another (a
    :class:`~carepool.domain.metric.DiagnosisIn` keeps only the shortest).
    """
    trie: _Trie = {}
    for prefix in prefixes:
        node = trie
        for character in prefix:
            node = node.setdefault(character, {})
    return _branches(trie, 0)


def _branches(node: _Trie, depth: int) -> str:
    """The pattern for the characters at ``depth`` and after, below one node of the tree."""
    followed: dict[str, list[str]] = {}
    for character, child in sorted(node.items()):
        rest = ""
        if child:
            rest = ("\\.?" if depth + 1 == _DOT_BEFORE else "") + _branches(child, depth + 1)
        followed.setdefault(rest, []).append(character)
    parts = [_one_of(characters) + rest for rest, characters in followed.items()]
    return parts[0] if len(parts) == 1 else f"(?:{'|'.join(parts)})"


def _one_of(characters: list[str]) -> str:
    """One character, or a class of them with runs of three or more as ranges: ``[0-47]``."""
    if len(characters) == 1:
        return characters[0]
    runs: list[list[str]] = []
    for character in characters:
        if runs and ord(character) == ord(runs[-1][-1]) + 1:
            runs[-1].append(character)
        else:
            runs.append([character])
    written = (f"{run[0]}-{run[-1]}" if len(run) > 2 else "".join(run) for run in runs)
    return f"[{''.join(written)}]"
