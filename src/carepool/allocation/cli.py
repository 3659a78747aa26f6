"""``carepool allocate``, ``carepool import allocation`` and ``carepool allocation``: allocation
runs computed or imported, listed, approved and published."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.table import Table

from carepool.allocation import service as allocation
from carepool.allocation.schemas import AllocationReport
from carepool.cli.common import (
    JsonFlag,
    YearOption,
    emit,
    err,
    existing_file,
    out,
    stage,
    utc,
    work,
)
from carepool.domain.allocation import AllocationStatus
from carepool.domain.errors import CarepoolError
from carepool.domain.money import format_money
from carepool.domain.roles import SYSTEM

allocation_app = typer.Typer(help="Approve and publish allocation runs.", no_args_is_help=True)


def import_allocation(
    file: Path,
    year: YearOption,
    reason: Annotated[str, typer.Option(help="Why (needed to vary a published one).")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Import a published allocation table (CSV or XLSX) as a new draft allocation run."""
    existing_file(file)
    with work() as session:
        with stage(f"Checking {file.name} against the {year} framework"):
            run = allocation.import_allocation(session, year, file, SYSTEM, reason=reason)
        result = AllocationReport.of(allocation.view(session, run)).model_dump(mode="json")
    _finish_allocation(result, as_json)


def allocate(
    year: YearOption,
    population: Annotated[
        str | None, typer.Option("--population", help="Population vintage to use.")
    ] = None,
    reason: Annotated[str, typer.Option(help="Why (needed to vary a published one).")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Allocate a year's funding streams to every area and commissioner by formula."""
    with work() as session:
        with stage(f"Allocating {year}"):
            run = allocation.allocate(
                session, year, SYSTEM, population_vintage=population, reason=reason
            )
        result = AllocationReport.of(allocation.view(session, run)).model_dump(mode="json")
    _finish_allocation(result, as_json)


def _finish_allocation(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit(result)
        return
    table = Table(
        title=f"Allocation {result['year']} version {result['version']} ({result['status']})"
    )
    for column in ("Year", "Stream", "Framework total", "Allocated", "Difference"):
        table.add_column(column, justify="right")
    for row in result["reconciliation"]:
        table.add_row(
            row["financial_year"],
            row["stream"],
            format_money(row["framework_total_pence"]),
            format_money(row["allocated_pence"]),
            format_money(row["difference_pence"]),
        )
    out.print(table)
    out.print(f"{len(result['areas'])} areas, total {format_money(result['total_pence'])}")


@allocation_app.command("list")
def allocation_list(year: YearOption, as_json: JsonFlag = False) -> None:
    """Every allocation run of a year with its status."""
    with work() as session:
        rows = [
            {
                "version": r.version,
                "status": r.status,
                "method": r.method,
                "source": r.source,
                "total_pence": r.total_pence,
                "reason": r.reason,
                "created_at": utc(r.created_at).isoformat(),
            }
            for r in allocation.runs(session, year)
        ]
    if as_json:
        emit({"year": year, "runs": rows})
        return
    for row in rows:
        out.print(
            f"v{row['version']}  {row['status']:<10} {row['method']:<9} "
            f"{format_money(cast(int, row['total_pence']))}  {row['reason']}"
        )


def _move(year: str, version: int | None, target: AllocationStatus, comment: str) -> None:
    with work() as session:
        runs = allocation.runs(session, year)
        if not runs:
            raise CarepoolError(
                f"{year} has no allocation yet; run 'carepool allocate --year {year}'"
            )
        run = allocation.run_by_version(session, year, version) if version else runs[-1]
        allocation.move(session, run, target, SYSTEM, comment)
        err.print(f"{year} allocation version {run.version} is now {run.status}")


VersionOption = Annotated[int | None, typer.Option(help="Run version; default the latest.")]


CommentOption = Annotated[str, typer.Option(help="A comment for the timeline.")]


@allocation_app.command("approve")
def allocation_approve(
    year: YearOption, version: VersionOption = None, comment: CommentOption = ""
) -> None:
    """Approve a draft allocation run."""
    _move(year, version, AllocationStatus.APPROVED, comment)


@allocation_app.command("publish")
def allocation_publish(
    year: YearOption, version: VersionOption = None, comment: CommentOption = ""
) -> None:
    """Publish an approved run; an earlier published run becomes superseded."""
    _move(year, version, AllocationStatus.PUBLISHED, comment)
