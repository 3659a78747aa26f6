"""Reading CSV and XLSX files into rows of text, with every problem located for a person.

Importers are pipelines of small stages — read the table, check each field, check across
rows — that collect :class:`~carepool.domain.errors.Problem` values instead of stopping at
the first, so whoever fixes a file sees everything wrong with it in one go (the NAO found
BCF templates bouncing back and forth by email). This module is the first stage and knows
nothing about what any column means.

Row numbers are the ones a person sees when they open the file in a spreadsheet: the header
is row 1 and the first data row is row 2. A CSV record whose quoted field spans several
lines of text is still one row, because that is how a spreadsheet shows it.

Some problems leave nothing sensible to read (not UTF-8, empty, not a table at all, quoting
that never closes, missing columns) and are raised at once as
:class:`~carepool.domain.errors.ImportRejected`. Problems confined to one row (a ragged row,
a formula cell) are recorded on the :class:`Table` and the row is left out, so the next
stage can still report everything else before the import is refused.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence, Sized
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import NoReturn

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from carepool.domain.errors import ImportRejected, MoneyError, Problem
from carepool.domain.money import ONLY_ASCII_DIGITS, Pence, has_other_digits, parse_money
from carepool.io import openpyxl_dimensions
from carepool.io.limits import (
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_CSV_ROWS,
    MAX_SHEET_ROWS,
    check_file_size,
    check_workbook_archive,
)

openpyxl_dimensions.install()  # a sheet with no <dimension> is not read twice

MAX_PROBLEMS = 10_000
"""Problems listed per file; past this the file is hopeless and more would only cost memory.
Pages show the first few and offer the whole list as CSV (:mod:`carepool.web.forms`)."""

_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old binary Excel (.xls) and Word files
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm"})
_SNIFF_BYTES = 8192
_NOT_A_WORKBOOK = (
    "the file is a ZIP archive but not a readable Excel .xlsx workbook; if it was one, it is "
    "damaged or was cut short while copying"
)
_DAMAGED = (
    "the workbook is damaged and cannot be read (it may have been cut short while copying); "
    "open it in Excel, save it again as .xlsx, and import that"
)

# Digits are 0-9 only: ``\d`` would also match other scripts' digits (see
# :func:`carepool.domain.money.has_other_digits`).
_INTEGER = re.compile(r"^[-−]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)$")
_DECIMAL = re.compile(r"^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_UK_DATE = re.compile(r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})$")


class ProblemLog:
    """The problems found in one file, capped at :data:`MAX_PROBLEMS` to stay bounded."""

    def __init__(self, source: str, *, limit: int = MAX_PROBLEMS) -> None:
        self.source = source
        self._limit = limit
        self._items: list[Problem] = []
        self._dropped = 0

    def add(self, message: str, *, row: int | None = None, column: str | None = None) -> None:
        self.extend([Problem(message, file=self.source, row=row, column=column)])

    def extend(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            if len(self._items) < self._limit:
                self._items.append(problem)
            else:
                self._dropped += 1

    def __len__(self) -> int:
        return len(self._items) + self._dropped

    @property
    def problems(self) -> tuple[Problem, ...]:
        if not self._dropped:
            return tuple(self._items)
        note = Problem(
            f"stopped listing after {self._limit} problems; {self._dropped} more were found",
            file=self.source,
        )
        return (*self._items, note)

    def raise_if_any(self) -> None:
        """Refuse the whole file if anything was wrong: a partial import is worse than none."""
        if self._items:
            raise ImportRejected.from_problems(self.source, self.problems)


@dataclass(frozen=True, slots=True)
class Row:
    """One data row: its number as a person sees it, and its cells by column name."""

    number: int
    cells: Mapping[str, str]

    def __getitem__(self, column: str) -> str:
        """The raw text of a cell; an absent optional column reads as blank."""
        return self.cells.get(column, "")


@dataclass(frozen=True, slots=True)
class Table:
    """A file read as text: header, the rows that read cleanly, and problems with the rest.

    ``source`` names the file (and sheet, for a workbook) in every problem.
    """

    source: str
    header: tuple[str, ...]
    rows: tuple[Row, ...]
    problems: tuple[Problem, ...] = ()

    def problem_log(self) -> ProblemLog:
        """A log for the next stage that already holds this stage's problems."""
        log = ProblemLog(self.source)
        log.extend(self.problems)
        return log


@dataclass(slots=True)
class _Grid:
    """Records as read, before the header gives their cells names."""

    source: str
    records: list[tuple[int, list[str]]]
    fixed_width: bool  # CSV: every record must have exactly as many fields as the header
    cell_problems: list[tuple[int, int, str]] = field(default_factory=list)  # row, index, text


def read_table(path: Path, *, required: Sequence[str] = ()) -> Table:
    """Read a CSV (UTF-8, with or without BOM) or the first sheet of an XLSX workbook.

    The kind is decided from the file's first bytes, not its name, because files are often
    renamed. ``required`` columns must all be in the header; others are kept as found.
    """
    source = path.name
    try:
        check_file_size(path.stat().st_size, source)
        data = path.read_bytes()
    except OSError as exc:
        _reject(source, f"the file cannot be read ({exc.strerror or exc})")
    grid = _xlsx_grid(data, source) if _is_workbook(data, path) else _csv_grid(data, source)
    return _to_table(grid, required)


@dataclass(frozen=True, slots=True)
class Records:
    """A file's records as published, numbered as a spreadsheet shows them, with no header
    taken: for published layouts whose header is not row 1 (title rows, a two-row header, a
    wide table with one column per council), which their own reader locates."""

    source: str
    records: tuple[tuple[int, tuple[str, ...]], ...]


def read_records(path: Path, *, encoding: str = "utf-8-sig") -> Records:
    """Read every record of a CSV (in ``encoding``, as published) or an XLSX's first sheet.

    The same limits and refusals as :func:`read_table` apply; only the header is left to the
    caller. Statistical publications are often Latin-1, so the encoding is the caller's.
    """
    source = path.name
    try:
        check_file_size(path.stat().st_size, source)
        data = path.read_bytes()
    except OSError as exc:
        _reject(source, f"the file cannot be read ({exc.strerror or exc})")
    grid = (
        _xlsx_grid(data, source) if _is_workbook(data, path) else _csv_grid(data, source, encoding)
    )
    if grid.cell_problems:  # a formula or error cell, or a CSV cut short in its last row
        row, _, message = grid.cell_problems[0]
        _reject(source, message, row=row)
    return Records(source, tuple((number, tuple(cells)) for number, cells in grid.records))


def require_rows(table: Table) -> None:
    """Refuse a file with a header and nothing under it.

    Stored, it would become the latest vintage of its kind and leave the year with nothing
    in it (no areas, no shares), so every page and run that needs them would fail later and
    far from the cause. A file whose rows were all faulty is left to report those faults.
    """
    if not table.rows and not table.problems:
        problem = Problem("there are no rows under the header", file=table.source, row=2)
        message = f"{table.source} has a header but no rows: nothing was imported"
        raise ImportRejected(message, [problem])


def require_found(source: str, found: Sized, what: str) -> None:
    """Refuse a file whose rows were read but held none of ``what`` (an empty vintage)."""
    if not found:
        problem = Problem(f"no row holds {what}", file=source)
        raise ImportRejected(f"{source} has no rows for {what}: nothing was imported", [problem])


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, in hex, so an import can record exactly what it read."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _reject(source: str, message: str, *, row: int | None = None) -> NoReturn:
    raise ImportRejected.from_problems(source, [Problem(message, file=source, row=row)])


def _is_workbook(data: bytes, path: Path) -> bool:
    """Whether to read the bytes as XLSX; refuses what is neither a workbook nor text."""
    source = path.name
    if not data.lstrip(b"\xef\xbb\xbf \t\r\n"):
        _reject(source, "the file is empty")
    if data.startswith(_ZIP_MAGIC):
        return True
    if data.startswith(_OLE2_MAGIC):
        _reject(source, "this is an old-style Excel .xls workbook; save it as .xlsx or CSV UTF-8")
    if path.suffix.lower() in _EXCEL_SUFFIXES:
        _reject(source, f"the file is named {path.suffix} but is not an Excel workbook")
    if data.startswith(_UTF16_BOMS):
        _reject(source, "the file is UTF-16 text, not UTF-8; save it as 'CSV UTF-8'")
    if b"\x00" in data[:_SNIFF_BYTES]:
        _reject(source, "this is not a CSV or XLSX file: it contains binary data")
    return False


def _decode(data: bytes, source: str, encoding: str = "utf-8-sig") -> str:
    if encoding not in ("utf-8", "utf-8-sig"):
        return data.decode(encoding, errors="strict")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        _reject(
            source,
            f"the file is not UTF-8 text: byte 0x{data[exc.start]:02X} on line {line} is not "
            "valid UTF-8 (it was probably saved as Windows-1252 or Latin-1); "
            "save it as 'CSV UTF-8'",
            row=line,
        )


_CSV_ERRORS = {
    "unexpected end of data": "a quoted field is never closed: the file ends inside quotes",
    "',' expected after '\"'": 'a quote inside a quoted field is not doubled (write "" for ")',
}


def _csv_grid(data: bytes, source: str, encoding: str = "utf-8-sig") -> _Grid:
    text = _decode(data, source, encoding)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[tuple[int, list[str]]] = []
    try:
        for number, record in enumerate(reader, start=1):
            _check_row(source, number, record, MAX_CSV_ROWS)
            for cell in record:
                _check_cell(source, number, cell)
            records.append((number, record))
    except csv.Error as exc:
        reason = _CSV_ERRORS.get(str(exc), f"the CSV cannot be read from here on ({exc})")
        _reject(source, reason, row=len(records) + 1)
    grid = _Grid(source, records, fixed_width=True)
    if records and not ends_complete(text):
        number, last = records[-1]
        if number > 1:
            grid.cell_problems.append((number, len(last) - 1, _CUT_SHORT))
    return grid


_CUT_SHORT = (
    "the file ends in the middle of this row, with no line break after it, so it may have "
    "been cut short while copying; if the row is complete, end it with a line break"
)


def ends_complete(text: str) -> bool:
    """Whether CSV text ends where a row ends: after a line break, or a closing quote.

    A file cut short while copying usually stops inside a row, and the part left can look
    like a whole row: a reference ``INV-0012`` cut from ``INV-00123`` still fills its column.
    Spreadsheets and the csv module end every row with a line break, so a last row without
    one is taken as complete only when its last field is quoted, since the closing quote
    shows the field ended there. (The quote's balance is the csv reader's to check.)
    """
    return text.endswith(("\n", "\r", '"'))


def _check_row(source: str, number: int, cells: Sequence[object], max_rows: int) -> None:
    """Refuse the file at the first row past a limit, before reading any further."""
    if number > max_rows:
        _reject(
            source,
            f"the file has more than the {max_rows:,} rows carepool reads; "
            "split it, or remove the rows below the data",
            row=number,
        )
    if len(cells) > MAX_COLUMNS:
        _reject(
            source,
            f"row {number} has {len(cells):,} fields, more than the {MAX_COLUMNS} columns "
            "carepool reads",
            row=number,
        )


def _check_cell(source: str, number: int, text: str) -> str:
    if len(text) > MAX_CELL_CHARS:
        _reject(
            source,
            f"a cell in row {number} holds {len(text):,} characters, more than the "
            f"{MAX_CELL_CHARS:,} a spreadsheet cell can",
            row=number,
        )
    return text


def _xlsx_grid(data: bytes, source: str) -> _Grid:
    # Only the ZIP directory is read here: a workbook that would unpack too far (a bomb)
    # is refused before openpyxl inflates any of it.
    check_workbook_archive(data, source, not_a_workbook=_NOT_A_WORKBOOK)
    # openpyxl warns about workbook features it ignores (data validation, extensions); they
    # never change cell values, and the test suite turns warnings into errors.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        try:
            # From the bytes already read: a workbook that fails to load leaves no file open.
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError):
            _reject(source, _NOT_A_WORKBOOK)
        except Exception:  # a damaged part (zlib, XML): the user's problem, not a bug
            _reject(source, _DAMAGED)
        try:
            return _sheet_grid(workbook.worksheets, source)
        except ImportRejected:
            raise
        except Exception:
            # Read-only openpyxl inflates and parses each sheet lazily, so a damaged part
            # shows up here as a zlib, ZIP or XML error; any of them means the workbook
            # cannot be read, which is the user's problem to fix, not a bug.
            _reject(source, _DAMAGED)
        finally:
            workbook.close()


def _sheet_grid(sheets: Sequence[object], source: str) -> _Grid:
    sheet = sheets[0] if sheets else None
    if not isinstance(sheet, ReadOnlyWorksheet):
        _reject(source, "the workbook's first sheet is not a worksheet of cells")
    grid = _Grid(f"{source}, sheet {sheet.title!r}", [], fixed_width=False)
    # The stored dimension is often wrong, so every row there is gets read; each is checked
    # as it arrives, so a sheet of millions of rows is refused at the first past the limit.
    # Trailing empty cells (a declared width of thousands of columns) are dropped unread.
    sheet.reset_dimensions()
    for number, cells in enumerate(sheet.rows, start=1):
        last = len(cells)
        while last and cells[last - 1].value is None:
            last -= 1
        _check_row(grid.source, number, cells[:last], MAX_SHEET_ROWS)
        texts = [
            _check_cell(grid.source, number, _cell_text(c.value, c.data_type, number, i, grid))
            for i, c in enumerate(cells[:last])
        ]
        while texts and not texts[-1]:
            texts.pop()
        grid.records.append((number, texts))
    return grid


def _cell_text(value: object, data_type: str | None, row: int, index: int, grid: _Grid) -> str:
    """A cell as the text a person would type for it; formulas and errors are problems."""
    ref = f"{get_column_letter(index + 1)}{row}"
    if data_type == "f" or isinstance(value, ArrayFormula | DataTableFormula):
        shown = value if isinstance(value, str) else "an array formula"
        message = f"cell {ref} holds a formula ({shown}) instead of a value; paste values only"
        grid.cell_problems.append((row, index, message))
        return ""
    if data_type == "e":
        grid.cell_problems.append((row, index, f"cell {ref} holds the error value {value}"))
        return ""
    return value_text(value)


def value_text(value: object) -> str:
    # A float is written back as the shortest text that reads as the same float, which is
    # the number the workbook stored; text with a fraction of a penny is then refused.
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        midnight = value.time() == dt.time(0)
        return value.date().isoformat() if midnight else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _to_table(grid: _Grid, required: Sequence[str]) -> Table:
    if not grid.records or not any(cell.strip() for cell in grid.records[0][1]):
        _reject(grid.source, "row 1 is blank; it must be the header naming the columns", row=1)
    header = tuple(cell.strip() for cell in grid.records[0][1])
    _check_header(grid.source, header, required)
    log = ProblemLog(grid.source)
    rows = list(_named_rows(grid, header, log))
    return Table(grid.source, header, tuple(rows), log.problems)


def _check_header(source: str, header: tuple[str, ...], required: Sequence[str]) -> None:
    problems: list[Problem] = []
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            problems.append(Problem(f"the column {name!r} appears more than once", source, 1))
        seen.add(name)
    missing = [name for name in required if name not in seen]
    if missing:
        named = ", ".join(repr(name) for name in missing)
        found = ", ".join(repr(name) for name in header[:12] if name)
        more = ", …" if len(header) > 12 else ""
        noun = "column" if len(missing) == 1 else "columns"
        problems.append(
            Problem(f"missing required {noun} {named} (the header has {found}{more})", source, 1)
        )
    if problems:
        raise ImportRejected.from_problems(source, problems)


def _named_rows(grid: _Grid, header: tuple[str, ...], log: ProblemLog) -> Iterator[Row]:
    bad_rows = _cell_problems_by_row(grid, header, log)
    for number, cells in grid.records[1:]:
        if not any(cell.strip() for cell in cells) and number not in bad_rows:
            continue  # blank rows separate or trail data in spreadsheets; they carry nothing
        if number in bad_rows or not _fits_header(number, cells, header, grid, log):
            continue
        padded = [*cells, *([""] * (len(header) - len(cells)))]
        yield Row(number, {name: value for name, value in zip(header, padded, strict=True) if name})


def _cell_problems_by_row(grid: _Grid, header: tuple[str, ...], log: ProblemLog) -> set[int]:
    for row, index, message in grid.cell_problems:
        column = header[index] if index < len(header) and header[index] else None
        log.add(message, row=row, column=column)
    return {row for row, _, _ in grid.cell_problems}


def _fits_header(
    number: int, cells: list[str], header: tuple[str, ...], grid: _Grid, log: ProblemLog
) -> bool:
    if grid.fixed_width and len(cells) != len(header):
        log.add(
            f"this row has {len(cells)} fields but the header has {len(header)}; look for "
            "an unquoted comma in a value or a missing field",
            row=number,
        )
        return False
    if len(cells) > len(header):
        ref = f"{get_column_letter(len(cells))}{number}"
        log.add(f"cell {ref} has a value but its column has no header", row=number)
        return False
    return True


# Field stages: each returns the value, or ``None`` after adding a Problem that names the
# row and column, so an importer can check every field of every row before deciding.


def optional_text(row: Row, column: str) -> str:
    """A cell's text without surrounding spaces; blank is allowed."""
    return row[column].strip()


def required_text(row: Row, column: str, log: ProblemLog) -> str | None:
    value = row[column].strip()
    if not value:
        log.add("this cell is blank but a value is required", row=row.number, column=column)
        return None
    return value


MAX_WHOLE_NUMBER = 10**12
"""The largest count (people, places) an import accepts: far above any real figure, and small
enough that a stored count, and a sum of many, always fits a signed 64-bit integer."""


def int_field(row: Row, column: str, log: ProblemLog) -> int | None:
    """A whole number, allowing thousands separators as spreadsheets write them (1,234)."""
    value = required_text(row, column, log)
    if value is None:
        return None
    if not _INTEGER.match(value):
        log.add(not_a(value, "a whole number"), row=row.number, column=column)
        return None
    number = int(value.replace(",", "").replace("−", "-"))
    if abs(number) > MAX_WHOLE_NUMBER:
        log.add(
            f"{number:,} is more than carepool accepts ({MAX_WHOLE_NUMBER:,})",
            row=row.number,
            column=column,
        )
        return None
    return number


def non_negative_int_field(row: Row, column: str, log: ProblemLog) -> int | None:
    value = int_field(row, column, log)
    if value is not None and value < 0:
        log.add(f"{value} is negative; it must be 0 or more", row=row.number, column=column)
        return None
    return value


def proportion_field(row: Row, column: str, log: ProblemLog) -> Fraction | None:
    """A proportion from 0 to 1 written as a decimal, kept exact (no float rounding)."""
    value = required_text(row, column, log)
    if value is None:
        return None
    if not _DECIMAL.match(value):
        log.add(not_a(value, "a decimal number"), row=row.number, column=column)
        return None
    exact = Fraction(Decimal(value))
    if exact > 1:
        log.add(f"{value} is more than 1; a share must be 0 to 1", row=row.number, column=column)
        return None
    return exact


def date_field(row: Row, column: str, log: ProblemLog, *, required: bool = True) -> dt.date | None:
    """A date as yyyy-mm-dd or dd/mm/yyyy (the UK order; never mm/dd). Blank is ``None``
    when not required."""
    value = row[column].strip()
    if not value:
        if required:
            log.add("this cell is blank but a date is required", row=row.number, column=column)
        return None
    try:
        return parse_date(value)
    except ValueError as exc:
        log.add(str(exc), row=row.number, column=column)
        return None


DATE_FORMATS = (
    "dates are yyyy-mm-dd or dd/mm/yyyy, day before month, such as 2016-03-31 or 31/03/2016"
)
"""The date forms every importer reads, as its messages name them."""


def parse_date(value: str) -> dt.date:
    try:
        if _ISO_DATE.match(value):
            return dt.date.fromisoformat(value)
        uk = _UK_DATE.match(value)
        if uk:
            return dt.date(int(uk[3]), int(uk[2]), int(uk[1]))
    except ValueError:
        raise ValueError(f"{value!r} is not a real date ({DATE_FORMATS})") from None
    raise ValueError(not_a(value, f"a date ({DATE_FORMATS})"))


def not_a(value: str, what: str) -> str:
    """Why ``value`` is not ``what``, naming digits other than 0-9 when that is the reason."""
    if has_other_digits(value):
        return f"{value!r} is not {what}: {ONLY_ASCII_DIGITS}"
    return f"{value!r} is not {what}"


def money_field(
    row: Row, column: str, log: ProblemLog, *, allow_negative: bool = False
) -> Pence | None:
    """An amount of money, read only by :func:`carepool.domain.money.parse_money`."""
    value = required_text(row, column, log)
    if value is None:
        return None
    try:
        return parse_money(value, allow_negative=allow_negative)
    except MoneyError as exc:
        log.add(exc.message, row=row.number, column=column)
        return None
