"""A joint plan as the Excel template areas already know, to fill in offline and upload.

The Better Care Fund ran on Excel templates sent by email; many areas still want to work
that way. carepool keeps the workbook but not the inbox: the workbook is generated from the
plan, carries on its Cover sheet what identifies the plan and the version it was made from,
and comes back through a staged reader (:mod:`carepool.plans.files.workbook_read`) that refuses
it whole or takes it whole.

Layout, one sheet per section of the framework's template:

* every sheet: a title in row 1, an instruction in row 2, a header in row 3, rows from 4;
* **yellow** cells are for the area to fill in and are unlocked; **grey** cells are filled
  by carepool (partner names, minimums, metric names, condition titles, the Cover) and are
  locked. Sheets are protected *without a password*: protection stops accidental edits,
  it is not security — the upload checks every cell whatever the workbook allows;
* drop-downs come from the framework through ranges on a hidden ``Lists`` sheet (one
  convention for every list, short or long: Excel's inline lists stop at 255 characters);
* money is shown in pounds (``"£"#,##0.00``) and written as the exact decimal number of
  pounds; ambitions are written as text so their exact decimal value comes back;
* the Checklist sheet says, with live formulas and red/green conditional formatting,
  whether each section is complete, and lists the rule findings as they were at export;
* a sheet of the template this layout does not know (2017-19's HICM) is written as a
  placeholder that says to complete that part online.

``read_plan_workbook(write_plan_workbook(content))`` gives back ``content`` exactly.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.formatting.rule import Rule
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.styles.differential import DifferentialStyle
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from carepool.domain.errors import CarepoolError
from carepool.domain.money import format_money
from carepool.domain.plan import PlanContent
from carepool.domain.plan_rules import PlanContext, check_plan
from carepool.plans.files.workbook_read import (
    CONDITIONS,
    CONTRIBUTIONS,
    COVER,
    FIRST_ROW,
    FORM_VALUE_COLUMN,
    HEADER_ROW,
    INSTRUCTION_ROW,
    METRICS,
    NARRATIVE,
    SCHEMES,
    SECTION75,
    SPARE_SCHEME_ROWS,
    TITLE_ROW,
    Column,
    WorkbookMeta,
    choice_lists,
    escape_text,
    read_plan_workbook,
    sheet_ref,
)

__all__ = ["WorkbookMeta", "read_plan_workbook", "write_plan_workbook"]

INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
"""Yellow: the area fills these in."""
FIXED_FILL = PatternFill("solid", fgColor="D9D9D9")
"""Grey: carepool fills these in; they are locked."""
COMPLETE_FILL = PatternFill("solid", fgColor="C6EFCE")
INCOMPLETE_FILL = PatternFill("solid", fgColor="FFC7CE")
MONEY_FORMAT = '"£"#,##0.00'
TEXT_FORMAT = "@"  # typed entries stay text: "001" stays "001", 12.50 stays "12.50"
DATE_FORMAT = "dd/mm/yyyy"
LISTS_SHEET = "Lists"

MAX_PENCE = 10**15
"""Spreadsheets hold numbers as binary floats, exact to 15 significant digits; larger
amounts (over £10 trillion) could not come back to the penny, so they are refused."""

_TITLE_FONT = Font(bold=True, size=14)
_HEADER_FONT = Font(bold=True)
_NOTE_FONT = Font(italic=True)
_WRAP = Alignment(wrap_text=True, vertical="top")
_TOP = Alignment(vertical="top")
_RIGHT = Alignment(horizontal="right", vertical="top")
_UNLOCKED = Protection(locked=False)


@dataclass(frozen=True, slots=True)
class _Export:
    """Everything a sheet writer needs; ``lists`` maps a list name to its cell range."""

    content: PlanContent
    context: PlanContext
    meta: WorkbookMeta
    lists: Mapping[str, str]


def write_plan_workbook(
    target: Path | BinaryIO, content: PlanContent, context: PlanContext, meta: WorkbookMeta
) -> None:
    """Write the plan as the year's Excel template, ready for the area to fill in."""
    framework = context.framework
    workbook = Workbook()
    workbook.remove(workbook.worksheets[0])
    for name in framework.template.sheets:
        workbook.create_sheet(name)
    lists = {**choice_lists(framework), "partners": tuple(context.partners)}
    export = _Export(content, context, meta, _lists_sheet(workbook, lists))
    for name in framework.template.sheets:
        sheet = workbook[name]
        _WRITERS.get(name, _placeholder)(sheet, export)
        _protect(sheet)
    workbook.security = WorkbookProtection(lockStructure=True)  # no renaming or deleting
    workbook.save(target)


# ---------------------------------------------------------------------------------------
# Cells
# ---------------------------------------------------------------------------------------


def _pounds(pence: int) -> Decimal:
    if abs(pence) >= MAX_PENCE:
        raise CarepoolError(
            f"{format_money(pence)} is too large for a spreadsheet to hold to the penny"
        )
    return Decimal(pence).scaleb(-2)


def _cell_value(column: Column, value: object) -> str | int | Decimal | dt.date | None:
    """A model value as the cell holds it (``None`` leaves the cell blank)."""
    if value is None or value == "" or value == {}:
        return None
    if column.kind == "money" and isinstance(value, int):
        return _pounds(value)
    if column.kind == "decimal" and isinstance(value, Decimal):
        return format(value, "f")
    if column.kind == "json":
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, int | dt.date) and not column.choices:
        return value  # dates, and whole numbers that are not picked from a list
    return escape_text(str(value))


def _put(sheet: Worksheet, row: int, col: int, column: Column, value: object) -> None:
    """Write one cell with its fill, lock and format, as ``column`` says."""
    cell = sheet.cell(row, col)
    cell.value = _cell_value(column, value)
    if isinstance(cell.value, str):
        cell.data_type = "s"  # text, even if it starts with "=": data must never run as a formula
    cell.fill = INPUT_FILL if column.input else FIXED_FILL
    if column.input:
        cell.protection = _UNLOCKED
    cell.number_format = _FORMATS.get(column.kind, TEXT_FORMAT)
    cell.alignment = _RIGHT if column.kind == "decimal" else _WRAP if column.width > 40 else _TOP


_FORMATS = {"money": MONEY_FORMAT, "date": DATE_FORMAT, "int": "0"}


def _shown(sheet: Worksheet, row: int, col: int, value: object) -> None:
    """A grey, locked cell of text that helps the reader and is never read back."""
    cell = sheet.cell(row, col)
    if isinstance(value, str):
        cell.value = escape_text(value)
        cell.data_type = "s"
    cell.fill = FIXED_FILL
    cell.alignment = _WRAP


def _heading(sheet: Worksheet, title: str, instruction: str, columns: Sequence[Column]) -> None:
    sheet.cell(TITLE_ROW, 1, title).font = _TITLE_FONT
    sheet.cell(INSTRUCTION_ROW, 1, instruction).font = _NOTE_FONT
    for index, column in enumerate(columns, start=1):
        header = sheet.cell(HEADER_ROW, index, column.header)
        header.font = _HEADER_FONT
        header.alignment = _WRAP
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = f"A{FIRST_ROW}"


def _values(
    columns: Sequence[Column], item: object, shown: Mapping[str, object] | None = None
) -> list[object]:
    """An item's fields in column order; ``shown`` gives the cells that are only shown."""
    extra = shown or {}
    return [getattr(item, c.field) if c.field else extra.get(c.header) for c in columns]


def _table_row(
    sheet: Worksheet, row: int, columns: Sequence[Column], values: Sequence[object]
) -> None:
    for index, (column, value) in enumerate(zip(columns, values, strict=True), start=1):
        if column.field is None:
            _shown(sheet, row, index, value)
        else:
            _put(sheet, row, index, column, value)


def _validations(sheet: Worksheet, columns: Sequence[Column], rows: range, export: _Export) -> None:
    """Drop-downs (and a date check) on the input cells of each column that has one."""
    if not rows:
        return
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        cells = f"{letter}{rows.start}:{letter}{rows.stop - 1}"
        _validate(sheet, column, cells, export)


def _validate(sheet: Worksheet, column: Column, cells: str, export: _Export) -> None:
    if not column.input:
        return
    if column.choices:
        check = DataValidation(type="list", formula1=export.lists[column.choices])
        check.error = "Pick a value from the drop-down list."
    elif column.kind == "date":
        check = DataValidation(
            type="date", operator="between", formula1="DATE(2000,1,1)", formula2="DATE(2100,12,31)"
        )
        check.error = "Type a date as dd/mm/yyyy."
    else:
        return
    check.allow_blank = True
    check.showErrorMessage = True
    check.errorTitle = column.header
    sheet.add_data_validation(check)
    check.add(cells)


def _protect(sheet: Worksheet) -> None:
    """Lock the grey cells against accidents; people may still resize rows and columns."""
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False
    sheet.protection.formatRows = False


def _lists_sheet(workbook: Workbook, lists: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """A hidden sheet holding every drop-down list, one per column; returns their ranges."""
    sheet = workbook.create_sheet(LISTS_SHEET)
    ranges: dict[str, str] = {}
    for index, (name, values) in enumerate(lists.items(), start=1):
        letter = get_column_letter(index)
        sheet.cell(1, index, name).font = _HEADER_FONT
        for row, value in enumerate(values, start=2):
            sheet.cell(row, index, escape_text(value)).data_type = "s"
        last = max(len(values) + 1, 2)
        ranges[name] = f"{LISTS_SHEET}!${letter}$2:${letter}${last}"
    sheet.sheet_state = "hidden"
    _protect(sheet)
    return ranges


# ---------------------------------------------------------------------------------------
# Sheets
# ---------------------------------------------------------------------------------------


def _form(
    sheet: Worksheet, columns: Sequence[Column], values: Sequence[object], notes: Sequence[str]
) -> None:
    """A form sheet: one item per row, its label in A, its value in B and a note in C."""
    for label, width in zip("ABC", (30, 40, 70), strict=True):
        sheet.column_dimensions[label].width = width
    for header, index in (("Item", 1), ("Value", 2), ("Guidance", 3)):
        sheet.cell(HEADER_ROW, index, header).font = _HEADER_FONT
    for offset, (column, value, note) in enumerate(zip(columns, values, notes, strict=True)):
        row = FIRST_ROW + offset
        _shown(sheet, row, 1, column.header)
        _put(sheet, row, FORM_VALUE_COLUMN, column, value)
        _shown(sheet, row, 3, note)


def _cover(sheet: Worksheet, export: _Export) -> None:
    meta, framework = export.meta, export.context.framework
    sheet.cell(TITLE_ROW, 1, f"{framework.name}: joint plan").font = _TITLE_FONT
    sheet.cell(INSTRUCTION_ROW, 1, _COVER_INSTRUCTION).font = _NOTE_FONT
    notes = [
        "the layout of this workbook; carepool refuses a workbook of another version",
        "the programme year of the plan",
        "the Health and Wellbeing Board area",
        "",
        "the version of the plan this workbook was made from",
        "carepool refuses the upload if the plan has changed online since this download",
    ]
    _form(sheet, COVER, _values(COVER, meta), notes)
    key = FIRST_ROW + len(COVER) + 1
    for offset, (fill, text) in enumerate(
        ((INPUT_FILL, "Yellow: fill these in"), (FIXED_FILL, "Grey: filled in by carepool"))
    ):
        sheet.cell(key + offset, 1, text).fill = fill


_COVER_INSTRUCTION = (
    "Fill in the yellow cells on each sheet, then upload this workbook to carepool. "
    "The grey cells below identify the plan: do not change them."
)


def _contributions(sheet: Worksheet, export: _Export) -> None:
    framework, partners = export.context.framework, export.context.partners
    names = {s.id: s.name for s in framework.streams}
    _heading(sheet, "Contributions to the pooled budget", _CONTRIBUTIONS_NOTE, CONTRIBUTIONS)
    for row, c in enumerate(export.content.contributions, start=FIRST_ROW):
        shown = {"Stream name": names.get(c.stream), "Partner name": partners.get(c.partner_code)}
        _table_row(sheet, row, CONTRIBUTIONS, _values(CONTRIBUTIONS, c, shown))
        total = sheet.cell(row, len(CONTRIBUTIONS), f"=F{row}+G{row}")
        total.number_format = MONEY_FORMAT
    rows = range(FIRST_ROW, FIRST_ROW + len(export.content.contributions))
    _validations(sheet, CONTRIBUTIONS, rows, export)


_CONTRIBUTIONS_NOTE = (
    "Each partner's minimum is set by the allocation. Enter in 'Additional' anything the "
    "partner pools on top (0 if nothing)."
)


def _schemes(sheet: Worksheet, export: _Export) -> None:
    _heading(sheet, "Schemes funded from the pool", _SCHEMES_NOTE, SCHEMES)
    schemes = export.content.schemes
    for row, s in enumerate(schemes, start=FIRST_ROW):
        _table_row(sheet, row, SCHEMES, _values(SCHEMES, s))
    rows = range(FIRST_ROW, FIRST_ROW + len(schemes) + SPARE_SCHEME_ROWS)
    for row in rows[len(schemes) :]:
        _table_row(sheet, row, SCHEMES, [None] * len(SCHEMES))
    _validations(sheet, SCHEMES, rows, export)


_SCHEMES_NOTE = (
    "One row per scheme and financial year; fill every cell of a row. A scheme that runs in "
    "more than one year of the plan has a row for each year, with the same reference and "
    f"details and that year's planned spend. {SPARE_SCHEME_ROWS} empty rows are left for new "
    "schemes; clear a whole row to remove a scheme. Planned spend must add up to the money "
    "pooled."
)


def _metrics(sheet: Worksheet, export: _Export) -> None:
    uses = {m.metric: m for m in export.context.framework.metrics}
    _heading(sheet, "Metrics: baseline and planned quarterly values", _METRICS_NOTE, METRICS)
    for row, a in enumerate(export.content.ambitions, start=FIRST_ROW):
        use = uses.get(a.metric)
        label, name = (use.label, use.name) if use else ("", "")
        _table_row(sheet, row, METRICS, (a.metric, label, name, a.baseline, *a.quarters))
    rows = range(FIRST_ROW, FIRST_ROW + len(export.content.ambitions))
    _validations(sheet, METRICS, rows, export)


_METRICS_NOTE = (
    "Enter the baseline and the planned value for each quarter as numbers, e.g. 1234.5 "
    "(the cells keep exactly what you type)."
)


def _conditions(sheet: Worksheet, export: _Export) -> None:
    titles = {c.id: c.title for c in export.context.framework.national_conditions}
    _heading(sheet, "National conditions", _CONDITIONS_NOTE, CONDITIONS)
    for row, c in enumerate(export.content.conditions, start=FIRST_ROW):
        shown = {"Title": titles.get(c.condition)}
        _table_row(sheet, row, CONDITIONS, _values(CONDITIONS, c, shown))
    rows = range(FIRST_ROW, FIRST_ROW + len(export.content.conditions))
    _validations(sheet, CONDITIONS, rows, export)


_CONDITIONS_NOTE = (
    "Confirm each condition, or say it is not yet met and explain in 'Evidence' how and "
    "when it will be."
)


def _section75(sheet: Worksheet, export: _Export) -> None:
    terms, partners = export.content.section75, export.context.partners
    sheet.cell(TITLE_ROW, 1, "Section 75 pooled budget agreement").font = _TITLE_FONT
    sheet.cell(INSTRUCTION_ROW, 1, "The agreement's key terms.").font = _NOTE_FONT
    notes = [
        "one of: " + "; ".join(f"{code} ({name})" for code, name in partners.items()),
        "the named officer who reports on the pool quarterly and at year end",
        "how an over- or underspend is shared between the partners",
        'the risk share\'s terms as JSON: {"cap": "£250,000"} for host first, '
        '{"percentages": {"CODE": 60, ...}} for fixed percentages; blank for the others',
        "how many instalments partners pay into the pool each year",
        "the date the agreement was signed; blank if not yet",
    ]
    _form(sheet, SECTION75, _values(SECTION75, terms), notes)
    for row, column in enumerate(SECTION75, start=FIRST_ROW):
        _validate(sheet, column, f"B{row}", export)


def _narrative(sheet: Worksheet, export: _Export) -> None:
    _heading(sheet, "Narrative", _NARRATIVE_NOTE, NARRATIVE)
    _put(sheet, FIRST_ROW, 1, NARRATIVE[0], export.content.narrative)
    sheet.row_dimensions[FIRST_ROW].height = 400


_NARRATIVE_NOTE = (
    "Describe the plan for the board, assurers and the public: at least a paragraph "
    "(100 characters)."
)


def _placeholder(sheet: Worksheet, export: _Export) -> None:
    """A template sheet this layout does not hold: say where that part of the plan goes."""
    year = export.context.framework.year
    sheet.cell(TITLE_ROW, 1, sheet.title).font = _TITLE_FONT
    sheet.cell(INSTRUCTION_ROW, 1, _PLACEHOLDER_NOTE.format(sheet=sheet.title, year=year))
    sheet.column_dimensions["A"].width = 120


_PLACEHOLDER_NOTE = (
    "The '{sheet}' part of the {year} plan is completed online in carepool, not in this "
    "workbook; nothing on this sheet is read when the workbook is uploaded."
)


# ---------------------------------------------------------------------------------------
# Checklist
# ---------------------------------------------------------------------------------------


def _checklist(sheet: Worksheet, export: _Export) -> None:
    sheet.cell(TITLE_ROW, 1, "Checklist").font = _TITLE_FONT
    sheet.cell(INSTRUCTION_ROW, 1, _CHECKLIST_NOTE).font = _NOTE_FONT
    for index, (header, width) in enumerate(
        (("Section", 20), ("Status", 16), ("Complete when", 90)), start=1
    ):
        sheet.cell(HEADER_ROW, index, header).font = _HEADER_FONT
        sheet.column_dimensions[get_column_letter(index)].width = width
    present = set(export.context.framework.template.sheets)
    checks = [c for c in _completeness(export) if c[0] in present]
    for row, (section, test, meaning) in enumerate(checks, start=FIRST_ROW):
        _shown(sheet, row, 1, section)
        status = sheet.cell(row, 2, f'=IF({test},"Complete","Not complete")')
        status.fill = FIXED_FILL
        _shown(sheet, row, 3, meaning)
    last = FIRST_ROW + len(checks) - 1
    _traffic_lights(sheet, f"A{FIRST_ROW}:C{last}")
    _findings(sheet, last + 2, export)


_CHECKLIST_NOTE = (
    "Each row turns green when its section is complete. Upload checks every rule again."
)


def _traffic_lights(sheet: Worksheet, cells: str) -> None:
    """Green rows for complete sections, red for the rest (over the grey fill)."""
    first = cells.split(":")[0][1:]
    done = f'$B{first}="Complete"'
    for test, fill in ((done, COMPLETE_FILL), (f"NOT({done})", INCOMPLETE_FILL)):
        rule = Rule(type="expression", formula=[test], dxf=DifferentialStyle(fill=fill))
        sheet.conditional_formatting.add(cells, rule)


def _completeness(export: _Export) -> list[tuple[str, str, str]]:
    """Each section's completeness as an Excel condition over its input cells."""
    content = export.content
    additional = _span("Contributions", "G", "G", len(content.contributions))
    pooled = _span("Contributions", "F", "G", len(content.contributions))
    spend = _span("Schemes", "J", "J", len(content.schemes) + SPARE_SCHEME_ROWS)
    ambitions = _span("Metrics", "D", "H", len(content.ambitions))
    statuses = _span("Conditions", "C", "C", len(content.conditions))
    terms = _span("Section 75", "B", "B", 3)  # host partner, pool manager, risk share
    adds_up = f"ROUND(SUM({spend})*100,0)=ROUND(SUM({pooled})*100,0)"
    return [
        ("Contributions", f"COUNTBLANK({additional})=0",
         "every partner's additional amount is entered (0 if none)"),
        ("Schemes", f"AND(COUNT({spend})>0,{adds_up})",
         "there are schemes, and their planned spend adds up to the money pooled"),
        ("Metrics", f"COUNTBLANK({ambitions})=0",
         "every metric has a baseline and a plan for each quarter"),
        ("Conditions", f"COUNTBLANK({statuses})=0", "every national condition has a status"),
        ("Section 75", f"COUNTBLANK({terms})=0",
         "the host partner, pool manager and risk share are given"),
        ("Narrative", f"LEN(Narrative!A{FIRST_ROW})>=100",
         "the narrative is at least 100 characters"),
    ]  # fmt: skip


def _span(sheet: str, first: str, last: str, rows: int) -> str:
    """The cells of a section's rows as a reference; an empty section still spans a row."""
    end = FIRST_ROW + max(rows, 1) - 1
    return f"{sheet_ref(sheet)}!${first}${FIRST_ROW}:${last}${end}"


def _findings(sheet: Worksheet, row: int, export: _Export) -> None:
    """The rule findings when the workbook was made: static text, to guide the edits."""
    sheet.cell(row, 1, "Checks when this workbook was made").font = _HEADER_FONT
    findings = check_plan(export.content, export.context)
    lines = [f"at export: {f.severity.value}: {f.location}: {f.message}" for f in findings] or [
        "at export: no findings; every rule passed"
    ]
    for offset, line in enumerate(lines, start=1):
        sheet.cell(row + offset, 1, escape_text(line)).data_type = "s"


_WRITERS: Mapping[str, Callable[[Worksheet, _Export], None]] = {
    "Cover": _cover,
    "Contributions": _contributions,
    "Schemes": _schemes,
    "Metrics": _metrics,
    "Conditions": _conditions,
    "Section 75": _section75,
    "Narrative": _narrative,
    "Checklist": _checklist,
}
