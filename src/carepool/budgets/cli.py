"""``carepool budgets``: integrated personal budgets, their spend and the quarterly collection."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from carepool.budgets import service
from carepool.budgets.schemas import (
    BudgetImportOut,
    BudgetOut,
    QuarterReportOut,
    TransactionImportOut,
)
from carepool.cli.common import (
    JsonFlag,
    emit,
    existing_file,
    out,
    parse_day,
    print_table,
    say,
    stage,
    work,
)
from carepool.config import pseudonym_key
from carepool.domain.money import format_money
from carepool.domain.roles import SYSTEM

budgets_app = typer.Typer(
    help="Personal budgets: import budgets and their transactions, list, report.",
    no_args_is_help=True,
)


@budgets_app.command("import")
def import_budgets(file: Path, as_json: JsonFlag = False) -> None:
    """Set up the budgets in a budgets file (see docs/formats.md); all or nothing.

    NHS numbers are pseudonymised as they are read and never stored or printed.
    """
    existing_file(file)
    with work() as session, stage(f"Checking and setting up {file.name}"):
        outcome = service.import_budgets(session, file, SYSTEM, key=pseudonym_key())
    say(
        as_json,
        BudgetImportOut.of(outcome).model_dump(mode="json"),
        f"Set up {outcome.budgets:,} budgets ({format_money(outcome.total_pence)}) "
        f"from {file.name}",
    )


@budgets_app.command("import-transactions")
def import_transactions(file: Path, as_json: JsonFlag = False) -> None:
    """Import a transactions file (direct-payment returns, invoices, card statements,
    recoveries) and post it to the pools' sub-ledgers; all or nothing, each file once."""
    existing_file(file)
    with work() as session, stage(f"Checking and posting {file.name}"):
        outcome = service.import_transactions(session, file, SYSTEM)
    say(
        as_json,
        TransactionImportOut.of(outcome).model_dump(mode="json"),
        f"Imported {outcome.rows:,} transactions from {file.name}: spend "
        f"{format_money(outcome.spend_pence)}, recovered {format_money(outcome.recovered_pence)}, "
        f"{outcome.entries:,} sub-ledger entries",
    )


@budgets_app.command("list")
def list_budgets(
    area: str,
    live_on: Annotated[str | None, typer.Option(help="Only budgets covering this date.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """An area's budgets."""
    with work() as session:
        rows = [
            BudgetOut.of(row)
            for row in service.list_budgets(session, area, SYSTEM, live_on=parse_day(live_on))
        ]
    if as_json:
        emit({"area_code": area, "budgets": [row.model_dump(mode="json") for row in rows]})
        return
    print_table(
        f"{area} personal budgets",
        ("Reference", "Eligibility", "Starts", "Ends", "Status", "Budget"),
        [
            (
                r.reference,
                r.eligibility,
                str(r.starts),
                str(r.ends),
                r.status,
                format_money(r.total_pence),
            )
            for r in rows
        ],
    )


@budgets_app.command("report")
def report(
    year: Annotated[str, typer.Option("--year", "-y", help="Financial year, e.g. 2023-24.")],
    quarter: Annotated[int, typer.Option("--quarter", "-q", min=1, max=4, help="Quarter 1 to 4.")],
    area: Annotated[str | None, typer.Option("--area", help="One area's code.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """The quarter's personal health budget collection and the council's direct-payment
    measure, with the check that the pools' sub-ledgers agree with the budgets."""
    with work() as session:
        found = QuarterReportOut.of(service.quarter_report(session, year, quarter, SYSTEM, area))
    if as_json:
        emit(found.model_dump(mode="json"))
        return
    out.print(f"{found.quarter} {found.area_code or 'England'}")
    out.print(f"  Live at quarter end: {found.live_at_quarter_end:,}")
    out.print(f"  Active in the year to date: {found.active_in_year:,}")
    for kind, count in found.by_type.items():
        out.print(f"    {kind}: {count:,}")
    out.print(f"  Spend in the quarter: {format_money(found.spend_pence)}")
    dp = found.council_direct_payments
    out.print(
        f"  Council direct payments: {dp.direct_payments:,} of {dp.people:,} ({dp.percent or '-'}%)"
    )
    out.print(f"  Overspent budgets: {found.overspent_budgets:,}")
    out.print(f"  Sub-ledger agrees with the budgets: {'yes' if found.ledger_agrees else 'NO'}")
