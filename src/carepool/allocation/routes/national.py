"""The national allocation: its pages and downloads, its approval, and the national dashboard.

The published allocation is open data, so its page and downloads are public; national roles
see the newest version whatever its status, and the national administrator approves and
publishes it here. Which version a viewer sees is decided once, in
:func:`carepool.allocation.service.visible_run`.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from openpyxl import Workbook
from openpyxl.cell import Cell, MergedCell

from carepool.allocation import service as allocation
from carepool.allocation.service import OPEN_STATUSES, AllocationRun, AllocationView, visible_run
from carepool.audit import service as audit_log
from carepool.domain.allocation import (
    ALLOCATION_WORKFLOW,
    AllocationAction,
    AllocationStatus,
    reconcile,
)
from carepool.domain.errors import CarepoolError, NotFound
from carepool.domain.money import format_millions
from carepool.domain.roles import Principal
from carepool.domain.workflow import Scope
from carepool.frameworks import available_years, load_framework
from carepool.io.spreadsheet_text import csv_writer
from carepool.web.auth import AdminViewer, CsrfChecked, DbSession, NationalViewer, PublicViewer
from carepool.web.charts import bars_from, horizontal_bar_chart
from carepool.web.kit import check_year, flash, render
from carepool.web.params import IdPath, VersionQuery

router = APIRouter(include_in_schema=False)

METHODS = {"formula": "By formula", "imported": "Imported from a published table"}
PAYERS = {"commissioner": "NHS commissioners", "council": "Council"}
XLSX_MONEY_FORMAT = "£#,##0.00"
DOWNLOAD_COLUMNS = (
    "financial_year",
    "stream",
    "area_code",
    "area_name",
    "region",
    "commissioner_code",
    "commissioner_name",
    "amount",
)

_BUTTONS: dict[AllocationAction, tuple[str, str]] = {
    AllocationAction.APPROVE: ("Approve", ""),
    AllocationAction.PUBLISH: ("Publish", ""),
    AllocationAction.SEND_BACK: ("Send back to draft", "govuk-button--secondary"),
}
"""The button for each step an administrator takes on the page (superseding is not one)."""


def _actions(status: str, viewer: Principal) -> list[tuple[str, str, str]]:
    """The buttons for the steps the workflow opens from ``status`` to this viewer.

    Each posts the status it leads to; the service checks the move again.
    """
    shown = []
    for action in ALLOCATION_WORKFLOW.open_actions(AllocationStatus(status)):
        if action in _BUTTONS and ALLOCATION_WORKFLOW.may(
            AllocationStatus(status), action, viewer, Scope()
        ):
            label, classes = _BUTTONS[action]
            shown.append((ALLOCATION_WORKFLOW.moves[action].target.value, label, classes))
    return shown


@router.get("/allocations", response_class=HTMLResponse)
def allocations_index(request: Request, session: DbSession, viewer: PublicViewer) -> Response:
    years: list[tuple[str, AllocationRun | None]] = []
    for year in available_years():
        try:
            years.append((year, visible_run(session, year, viewer)))
        except NotFound:
            years.append((year, None))
    return render(request, "allocations.html", {"years": years}, viewer=viewer, session=session)


def pounds(pence: int) -> Decimal:
    """Exact pounds for files: ``Decimal('1234.56')``, made from integer pence, never a float."""
    return Decimal(pence).scaleb(-2).quantize(Decimal("0.01"))


@dataclass(frozen=True, slots=True)
class DownloadRow:
    financial_year: str
    stream: str
    area_code: str
    area_name: str
    region: str
    commissioner_code: str
    commissioner_name: str
    amount: Decimal

    def values(self) -> tuple[str | Decimal, ...]:
        return tuple(getattr(self, column) for column in DOWNLOAD_COLUMNS)


def download_rows(shown: AllocationView) -> Iterator[DownloadRow]:
    """One row per allocation line, with names beside the codes."""
    areas = {a.code: a for a in shown.geo.areas}
    for line in shown.lines:
        area = areas.get(line.area_code)
        commissioner = shown.geo.commissioners.get(line.commissioner_code or "")
        yield DownloadRow(
            financial_year=line.financial_year,
            stream=line.stream,
            area_code=line.area_code,
            area_name=area.name if area else "",
            region=area.region if area else "",
            commissioner_code=line.commissioner_code or "",
            commissioner_name=commissioner.name if commissioner else "",
            amount=pounds(line.amount),
        )


def _file_name(shown: AllocationView, suffix: str) -> str:
    synthetic = "-synthetic" if shown.geo.synthetic else ""
    return f"carepool-allocation-{shown.run.year}-v{shown.run.version}{synthetic}.{suffix}"


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@router.get("/allocations/{year}.csv")
def allocation_csv(
    year: str, session: DbSession, viewer: PublicViewer, version: VersionQuery = None
) -> Response:
    shown = allocation.view(session, visible_run(session, year, viewer, version=version))
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(DOWNLOAD_COLUMNS)
    writer.writerows(row.values() for row in download_rows(shown))
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers=_attachment(_file_name(shown, "csv")),
    )


@router.get("/allocations/{year}.xlsx")
def allocation_xlsx(
    year: str, session: DbSession, viewer: PublicViewer, version: VersionQuery = None
) -> Response:
    shown = allocation.view(session, visible_run(session, year, viewer, version=version))
    return Response(
        _workbook(shown),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers=_attachment(_file_name(shown, "xlsx")),
    )


def _money_cell(cell: Cell | MergedCell, amount: Decimal) -> None:
    """Store ``amount`` as a number cell whose stored text is the exact decimal.

    openpyxl writes numbers with ``"%.16g" % float(value)``, which turns a Decimal such as
    9645762.53 into ``9645762.529999999``. Setting the text ourselves and marking the cell
    numeric keeps the file exact; Excel still reads it as a number and formats it as money.
    """
    cell.value = format(amount, "f")
    cell.data_type = "n"
    cell.number_format = XLSX_MONEY_FORMAT


def _workbook(shown: AllocationView) -> bytes:
    """The lines sheet (exact amounts in pounds, formatted as money) and an About sheet."""
    book = Workbook()
    lines = book.active
    assert lines is not None
    lines.title = "Allocation"
    lines.append(DOWNLOAD_COLUMNS)
    for row in download_rows(shown):
        lines.append(row.values())
        for cell in lines[lines.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text stays text: a name starting "=" is not a formula
        _money_cell(lines.cell(row=lines.max_row, column=len(DOWNLOAD_COLUMNS)), row.amount)
    lines.freeze_panes = "A2"
    about = book.create_sheet("About")
    run = shown.run
    for key, value in (
        ("Programme year", run.year),
        ("Version", run.version),
        ("Status", run.status),
        ("Method", METHODS.get(run.method, run.method)),
        ("Total (pounds)", pounds(run.total_pence)),
        ("Synthetic data", "yes" if shown.geo.synthetic else "no"),
    ):
        about.append((key, value))
    _money_cell(about["B5"], pounds(run.total_pence))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _stream_rows(shown: AllocationView) -> list[dict[str, object]]:
    by_year: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for line in shown.lines:
        by_year[line.stream][line.financial_year] += line.amount
    return [
        {"name": s.name, "payer": PAYERS[s.payer.value], "by_year": dict(by_year[s.id])}
        for s in shown.geo.framework.streams
    ]


def _area_rows(shown: AllocationView) -> list[dict[str, object]]:
    by_stream: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for line in shown.lines:
        by_stream[line.area_code][line.stream] += line.amount
    return [
        {
            "code": area.code,
            "name": area.name,
            "region": area.region,
            "by_stream": dict(by_stream[area.code]),
            "total": sum(by_stream[area.code].values()),
        }
        for area in shown.geo.areas
    ]


def _reconciliation(shown: AllocationView) -> list[dict[str, object]]:
    framework = shown.geo.framework
    return [
        {
            "stream": framework.stream(r.stream).name,
            "financial_year": r.financial_year,
            "framework_total": r.framework_total,
            "allocated": r.areas_total,
            "difference": r.difference,
        }
        for r in reconcile(framework, shown.lines)
    ]


def _published_version(session: DbSession, year: str) -> int | None:
    published = [
        r.version
        for r in allocation.runs(session, year)
        if r.status == AllocationStatus.PUBLISHED.value
    ]
    return published[-1] if published else None


def _allocation_context(
    session: DbSession, shown: AllocationView, viewer: Principal, version: int | None
) -> dict[str, object]:
    run = shown.run
    region_chart = horizontal_bar_chart(
        "regions",
        f"Allocation by region, {run.year}",
        "A bar chart of the total allocated to each region's areas. "
        "The same figures are in the table beside it.",
        bars_from(
            [(region or "No region", total) for region, total in shown.region_totals().items()],
            format_millions,
        ),
        label_heading="Region",
        value_heading="Allocated",
    )
    explicit = version is not None or run.status not in OPEN_STATUSES
    return {
        "framework": shown.geo.framework,
        "run": run,
        "total": sum(line.amount for line in shown.lines),
        "methods": METHODS,
        "stream_rows": _stream_rows(shown),
        "region_chart": region_chart,
        "area_rows": _area_rows(shown),
        "reconciliation": _reconciliation(shown),
        "events": list(run.events),
        "versions": allocation.runs(session, run.year) if viewer.is_national else [],
        "actions": _actions(run.status, viewer),
        "published_version": _published_version(session, run.year),
        "version_query": f"?version={run.version}" if explicit else "",
        "area_version": f"&version={run.version}" if explicit else "",
    }


@router.get("/allocations/{year}", response_class=HTMLResponse)
def allocation_page(
    request: Request,
    year: str,
    session: DbSession,
    viewer: PublicViewer,
    version: VersionQuery = None,
) -> Response:
    """The allocation a viewer may see; a helpful page (404 unless national) when there is none."""
    framework = load_framework(check_year(year))
    try:
        run = visible_run(session, year, viewer, version=version)
    except NotFound:
        if version is not None:
            raise
        status = 200 if viewer.is_national else 404
        return render(
            request, "allocation_missing.html", {"framework": framework},
            viewer=viewer, session=session, status_code=status,
        )  # fmt: skip
    shown = allocation.view(session, run)
    context = _allocation_context(session, shown, viewer, version)
    return render(request, "allocation.html", context, viewer=viewer, synthetic=shown.geo.synthetic)


@router.post("/allocations/{year}/versions/{version}/status")
def change_status(
    request: Request,
    year: str,
    version: IdPath,
    session: DbSession,
    viewer: AdminViewer,
    _csrf: CsrfChecked,
    target: Annotated[str, Form()] = "",
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Approve, publish or send back a version; the service refuses moves the workflow forbids."""
    check_year(year)
    try:
        wanted = AllocationStatus(target)
    except ValueError:
        raise CarepoolError(f"{target!r} is not a status an allocation can be given") from None
    run = allocation.run_by_version(session, year, version)
    allocation.move(session, run, wanted, viewer, comment.strip())
    flash(request, f"Version {version} of the {year} allocation is now {wanted.value.lower()}")
    return RedirectResponse(f"/allocations/{year}?version={version}", status_code=303)


@router.get("/national", response_class=HTMLResponse)
def national_dashboard(request: Request, session: DbSession, viewer: NationalViewer) -> Response:
    years = [(year, allocation.runs(session, year)) for year in available_years()]
    context = {"years": years, "events": audit_log.recent(session, limit=25)}
    return render(request, "national.html", context, viewer=viewer, session=session)
