"""Reader for NHS England's monthly Delayed Transfers of Care series for England (``.xls``).

Delayed transfers of care were a BCF metric from 2015 (delayed days per 100,000 adults) and
the subject of the 2016-17 national condition 8, so England's monthly series is the national
backdrop to every area's figures. NHS England published it as an old-style Excel workbook
(``nhse_dtoc_england_monthly_2010_2020.xls``), read here with xlrd exactly as published.

The workbook has a sheet per breakdown. Each starts with about fifteen rows of titles and
notes, then a header row whose column B says ``Year`` and column C ``Period``, then one row
per month (``2010-11``, ``August``) and, after a blank row, footnotes. Three sheets are read:

- ``Delayed Days by type``: acute, non-acute and total delayed days (the "DTOC Beds"
  columns to the right repeat the same headers; they are the days divided by the days in the
  month, so only the first, delayed-days, columns are read);
- ``Delayed Days by responsible org``: days attributable to the NHS, to social care and to
  both;
- ``Delayed Days by reason``: days by reason for delay (A to I and O, as headed).

The fourth sheet, ``Delayed Days``, crosses reason with organisation and type; its totals
are those already read, so it is not needed.

Everything that can be checked is: each value must be a whole, non-negative number of
days; acute plus non-acute, NHS plus social care plus both, and the reasons must each add up
to their sheet's total; the three sheets must cover the same months with the same totals;
and the months must run on without a gap or a repeat. Every problem names the sheet and the
cell, and all of them are reported together before anything is stored.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any, NoReturn

import xlrd  # type: ignore[import-untyped]
from xlrd.compdoc import CompDocError  # type: ignore[import-untyped]

from carepool.domain.errors import ImportRejected, Problem
from carepool.domain.periods import (
    FIRST_MONTH_OF_YEAR,
    add_months,
    financial_year_start,
    is_financial_year,
    month_label,
    month_start,
)
from carepool.io.tabular import ProblemLog
from carepool.plans.files.workbook_read import cell_ref

BY_TYPE = "Delayed Days by type"
BY_ORGANISATION = "Delayed Days by responsible org"
BY_REASON = "Delayed Days by reason"
SHEETS = (BY_TYPE, BY_ORGANISATION, BY_REASON)

ENGLAND_CODE, ENGLAND_NAME = "E92000001", "England"
"""The file covers England as a whole (ONS country code)."""

UNIT = "delayed days"

YEAR_COLUMN, PERIOD_COLUMN = 1, 2  # B and C, 0-based as xlrd counts
YEAR_HEADER = "Year"
TOTAL_HEADER = "Total"
HEADER_SEARCH_ROWS = 40
"""The header row is looked for this far down; the published file has it at row 15 to 17."""

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_REASON = re.compile(r"^([A-Z][a-z]*)\)\s*(.+)$")
_MONTHS = {
    name: number
    for number, name in enumerate(
        (
            "january", "february", "march", "april", "may", "june",
            "july", "august", "september", "october", "november", "december",
        ),
        start=1,
    )
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Measure:
    """A series carepool keeps from the file: its code and what it counts."""

    code: str
    label: str


TYPE_MEASURES = {
    "Acute": Measure("DTOC_ACUTE", "Delayed days, patients in acute care"),
    "Non-Acute": Measure("DTOC_NON_ACUTE", "Delayed days, patients in non-acute care"),
    TOTAL_HEADER: Measure("DTOC_TOTAL", "Delayed days, all"),
}
ORGANISATION_MEASURES = {
    "NHS": Measure("DTOC_NHS", "Delayed days attributable to the NHS"),
    "Social Care": Measure("DTOC_SOCIAL_CARE", "Delayed days attributable to social care"),
    "Both": Measure("DTOC_BOTH", "Delayed days attributable to both NHS and social care"),
}


@dataclass(frozen=True, slots=True)
class DtocMonth:
    """England's delayed days in one month, by measure code."""

    period: str  # "2010-08"
    days: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class DtocSeries:
    """The whole monthly series, oldest month first, and the measures it holds."""

    months: tuple[DtocMonth, ...]
    measures: tuple[Measure, ...]


@dataclass(slots=True)
class _SheetRows:
    """One sheet's months as read: row number, period and value by column header."""

    sheet: str
    columns: dict[str, int] = field(default_factory=dict)  # header → 0-based column
    rows: list[tuple[int, str, dict[str, int]]] = field(default_factory=list)


def read_dtoc(path: Path) -> DtocSeries:
    """Read the published workbook, or refuse it with every problem found."""
    source = path.name
    book = _open(path, source)
    _check_sheets(book, source)
    log = ProblemLog(source)
    by_type = _read_sheet(book.sheet_by_name(BY_TYPE), list(TYPE_MEASURES), log)
    by_organisation = _read_sheet(
        book.sheet_by_name(BY_ORGANISATION), [*ORGANISATION_MEASURES, TOTAL_HEADER], log
    )
    reason_sheet = book.sheet_by_name(BY_REASON)
    reasons = _reason_measures(reason_sheet, log)
    by_reason = _read_sheet(reason_sheet, [*reasons, TOTAL_HEADER], log)
    log.raise_if_any()
    for rows in (by_type, by_organisation, by_reason):
        _check_months(rows, log)
    _check_parts(by_type, ["Acute", "Non-Acute"], log)
    _check_parts(by_organisation, list(ORGANISATION_MEASURES), log)
    _check_parts(by_reason, list(reasons), log)
    _check_against(by_type, by_organisation, log)
    _check_against(by_type, by_reason, log)
    log.raise_if_any()
    sheets = (
        (by_type, TYPE_MEASURES),
        (by_organisation, ORGANISATION_MEASURES),
        (by_reason, reasons),
    )
    return DtocSeries(
        _months(sheets), tuple(m for _, measures in sheets for m in measures.values())
    )


# --------------------------------------------------------------------------------------------
# The workbook


def _reject(source: str, message: str, *, cell: str | None = None) -> NoReturn:
    raise ImportRejected.from_problems(source, [Problem(message, file=source, cell=cell)])


def _open(path: Path, source: str) -> Any:
    try:
        data = path.read_bytes()
    except OSError as exc:
        _reject(source, f"the file cannot be read ({exc.strerror or exc})")
    if not data.strip():
        _reject(source, "the file is empty")
    if data.startswith(_ZIP_MAGIC):
        _reject(source, "this is an .xlsx (or other ZIP) file; this reader takes the .xls workbook")
    if not data.startswith(_OLE2_MAGIC):
        _reject(source, "this is not an Excel .xls workbook")
    try:
        # xlrd writes warnings about odd workbooks to a log file; keep them off the terminal.
        return xlrd.open_workbook(file_contents=data, logfile=StringIO())
    except (
        xlrd.XLRDError, CompDocError, struct.error, ValueError, IndexError, KeyError,
        AssertionError, EOFError,
    ) as exc:  # fmt: skip
        _reject(source, f"the .xls workbook cannot be read ({exc})")


def _check_sheets(book: Any, source: str) -> None:
    names = book.sheet_names()
    found = ", ".join(repr(name) for name in names)
    problems = [
        Problem(f"the workbook has no sheet named {name!r} (it has {found})", file=source)
        for name in SHEETS
        if name not in names
    ]
    if problems:
        raise ImportRejected.from_problems(source, problems)


def _text(sheet: Any, row: int, column: int) -> str:
    if row >= sheet.nrows or column >= sheet.ncols:
        return ""
    cell = sheet.cell(row, column)
    return str(cell.value).strip() if cell.ctype == xlrd.XL_CELL_TEXT else ""


def _is_blank(sheet: Any, row: int) -> bool:
    return all(
        cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK)
        or (cell.ctype == xlrd.XL_CELL_TEXT and not str(cell.value).strip())
        for cell in sheet.row(row)
    )


def _problem(log: ProblemLog, sheet: Any, row: int, column: int, message: str) -> None:
    """Record a problem at a cell (0-based row and column, as xlrd counts)."""
    where = cell_ref(sheet.name, row + 1, column + 1)
    log.extend([Problem(message, file=log.source, column=_header_name(sheet, column), cell=where)])


def _header_name(sheet: Any, column: int) -> str | None:
    header = _header_row(sheet)
    return (_text(sheet, header, column) or None) if header is not None else None


# --------------------------------------------------------------------------------------------
# One sheet


def _header_row(sheet: Any) -> int | None:
    for row in range(min(sheet.nrows, HEADER_SEARCH_ROWS)):
        if _text(sheet, row, YEAR_COLUMN) == YEAR_HEADER:
            return row
    return None


def _columns(sheet: Any, header: int, wanted: Sequence[str], log: ProblemLog) -> dict[str, int]:
    """Each wanted header's first column; later repeats (the beds columns) are ignored."""
    found: dict[str, int] = {}
    for column in range(sheet.ncols):
        found.setdefault(_text(sheet, header, column), column)
    missing = [name for name in wanted if name not in found]
    if missing:
        named = ", ".join(repr(name) for name in missing)
        _problem(log, sheet, header, YEAR_COLUMN, f"the header row has no column {named}")
    return {name: found[name] for name in wanted if name in found}


def _read_sheet(sheet: Any, wanted: Sequence[str], log: ProblemLog) -> _SheetRows:
    result = _SheetRows(sheet.name)
    header = _header_row(sheet)
    if header is None:
        log.extend(
            [Problem(f"sheet {sheet.name!r} has no header row with {YEAR_HEADER!r} in column B",
                     file=log.source, cell=cell_ref(sheet.name, 1, YEAR_COLUMN + 1))]
        )  # fmt: skip
        return result
    result.columns = _columns(sheet, header, wanted, log)
    if len(result.columns) < len(wanted):
        return result
    started = False
    for row in range(header + 1, sheet.nrows):
        if _is_blank(sheet, row):
            if started:
                break  # what follows the months is footnotes
            continue
        if _text(sheet, row, YEAR_COLUMN).lower().startswith("note"):
            break
        started = True
        _read_row(sheet, row, result, log)
    if not result.rows:
        _problem(log, sheet, header, YEAR_COLUMN, "no months follow the header row")
    return result


def _read_row(sheet: Any, row: int, result: _SheetRows, log: ProblemLog) -> None:
    before = len(log)
    period = _period(sheet, row, log)
    values = {name: _days(sheet, row, column, log) for name, column in result.columns.items()}
    if len(log) == before and period is not None:
        result.rows.append((row, period, {k: v for k, v in values.items() if v is not None}))


def _period(sheet: Any, row: int, log: ProblemLog) -> str | None:
    """The month as ``YYYY-MM`` from the financial year in B and the month's name in C."""
    year_text = _text(sheet, row, YEAR_COLUMN)
    if not is_financial_year(year_text):
        shown = year_text or _shown(sheet, row, YEAR_COLUMN)
        _problem(log, sheet, row, YEAR_COLUMN, f"{shown!r} is not a financial year like 2015-16")
        return None
    month_text = _text(sheet, row, PERIOD_COLUMN)
    month = _MONTHS.get(month_text.lower())
    if month is None:
        shown = month_text or _shown(sheet, row, PERIOD_COLUMN)
        _problem(log, sheet, row, PERIOD_COLUMN, f"{shown!r} is not the name of a month")
        return None
    start = financial_year_start(year_text)
    return month_label(add_months(start, (month - FIRST_MONTH_OF_YEAR) % 12))


def _shown(sheet: Any, row: int, column: int) -> str:
    if row >= sheet.nrows or column >= sheet.ncols:
        return ""
    return str(sheet.cell(row, column).value)


def _days(sheet: Any, row: int, column: int, log: ProblemLog) -> int | None:
    """A whole, non-negative number of days, or ``None`` after recording why not."""
    cell = sheet.cell(row, column) if column < sheet.ncols else xlrd.sheet.empty_cell
    message = _not_days(cell.ctype, cell.value)
    if message:
        _problem(log, sheet, row, column, message)
        return None
    return int(cell.value)


def _not_days(ctype: int, value: object) -> str | None:
    if ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return "this cell is blank but a number of days is required"
    if ctype == xlrd.XL_CELL_TEXT:
        return f"this cell holds the text {str(value)!r}, not a number of days"
    if ctype == xlrd.XL_CELL_ERROR:
        return f"this cell holds the error {xlrd.error_text_from_code.get(value, value)}"
    if ctype != xlrd.XL_CELL_NUMBER:
        return "this cell holds a date or a true/false value, not a number of days"
    if not isinstance(value, float) or not value.is_integer() or value < 0:
        return f"{value} is not a whole number of days of 0 or more"
    return None


def _reason_measures(sheet: Any, log: ProblemLog) -> dict[str, Measure]:
    """The reason columns, from their headers ("A) Awaiting completion of assessment")."""
    header = _header_row(sheet)
    if header is None:
        return {}  # reported when the sheet is read
    reasons: dict[str, Measure] = {}
    for column in range(PERIOD_COLUMN + 1, sheet.ncols):
        text = _text(sheet, header, column)
        match = _REASON.match(text)
        if match:
            reasons[text] = Measure(f"DTOC_REASON_{match[1].upper()}", f"Delayed days: {match[2]}")
        elif text == TOTAL_HEADER:
            break
    if not reasons:
        _problem(log, sheet, header, PERIOD_COLUMN + 1, "no reason columns such as 'A) …' found")
    return reasons


# --------------------------------------------------------------------------------------------
# Checks across rows and sheets


def _month_number(period: str) -> int:
    first = month_start(period)
    return first.year * 12 + first.month - 1


def _check_months(rows: _SheetRows, log: ProblemLog) -> None:
    """Months must run on, one after another, with no gap and no repeat."""
    for (_, before, _), (row, period, _) in zip(rows.rows, rows.rows[1:], strict=False):
        if _month_number(period) != _month_number(before) + 1:
            log.extend(
                [Problem(f"{period} follows {before}; the months must run on one by one",
                         file=log.source, cell=cell_ref(rows.sheet, row + 1, PERIOD_COLUMN + 1))]
            )  # fmt: skip


def _check_parts(rows: _SheetRows, parts: Sequence[str], log: ProblemLog) -> None:
    total_column = rows.columns[TOTAL_HEADER]
    for row, period, values in rows.rows:
        added = sum(values[part] for part in parts)
        if added != values[TOTAL_HEADER]:
            named = " + ".join(parts) if len(parts) <= 4 else "the reasons"
            log.extend(
                [Problem(f"{period}: {named} add up to {added:,} but the total is "
                         f"{values[TOTAL_HEADER]:,}", file=log.source, column=TOTAL_HEADER,
                         cell=cell_ref(rows.sheet, row + 1, total_column + 1))]
            )  # fmt: skip


def _check_against(reference: _SheetRows, other: _SheetRows, log: ProblemLog) -> None:
    """Another sheet must have the same months with the same total days."""
    totals = {period: values[TOTAL_HEADER] for _, period, values in reference.rows}
    seen = set()
    total_column = other.columns[TOTAL_HEADER]
    for row, period, values in other.rows:
        seen.add(period)
        expected = totals.get(period)
        if expected is None or expected != values[TOTAL_HEADER]:
            said = "has no such month" if expected is None else f"says {expected:,}"
            log.extend(
                [Problem(f"{period}: the total is {values[TOTAL_HEADER]:,} but {reference.sheet!r} "
                         f"{said}", file=log.source, column=TOTAL_HEADER,
                         cell=cell_ref(other.sheet, row + 1, total_column + 1))]
            )  # fmt: skip
    missing = sorted(set(totals) - seen)
    if missing:
        log.extend(
            [Problem(f"sheet {other.sheet!r} has no row for {', '.join(missing[:12])}",
                     file=log.source)]
        )  # fmt: skip


def _months(
    sheets: Sequence[tuple[_SheetRows, Mapping[str, Measure]]],
) -> tuple[DtocMonth, ...]:
    """Each month's days by measure code, in the order of the first sheet's months."""
    by_period: dict[str, dict[str, int]] = {}
    for rows, measures in sheets:
        for _, period, values in rows.rows:
            days = by_period.setdefault(period, {})
            for header, measure in measures.items():
                days[measure.code] = values[header]
    return tuple(DtocMonth(period, days) for period, days in by_period.items())
