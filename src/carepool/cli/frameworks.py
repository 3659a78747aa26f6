"""``carepool frameworks``: the shipped programme years, their figures' standing, and checking
a draft framework file before it is shipped."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from carepool.cli.common import JsonFlag, emit, out, report_error
from carepool.domain.errors import FrameworkError
from carepool.domain.figures import FigureStatus
from carepool.domain.framework import Framework
from carepool.domain.money import format_money
from carepool.frameworks import available_years, check_framework_file, load_framework

frameworks_app = typer.Typer(help="Programme years' policy frameworks.", no_args_is_help=True)


def summary(framework: Framework) -> dict[str, Any]:
    """One line of ``frameworks list --json``: a stable contract, so keys are only added."""
    return {
        "year": framework.year,
        "name": framework.name,
        "title": framework.name,
        "starts": framework.starts.isoformat(),
        "ends": framework.ends.isoformat(),
        "financial_years": list(framework.financial_years),
        "minimum_total_pence": framework.minimum_total,
        "unconfirmed": len(framework.unconfirmed()),
        "not_yet_supported": framework.not_yet_supported(),
    }


def figure_json(figure: FigureStatus) -> dict[str, str]:
    return {"key": figure.key, "source": figure.source, "reason": figure.unconfirmed}


@frameworks_app.command("list")
def frameworks_list(as_json: JsonFlag = False) -> None:
    """The programme years carepool has a framework for."""
    frameworks = [load_framework(year) for year in available_years()]
    if as_json:
        emit({"frameworks": [summary(f) for f in frameworks]})
        return
    for f in frameworks:
        unconfirmed = len(f.unconfirmed())
        flag = f"  ({unconfirmed} figures unconfirmed)" if unconfirmed else ""
        out.print(f"{f.year}  {f.name}  minimum {format_money(f.minimum_total)}{flag}")


@frameworks_app.command("show")
def frameworks_show(year: str, as_json: JsonFlag = False) -> None:
    """Show a year's whole framework (validated on load), with its unconfirmed figures."""
    framework = load_framework(year)
    if as_json:
        emit(
            {
                **framework.model_dump(mode="json"),
                "unconfirmed_figures": [figure_json(f) for f in framework.unconfirmed()],
                "not_yet_supported": framework.not_yet_supported(),
            }
        )
        return
    out.print(f"[bold]{framework.name}[/bold] ({', '.join(framework.financial_years)})")
    out.print(f"Minimum pooled: {format_money(framework.minimum_total)}")
    for stream in framework.streams:
        totals = ", ".join(f"{y} {format_money(t)}" for y, t in stream.totals.items())
        out.print(f"  stream {stream.id}: {stream.name} ({stream.payer.value}) {totals}")
    for condition in framework.national_conditions:
        out.print(f"  condition {condition.id}: {condition.title}")
    for metric in framework.metrics:
        out.print(f"  metric {metric.metric} [{metric.label}]: {metric.name}")
    design = framework.payment_in_force
    out.print(f"  payment: {design.kind} (pot {format_money(design.pot)})")
    for rule in framework.rules:
        out.print(f"  rule: {rule.kind.value}")
    _print_cautions(framework)


def _print_cautions(framework: Framework) -> None:
    for note in framework.not_yet_supported():
        out.print(f"  [yellow]not yet supported:[/yellow] {note}", highlight=False)
    for figure in framework.unconfirmed():
        out.print(f"  unconfirmed: {figure.key}: {figure.unconfirmed}", highlight=False)


@frameworks_app.command("unconfirmed")
def frameworks_unconfirmed(
    year: Annotated[str | None, typer.Argument(help="One programme year; all by default.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Every figure marked unconfirmed, with its key path and the reason."""
    years = [year] if year else available_years()
    listed = {y: load_framework(y).unconfirmed() for y in years}
    if as_json:
        emit(
            {
                "years": [
                    {"year": y, "figures": [figure_json(f) for f in fs]} for y, fs in listed.items()
                ]
            }
        )
        return
    for y, figures in listed.items():
        for figure in figures:
            out.print(f"{y}  {figure.key}: {figure.unconfirmed}", highlight=False, markup=False)


@frameworks_app.command("check")
def frameworks_check(
    file: Annotated[Path, typer.Argument(help="A framework file (TOML) to validate.")],
    as_json: JsonFlag = False,
) -> None:
    """Validate a framework file without installing it; exit 1 with its problems."""
    try:
        framework = check_framework_file(file)
    except FrameworkError as exc:
        if as_json:
            problems = [{"file": p.file, "key": p.key, "message": p.message} for p in exc.problems]
            emit({"file": file.name, "valid": False, "message": exc.message, "problems": problems})
        else:
            report_error(exc)
        raise typer.Exit(1) from exc
    if as_json:
        emit({"file": file.name, "valid": True, "problems": [], "framework": summary(framework)})
        return
    out.print(f"{file.name}: a valid framework for {framework.year}", highlight=False)
    _print_cautions(framework)
