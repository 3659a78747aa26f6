"""The reference engine: plain Python, one record and one definition at a time.

It is the oracle the other engines are tested against, so it favours being obviously right
over being fast, and shares nothing with them but the definitions: it reads the Parquet
files into dictionaries and asks of every record, for every metric, "is it in the
numerator? in the denominator? which month and band?". Use it for small data only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

from carepool.domain.metric import (
    AnyDiagnosisIn,
    AnyOf,
    ColumnCondition,
    Condition,
    CountKey,
    EventCounts,
    InRange,
    MetricDefinition,
    NoDiagnosisIn,
    NoneOf,
    OneOf,
    SumOf,
    Tally,
    normalise_icd10,
)
from carepool.domain.person_level import LIST_SEPARATOR, RecordKind
from carepool.domain.standard_population import band_from
from carepool.engines.data_directory import readable_files

Record = Mapping[str, object]


class ReferenceEngine:
    """Counts by looping over every record for every metric."""

    name = "reference"

    def count(self, data_dir: Path, definitions: Sequence[MetricDefinition]) -> EventCounts:
        tallies: dict[CountKey, Tally] = {}
        months: dict[str, tuple[dt.date, dt.date]] = {}
        by_kind: dict[str, list[MetricDefinition]] = {}
        for definition in definitions:
            by_kind.setdefault(definition.record_kind.name, []).append(definition)
        for group in by_kind.values():
            records = read_records(data_dir, group[0].record_kind, _columns(group))
            for definition in group:
                for record in records:
                    _count_record(definition, record, tallies, months)
        kept = {
            key: tally for key, tally in tallies.items() if tally.numerator or tally.denominator
        }
        return EventCounts(kept, months)


def _columns(definitions: Sequence[MetricDefinition]) -> tuple[str, ...]:
    names = ["area_code"]
    for definition in definitions:
        names += [definition.event_date, *definition.columns]
    return tuple(dict.fromkeys(names))


def read_records(data_dir: Path, kind: RecordKind, columns: Sequence[str]) -> list[Record]:
    """Every record of ``kind`` in the data directory, as dictionaries of ``columns``."""
    records: list[Record] = []
    for path in readable_files(data_dir, kind, columns):
        records += pq.read_table(path, columns=list(columns)).to_pylist()
    return records


def _count_record(
    definition: MetricDefinition,
    record: Record,
    tallies: dict[CountKey, Tally],
    months: dict[str, tuple[dt.date, dt.date]],
) -> None:
    """Add one record to one metric's counts (and to the months its kind spans)."""
    day = record[definition.event_date]
    if not isinstance(day, dt.date):
        return
    month = day.replace(day=1)
    first, last = months.get(definition.id, (month, month))
    months[definition.id] = (min(first, month), max(last, month))
    area = record["area_code"]
    if area is None:
        return
    numerator = _numerator(definition, record)
    denominator_where = definition.denominator_where
    denominator = 1 if denominator_where is not None and passes(denominator_where, record) else 0
    if numerator == 0 and denominator == 0:
        return
    key = CountKey(definition.id, str(area), month)
    old = tallies.get(key, Tally(0, 0, tuple(0 for _ in definition.standard_bands)))
    bands = list(old.bands)
    if bands and numerator:
        band = band_from(_whole(record["age"]))
        bands[[b.age_from for b in definition.standard_bands].index(band)] += numerator
    tallies[key] = Tally(old.numerator + numerator, old.denominator + denominator, tuple(bands))


def _numerator(definition: MetricDefinition, record: Record) -> int:
    """What one record adds to the numerator: 1, or its summed column, or nothing."""
    if not passes(definition.numerator_where, record):
        return 0
    if isinstance(definition.numerator, SumOf):
        value = record[definition.numerator.column]
        return 0 if value is None else _whole(value)
    return 1


def passes(conditions: Sequence[Condition], record: Record) -> bool:
    """Whether the record passes every condition; a missing value passes none, except that a
    missing list of codes has none of the codes :class:`NoDiagnosisIn` names."""
    return all(_holds(condition, record) for condition in conditions)


def _holds(condition: Condition, record: Record) -> bool:
    if isinstance(condition, AnyOf):
        return any(passes(group, record) for group in condition.alternatives)
    return _passes(condition, record[condition.column])


def _passes(condition: ColumnCondition, value: object) -> bool:
    if isinstance(condition, AnyDiagnosisIn | NoDiagnosisIn):
        codes = [] if value is None else str(value).split(LIST_SEPARATOR)
        found = any(_diagnosis_matches(condition.prefixes, code) for code in codes)
        return found if isinstance(condition, AnyDiagnosisIn) else not found
    if value is None:
        return False
    if isinstance(condition, OneOf):
        return value in condition.values
    if isinstance(condition, NoneOf):
        return value not in condition.values
    if isinstance(condition, InRange):
        number = _whole(value)
        return condition.lowest <= number and (
            condition.highest is None or number <= condition.highest
        )
    return _diagnosis_matches(condition.prefixes, str(value))


def _diagnosis_matches(prefixes: Sequence[str], code: str) -> bool:
    plain = normalise_icd10(code)
    return any(plain.startswith(prefix) for prefix in prefixes)


def _whole(value: object) -> int:
    if not isinstance(value, int):
        raise TypeError(f"expected a whole number, got {value!r}")
    return value
