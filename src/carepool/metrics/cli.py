"""``carepool metrics``: published statistics and computed metric values."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from carepool.cli.common import JsonFlag, YearOption, emit, err, existing_file, stage, work
from carepool.domain.roles import SYSTEM
from carepool.metrics.schemas import ComputeReport, StatisticsImportOut
from carepool.metrics.service import compute as metric_compute
from carepool.metrics.service import published as published_statistics
from carepool.person_data.cli import DATA_DIR_HELP, data_directory

metrics_app = typer.Typer(
    help="Metrics: published statistics and values computed from person-level data.",
    no_args_is_help=True,
)


class StatisticsKind(StrEnum):
    ASC_OUTCOMES = published_statistics.ASC_OUTCOMES
    DTOC = published_statistics.DTOC


@metrics_app.command("import-statistics")
def import_statistics(
    file: Path,
    kind: Annotated[
        StatisticsKind | None,
        typer.Option(help="Which publication this is; recognised from the file if not given."),
    ] = None,
    vintage: Annotated[
        str | None, typer.Option(help="Name for this vintage (default: the file's name).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Import published statistics: Oflog's adult social care outcomes (CSV) or NHS England's
    delayed transfers of care (.xls). The same file twice changes nothing."""
    existing_file(file)
    with work() as session, stage(f"Reading and checking {file.name}"):
        outcome = published_statistics.import_statistics(
            session, file, SYSTEM, kind=kind.value if kind else None, vintage_name=vintage
        )
    if as_json:
        emit(StatisticsImportOut.of(outcome).model_dump(mode="json"))
        return
    if outcome.created:
        err.print(
            f"Imported {outcome.rows:,} {outcome.kind} figures from {outcome.file} as vintage "
            f"{outcome.vintage!r}"
        )
    for note in outcome.notes:
        err.print(f"  {note}" if outcome.created else note)


class EngineName(StrEnum):
    DUCKDB = "duckdb"
    SPARK = "spark"
    REFERENCE = "reference"


@metrics_app.command("compute")
def compute(
    engine: Annotated[
        EngineName, typer.Option(help="duckdb (default), spark (local mode) or the reference.")
    ] = EngineName.DUCKDB,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help=DATA_DIR_HELP)] = None,
    year: YearOption = "2015-16",
    store: Annotated[
        bool, typer.Option("--store/--no-store", help="Keep the values in the database.")
    ] = True,
    population: Annotated[
        str | None,
        typer.Option(
            "--population",
            help="Population vintage to divide by (default: the year's framework names one).",
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Compute every metric for every area, month, quarter and year from person-level data.

    An area or metric the population cannot serve is named, and every other value is
    computed and stored."""
    with work() as session, stage("Computing metrics") as say:
        outcome = metric_compute.compute(
            session,
            engine=engine.value,
            data_dir=data_directory(data_dir),
            year=year,
            actor=SYSTEM,
            store=store,
            progress=say,
            population_vintage=population,
        )
    if as_json:
        emit(ComputeReport.of(outcome).model_dump(mode="json"))
        return
    metrics = sorted({v.metric for v in outcome.values})
    areas = {v.area_code for v in outcome.values}
    err.print(
        f"Computed {len(outcome.values):,} values of {len(metrics)} metrics for {len(areas)} "
        f"areas with {outcome.engine} from data vintage {outcome.data_vintage[:12]}, "
        f"per population vintage {outcome.population_vintage!r}"
        + ("; stored" if outcome.stored else "; not stored (--no-store)")
    )
    for note in outcome.notes:
        err.print(f"  estimate: {note}")
    if outcome.skipped:
        err.print(f"Not computed ({len(outcome.skipped)}):")
    for gap in outcome.skipped:
        err.print(f"  - {gap.area_code}{' ' + gap.metric if gap.metric else ''}: {gap.reason}")
