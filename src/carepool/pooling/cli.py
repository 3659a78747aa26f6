"""``carepool import ccg-allocations`` and ``carepool pooling status``: the commissioners'
allocations in, and each area's share of health and care money pooled out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from carepool.cli.common import JsonFlag, emit, err, existing_file, out, stage, work
from carepool.domain.money import format_money
from carepool.domain.roles import SYSTEM
from carepool.pooling import service
from carepool.pooling.schemas import AllocationImportOut, PoolingStatusOut

pooling_app = typer.Typer(
    help="The pooling tracker: how much of each area's health and care money is pooled.",
    no_args_is_help=True,
)

YearOption = Annotated[
    str, typer.Option("--year", help="The financial year, e.g. 2015-16.", show_default=False)
]


def import_ccg_allocations(file: Path, year: YearOption, as_json: JsonFlag = False) -> None:
    """Import a table of clinical commissioning groups' allocations for one financial year."""
    existing_file(file)
    with work() as session, stage(f"Reading and checking {file.name}"):
        outcome = service.import_ccg_allocations(session, file, year, SYSTEM)
    if as_json:
        emit(AllocationImportOut.of(outcome).model_dump(mode="json"))
        return
    if outcome.created:
        err.print(
            f"Imported {outcome.commissioners} commissioners' {outcome.financial_year} "
            f"allocations, {format_money(outcome.total_pence, pence_shown=False)} in all"
        )
    else:
        err.print(f"{file.name} was already imported for {outcome.financial_year}; nothing changed")
    for code in outcome.missing:
        err.print(f"  [yellow]Not in the file:[/yellow] {code}")


@pooling_app.command("status")
def pooling_status(year: YearOption, as_json: JsonFlag = False) -> None:
    """Each area's money in scope, pooled and share pooled for a financial year."""
    with work() as session:
        report = PoolingStatusOut.of(service.status(session, year))
    if as_json:
        emit(report.model_dump(mode="json"))
        return
    share = report.national.share_pooled or "—"
    table = Table(title=f"Pooling {report.financial_year}: England's share pooled {share}")
    for column in ("Area", "In scope", "Pooled", "Share pooled", "Planned share"):
        table.add_column(column)
    for area in report.areas:
        table.add_row(
            f"{area.area_code} {area.area_name}",
            format_money(area.in_scope_pence, pence_shown=False),
            format_money(area.pooled_pence, pence_shown=False),
            area.share_pooled,
            area.planned_share or "—",
        )
    out.print(table)
    if report.without_figures:
        err.print(f"{len(report.without_figures)} areas have no share for the year:")
        for gap in report.without_figures:
            err.print(f"  {gap.area_code} {gap.area_name}: no {', no '.join(gap.missing)}")
    err.print(report.scope.definition)
