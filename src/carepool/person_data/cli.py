"""``carepool data``: make a synthetic year of person-level files, and ingest files.

``generate`` writes raw files as a data supplier would send them (with NHS numbers, from the
range reserved for testing). ``ingest`` checks raw files, replaces every NHS number with its
keyed pseudonym and writes the data directory the metric engines read; rows with problems
are quarantined and counted, and a file that cannot be used refuses the whole ingest.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from carepool.cli.common import JsonFlag, emit, err, out, work
from carepool.config import database_url, pseudonym_key, settings
from carepool.domain.errors import CarepoolError
from carepool.domain.geography import Area, PopulationCount
from carepool.geography import service as geography
from carepool.person_data import service as person_data
from carepool.person_data.files.ingest import ProgressCallback
from carepool.person_data.schemas import GenerateReportOut, IngestReportOut
from carepool.store.db import holds_a_database, unit_of_work

data_app = typer.Typer(
    help="Person-level data: generate a synthetic year, or ingest files into a data directory.",
    no_args_is_help=True,
)

DATA_DIR_HELP = "The data directory (default: 'ingested' in CAREPOOL_DATA_DIR, .carepool/data)."


def data_directory(given: Path | None) -> Path:
    """The data directory named, or the configured default one."""
    return given if given is not None else settings().data_dir / "ingested"


REASONS_SHOWN = 10


class FileFormat(StrEnum):
    PARQUET = "parquet"
    CSV = "csv"


@contextmanager
def _progress_bars() -> Iterator[ProgressCallback]:
    """A progress bar on standard error for each thing the service says it is doing."""
    bars = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
    )
    tasks: dict[str, TaskID] = {}

    def update(what: str, done: int, total: int | None) -> None:
        if what not in tasks:
            tasks[what] = bars.add_task(what, total=total)
        bars.update(tasks[what], completed=done, total=total)

    with bars:
        yield update


@data_app.command("generate")
def generate(
    out_dir: Path,
    scale: Annotated[
        float, typer.Option(help="Share of a national year: 1.0 is ~20 million spells.")
    ] = 0.1,
    seed: Annotated[int, typer.Option(help="Seed for the synthetic nation and its people.")] = 2015,
    year: Annotated[str, typer.Option("--year", "-y", help="Financial year, e.g. 2015-16.")] = (
        "2015-16"
    ),
    file_format: Annotated[
        FileFormat, typer.Option("--format", help="Write Parquet or CSV files.")
    ] = FileFormat.PARQUET,
    flaws: Annotated[
        bool, typer.Option("--flaws", help="Spoil a few rows, for ingest to quarantine.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Write a synthetic year of raw person-level files (one per record kind) to OUT_DIR.

    When the database holds a real geography, the records are for the year's real areas
    and their metric populations, so that they pass an ingest against them; otherwise they
    are for the synthetic nation."""
    populations = _real_populations(year)
    with _progress_bars() as progress:
        report = person_data.generate(
            out_dir,
            seed=seed,
            scale=scale,
            financial_year=year,
            file_format=file_format.value,
            flaws=flaws,
            progress=progress,
            populations=populations,
        )
    if as_json:
        emit(GenerateReportOut.of(report).model_dump(mode="json"))
        return
    for kind, (path, rows) in report.files.items():
        err.print(f"{kind}: {rows:,} rows in {path}")


@data_app.command("ingest")
def ingest(
    source: Path,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help=DATA_DIR_HELP)] = None,
    year: Annotated[
        str, typer.Option("--year", "-y", help="Programme year whose areas records must be in.")
    ] = "2015-16",
    as_json: JsonFlag = False,
) -> None:
    """Check and pseudonymise raw person-level files (a file, or a folder of them).

    The data directory is replaced only when the whole ingest succeeds.
    """
    areas = _areas(year)
    with _progress_bars() as progress:
        report = person_data.ingest(
            source,
            data_directory(data_dir),
            {area.code for area in areas},
            pseudonym_key(),
            progress,
            merged=person_data.merged_councils(areas),
        )
    if as_json:
        emit(IngestReportOut.of(report).model_dump(mode="json"))
        return
    _print_report(report)


def _real_populations(year: str) -> list[PopulationCount] | None:
    """The year's real areas' metric populations, if the database holds a real geography."""
    if not holds_a_database(database_url()):
        return None
    try:
        with unit_of_work() as session:
            if geography.is_synthetic(session):
                return None
            found = geography.denominators(session, year)
    except CarepoolError:
        return None  # no geography or no population imported: the synthetic nation
    areas = len({count.geo_code for count in found.counts})
    err.print(f"Generating records for the {areas} areas of {year} (population {found.vintage!r})")
    return found.counts


def _areas(year: str) -> Sequence[Area]:
    """The year's HWB areas from the database's geography, or a clear error."""
    try:
        with work() as session:
            return geography.year_geography(session, year).areas
    except CarepoolError as exc:
        raise CarepoolError(
            f"ingest checks each record's area against the {year} areas in the database, "
            f"but cannot read them: {exc.message}"
        ) from None


def _print_report(report: person_data.IngestReport) -> None:
    table = Table(title=f"Ingested into {report.data_dir}")
    for column in ("Kind", "Rows read", "Accepted", "Quarantined"):
        table.add_column(column, justify="left" if column == "Kind" else "right")
    for kind in report.kinds:
        table.add_row(
            kind.kind, f"{kind.rows_read:,}", f"{kind.accepted:,}", f"{kind.quarantined:,}"
        )
    out.print(table)
    for kind in report.kinds:
        reasons = sorted(kind.reasons.items(), key=lambda item: -item[1])
        for reason, count in reasons[:REASONS_SHOWN]:
            err.print(f"  {kind.kind}: {count:,} × {reason}", highlight=False, markup=False)
        for codes, count in sorted(kind.mapped.items()):
            council, _, area = codes.partition(" to ")
            err.print(
                f"  {kind.kind}: {count:,} coded {council}, a council merged into {area}: "
                f"counted in {area}",
                highlight=False,
                markup=False,
            )
    err.print(
        f"{report.people:,} people; vintage {report.vintage[:12]}; "
        f"quarantined rows are in {report.data_dir / 'quarantine'}",
        highlight=False,
    )
    for name in report.skipped:
        err.print(f"  passed over {name} (not CSV or Parquet)", highlight=False, markup=False)
