"""Reader for commissioners' allocation tables: one allocation per CCG for one financial year.

NHS England publishes each clinical commissioning group's allocation as a spreadsheet, so a
table can be CSV (UTF-8) or the first sheet of an XLSX workbook, with a header in row 1 and
these columns (others, such as the group's name, are ignored):

=================  ========  ======================================================================
column             required  meaning
=================  ========  ======================================================================
commissioner_code  yes       the CCG's ONS code (``E38000001``) or NHS ODS code (``02N``)
allocation         yes       pounds as text (``£1,234.56`` or ``1234.56``), or in XLSX a number
                             cell; whole pence only, never negative
financial_year     no        if given, every row must name the year being imported (``2015-16``)
=================  ========  ======================================================================

Only the form of each row is checked here, and every problem is reported together. Whether
each commissioner is known is for the caller, which holds the geography.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from carepool.domain.money import Pence
from carepool.domain.periods import PeriodError, financial_year
from carepool.io.tabular import (
    ProblemLog,
    Row,
    Table,
    money_field,
    optional_text,
    read_table,
    require_rows,
    required_text,
)

COMMISSIONER_CODE = "commissioner_code"
ALLOCATION = "allocation"
FINANCIAL_YEAR = "financial_year"
REQUIRED_COLUMNS = (COMMISSIONER_CODE, ALLOCATION)

_ONS_CODE = re.compile(r"^E38[0-9]{6}$")
_ODS_CODE = re.compile(r"^[0-9A-Z]{3}$")


@dataclass(frozen=True, slots=True)
class AllocationLine:
    """One commissioner's allocation, with the row it came from for later messages."""

    row: int
    commissioner_code: str
    amount: Pence


@dataclass(frozen=True, slots=True)
class AllocationTable:
    """A table's lines, read cleanly so far; ``log`` takes the caller's checks too."""

    source: str
    lines: tuple[AllocationLine, ...]
    log: ProblemLog


def read_ccg_allocations(path: Path, year: str) -> AllocationTable:
    """Every line in file order. Problems of form are logged, not raised: the caller adds its
    own checks (is each commissioner known?) and refuses the file with all of them at once."""
    table = read_table(path, required=REQUIRED_COLUMNS)
    require_rows(table)
    log = table.problem_log()
    lines = [line for row in table.rows if (line := _line(row, year, table, log)) is not None]
    _check_repeats(lines, log)
    return AllocationTable(table.source, tuple(lines), log)


def _line(row: Row, year: str, table: Table, log: ProblemLog) -> AllocationLine | None:
    before = len(log)
    code = required_text(row, COMMISSIONER_CODE, log)
    if code is not None and not (_ONS_CODE.match(code) or _ODS_CODE.match(code.upper())):
        log.add(
            f"{code!r} is not a commissioner's ONS code (such as E38000001) or ODS code "
            "(such as 02N)",
            row=row.number,
            column=COMMISSIONER_CODE,
        )
    amount = money_field(row, ALLOCATION, log)
    if FINANCIAL_YEAR in table.header:
        _check_year(row, year, log)
    if len(log) > before or code is None or amount is None:
        return None
    return AllocationLine(row.number, code.upper(), amount)


def _check_year(row: Row, year: str, log: ProblemLog) -> None:
    value = optional_text(row, FINANCIAL_YEAR)
    if not value:
        return
    try:
        named = financial_year(value)
    except PeriodError as exc:
        log.add(exc.message, row=row.number, column=FINANCIAL_YEAR)
        return
    if named != year:
        log.add(
            f"this row is for {named} but the table is being imported for {year}",
            row=row.number,
            column=FINANCIAL_YEAR,
        )


def _check_repeats(lines: list[AllocationLine], log: ProblemLog) -> None:
    """One allocation per commissioner: a repeat would count its money twice."""
    first: dict[str, int] = {}
    for line in lines:
        if line.commissioner_code in first:
            log.add(
                f"commissioner {line.commissioner_code} is already given in row "
                f"{first[line.commissioner_code]}",
                row=line.row,
                column=COMMISSIONER_CODE,
            )
        else:
            first[line.commissioner_code] = line.row
