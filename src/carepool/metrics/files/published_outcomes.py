"""Reader for adult social care outcome measures by council, as the Oflog data explorer gives them.

``oflog_asc_outcomes_by_la_2015_2023.csv`` has one row per financial year, council and
measure: ``Financial year``, ``Local authority code``, ``Local authority name``, ``Grouping``,
``Entity_Name``, ``Region``, ``Measure``, ``Code``, ``Value``, then ``MEDIAN``,
``MADs_from_median`` and ``rank_order``, which Oflog derived across councils. carepool keeps
the year, council, measure and value; the derived columns can be worked out again from
those, so they are neither required nor stored.

The measure that matters most to the BCF is ASC5, the outcome of short-term services
(reablement: the proportion of people with no further need for services afterwards,
ASCOF 2D in the 2015–2023 numbering). The file states no units; :data:`UNITS` records what
each code measures as Oflog defines it, and is also the list of codes the file may hold: a
code not in it (``ASC50``) is a mistake or a measure carepool does not know the unit of,
and either way it is refused rather than stored with a guessed meaning.

A blank ``Value`` is a figure Oflog did not publish (the Isles of Scilly's survey measures,
councils that did not return workforce data). Such rows are counted and left out, not
refused: they are part of the file as published. Anything else that is not a decimal number
is a problem, as are a financial year not written as the file writes its years
(``2015-16``) or outside the years Oflog's series can cover (from 2015-16, its first year,
to the year in progress), a code that is not an English ONS code, one measure code with two
different names, and the same year, council and measure twice.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from carepool.domain.periods import PeriodError, financial_year_within, year_label
from carepool.io.tabular import (
    ProblemLog,
    Row,
    not_a,
    read_table,
    require_found,
    require_rows,
    required_text,
)

YEAR = "Financial year"
AREA_CODE = "Local authority code"
AREA_NAME = "Local authority name"
MEASURE = "Measure"
CODE = "Code"
VALUE = "Value"
REQUIRED = (YEAR, AREA_CODE, AREA_NAME, MEASURE, CODE, VALUE)

UNITS = {
    "ASC1": "score (carer-reported quality of life, out of 12)",
    "ASC2": "score (adjusted social care-related quality of life)",
    "ASC3": "percentage",
    "ASC4": "percentage",
    "ASC5": "percentage",
    "ASC6": "rate per 100,000 adults",
    "ASC7": "percentage",
}
"""What each measure's values are; the file itself does not say."""

FIRST_YEAR = "2015-16"
"""The first year of Oflog's adult social care outcomes; no edition holds an earlier one."""

_AREA_CODE = re.compile(r"^E[0-9]{8}$")
_NUMBER = re.compile(r"^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")


@dataclass(frozen=True, slots=True)
class OutcomeValue:
    """One council's value of one measure in one financial year, exactly as published."""

    financial_year: str  # "2015-16"
    area_code: str
    area_name: str
    measure_code: str
    measure_label: str
    value: Decimal

    @property
    def unit(self) -> str:
        return UNITS[self.measure_code]


@dataclass(frozen=True, slots=True)
class Outcomes:
    """The values read, and how many rows had no published value."""

    values: tuple[OutcomeValue, ...]
    not_published: int


def read_outcomes(path: Path) -> Outcomes:
    """Read the file, or refuse it with every problem found."""
    table = read_table(path, required=REQUIRED)
    require_rows(table)
    log = table.problem_log()
    values: list[OutcomeValue] = []
    blanks = 0
    first_row: dict[tuple[str, str, str], int] = {}
    labels: dict[str, tuple[str, int]] = {}
    for row in table.rows:
        value = _row_value(row, log)
        if value is None:
            blanks += not row[VALUE].strip()
            continue
        key = (value.financial_year, value.area_code, value.measure_code)
        if key in first_row:
            log.add(f"{' '.join(key)} is also in row {first_row[key]}", row=row.number, column=CODE)
            continue
        first_row[key] = row.number
        _check_label(value, row, labels, log)
        values.append(value)
    log.raise_if_any()
    require_found(table.source, values, "published values")
    return Outcomes(tuple(values), blanks)


def _row_value(row: Row, log: ProblemLog) -> OutcomeValue | None:
    """The row's value, or ``None`` when it has a problem (logged) or no published value."""
    before = len(log)
    year = _year(row, log)
    code = _pattern(row, AREA_CODE, _AREA_CODE, "an English ONS area code like E06000001", log)
    name = required_text(row, AREA_NAME, log)
    measure = _measure(row, log)
    label = required_text(row, MEASURE, log)
    number = _number(row, log)
    if (
        len(log) > before
        or year is None
        or code is None
        or name is None
        or measure is None
        or label is None
        or number is None
    ):
        return None
    return OutcomeValue(year, code, name, measure, label, number)


def _year(row: Row, log: ProblemLog) -> str | None:
    text = required_text(row, YEAR, log)
    if text is None:
        return None
    try:
        return financial_year_within(text, FIRST_YEAR, year_label(dt.date.today()))
    except PeriodError as exc:
        log.add(exc.message, row=row.number, column=YEAR)
        return None


def _measure(row: Row, log: ProblemLog) -> str | None:
    text = required_text(row, CODE, log)
    if text is not None and text not in UNITS:
        known = ", ".join(UNITS)
        log.add(
            f"{text!r} is not one of Oflog's measure codes ({known})", row=row.number, column=CODE
        )
        return None
    return text


def _pattern(
    row: Row, column: str, pattern: re.Pattern[str], expected: str, log: ProblemLog
) -> str | None:
    text = required_text(row, column, log)
    if text is not None and not pattern.match(text):
        log.add(f"{text!r} is not {expected}", row=row.number, column=column)
        return None
    return text


def _number(row: Row, log: ProblemLog) -> Decimal | None:
    """The value as an exact decimal; blank (not published) gives ``None`` and no problem."""
    text = row[VALUE].strip()
    if not text:
        return None
    if not _NUMBER.match(text):
        log.add(not_a(text, "a number"), row=row.number, column=VALUE)
        return None
    return Decimal(text)


def _check_label(
    value: OutcomeValue, row: Row, labels: dict[str, tuple[str, int]], log: ProblemLog
) -> None:
    """A measure code means one thing throughout the file."""
    label, first = labels.setdefault(value.measure_code, (value.measure_label, row.number))
    if label != value.measure_label:
        log.add(
            f"{value.measure_code} is named {value.measure_label!r} here but {label!r} in "
            f"row {first}",
            row=row.number,
            column=MEASURE,
        )
