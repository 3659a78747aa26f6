"""``carepool ledger``: the Section 75 pooled budget ledger."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from carepool.cli.common import (
    JsonFlag,
    emit,
    err,
    existing_file,
    out,
    parse_day,
    print_table,
    say,
    stage,
    work,
)
from carepool.domain.errors import CarepoolError
from carepool.domain.money import format_money, parse_money
from carepool.domain.roles import SYSTEM
from carepool.pools.schemas import (
    BudgetReportOut,
    LedgerCheck,
    SettlementPosted,
    SettlementReopened,
    SpendImport,
)
from carepool.pools.service import ledger
from carepool.pools.service import reports as ledger_reports
from carepool.pools.service import settlement as ledger_settle
from carepool.pools.service.ledger import PoolRow

ledger_app = typer.Typer(
    help="Section 75 pooled budgets: open, import spend, receipts, close, settle, reopen, "
    "export, check.",
    no_args_is_help=True,
)

LedgerYear = Annotated[str, typer.Option("--year", "-y", help="Programme year of the pool.")]


def _pool(session: Session, area: str, year: str) -> PoolRow:
    return ledger.pool_for(session, year, area, SYSTEM)


@ledger_app.command("open")
def ledger_open(
    area: Annotated[str | None, typer.Argument(help="HWB area code.")] = None,
    all_areas: Annotated[
        bool, typer.Option("--all", help="Every area with an approved plan.")
    ] = False,
    year: LedgerYear = "2015-16",
    as_json: JsonFlag = False,
) -> None:
    """Open pools from approved plans and post their contribution schedules (safe to repeat)."""
    if (area is None) == (not all_areas):
        raise CarepoolError("name one AREA or use --all")
    with work() as session:
        codes = [area] if area else ledger.approved_areas(session, year)
        pools = [ledger.open_pool(session, year, code, SYSTEM) for code in codes]
        opened = [
            {"area_code": p.area_code, "pool_id": p.id, "plan_version": p.plan_version}
            for p in pools
        ]
    say(as_json, {"year": year, "pools": opened}, f"{len(opened)} pool(s) open for {year}")


@ledger_app.command("import")
def ledger_import(
    area: str, file: Path, year: LedgerYear = "2015-16", as_json: JsonFlag = False
) -> None:
    """Post a spend file (date, scheme, provider, amount, reference); all or nothing."""
    existing_file(file)
    with work() as session, stage(f"Checking and posting {file.name}"):
        outcome = ledger.import_spend(session, _pool(session, area, year), file, SYSTEM)
    message = (
        f"{file.name} was already imported into {area}'s pool; nothing was posted"
        if outcome.already
        else f"Posted {outcome.posted:,} spend rows ({format_money(outcome.total_pence)}) to "
        f"{area}'s pool; {outcome.skipped:,} rows were already posted and were skipped"
    )
    say(as_json, SpendImport.of(outcome).model_dump(mode="json"), message)


@ledger_app.command("balances")
def ledger_balances(
    area: str,
    year: LedgerYear = "2015-16",
    on: Annotated[str | None, typer.Option(help="Balances at the end of this date.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Each account's balance (now, or at the end of --on DATE)."""
    day = parse_day(on)
    with work() as session:
        found = ledger.balances(session, _pool(session, area, year), day)
    rows = [{"account": k, "balance_pence": v} for k, v in found.items()]
    if as_json:
        emit({"area_code": area, "year": year, "on": str(day) if day else None, "balances": rows})
        return
    title = f"{area} {year} balances" + (f" at {day}" if day else "")
    print_table(title, ("Account", "Balance"), [(k, format_money(v)) for k, v in found.items()])


@ledger_app.command("close")
def ledger_close(area: str, period: str, year: LedgerYear = "2015-16") -> None:
    """Close a period (2015-16 Q1, 2015-07 or 2015-16): nothing more may be dated in it."""
    with work() as session:
        closed = ledger.close_period(session, _pool(session, area, year), period, SYSTEM)
    err.print(f"Closed {closed.label} ({closed.start} to {closed.end}) in {area}'s pool")


@ledger_app.command("settle")
def ledger_settle_command(
    area: str,
    year: LedgerYear = "2015-16",
    financial_year: Annotated[str | None, typer.Option(help="Default: the pool's last.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Settle the year's over- or underspend between the partners by the agreed risk share."""
    with work() as session:
        result = ledger_settle.settle(session, _pool(session, area, year), SYSTEM, financial_year)
    if as_json:
        emit(SettlementPosted.of(result).model_dump(mode="json"))
        return
    out.print(
        f"{area} {result.financial_year}: {ledger_settle.outcome(result.variance)} of "
        f"{format_money(abs(result.variance))}, shared by rule {result.rule}"
    )
    for line in result.lines:
        out.print(f"  {line.partner:<10} {format_money(line.amount):>16}  {line.explanation}")


@ledger_app.command("reopen")
def ledger_reopen(
    area: str,
    reason: Annotated[str, typer.Option(help="Why the settled year is reopened (recorded).")],
    year: LedgerYear = "2015-16",
    financial_year: Annotated[str | None, typer.Option(help="Default: the pool's last.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Reopen a settled year so it takes entries again: reverses its settlement (audited)."""
    with work() as session:
        pool = _pool(session, area, year)
        result = ledger_settle.reopen(session, pool, SYSTEM, reason, financial_year)
    message = (
        f"{area} {result.financial_year} reopened: settlement entries "
        f"{', '.join(map(str, result.reversed_ids))} reversed; settle it again when its books "
        "are complete"
    )
    say(as_json, SettlementReopened.of(result).model_dump(mode="json"), message)


@ledger_app.command("export")
def ledger_export(
    area: str,
    file: Path,
    fmt: Annotated[str, typer.Option("--format", help="beancount, csv or balances.")] = "beancount",
    year: LedgerYear = "2015-16",
) -> None:
    """Write the pool's books as Beancount (check with bean-check) or CSV.

    The books stream into a file beside FILE that takes its name only once complete, so a
    failed export never leaves a partial file where a whole one is expected.
    """
    partial = file.with_name(f".{file.name}.partial")
    try:
        with work() as session, partial.open("w", encoding="utf-8", newline="") as out:
            ledger.export_to(session, _pool(session, area, year), fmt, out)
        partial.replace(file)
    finally:
        partial.unlink(missing_ok=True)
    err.print(f"Wrote {area}'s {year} pool as {fmt} to {file}")


@ledger_app.command("check")
def ledger_check(
    year: Annotated[str | None, typer.Option("--year", "-y", help="Only this year.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Prove every pool balances and its running balances equal the sum of its postings."""
    with work() as session:
        results = ledger.check(session, year)
    checked = LedgerCheck.of(results)
    for r in [] if as_json else [r for r in results if not (r.balanced and r.consistent)]:
        err.print(
            f"[red]{r.year} {r.area_code}[/red]: balanced={r.balanced}, "
            f"consistent={r.consistent}, differences {list(r.differences)[:5]}"
        )
    verdict = "all balanced and consistent" if checked.ok else "PROBLEMS FOUND"
    say(as_json, checked.model_dump(mode="json"), f"{len(results)} pools checked: {verdict}")
    if not checked.ok:
        raise typer.Exit(1)


@ledger_app.command("receipt")
def ledger_receipt(
    area: str,
    partner: str,
    stream: str,
    amount: str,
    on: Annotated[str, typer.Option(help="Date received.")],
    reference: Annotated[str, typer.Option(help="Bank or finance-system reference.")],
    year: LedgerYear = "2015-16",
) -> None:
    """Record money received from a partner towards its contribution."""
    pence, day = parse_money(amount), parse_day(on) or dt.date.today()
    with work() as session:
        pool = _pool(session, area, year)
        entry_id = ledger.record_receipt(
            session, pool, partner, stream, pence, day, reference, SYSTEM
        )
    err.print(f"Recorded {format_money(pence)} from {partner} as entry {entry_id}")


@ledger_app.command("reverse")
def ledger_reverse(
    area: str,
    entry_id: int,
    reason: Annotated[str, typer.Option(help="Why the entry is reversed.")],
    on: Annotated[str | None, typer.Option(help="Date of the reversal.")] = None,
    year: LedgerYear = "2015-16",
) -> None:
    """Cancel an entry with an equal and opposite one (entries are never edited)."""
    with work() as session:
        pool = _pool(session, area, year)
        new_id = ledger.reverse(session, pool, entry_id, reason, SYSTEM, parse_day(on))
    err.print(f"Entry {entry_id} reversed by entry {new_id}")


@ledger_app.command("forecast")
def ledger_forecast(
    area: str,
    amount: str,
    note: Annotated[str, typer.Option(help="The basis of the forecast.")] = "",
    scheme: Annotated[str | None, typer.Option(help="Scheme; default the whole pool.")] = None,
    as_at: Annotated[str | None, typer.Option("--as-at", help="Default today.")] = None,
    year: LedgerYear = "2015-16",
) -> None:
    """Record the pool manager's forecast outturn for the year."""
    pence, day = parse_money(amount), parse_day(as_at)
    with work() as session:
        pool = _pool(session, area, year)
        ledger_reports.set_forecast(session, pool, pence, note, SYSTEM, scheme=scheme, as_at=day)
    err.print(f"Forecast outturn {format_money(pence)} recorded for {scheme or 'the whole pool'}")


@ledger_app.command("report")
def ledger_report(
    area: str,
    as_at: Annotated[str | None, typer.Option("--as-at", help="Report date.")] = None,
    year: LedgerYear = "2015-16",
    as_json: JsonFlag = False,
) -> None:
    """Budget against actual by scheme, area of spend and stream, with forecast and light."""
    with work() as session:
        pool = _pool(session, area, year)
        report = ledger_reports.budget_vs_actual(session, pool, as_at=parse_day(as_at))
    if as_json:
        emit(BudgetReportOut.of(report).model_dump(mode="json"))
        return
    columns = ("Line", "Budget", "Actual to date", "Forecast", "Variance", "Light")
    rows = [_budget_row(line) for line in report.lines]
    print_table(
        f"{area} {report.financial_year} budget against actual at {report.as_at}", columns, rows
    )


def _budget_row(x: ledger_reports.BudgetLine) -> tuple[str, ...]:
    money = (x.budget, x.actual_to_date, x.forecast, x.variance)
    return (x.group + ": " + x.key, *(format_money(m, pence_shown=False) for m in money), x.light)
