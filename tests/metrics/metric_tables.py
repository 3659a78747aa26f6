"""Small ASCII tables for the metric tests: records in, values out.

A table is a header of column names and one line per row, cells separated by ``|``::

    admission_date | admission_method | age | area_code
    2015-04-02     | non_elective     | 70  | E1

Cells are read by the record kind's column types (dates in ISO 8601, whole numbers); a
blank cell is a missing value, and a column a table leaves out is missing in every row.
Anything after ``#`` on a line is a comment, so a row can say why it is there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from carepool.domain.geography import PopulationCount
from carepool.domain.metric_value import MetricValue
from carepool.domain.person_level import ColumnType, RecordKind

Row = dict[str, object]

#: ``run(definitions, population, spells=TABLE, …)``: the ``run`` fixture's type.
Run = Callable[..., list[MetricValue]]


def cells(text: str) -> list[list[str]]:
    """The table's lines (header first) split into stripped cells."""
    lines = [line.split("#", 1)[0].strip() for line in text.strip().splitlines()]
    return [[cell.strip() for cell in line.split("|")] for line in lines if line]


def rows(kind: RecordKind, text: str) -> list[Row]:
    """Records of ``kind`` from a table."""
    header, *body = cells(text)
    types = {column.name: column.type for column in kind.pseudonymised_columns()}
    return [
        {name: _value(types[name], cell) for name, cell in zip(header, line, strict=True)}
        for line in body
    ]


def _value(kind: ColumnType, cell: str) -> object:
    if cell == "":
        return None
    if kind in (ColumnType.DATE, ColumnType.MONTH):
        return dt.date.fromisoformat(cell)
    if kind is ColumnType.INTEGER:
        return int(cell)
    return cell


def expected(text: str) -> list[tuple[str, ...]]:
    """An expected-results table as tuples of text (its header is only for the reader)."""
    return [tuple(line) for line in cells(text)[1:]]


def shown(
    values: Sequence[MetricValue], metric: str, area: str | None = None
) -> list[tuple[str, ...]]:
    """One metric's values as ``(area, period, numerator, denominator, value)`` text tuples.

    The area is left out when ``area`` is given, and a missing denominator shows as ``-``.
    """
    result: list[tuple[str, ...]] = []
    for value in values:
        if value.metric != metric or (area is not None and value.area_code != area):
            continue
        line = (
            value.period,
            str(value.numerator),
            "-" if value.denominator is None else str(value.denominator),
            str(value.value),
        )
        result.append(line if area is not None else (value.area_code, *line))
    return result


def single_years(area: str = "E1", per_age: int = 100) -> list[PopulationCount]:
    """A population with ``per_age`` persons at every single year of age 0 to 89, and 90+.

    With the default 100: 9,100 of all ages, 7,300 aged 18+, 2,600 aged 65+, 500 in every
    5-year band up to 85-89 and 100 aged 90+.
    """
    return [
        PopulationCount(area, f"Area {area}", age, None if age == 90 else age, per_age)
        for age in range(91)
    ]


def bands(area: str, *counts: tuple[int, int | None, int]) -> list[PopulationCount]:
    """A population given as ``(age_from, age_to, persons)`` bands."""
    return [PopulationCount(area, f"Area {area}", lo, hi, persons) for lo, hi, persons in counts]
