"""``carepool plans``: status, checks and the Excel template of joint plans."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, cast

import typer

from carepool.cli.common import (
    JsonFlag,
    emit,
    err,
    existing_file,
    out,
    stage,
    work,
)
from carepool.domain.errors import CarepoolError
from carepool.domain.money import format_money
from carepool.domain.roles import SYSTEM
from carepool.plans import service as plans
from carepool.plans.schemas import PlanFinding, PlanReport, PlanStatusReport, RollForwardReport
from carepool.plans.service import rollforward

plans_app = typer.Typer(
    help="Joint plans: status, checks and the Excel template.", no_args_is_help=True
)


PlanYearOption = Annotated[str, typer.Option("--year", "-y", help="Programme year.")]


@plans_app.command("status")
def plans_status(year: PlanYearOption = "2015-16", as_json: JsonFlag = False) -> None:
    """Every area's plan: status, assurance category, money pooled against the minimum."""
    with work() as session:
        report = plans.national_status(session, year)
    if as_json:
        emit(PlanStatusReport.model_validate(report).model_dump(mode="json"))
        return
    by_status = cast(dict[str, int], report["by_status"])
    for status, count in by_status.items():
        out.print(f"{count:>4}  {status}")
    pooled, minimum = cast(int, report["pooled_pence"]), cast(int, report["minimum_pence"])
    out.print(
        f"Pooled in approved plans {format_money(pooled)} against a minimum "
        f"of {format_money(minimum)} ({report['areas']} areas)"
    )


@plans_app.command("validate")
def plans_validate(area: str, year: PlanYearOption = "2015-16", as_json: JsonFlag = False) -> None:
    """Check an area's plan against every rule of the year."""
    with work() as session:
        plan = plans.get(session, year, area, SYSTEM)
        found = plans.findings(session, plan)
    if as_json:
        emit(
            {
                "year": year,
                "area_code": area,
                "problems": [PlanFinding.of(f).model_dump(mode="json") for f in found],
            }
        )
        return
    if not found:
        err.print(f"{area} {year}: no problems")
    for finding in found:
        out.print(f"{finding.severity.value:<8} {finding.location}: {finding.message}")
    if any(f.severity.value == "error" for f in found):
        raise typer.Exit(1)


@plans_app.command("export")
def plans_export(area: str, file: Path, year: PlanYearOption = "2015-16") -> None:
    """Write an area's plan as the Excel template (started, pre-filled, if it has none)."""
    if file.suffix.lower() != ".xlsx":
        raise CarepoolError(f"{file.name}: the template is an .xlsx file")
    with work() as session, stage(f"Writing {file.name}"):
        plans.export_workbook(session, year, area, SYSTEM, file)
    err.print(f"Wrote the {year} plan for {area} to {file}")


@plans_app.command("import")
def plans_import(file: Path, year: PlanYearOption = "2015-16", as_json: JsonFlag = False) -> None:
    """Store a filled-in template as the area's draft plan; nothing is stored if it has errors."""
    existing_file(file)
    with work() as session, stage(f"Checking {file.name}"):
        plan = plans.import_workbook(session, file, file.name, year, SYSTEM)
        report = PlanReport.of(plan).model_dump(mode="json")
        found = [PlanFinding.of(f).model_dump(mode="json") for f in plans.findings(session, plan)]
    if as_json:
        emit({**report, "problems": found})
        return
    err.print(f"Stored {file.name} as version {report['version']} of {report['area_code']}'s plan")
    for finding in found:
        err.print(f"  {finding['severity']}: {finding['location']}: {finding['message']}")


@plans_app.command("roll-forward")
def plans_roll_forward(
    from_year: Annotated[str, typer.Option("--from", help="The year of the approved plans.")],
    to_year: Annotated[str, typer.Option("--to", help="The year to start plans for.")],
    area: Annotated[
        str | None, typer.Option("--area", help="Only this area (its code); default every area.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Start next year's plans from this year's approved ones, and list what must change.

    A plan already past draft in the new year is never replaced, and only an approved plan is
    rolled forward; each area refused is listed with the reason.
    """
    with work() as session, stage(f"Rolling plans forward from {from_year} to {to_year}"):
        results = rollforward.roll_forward_year(
            session, from_year, to_year, SYSTEM, [area] if area else None
        )
    report = RollForwardReport.of(from_year, to_year, results)
    if as_json:
        emit(report.model_dump(mode="json"))
    else:
        _print_roll_forward(report)
    if report.rolled_forward == 0:
        raise typer.Exit(1)


def _print_roll_forward(report: RollForwardReport) -> None:
    for result in report.areas:
        if result.outcome == "refused":
            err.print(f"refused  {result.area_code}: {result.reason}", highlight=False)
            continue
        must = sum(1 for c in result.changes if c.must_change)
        out.print(
            f"{result.area_code} {result.area_name}: version {result.version}, "
            f"{format_money(result.pooled_pence)} pooled; {must} things must change, "
            f"{len(result.problems)} problems to fix",
            highlight=False,
        )
        if len(report.areas) == 1:
            for change in result.changes:
                mark = "must" if change.must_change else "check"
                out.print(f"  {mark:<5} {change.kind}: {change.message}", highlight=False)
    out.print(
        f"Rolled forward {report.rolled_forward} plans from {report.from_year} to "
        f"{report.to_year}; refused {report.refused}"
    )
