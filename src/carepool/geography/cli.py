"""``carepool import areas|populations|shares`` and ``carepool areas``: the reference data each
year's areas are made of, imported as vintages and listed by year."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from carepool.cli.common import (
    JsonFlag,
    YearOption,
    emit,
    err,
    existing_file,
    out,
    stage,
    work,
)
from carepool.domain.roles import SYSTEM
from carepool.geography import service as geography
from carepool.geography.schemas import AreasReport, VintageImport


def import_areas(
    file: Path,
    vintage: Annotated[str | None, typer.Option(help="Name for this vintage.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Import a councils register (uk_local_authorities.csv): the source of each year's areas."""
    _run_import(geography.import_councils, file, vintage, as_json)


def import_populations(
    file: Path,
    vintage: Annotated[str | None, typer.Option(help="Name, default from the file name.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Import ONS single-year-of-age population estimates as a population vintage."""
    _run_import(geography.import_populations, file, vintage, as_json)


def import_shares(
    file: Path,
    vintage: Annotated[str | None, typer.Option(help="Name for this vintage.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Import commissioner↔area population shares (and the populations they carry)."""
    _run_import(geography.import_shares, file, vintage, as_json)


def _run_import(
    importer: Callable[..., geography.ImportOutcome], file: Path, vintage: str | None, as_json: bool
) -> None:
    existing_file(file)
    with work() as session, stage(f"Reading and checking {file.name}"):
        outcome = importer(session, file, SYSTEM, vintage)
    if as_json:
        emit(VintageImport.of(outcome).model_dump(mode="json"))
        return
    if outcome.created:
        err.print(f"Imported {outcome.rows:,} {outcome.kind} rows as vintage {outcome.vintage!r}")
    else:
        err.print(
            f"{file.name} was already imported as vintage {outcome.vintage!r}; nothing changed"
        )
    for note in outcome.notes:
        err.print(f"  {note}")


def areas(year: YearOption, as_json: JsonFlag = False) -> None:
    """List a year's Health and Wellbeing Board areas with their populations."""
    with work() as session:
        report = AreasReport.of(geography.year_geography(session, year))
    if as_json:
        emit(report.model_dump(mode="json"))
        return
    table = Table(title=f"HWB areas {year} ({len(report.areas)})")
    for column in ("Code", "Name", "Region", "Population", "65+"):
        table.add_column(column)
    for area in report.areas:
        bands = area.population or {}
        table.add_row(
            area.code,
            area.name,
            area.region,
            f"{bands.get('all', 0):,}" if bands else "—",
            f"{bands.get('65+', 0):,}",
        )
    out.print(table)
    for missing in report.unmatched:
        err.print(f"[yellow]No population:[/yellow] {missing.reason}")
