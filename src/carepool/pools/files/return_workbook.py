"""The quarterly return as an Excel workbook, in the layout pool managers already know.

Boards and auditors still open returns in Excel, so the download keeps the familiar sheets —
Cover, Budget arrangements, Conditions, Income and expenditure, Metrics, Narrative — with
money as numbers formatted ``£#,##0.00`` (so columns can be summed and checked) rather than
text. The workbook is written from a :class:`~carepool.domain.quarterly_return.QuarterlyReturn`
and nothing else, so it can never show a figure the page does not. Amounts go into cells as
exact ``Decimal`` pounds made from integer pence; text goes in as text, never as a formula.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from carepool.domain.errors import CarepoolError
from carepool.domain.money import format_money
from carepool.domain.quarterly_return import ExpenditureLine, QuarterlyReturn

SHEETS = (
    "Cover",
    "Budget arrangements",
    "Conditions",
    "Income and expenditure",
    "Metrics",
    "Narrative",
)
MONEY_FORMAT = "£#,##0.00"
DATE_FORMAT = "dd/mm/yyyy"
MAX_PENCE = 10**15
"""Spreadsheets hold numbers as binary floats, exact to 15 significant digits."""

_TITLE = Font(bold=True, size=14)
_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="top")

Cell = str | int | Decimal | dt.date | None


@dataclass(frozen=True, slots=True)
class Step:
    """A sign-off step for the cover sheet."""

    label: str
    actor: str
    at: dt.datetime
    comment: str = ""


@dataclass(frozen=True, slots=True)
class Cover:
    """What the cover says beyond the return itself: where it stands and how it got there."""

    status: str
    sha256: str | None
    steps: Sequence[Step] = ()


class _Money(int):
    """Marks a cell value as pence to be written as pounds in the money format."""


def write_return_workbook(target: Path | BinaryIO, content: QuarterlyReturn, cover: Cover) -> None:
    """Write the return's six sheets to ``target``."""
    workbook = Workbook()
    workbook.remove(workbook.worksheets[0])
    for name in SHEETS:
        workbook.create_sheet(name)
    _cover(workbook["Cover"], content, cover)
    _arrangements(workbook["Budget arrangements"], content)
    _conditions(workbook["Conditions"], content)
    _income_and_expenditure(workbook["Income and expenditure"], content)
    _metrics(workbook["Metrics"], content)
    _narrative(workbook["Narrative"], content)
    workbook.save(target)


# ---------------------------------------------------------------------------------------
# Cells


def _pounds(pence: int) -> Decimal:
    if abs(pence) >= MAX_PENCE:
        raise CarepoolError(
            f"{format_money(pence)} is too large for a spreadsheet to hold to the penny"
        )
    return Decimal(pence).scaleb(-2)


def _put(sheet: Worksheet, row: int, col: int, value: Cell, *, bold: bool = False) -> None:
    cell = sheet.cell(row, col)
    if isinstance(value, _Money):
        cell.value = _pounds(int(value))
        cell.number_format = MONEY_FORMAT
    elif isinstance(value, dt.date):
        cell.value = value
        cell.number_format = DATE_FORMAT
    else:
        cell.value = value
        if isinstance(value, str):
            cell.data_type = "s"  # text stays text: a narrative starting "=" is not a formula
    if bold:
        cell.font = _BOLD


def _row(sheet: Worksheet, row: int, values: Sequence[Cell], *, bold: bool = False) -> int:
    for col, value in enumerate(values, start=1):
        _put(sheet, row, col, value, bold=bold)
    return row + 1


def _title(sheet: Worksheet, text: str, content: QuarterlyReturn) -> int:
    sheet.cell(1, 1).value = text
    sheet.cell(1, 1).font = _TITLE
    _put(sheet, 2, 1, f"{content.area_name} ({content.area_code}), {content.quarter}")
    return 4


def _widths(sheet: Worksheet, widths: Sequence[int]) -> None:
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + index)].width = width


# ---------------------------------------------------------------------------------------
# Sheets


def _cover(sheet: Worksheet, content: QuarterlyReturn, cover: Cover) -> None:
    row = _title(sheet, "Quarterly return to the Health and Wellbeing Board", content)
    facts: list[tuple[str, Cell]] = [
        ("Area", content.area_name),
        ("Area code", content.area_code),
        ("Programme year", content.year),
        ("Quarter", content.quarter),
        ("Period from", content.period_start),
        ("Period to", content.period_end),
        ("Status", cover.status),
        ("Figures built", content.built_at.strftime("%d/%m/%Y %H:%M UTC")),
        ("Figures SHA-256", cover.sha256 or "not yet submitted"),
    ]
    for key, value in facts:
        row = _row(sheet, row, [key, value])
    row = _row(sheet, row + 1, ["Step", "By", "When", "Comment"], bold=True)
    for step in cover.steps:
        when = step.at.strftime("%d/%m/%Y %H:%M UTC")
        row = _row(sheet, row, [step.label, step.actor, when, step.comment])
    _widths(sheet, (44, 40, 20, 60))


def _arrangements(sheet: Worksheet, content: QuarterlyReturn) -> None:
    terms = content.arrangements
    row = _title(sheet, "Budget arrangements", content)
    facts: list[tuple[str, Cell]] = [
        ("Section 75 agreement in place", "Yes" if terms.in_place else "No"),
        ("Agreement signed", terms.signed),
        ("Host partner", f"{terms.host_name} ({terms.host_partner})"),
        ("Pool manager", terms.pool_manager or "not named"),
        ("Risk share", terms.risk_share_terms),
        ("Instalments a year", terms.instalments),
        ("Plan version", terms.plan_version),
    ]
    for key, value in facts:
        row = _row(sheet, row, [key, value])
    row = _row(sheet, row + 1, ["Partner code", "Partner"], bold=True)
    for partner in terms.partners:
        row = _row(sheet, row, [partner.code, partner.name])
    _widths(sheet, (32, 90))


def _conditions(sheet: Worksheet, content: QuarterlyReturn) -> None:
    row = _title(sheet, "National conditions", content)
    row = _row(sheet, row, ["Condition", "Title", "Status", "Evidence"], bold=True)
    for line in content.conditions:
        row = _row(sheet, row, [line.id, line.title, line.status, line.evidence])
    if content.approval_conditions:
        row = _row(sheet, row + 1, ["Conditions of approval", "Met", "Met on"], bold=True)
        for condition in content.approval_conditions:
            met = "Yes" if condition.met else "No"
            row = _row(sheet, row, [condition.text, met, condition.met_on])
    _widths(sheet, (36, 50, 28, 70))


INCOME_HEADINGS = (
    "Partner",
    "Partner code",
    "Stream",
    "Annual contribution",
    "Due in quarter",
    "Received in quarter",
    "Due year to date",
    "Received year to date",
    "Outstanding",
    "Late or short instalments",
)
SPEND_HEADINGS = (
    "Line",
    "Annual budget",
    "Budget in quarter",
    "Actual in quarter",
    "Variance in quarter",
    "Budget year to date",
    "Actual year to date",
    "Variance year to date",
    "Forecast outturn",
    "Forecast variance",
    "Rating",
)
GROUPS = (
    ("scheme", "Expenditure by scheme"),
    ("area_of_spend", "Expenditure by area of spend"),
    ("funding_stream", "Expenditure by funding stream"),
)


def _income_and_expenditure(sheet: Worksheet, content: QuarterlyReturn) -> None:
    row = _title(sheet, "Income and expenditure", content)
    row = _row(sheet, row, ["Income: contributions"], bold=True)
    row = _row(sheet, row, INCOME_HEADINGS, bold=True)
    for line in content.income:
        row = _row(sheet, row, [
            line.partner_name, line.partner, line.stream_name, _Money(line.annual),
            _Money(line.due_quarter), _Money(line.received_quarter), _Money(line.due_to_date),
            _Money(line.received_to_date), _Money(line.outstanding_to_date),
            line.flagged_instalments,
        ])  # fmt: skip
    totals = content.income_totals
    outstanding = totals["due_to_date"] - totals["received_to_date"]
    row = _row(sheet, row, [
        "Total income", None, None, _Money(totals["annual"]), _Money(totals["due_quarter"]),
        _Money(totals["received_quarter"]), _Money(totals["due_to_date"]),
        _Money(totals["received_to_date"]), _Money(outstanding),
    ], bold=True)  # fmt: skip
    for group, heading in GROUPS:
        row = _row(sheet, row + 1, [heading], bold=True)
        row = _row(sheet, row, SPEND_HEADINGS, bold=True)
        for spend in content.lines(group):
            row = _row(sheet, row, _spend_cells(spend))
        row = _row(sheet, row, _spend_cells(content.total, "Total expenditure"), bold=True)
    _widths(sheet, (44, 18, 26, 20, 18, 20, 20, 22, 18, 18, 12))


def _spend_cells(line: ExpenditureLine, label: str | None = None) -> list[Cell]:
    return [
        label or line.label,
        _Money(line.annual_budget),
        _Money(line.budget_quarter),
        _Money(line.actual_quarter),
        _Money(line.variance_quarter),
        _Money(line.budget_to_date),
        _Money(line.actual_to_date),
        _Money(line.variance_to_date),
        _Money(line.forecast),
        _Money(line.forecast_variance),
        line.light.value.capitalize(),
    ]


def _metrics(sheet: Worksheet, content: QuarterlyReturn) -> None:
    row = _title(sheet, "Metrics: plan against actual", content)
    headings = [
        "Metric", "Label", "Baseline", f"Planned for {content.quarter}", "Actual",
        "Ambition met", "Definition version", "Data vintage",
    ]  # fmt: skip
    row = _row(sheet, row, headings, bold=True)
    for line in content.metrics:
        row = _row(sheet, row, [
            line.name, line.label, line.baseline, line.planned,
            line.actual if line.actual is not None else line.actual_note,
            line.verdict if line.actual is not None else None,
            line.definition_version, line.data_vintage,
        ])  # fmt: skip
    _widths(sheet, (60, 22, 14, 22, 22, 22, 18, 40))


def _narrative(sheet: Worksheet, content: QuarterlyReturn) -> None:
    row = _title(sheet, "Narrative", content)
    _put(sheet, row, 1, content.narrative or "No narrative written yet.")
    sheet.cell(row, 1).alignment = _WRAP
    sheet.column_dimensions["A"].width = 120
