"""HM Treasury's GDP deflators at market prices, read as published (the CSV of the
December 2023 spreadsheet): title and note rows, a two-row header, then one row per
financial year in the second column with the deflator index in the third, numbers with
thousands separators, and forecast years (``2023-24 (1), (2)``) whose index is ``-``.

Only the index is read; the year its index is 100 in is taken from the header
(``2022-23 = 100``), so a later edition with another reference year reads the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from carepool.domain.errors import ImportRejected, Problem
from carepool.domain.periods import PeriodError, financial_year
from carepool.io.tabular import ProblemLog, Records, read_records

YEAR_COLUMN, INDEX_COLUMN = 1, 2
INDEX_NAME = "GDP deflator at market prices"
_REFERENCE = re.compile(r"^([0-9]{4}-[0-9]{2})\s*=\s*100$")
_INDEX = re.compile(r"^[0-9]{1,3}(?:,[0-9]{3})*(?:\.[0-9]+)?$")
_FOOTNOTED_YEAR = re.compile(r"^[0-9]{4}-[0-9]{2}\s*\(")


@dataclass(frozen=True, slots=True)
class Deflators:
    """The published index by financial year, and the year in which it is 100."""

    source: str
    reference_year: str
    index: dict[str, Decimal]


def read_deflators(path: Path) -> Deflators:
    """Every financial year with a published index, or ImportRejected naming each fault."""
    records = read_records(path)
    at, reference = _header(records)
    log = ProblemLog(records.source)
    index: dict[str, Decimal] = {}
    for number, cells in records.records[at + 1 :]:
        year = _year(cells)
        if year is None:
            continue
        value = cells[INDEX_COLUMN].strip() if len(cells) > INDEX_COLUMN else ""
        if not _INDEX.match(value):
            log.add(f"{value!r} is not a deflator index", row=number, column=INDEX_NAME)
        elif year in index:
            log.add(f"{year} appears twice", row=number, column="Financial year")
        else:
            index[year] = Decimal(value.replace(",", ""))
    if not index:
        log.add("no financial year has a deflator")
    log.raise_if_any()
    return Deflators(records.source, reference, index)


def _header(records: Records) -> tuple[int, str]:
    """Where the header's second row is, and its reference year (``2022-23 = 100``)."""
    for at, (_, cells) in enumerate(records.records[:20]):
        if len(cells) <= INDEX_COLUMN or cells[YEAR_COLUMN].strip() != "Financial year":
            continue
        match = _REFERENCE.match(cells[INDEX_COLUMN].strip())
        if match:
            return at, match[1]
    problem = Problem(
        "no header row with 'Financial year' in column B and 'YYYY-YY = 100' in column C",
        file=records.source,
    )
    raise ImportRejected(
        f"{records.source} is not HM Treasury's GDP deflators: nothing was imported", [problem]
    )


def _year(cells: tuple[str, ...]) -> str | None:
    """The row's financial year if it is an outturn row; forecast and note rows give None."""
    text = cells[YEAR_COLUMN].strip() if len(cells) > YEAR_COLUMN else ""
    if _FOOTNOTED_YEAR.match(text):
        return None  # a forecast year: the index is '-', only the percentage is given
    try:
        return financial_year(text)
    except PeriodError:
        return None
