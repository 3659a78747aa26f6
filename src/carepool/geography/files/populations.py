"""Importer for ONS mid-year population estimates by upper-tier council and single year of age.

The files (``ons_mye_mid2019_utla19_single_year_age.csv`` and its successors) have a code
and a name column whose headers change with the geography year (``utla19_code``,
``utla20_code``...), then ``total_population``, then one column per age ``0`` … ``89`` and
``90+``. These are the denominators of the BCF metrics and a basis for allocation, so each
row's ages must add up to its total exactly.

Only English areas (codes starting with ``E``) are kept: the Better Care Fund is England's
programme, and the other nations' rows (Wales, in the files seen so far) are a different
care system with no Health and Wellbeing Board areas. They are not checked either, since
nothing will use them.
"""

from __future__ import annotations

import re
from pathlib import Path

from carepool.domain.errors import ImportRejected, Problem
from carepool.domain.geography import PopulationCount
from carepool.io.tabular import (
    ProblemLog,
    Row,
    Table,
    non_negative_int_field,
    read_table,
    require_found,
    require_rows,
    required_text,
)

TOTAL = "total_population"
OLDEST = "90+"
OLDEST_AGE = 90
AGE_COLUMNS = (*(str(age) for age in range(OLDEST_AGE)), OLDEST)

_CODE = re.compile(r"^[EWSN][0-9]{8}$")
_VINTAGE = re.compile(r"mid-?([0-9]{4})", re.IGNORECASE)


def read_populations(path: Path) -> list[PopulationCount]:
    """One count per English area and single year of age (``90+`` is open-ended)."""
    table = read_table(path, required=(TOTAL, *AGE_COLUMNS))
    code_column, name_column = _code_and_name_columns(table)
    require_rows(table)
    log = table.problem_log()
    counts: list[PopulationCount] = []
    first_row: dict[str, int] = {}
    for row in table.rows:
        code = required_text(row, code_column, log)
        if code is not None and not _CODE.match(code):
            log.add(f"{code!r} is not an ONS area code", row=row.number, column=code_column)
        if code is None or not code.startswith("E") or not _CODE.match(code):
            continue
        if code in first_row:
            log.add(f"{code} is also in row {first_row[code]}", row=row.number, column=code_column)
            continue
        first_row[code] = row.number
        name = required_text(row, name_column, log) or ""
        counts += _row_counts(row, code, name, log)
    log.raise_if_any()
    require_found(table.source, counts, "English areas")
    return counts


def vintage_name_from(path: Path) -> str:
    """A population vintage's name from its file name: ``mid-2019`` for ``…mid2019…``."""
    match = _VINTAGE.search(path.name)
    return f"mid-{match[1]}" if match else path.stem


def _code_and_name_columns(table: Table) -> tuple[str, str]:
    """The first ``*_code`` and ``*_name`` columns, whatever geography year they are named for."""
    code = next((name for name in table.header if name.endswith("_code")), None)
    name = next((name for name in table.header if name.endswith("_name")), None)
    if code is None or name is None:
        problem = Problem(
            "the header needs an area code column and an area name column "
            "(named like utla19_code and utla19_name)",
            file=table.source,
            row=1,
        )
        raise ImportRejected.from_problems(table.source, [problem])
    return code, name


def _row_counts(row: Row, code: str, name: str, log: ProblemLog) -> list[PopulationCount]:
    before = len(log)
    total = non_negative_int_field(row, TOTAL, log)
    persons = [non_negative_int_field(row, column, log) for column in AGE_COLUMNS]
    ages = [p for p in persons if p is not None]
    if len(log) > before or total is None or len(ages) != len(AGE_COLUMNS):
        return []
    if sum(ages) != total:
        difference = sum(ages) - total
        log.add(
            f"the ages add up to {sum(ages)} but {TOTAL} is {total} (a difference of "
            f"{difference:+})",
            row=row.number,
            column=TOTAL,
        )
        return []
    return [
        PopulationCount(code, name, age, None if age == OLDEST_AGE else age, count)
        for age, count in enumerate(ages)
    ]
