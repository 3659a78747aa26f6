"""Importer for allocation tables: amounts per year, funding stream, area and commissioner.

National teams publish allocations as spreadsheets, so a table can be CSV (UTF-8) or the
first sheet of an XLSX workbook, with a header in row 1 and these columns (others are
ignored):

==================  ========  ====================================================================
column              required  meaning
==================  ========  ====================================================================
financial_year      yes       e.g. ``2015-16`` (the second year must follow the first)
stream              yes       the funding stream's id in the year's framework, e.g. ``ccg_minimum``
area_code           yes       the Health and Wellbeing Board area's ONS code, e.g. ``E06000052``
commissioner_code   no        the CCG's or ICB's ONS code (``E38…``); blank, or no such column,
                              for money paid at area level (DFG, iBCF)
amount              yes       pounds as text (``£1,234.56`` or ``1234.56``), or in XLSX a
                              number cell; whole pence only, never negative
==================  ========  ====================================================================

Only the form of each row is checked here, and every problem is reported together. Whether
the year, stream, area or commissioner exists is for the caller, which knows the framework
and the geography the table is meant for.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from carepool.domain.money import Pence
from carepool.domain.periods import PeriodError, financial_year
from carepool.io.tabular import (
    ProblemLog,
    Row,
    money_field,
    optional_text,
    read_table,
    require_rows,
    required_text,
)

FINANCIAL_YEAR = "financial_year"
STREAM = "stream"
AREA_CODE = "area_code"
COMMISSIONER_CODE = "commissioner_code"
AMOUNT = "amount"
REQUIRED_COLUMNS = (FINANCIAL_YEAR, STREAM, AREA_CODE, AMOUNT)

_STREAM = re.compile(r"^[a-z][a-z0-9_]*$")
_ONS_CODE = re.compile(r"^E[0-9]{8}$")


@dataclass(frozen=True, slots=True)
class AllocationRow:
    """One line of an allocation table, with the row it came from for later messages."""

    row: int
    financial_year: str
    stream: str
    area_code: str
    commissioner_code: str | None
    amount: Pence


def read_allocation_table(path: Path) -> list[AllocationRow]:
    """Every row of the table in file order, or ImportRejected listing every problem."""
    table = read_table(path, required=REQUIRED_COLUMNS)
    require_rows(table)
    log = table.problem_log()
    rows = [line for row in table.rows if (line := _allocation_row(row, log)) is not None]
    _check_duplicates(rows, log)
    log.raise_if_any()
    return rows


def _allocation_row(row: Row, log: ProblemLog) -> AllocationRow | None:
    before = len(log)
    year = _financial_year(row, log)
    stream = _matching(row, STREAM, _STREAM, "a stream id (lower_snake_case)", log)
    area = _matching(row, AREA_CODE, _ONS_CODE, "an ONS area code (E and eight digits)", log)
    commissioner = _commissioner(row, log)
    amount = money_field(row, AMOUNT, log)
    if len(log) > before or not (year and stream and area) or amount is None:
        return None
    return AllocationRow(row.number, year, stream, area, commissioner, amount)


def _financial_year(row: Row, log: ProblemLog) -> str | None:
    value = required_text(row, FINANCIAL_YEAR, log)
    if value is None:
        return None
    try:
        return financial_year(value)
    except PeriodError as exc:
        log.add(exc.message, row=row.number, column=FINANCIAL_YEAR)
        return None


def _matching(
    row: Row, column: str, pattern: re.Pattern[str], what: str, log: ProblemLog
) -> str | None:
    value = required_text(row, column, log)
    if value is not None and not pattern.match(value):
        log.add(f"{value!r} is not {what}", row=row.number, column=column)
        return None
    return value


def _commissioner(row: Row, log: ProblemLog) -> str | None:
    """The commissioner's code, or ``None`` for a line paid at area level."""
    value = optional_text(row, COMMISSIONER_CODE)
    if not value:
        return None
    if not _ONS_CODE.match(value):
        message = f"{value!r} is not a commissioner's ONS code (such as E38000001)"
        log.add(message, row=row.number, column=COMMISSIONER_CODE)
        return None
    return value


def _check_duplicates(rows: Sequence[AllocationRow], log: ProblemLog) -> None:
    """One amount per year, stream, area and commissioner: a repeat would be double money."""
    first: dict[tuple[str, str, str, str | None], int] = {}
    for line in rows:
        key = (line.financial_year, line.stream, line.area_code, line.commissioner_code)
        if key in first:
            payer = f"commissioner {key[3]}" if key[3] else "area level"
            log.add(
                f"{key[0]} {key[1]} for area {key[2]} ({payer}) is already given in row "
                f"{first[key]}",
                row=line.row,
            )
        else:
            first[key] = line.row
