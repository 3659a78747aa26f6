"""Reading a joint plan back from the Excel template, and the layout both sides share.

An area downloads its plan as a workbook (:mod:`carepool.plans.files.workbook`), fills in the
yellow cells and uploads it. This module is the upload: a staged pipeline that refuses the
whole file or returns the whole plan, never part of one.

1. *Open*: the bytes must be a readable ``.xlsx`` of modest size (a password-protected
   workbook is an encrypted container, not a ZIP, and is refused with advice).
2. *Identify*: the Cover sheet's template version must be the framework's; a workbook from
   another year or an older layout would be read wrongly, so it is refused at once.
3. *Sheets*: every sheet the template promises must be there.
4. *Cells*: every field of every section is read, and every problem is kept with its sheet
   and cell (``Schemes!J12``) so the person fixing the file sees everything in one go.
5. *Model*: the values become :class:`~carepool.domain.plan.PlanContent`; what pydantic
   refuses is located to its cell too.

The layout lives here because it is the contract the reader enforces; the writer follows
it. Ambition values travel as text in text-formatted cells so that their exact
:class:`~decimal.Decimal` value survives (a number would pass through a binary float).
Text is escaped the way Excel escapes control characters (``_x000D_`` for a carriage
return) so that line endings typed in the web form survive the trip through XML.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import re
import typing
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, Literal, NoReturn, TypeVar

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula
from pydantic import BaseModel, ValidationError

from carepool.domain.errors import ImportRejected, MoneyError, Problem
from carepool.domain.framework import Framework
from carepool.domain.money import parse_money, pounds_to_pence
from carepool.domain.plan import (
    Ambition,
    Commissioner,
    ConditionConfirmation,
    ConditionStatus,
    Contribution,
    NewOrExisting,
    PlanContent,
    RiskShareKind,
    Scheme,
    Section75,
)
from carepool.io import openpyxl_dimensions
from carepool.io.limits import check_workbook_archive
from carepool.io.tabular import parse_date, value_text

openpyxl_dimensions.install()  # a sheet with no <dimension> is not read twice

# ---------------------------------------------------------------------------------------
# Layout: the contract between the writer and the reader
# ---------------------------------------------------------------------------------------

TITLE_ROW, INSTRUCTION_ROW, HEADER_ROW, FIRST_ROW = 1, 2, 3, 4
"""Every sheet has a title, a line of instructions and a header above its rows."""

FORM_VALUE_COLUMN = 2
"""On the Cover and Section 75 sheets each item is a row: its label in A, its value in B."""

SPARE_SCHEME_ROWS = 40
"""Empty yellow rows left under the schemes for an area to add its own."""

MAX_BYTES = 5 * 1024 * 1024
MAX_UNPACKED_BYTES = 50 * 1024 * 1024  # an .xlsx is a ZIP; refuse one that unpacks hugely
MAX_ROWS = 2000
"""No plan needs more rows on a sheet; the limits keep a hostile file from costing memory."""

_EXCEL_LAST_ROW = 1_048_576

Kind = Literal["text", "money", "decimal", "choice", "int", "date", "json"]


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a table sheet, or one item of a form sheet, and what its cells hold.

    ``field`` is the model field read from it; ``None`` marks cells shown to help the
    reader (partner names, totals) that are never read back. ``choices`` names the list
    its drop-down offers; only ``kind="choice"`` cells are refused for values off the list.
    """

    header: str
    field: str | None = None
    kind: Kind = "text"
    input: bool = True
    required: bool = False
    choices: str | None = None
    width: int = 18


COVER = (
    Column("Template version", "template_version", input=False, required=True),
    Column("Programme year", "year", input=False, required=True),
    Column("Area code", "area_code", input=False, required=True),
    Column("Area name", "area_name", input=False, required=True),
    Column("Plan version", "plan_version", "int", input=False, required=True),
    Column("Lock version", "lock_version", "int", input=False, required=True),
)
CONTRIBUTIONS = (
    Column("Financial year", "financial_year", "choice", False, True, "financial_years", 14),
    Column("Stream", "stream", "choice", False, True, "streams", 26),
    Column("Stream name", input=False, width=36),
    Column("Partner code", "partner_code", input=False, required=True, width=14),
    Column("Partner name", input=False, width=36),
    Column("Minimum (£)", "minimum", "money", input=False),
    Column("Additional (£)", "additional", "money"),
    Column("Total (£)", input=False),
)
SCHEMES = (
    Column("Reference", "ref", required=True, width=11),
    Column("Scheme name", "name", required=True, width=40),
    Column("Scheme type", "scheme_type", "choice", True, True, "scheme_types", 40),
    Column("Commissioner", "commissioner", "choice", True, True, "commissioners", 16),
    Column("Provider", "provider", required=True, width=30),
    Column("Funding source", "funding_source", "choice", True, True, "funding_sources", 26),
    Column("Area of spend", "area_of_spend", "choice", True, True, "areas_of_spend", 18),
    Column("New or existing", "new_or_existing", "choice", True, True, "new_or_existing", 15),
    Column("Financial year", "financial_year", "choice", True, True, "financial_years", 14),
    Column("Planned spend (£)", "planned_spend", "money", required=True),
)
METRICS = (
    Column("Metric", "metric", "choice", False, True, "metrics", 30),
    Column("Label", input=False, width=16),
    Column("Name", input=False, width=60),
    Column("Baseline", "baseline", "decimal", width=12),
    *(Column(f"Q{q} plan", f"q{q}", "decimal", width=12) for q in range(1, 5)),
)
CONDITIONS = (
    Column("Condition", "condition", "choice", False, True, "conditions", 30),
    Column("Title", input=False, width=50),
    Column("Status", "status", "choice", choices="condition_statuses", width=28),
    Column("Evidence", "evidence", width=90),
)
SECTION75 = (
    Column("Host partner (code)", "host_partner", choices="partners"),
    Column("Pool manager", "pool_manager"),
    Column("Risk share", "risk_share", "choice", choices="risk_shares"),
    Column("Risk-share parameters (JSON)", "risk_share_parameters", "json"),
    Column("Instalments a year", "instalments", "int", required=True, choices="instalments"),
    Column("Agreement signed (dd/mm/yyyy)", "signed", "date"),
)
NARRATIVE = (Column("Narrative", "narrative", width=120),)

TABLES: Mapping[str, tuple[Column, ...]] = {
    "Contributions": CONTRIBUTIONS,
    "Schemes": SCHEMES,
    "Metrics": METRICS,
    "Conditions": CONDITIONS,
    "Narrative": NARRATIVE,
}
FORMS: Mapping[str, tuple[Column, ...]] = {"Cover": COVER, "Section 75": SECTION75}
_TEMPLATE_VERSION_CELL = (FIRST_ROW, FORM_VALUE_COLUMN)  # Cover!B4


def sheet_ref(sheet: str) -> str:
    """A sheet's name as a formula writes it: quoted only if it must be (``'Section 75'``)."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", sheet):
        return sheet
    return "'" + sheet.replace("'", "''") + "'"


def cell_ref(sheet: str, row: int, column: int) -> str:
    """A cell as Excel writes it in a formula: ``Schemes!J12``, ``'Section 75'!B5``."""
    return f"{sheet_ref(sheet)}!{get_column_letter(column)}{row}"


def choice_lists(framework: Framework) -> dict[str, tuple[str, ...]]:
    """The drop-down lists the framework allows; the reader refuses values off them."""
    streams = tuple(s.id for s in framework.streams)
    instalments = typing.get_args(Section75.model_fields["instalments"].annotation)
    return {
        "financial_years": framework.financial_years,
        "streams": streams,
        "funding_sources": (*streams, "additional"),
        "scheme_types": framework.scheme_types,
        "areas_of_spend": framework.areas_of_spend,
        "commissioners": tuple(c.value for c in Commissioner),
        "new_or_existing": tuple(n.value for n in NewOrExisting),
        "metrics": tuple(m.metric for m in framework.metrics),
        "conditions": tuple(c.id for c in framework.national_conditions),
        "condition_statuses": tuple(s.value for s in ConditionStatus),
        "risk_shares": tuple(r.value for r in RiskShareKind),
        "instalments": tuple(str(n) for n in instalments),
    }


# Excel escapes control characters in text as _xHHHH_; XML would otherwise turn a carriage
# return into a line feed and cannot hold the rest at all.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
_ESCAPED = re.compile(r"_x(00[01][0-9A-Fa-f])_")


def escape_text(text: str) -> str:
    """Text as a cell can hold it exactly (see :func:`unescape_text`)."""
    return _CONTROL.sub(lambda m: f"_x{ord(m[0]):04X}_", text)


def unescape_text(text: str) -> str:
    return _ESCAPED.sub(lambda m: chr(int(m[1], 16)), text)


@dataclass(frozen=True, slots=True)
class WorkbookMeta:
    """What identifies an uploaded workbook: the template, the plan and the version edited.

    ``lock_version`` is the plan's optimistic lock at export, so an upload made from a
    stale download is refused instead of silently overwriting newer work.
    """

    template_version: str
    year: str
    area_code: str
    area_name: str
    plan_version: int
    lock_version: int


# ---------------------------------------------------------------------------------------
# Stage 1: open the file into grids of cells
# ---------------------------------------------------------------------------------------

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted .xlsx, and old .xls
_ENCRYPTED = (
    "the workbook is password-protected (encrypted) or an old .xls file; remove the "
    "password or save it as an Excel .xlsx workbook"
)
_NOT_XLSX = (
    "this is not an Excel .xlsx workbook; upload the template you downloaded from "
    "carepool, saved as .xlsx"
)
_DAMAGED = (
    "the file is damaged: it looks like an .xlsx workbook but cannot be read; open it in "
    "Excel and save it again"
)


@dataclass(frozen=True, slots=True)
class _Cell:
    value: object = None
    formula: str | None = None
    error: bool = False

    @property
    def blank(self) -> bool:
        text = self.value.strip() if isinstance(self.value, str) else self.value
        return text in (None, "") and self.formula is None and not self.error


_BLANK = _Cell()


@dataclass(frozen=True, slots=True)
class _Grid:
    """The cells of one sheet that hold anything, by row and then column (1-based)."""

    title: str
    rows: Mapping[int, tuple[_Cell, ...]]

    def cell(self, row: int, column: int) -> _Cell:
        cells = self.rows.get(row, ())
        return cells[column - 1] if column <= len(cells) else _BLANK

    def data_rows(self) -> list[int]:
        return sorted(r for r in self.rows if r >= FIRST_ROW)


def _reject(file_name: str, message: str, cell: str | None = None) -> NoReturn:
    raise ImportRejected.from_problems(file_name, [Problem(message, file=file_name, cell=cell)])


def _read_bytes(source: Path | BinaryIO, file_name: str) -> bytes:
    if isinstance(source, Path):
        try:
            if source.stat().st_size > MAX_BYTES:
                _too_big(file_name)
            return source.read_bytes()
        except OSError as exc:
            _reject(file_name, f"the file cannot be read ({exc.strerror or exc})")
    data = source.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        _too_big(file_name)
    return data


def _too_big(file_name: str) -> NoReturn:
    _reject(
        file_name,
        f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB; a plan "
        "template is far smaller, so this is not one (or it holds pictures or pasted data)",
    )


def _check_container(data: bytes, file_name: str) -> None:
    if data.startswith(_OLE2_MAGIC):
        _reject(file_name, _ENCRYPTED)
    # A plan needs far less than an ordinary import, so every part shares one small limit.
    check_workbook_archive(
        data,
        file_name,
        max_unpacked=MAX_UNPACKED_BYTES,
        max_part=MAX_UNPACKED_BYTES,
        not_a_workbook=_NOT_XLSX,
    )


def _load_grids(data: bytes, file_name: str, widths: Mapping[str, int]) -> dict[str, _Grid]:
    """The sheets named in ``widths``, each read to its width; other sheets are ignored."""
    _check_container(data, file_name)
    # openpyxl warns about features it drops on reading (validation extensions); they never
    # change cell values. Any exception from a malformed part means the file is unreadable.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        try:
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
            try:
                return {
                    sheet.title: _grid(sheet, widths[sheet.title], file_name)
                    for sheet in workbook.worksheets
                    if sheet.title in widths and isinstance(sheet, ReadOnlyWorksheet)
                }
            finally:
                workbook.close()
        except ImportRejected:
            raise
        except Exception:  # see above: any failure to parse means an unreadable file
            _reject(file_name, _DAMAGED)


def _grid(sheet: ReadOnlyWorksheet, width: int, file_name: str) -> _Grid:
    sheet.reset_dimensions()  # stored dimensions are often wrong; read every row there is
    rows: dict[int, tuple[_Cell, ...]] = {}
    for number, cells in enumerate(sheet.rows, start=1):
        found = tuple(_cell(c.value, c.data_type) for c in cells[:width])
        if all(c.blank for c in found):
            if number > _EXCEL_LAST_ROW:
                break
            continue
        if number > MAX_ROWS:
            _reject(
                file_name,
                f"the sheet {sheet.title!r} has data below row {MAX_ROWS}; "
                "a plan never needs so many rows",
                cell=cell_ref(sheet.title, number, 1),
            )
        rows[number] = found
    return _Grid(sheet.title, rows)


def _cell(value: object, data_type: str | None) -> _Cell:
    if isinstance(value, ArrayFormula):
        return _Cell(formula=f"{{{value.text}}}")
    if isinstance(value, DataTableFormula):
        return _Cell(formula="a data table")
    if data_type == "f":
        return _Cell(formula=str(value))
    if data_type == "e":
        return _Cell(value, error=True)
    return _Cell(value)


# ---------------------------------------------------------------------------------------
# Stage 4: cells into values, every problem located
# ---------------------------------------------------------------------------------------


class _Bad(Exception):
    """A cell's value cannot be read; the message says why, for the person who typed it."""


def _text(value: object, column: Column, choices: Sequence[str]) -> str:
    return unescape_text(value) if isinstance(value, str) else value_text(value)


def _money(value: object, column: Column, choices: Sequence[str]) -> int:
    try:
        if isinstance(value, str):
            return parse_money(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            amount = pounds_to_pence(value_text(value))
            if amount < 0:
                raise _Bad(f"{value_text(value)} is negative; an amount here must be 0 or more")
            return amount
    except MoneyError as exc:
        raise _Bad(exc.message) from exc
    raise _Bad(f"{value_text(value)!r} is not an amount of money (expected e.g. £1,234.56)")


_NUMBER = re.compile(r"^[-−]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?$")


def _decimal(value: object, column: Column, choices: Sequence[str]) -> Decimal:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    text = value_text(value).strip()
    if not isinstance(value, str) or not _NUMBER.match(text):
        raise _Bad(f"{text!r} is not a number (write e.g. 1234.5)")
    return Decimal(text.replace(",", "").replace("−", "-"))


def _choice(value: object, column: Column, choices: Sequence[str]) -> str:
    text = _text(value, column, choices).strip()
    by_folded = {c.casefold(): c for c in choices}
    if text.casefold() not in by_folded:
        raise _Bad(
            f"{text!r} is not an allowed {column.header.lower()}; pick one from the cell's "
            "drop-down list"
        )
    return by_folded[text.casefold()]


def _int(value: object, column: Column, choices: Sequence[str]) -> int:
    text = value_text(value).strip()
    if isinstance(value, bool) or not re.fullmatch(r"-?[0-9]+(?:\.0+)?", text):
        raise _Bad(f"{text!r} is not a whole number")
    return int(text.split(".")[0])


def _date(value: object, column: Column, choices: Sequence[str]) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise _Bad(f"{value_text(value)!r} is not a date (write dd/mm/yyyy)")
    try:
        return parse_date(value.strip())
    except ValueError as exc:
        raise _Bad(str(exc)) from exc


def _json(value: object, column: Column, choices: Sequence[str]) -> dict[str, Any]:
    try:
        text = _text(value, column, choices)
        parsed = json.loads(text, parse_constant=_not_json, parse_float=_finite)
    except ValueError:  # not JSON, or NaN, Infinity or a number too large for a float
        parsed = None
    if not isinstance(parsed, dict):
        raise _Bad('write the parameters as JSON, e.g. {"cap": "£100,000"}')
    return parsed


def _not_json(name: str) -> None:
    """NaN and Infinity are Python's additions to JSON; no database stores them as JSON."""
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is too large")
    return number


_PARSERS: Mapping[Kind, Callable[[object, Column, Sequence[str]], object]] = {
    "text": _text,
    "money": _money,
    "decimal": _decimal,
    "choice": _choice,
    "int": _int,
    "date": _date,
    "json": _json,
}
_BLANKS: Mapping[Kind, Callable[[], object]] = {
    "text": str,
    "money": int,
    "decimal": lambda: None,
    "choice": lambda: None,
    "int": lambda: None,
    "date": lambda: None,
    "json": dict,
}

Placed = tuple[Column, int, int]
"""A column spec with the row and column number of the cell that holds it."""
M = TypeVar("M", bound=BaseModel)


def _table_cells(columns: Sequence[Column], row: int) -> list[Placed]:
    return [(c, row, i) for i, c in enumerate(columns, start=1) if c.field]


def _form_cells(columns: Sequence[Column]) -> list[Placed]:
    return [(c, FIRST_ROW + i, FORM_VALUE_COLUMN) for i, c in enumerate(columns) if c.field]


class _Reader:
    """Reads the cells of one workbook, keeping every problem with its sheet and cell."""

    def __init__(self, file_name: str, choices: Mapping[str, Sequence[str]]) -> None:
        self.file_name = file_name
        self.choices = choices
        self.problems: list[Problem] = []

    def problem(self, grid: _Grid, row: int, col: int, message: str, header: str) -> None:
        ref = cell_ref(grid.title, row, col)
        self.problems.append(Problem(message, file=self.file_name, cell=ref))

    def fields(self, grid: _Grid, placed: Sequence[Placed]) -> dict[str, object] | None:
        """The values of one row (or form), or ``None`` once its problems are recorded."""
        values: dict[str, object] = {}
        missing: list[Placed] = []
        failed = False
        for column, row, col in placed:
            assert column.field is not None
            cell = grid.cell(row, col)
            if cell.blank:
                if column.required:
                    missing.append((column, row, col))
                values[column.field] = _BLANKS[column.kind]()
                continue
            try:
                values[column.field] = self.parse(cell, column)
            except _Bad as exc:
                self.problem(grid, row, col, str(exc), column.header)
                failed = True
        if missing:
            self.missing(grid, missing, partial=len(missing) < len(placed))
        return None if failed or missing else values

    def parse(self, cell: _Cell, column: Column) -> object:
        if cell.formula is not None:
            raise _Bad(
                f"holds a formula ({cell.formula}) instead of a value; type the value, or "
                "copy and 'paste values only'"
            )
        if cell.error:
            raise _Bad(f"holds the error {cell.value}; type a value instead")
        choices = self.choices.get(column.choices or "", ())
        return _PARSERS[column.kind](cell.value, column, choices)

    def missing(self, grid: _Grid, missing: Sequence[Placed], *, partial: bool) -> None:
        column, row, col = missing[0]
        cells = ", ".join(f"{c.header} ({get_column_letter(n)}{r})" for c, r, n in missing)
        verb = "is" if len(missing) == 1 else "are"
        hint = "; fill in the rest of the row or clear it" if partial else ""
        self.problem(grid, row, col, f"{cells} {verb} blank but needed{hint}", column.header)

    def model(
        self, kind: type[M], values: dict[str, object], grid: _Grid, placed: Sequence[Placed]
    ) -> M | None:
        """Validate one item; pydantic's complaints are pinned to the cells they are about."""
        try:
            return kind.model_validate(values)
        except ValidationError as exc:
            by_field = {c.field: (c, r, n) for c, r, n in placed}
            for error in exc.errors():
                column, row, col = by_field.get(_field_of(error["loc"]), placed[0])
                self.problem(grid, row, col, error["msg"], column.header)
            return None


def _field_of(location: tuple[int | str, ...]) -> str:
    if len(location) > 1 and location[0] == "quarters":
        return f"q{int(location[1]) + 1}"
    return str(location[0]) if location else ""


# ---------------------------------------------------------------------------------------
# The sections
# ---------------------------------------------------------------------------------------


def _table(reader: _Reader, grid: _Grid, columns: Sequence[Column], kind: type[M]) -> list[M]:
    """Every non-empty row of a table sheet as a model; wholly empty rows are skipped."""
    items: list[M] = []
    for row in grid.data_rows():
        placed = _table_cells(columns, row)
        if all(grid.cell(r, n).blank for _, r, n in placed):
            continue  # the row has only cells that are shown, never read (totals, names)
        values = reader.fields(grid, placed)
        if values is not None and kind is Ambition:
            values["quarters"] = tuple(values.pop(f"q{q}") for q in range(1, 5))
        item = None if values is None else reader.model(kind, values, grid, placed)
        if item is not None:
            items.append(item)
    return items


def _narrative(reader: _Reader, grid: _Grid) -> str:
    values = reader.fields(grid, _table_cells(NARRATIVE, FIRST_ROW))
    return str(values["narrative"]) if values else ""


def _section75(reader: _Reader, grid: _Grid) -> Section75 | None:
    placed = _form_cells(SECTION75)
    values = reader.fields(grid, placed)
    return None if values is None else reader.model(Section75, values, grid, placed)


def _meta(reader: _Reader, grid: _Grid, framework: Framework) -> WorkbookMeta | None:
    values = reader.fields(grid, _form_cells(COVER))
    if values is None:
        return None
    meta = WorkbookMeta(**values)  # type: ignore[arg-type]  # kinds checked by the parsers
    if meta.year != framework.year:
        reader.problem(
            grid,
            FIRST_ROW + 1,
            FORM_VALUE_COLUMN,
            f"the workbook is for {meta.year}, not {framework.year}",
            COVER[1].header,
        )
    return meta


_SECTIONS: Mapping[str, tuple[str, Callable[[_Reader, _Grid], object]]] = {
    "contributions": ("Contributions", lambda r, g: _table(r, g, CONTRIBUTIONS, Contribution)),
    "schemes": ("Schemes", lambda r, g: _table(r, g, SCHEMES, Scheme)),
    "ambitions": ("Metrics", lambda r, g: _table(r, g, METRICS, Ambition)),
    "conditions": ("Conditions", lambda r, g: _table(r, g, CONDITIONS, ConditionConfirmation)),
    "section75": ("Section 75", _section75),
    "narrative": ("Narrative", _narrative),
}
"""Each part of the plan and the sheet it is read from; a part whose sheet the year's
template does not have keeps its default."""


def _content(reader: _Reader, grids: Mapping[str, _Grid]) -> PlanContent | None:
    parts = {
        part: read(reader, grids[sheet])
        for part, (sheet, read) in _SECTIONS.items()
        if sheet in grids
    }
    if reader.problems:
        return None
    try:
        return PlanContent.model_validate(parts)
    except ValidationError as exc:
        for error in exc.errors():
            grid = grids[_SECTIONS[_field_of(error["loc"])][0]]
            reader.problem(grid, FIRST_ROW, 1, error["msg"], grid.title)
        return None


# ---------------------------------------------------------------------------------------
# The pipeline
# ---------------------------------------------------------------------------------------


def read_plan_workbook(
    source: Path | BinaryIO, file_name: str, framework: Framework
) -> tuple[WorkbookMeta, PlanContent]:
    """Read a filled-in template: the plan it identifies and its whole content, or refuse.

    Raises :class:`~carepool.domain.errors.ImportRejected` listing every problem found;
    nothing partial is ever returned, so nothing half-read can reach the store.
    """
    widths = {name: len(columns) for name, columns in {**TABLES, **FORMS}.items()}
    grids = _load_grids(_read_bytes(source, file_name), file_name, widths)
    _check_template(grids, file_name, framework)
    _check_sheets(grids, file_name, framework)
    reader = _Reader(file_name, choice_lists(framework))
    meta = _meta(reader, grids["Cover"], framework)
    content = _content(reader, grids)
    if reader.problems or meta is None or content is None:
        raise ImportRejected.from_problems(file_name, reader.problems)
    return meta, content


def _check_template(grids: Mapping[str, _Grid], file_name: str, framework: Framework) -> None:
    """Stage 2: refuse at once a workbook laid out for another year or template version."""
    expected = framework.template.version
    if "Cover" not in grids:
        _reject(
            file_name,
            "the workbook has no Cover sheet, so it is not a carepool plan "
            f"template; download the {framework.year} template and fill that in",
        )
    cell = grids["Cover"].cell(*_TEMPLATE_VERSION_CELL)
    found = cell.value.strip() if isinstance(cell.value, str) else None
    if found != expected:
        shown = f"template {found}" if found else "not a carepool plan template"
        key = cell_ref("Cover", *_TEMPLATE_VERSION_CELL)
        _reject(
            file_name,
            f"this workbook is {shown} but the {framework.year} plan "
            f"needs template {expected}; download a fresh template and copy your "
            "entries into it",
            cell=key,
        )


def _check_sheets(grids: Mapping[str, _Grid], file_name: str, framework: Framework) -> None:
    """Stage 3: every sheet the template promises must still be there."""
    expected = [name for name in framework.template.sheets if name in {**TABLES, **FORMS}]
    missing = [name for name in expected if name not in grids]
    problems = [
        Problem(
            f"the workbook has no sheet named {name!r}; it was renamed or deleted, so "
            "download a fresh template",
            file=file_name,
            key=name,
        )
        for name in missing
    ]
    if problems:
        raise ImportRejected.from_problems(file_name, problems)
