"""``carepool metrics``: published statistics and computed metric values."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from carepool.cli.common import JsonFlag, emit, err, existing_file, stage, work
from carepool.domain.roles import SYSTEM
from carepool.services import published_statistics

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
        emit(outcome.as_dict())
        return
    if outcome.created:
        err.print(
            f"Imported {outcome.rows:,} {outcome.kind} figures from {outcome.file} as vintage "
            f"{outcome.vintage!r}"
        )
    for note in outcome.notes:
        err.print(f"  {note}" if outcome.created else note)
