"""``carepool import ascfr|deflators`` and ``carepool substitution``: councils' published
finance returns and HM Treasury's deflators in, and the substitution check out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from carepool.cli.common import JsonFlag, emit, err, existing_file, out, stage, work
from carepool.domain.roles import SYSTEM
from carepool.substitution import service
from carepool.substitution.schemas import (
    DeflatorImportOut,
    ReturnImportOut,
    SubstitutionOut,
    YearOut,
)

YearArgument = Annotated[
    str, typer.Option("--year", help="The financial year the file reports, e.g. 2014-15.")
]


def import_ascfr(file: Path, year: YearArgument, as_json: JsonFlag = False) -> None:
    """Import an NHS Digital adult social care finance file (ASC-FR) as published."""
    existing_file(file)
    with work() as session, stage(f"Reading and checking {file.name}"):
        outcome = service.import_return(session, file, year, SYSTEM)
    if as_json:
        emit(ReturnImportOut.of(outcome).model_dump(mode="json"))
        return
    if outcome.created:
        err.print(
            f"Imported {outcome.councils} councils' {outcome.financial_year} figures "
            f"({outcome.basis} basis)"
        )
    else:
        err.print(f"{file.name} was already imported for {outcome.financial_year}; nothing changed")
    for code in outcome.missing:
        err.print(f"  [yellow]Not in the file:[/yellow] {code}")


def import_deflators(file: Path, as_json: JsonFlag = False) -> None:
    """Import HM Treasury's GDP deflators (the published CSV) for real-terms figures."""
    existing_file(file)
    with work() as session, stage(f"Reading and checking {file.name}"):
        outcome = service.import_deflators(session, file, SYSTEM)
    if as_json:
        emit(DeflatorImportOut.of(outcome).model_dump(mode="json"))
        return
    done = "Imported" if outcome.created else "Already held; nothing changed:"
    err.print(
        f"{done} {outcome.years} years of GDP deflators, {outcome.first_year} to "
        f"{outcome.last_year} ({outcome.reference_year} = 100)"
    )


def substitution(as_json: JsonFlag = False) -> None:
    """Each council's own-funded adult social care spend against NHS money, in real terms."""
    with work() as session:
        report = SubstitutionOut.of(service.report(session))
    if as_json:
        emit(report.model_dump(mode="json"))
        return
    table = Table(title=f"Substitution check ({report.flagged} flagged)")
    for column in ("Code", "Name", "Year", "Own-funded (real)", "Change", "Group", "Flagged"):
        table.add_column(column)
    for council in report.councils:
        for year in council.years:
            table.add_row(council.code, council.name, *_cells(year))
    out.print(table)
    err.print(report.definition)


def _cells(year: YearOut) -> tuple[str, ...]:
    own = year.own_funded_real_pence
    return (
        year.year + (" (synthetic)" if year.synthetic else ""),
        "—" if own is None else f"£{own // 100:,}",
        year.own_funded_real_change or "—",
        year.comparison_median_change or "—",
        "yes" if year.flagged else "",
    )
