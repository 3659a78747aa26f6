"""The ``carepool`` command line: every batch job, with progress and no tracebacks for user errors.

Each command is one unit of work: it commits once at the end or, on any error, leaves the
database exactly as it was. ``--json`` output goes to standard output and is stable;
messages and progress go to standard error.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from carepool.config import database_url, settings
from carepool.domain.allocation import AllocationStatus
from carepool.domain.errors import CarepoolError
from carepool.domain.money import format_money, parse_money
from carepool.domain.roles import SYSTEM
from carepool.frameworks import available_years, load_framework
from carepool.io.tabular import parse_date
from carepool.services import (
    accounts,
    allocation,
    audit_log,
    demo,
    geography,
    ledger,
    ledger_reports,
    ledger_settle,
    plans,
)
from carepool.store.db import default_engine, migrate, unit_of_work
from carepool.store.models import PoolRow

app = typer.Typer(
    help="carepool: run a pooled health and social care budget programme (the Better Care Fund).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
import_app = typer.Typer(help="Import reference files and allocation tables.", no_args_is_help=True)
frameworks_app = typer.Typer(help="Programme years' policy frameworks.", no_args_is_help=True)
allocation_app = typer.Typer(help="Approve and publish allocation runs.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
users_app = typer.Typer(help="Local accounts and API tokens.", no_args_is_help=True)
plans_app = typer.Typer(
    help="Joint plans: status, checks and the Excel template.", no_args_is_help=True
)
app.add_typer(import_app, name="import")
app.add_typer(frameworks_app, name="frameworks")
app.add_typer(allocation_app, name="allocation")
app.add_typer(audit_app, name="audit")
app.add_typer(users_app, name="users")
app.add_typer(plans_app, name="plans")

out = Console()
err = Console(stderr=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object to stdout.")]
YearOption = Annotated[str, typer.Option("--year", "-y", help="Programme year, e.g. 2015-16.")]


def main() -> None:
    """Entry point: run the app, turning user errors into messages and exit code 1."""
    try:
        app()
    except CarepoolError as exc:
        _report_error(exc)
        sys.exit(1)
    except OperationalError as exc:
        err.print(f"[red]Error:[/red] cannot use the database at {_safe_url()}: {exc.orig}")
        sys.exit(1)


def _report_error(exc: CarepoolError) -> None:
    err.print(f"[red]Error:[/red] {exc.message}", highlight=False, markup=True)
    for problem in exc.problems[:200]:
        err.print(f"  - {problem}", highlight=False, markup=False)
    if len(exc.problems) > 200:
        err.print(f"  … and {len(exc.problems) - 200} more")


def _safe_url() -> str:
    url = database_url()
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://…@{rest.split('@', 1)[1]}"
    return url


def _emit(data: Any) -> None:
    out.print_json(json.dumps(data, ensure_ascii=False)) if out.is_terminal else print(
        json.dumps(data, ensure_ascii=False, indent=2)
    )


def _utc(moment: dt.datetime) -> dt.datetime:
    """SQLite returns times without their zone; every stored time is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@contextmanager
def _work() -> Iterator[Session]:
    """Migrate if needed, then one unit of work for the command."""
    engine = default_engine()
    migrate(engine)
    with unit_of_work(engine) as session:
        yield session


@contextmanager
def _stage(message: str) -> Iterator[None]:
    with err.status(message, spinner="dots"):
        yield


@app.command()
def init() -> None:
    """Create or upgrade the database schema."""
    with _stage("Migrating the database"):
        migrate(default_engine())
    err.print(f"Database ready at {_safe_url()}")


class ImportKind(StrEnum):
    AREAS = "areas"
    POPULATIONS = "populations"
    SHARES = "shares"
    ALLOCATION = "allocation"


def _existing_file(path: Path) -> Path:
    if not path.is_file():
        raise CarepoolError(f"{path} does not exist or is not a file")
    return path


@import_app.command("areas")
def import_areas(
    file: Path,
    vintage: Annotated[str | None, typer.Option(help="Name for this vintage.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Import a councils register (uk_local_authorities.csv): the source of each year's areas."""
    _run_import(geography.import_councils, file, vintage, as_json)


@import_app.command("populations")
def import_populations(
    file: Path,
    vintage: Annotated[str | None, typer.Option(help="Name, default from the file name.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Import ONS single-year-of-age population estimates as a population vintage."""
    _run_import(geography.import_populations, file, vintage, as_json)


@import_app.command("shares")
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
    _existing_file(file)
    with _work() as session, _stage(f"Reading and checking {file.name}"):
        outcome = importer(session, file, SYSTEM, vintage)
    if as_json:
        _emit(outcome.as_dict())
        return
    if outcome.created:
        err.print(f"Imported {outcome.rows:,} {outcome.kind} rows as vintage {outcome.vintage!r}")
    else:
        err.print(
            f"{file.name} was already imported as vintage {outcome.vintage!r}; nothing changed"
        )
    for note in outcome.notes:
        err.print(f"  {note}")


@import_app.command("allocation")
def import_allocation(
    file: Path,
    year: YearOption,
    reason: Annotated[str, typer.Option(help="Why (needed to vary a published one).")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Import a published allocation table (CSV or XLSX) as a new draft allocation run."""
    _existing_file(file)
    with _work() as session:
        with _stage(f"Checking {file.name} against the {year} framework"):
            run = allocation.import_allocation(session, year, file, SYSTEM, reason=reason)
        result = allocation.report(allocation.view(session, run))
    _finish_allocation(result, as_json)


@app.command()
def areas(year: YearOption, as_json: JsonFlag = False) -> None:
    """List a year's Health and Wellbeing Board areas with their populations."""
    with _work() as session:
        report = geography.areas_report(geography.year_geography(session, year))
    if as_json:
        _emit(report)
        return
    table = Table(title=f"HWB areas {year} ({len(report['areas'])})")  # type: ignore[arg-type]
    for column in ("Code", "Name", "Region", "Population", "65+"):
        table.add_column(column)
    for area in report["areas"]:  # type: ignore[attr-defined]
        bands = area["population"] or {}
        table.add_row(
            area["code"],
            area["name"],
            area["region"],
            f"{bands.get('all', 0):,}" if bands else "—",
            f"{bands.get('65+', 0):,}",
        )
    out.print(table)
    for missing in report["unmatched"]:  # type: ignore[attr-defined]
        err.print(f"[yellow]No population:[/yellow] {missing['reason']}")


@frameworks_app.command("list")
def frameworks_list(as_json: JsonFlag = False) -> None:
    """The programme years carepool has a framework for."""
    frameworks = [load_framework(year) for year in available_years()]
    if as_json:
        _emit(
            {
                "frameworks": [
                    {"year": f.year, "name": f.name, "minimum_total_pence": f.minimum_total}
                    for f in frameworks
                ]
            }
        )
        return
    for f in frameworks:
        out.print(f"{f.year}  {f.name}  minimum {format_money(f.minimum_total)}")


@frameworks_app.command("show")
def frameworks_show(year: str, as_json: JsonFlag = False) -> None:
    """Show a year's whole framework (validated on load)."""
    framework = load_framework(year)
    if as_json:
        _emit(framework.model_dump(mode="json"))
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


@app.command()
def allocate(
    year: YearOption,
    population: Annotated[
        str | None, typer.Option("--population", help="Population vintage to use.")
    ] = None,
    reason: Annotated[str, typer.Option(help="Why (needed to vary a published one).")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Allocate a year's funding streams to every area and commissioner by formula."""
    with _work() as session:
        with _stage(f"Allocating {year}"):
            run = allocation.allocate(
                session, year, SYSTEM, population_vintage=population, reason=reason
            )
        result = allocation.report(allocation.view(session, run))
    _finish_allocation(result, as_json)


def _finish_allocation(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        _emit(result)
        return
    table = Table(
        title=f"Allocation {result['year']} version {result['version']} ({result['status']})"
    )
    for column in ("Year", "Stream", "Framework total", "Allocated", "Difference"):
        table.add_column(column, justify="right")
    for row in result["reconciliation"]:
        table.add_row(
            row["financial_year"],
            row["stream"],
            format_money(row["framework_total_pence"]),
            format_money(row["allocated_pence"]),
            format_money(row["difference_pence"]),
        )
    out.print(table)
    out.print(f"{len(result['areas'])} areas, total {format_money(result['total_pence'])}")


@allocation_app.command("list")
def allocation_list(year: YearOption, as_json: JsonFlag = False) -> None:
    """Every allocation run of a year with its status."""
    with _work() as session:
        rows = [
            {
                "version": r.version,
                "status": r.status,
                "method": r.method,
                "source": r.source,
                "total_pence": r.total_pence,
                "reason": r.reason,
                "created_at": _utc(r.created_at).isoformat(),
            }
            for r in allocation.runs(session, year)
        ]
    if as_json:
        _emit({"year": year, "runs": rows})
        return
    for row in rows:
        out.print(
            f"v{row['version']}  {row['status']:<10} {row['method']:<9} "
            f"{format_money(row['total_pence'])}  {row['reason']}"
        )


def _move(year: str, version: int | None, target: AllocationStatus, comment: str) -> None:
    with _work() as session:
        runs = allocation.runs(session, year)
        if not runs:
            raise CarepoolError(
                f"{year} has no allocation yet; run 'carepool allocate --year {year}'"
            )
        run = allocation.run_by_version(session, year, version) if version else runs[-1]
        allocation.move(session, run, target, SYSTEM, comment)
        err.print(f"{year} allocation version {run.version} is now {run.status}")


VersionOption = Annotated[int | None, typer.Option(help="Run version; default the latest.")]
CommentOption = Annotated[str, typer.Option(help="A comment for the timeline.")]


@allocation_app.command("approve")
def allocation_approve(
    year: YearOption, version: VersionOption = None, comment: CommentOption = ""
) -> None:
    """Approve a draft allocation run."""
    _move(year, version, AllocationStatus.APPROVED, comment)


@allocation_app.command("publish")
def allocation_publish(
    year: YearOption, version: VersionOption = None, comment: CommentOption = ""
) -> None:
    """Publish an approved run; an earlier published run becomes superseded."""
    _move(year, version, AllocationStatus.PUBLISHED, comment)


@audit_app.command("verify")
def audit_verify(as_json: JsonFlag = False) -> None:
    """Check that no audit event was edited, removed or reordered."""
    with _work() as session:
        count, breaks = audit_log.verify(session)
    if as_json:
        _emit(
            {
                "events": count,
                "ok": not breaks,
                "breaks": [{"sequence": b.sequence, "reason": b.reason} for b in breaks],
            }
        )
    if breaks:
        for b in breaks:
            err.print(f"[red]Audit event {b.sequence}:[/red] {b.reason}")
        raise typer.Exit(1)
    if not as_json:
        err.print(f"Audit chain intact: {count:,} events")


@users_app.command("add")
def users_add(
    username: str,
    role: Annotated[list[str], typer.Option("--role", help="Grant, e.g. area_editor:E06000052.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
) -> None:
    """Add a local account; the password is read from standard input or asked for."""
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=sys.stdin.isatty())
    with _work() as session:
        accounts.create_user(session, username, password, role, SYSTEM, name)
    err.print(f"Added {username} with roles {', '.join(role)}")


@users_app.command("token")
def users_token(
    username: str, name: Annotated[str, typer.Option(help="What it is for.")] = "api"
) -> None:
    """Create an API token for a user; it is printed once and only its hash is kept."""
    with _work() as session:
        token = accounts.create_token(session, username, name, SYSTEM)
    print(token)


PlanYearOption = Annotated[str, typer.Option("--year", "-y", help="Programme year.")]


@plans_app.command("status")
def plans_status(year: PlanYearOption = "2015-16", as_json: JsonFlag = False) -> None:
    """Every area's plan: status, assurance category, money pooled against the minimum."""
    with _work() as session:
        report = plans.national_status(session, year)
    if as_json:
        _emit(report)
        return
    for status, count in report["by_status"].items():
        out.print(f"{count:>4}  {status}")
    out.print(
        f"Pooled in approved plans {format_money(report['pooled_pence'])} against a minimum "
        f"of {format_money(report['minimum_pence'])} ({report['areas']} areas)"
    )


@plans_app.command("validate")
def plans_validate(area: str, year: PlanYearOption = "2015-16", as_json: JsonFlag = False) -> None:
    """Check an area's plan against every rule of the year."""
    with _work() as session:
        plan = plans.get(session, year, area, SYSTEM)
        found = plans.findings(session, plan)
    if as_json:
        _emit({"year": year, "area_code": area, "problems": [f.as_dict() for f in found]})
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
    with _work() as session, _stage(f"Writing {file.name}"):
        plans.export_workbook(session, year, area, SYSTEM, file)
    err.print(f"Wrote the {year} plan for {area} to {file}")


@plans_app.command("import")
def plans_import(file: Path, year: PlanYearOption = "2015-16", as_json: JsonFlag = False) -> None:
    """Store a filled-in template as the area's draft plan; nothing is stored if it has errors."""
    _existing_file(file)
    with _work() as session, _stage(f"Checking {file.name}"):
        plan = plans.import_workbook(session, file, file.name, year, SYSTEM)
        report = plans.plan_report(plan)
        found = [f.as_dict() for f in plans.findings(session, plan)]
    if as_json:
        _emit({**report, "problems": found})
        return
    err.print(f"Stored {file.name} as version {report['version']} of {report['area_code']}'s plan")
    for finding in found:
        err.print(f"  {finding['severity']}: {finding['location']}: {finding['message']}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Serve the web app and API."""
    import uvicorn

    from carepool.web.app import create_app

    config = settings()
    migrate(default_engine())
    bind_host, bind_port = host or config.host, port or config.port
    err.print(f"carepool is serving at [bold]http://{bind_host}:{bind_port}/[/bold] (Ctrl+C stops)")
    app_ = create_app(https_only=config.secure_cookies)
    uvicorn.run(app_, host=bind_host, port=bind_port, log_level="warning")


@app.command("demo")
def demo_command(
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build the data and exit.")] = False,
    seed: Annotated[int, typer.Option(help="Seed for the synthetic nation.")] = 2015,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Build a whole synthetic nation, allocate it and serve it."""
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=err,
    )
    with progress:
        task = progress.add_task("Preparing the database", total=demo.DEMO_STEPS)

        def step(message: str) -> None:
            progress.update(task, description=message, advance=1)

        migrate(default_engine())
        with unit_of_work() as session:
            summary = demo.build_demo(session, seed=seed, progress=step)
        progress.update(task, completed=demo.DEMO_STEPS, description="Demo ready")
    err.print(
        f"{summary['label']}: {summary['areas']} areas, allocations published for "
        f"{', '.join(demo.DEMO_YEARS)}. Sign in with the demo accounts in the README "
        f"(password {demo.DEMO_PASSWORD})."
    )
    if not no_serve:
        serve(host, port)


# --------------------------------------------------------------------------------------------
# The Section 75 pooled budget ledger

ledger_app = typer.Typer(
    help="Section 75 pooled budgets: open, import spend, receipts, close, settle, export, check.",
    no_args_is_help=True,
)
app.add_typer(ledger_app, name="ledger")

LedgerYear = Annotated[str, typer.Option("--year", "-y", help="Programme year of the pool.")]


def _day(text: str | None) -> dt.date | None:
    try:
        return None if text is None else parse_date(text.strip())
    except ValueError as exc:
        raise CarepoolError(str(exc)) from None


def _say(as_json: bool, data: dict[str, Any], message: str) -> None:
    """The command's result: one JSON object on stdout, or a sentence on stderr."""
    _emit(data) if as_json else err.print(message)


def _pool(session: Session, area: str, year: str) -> PoolRow:
    return ledger.pool_for(session, year, area, SYSTEM)


def _table(title: str, columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    table = Table(title=title)
    for index, column in enumerate(columns):
        table.add_column(column, justify="left" if index == 0 else "right")
    for row in rows:
        table.add_row(*row)
    out.print(table)


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
    with _work() as session:
        codes = [area] if area else ledger.approved_areas(session, year)
        pools = [ledger.open_pool(session, year, code, SYSTEM) for code in codes]
        opened = [
            {"area_code": p.area_code, "pool_id": p.id, "plan_version": p.plan_version}
            for p in pools
        ]
    _say(as_json, {"year": year, "pools": opened}, f"{len(opened)} pool(s) open for {year}")


@ledger_app.command("import")
def ledger_import(
    area: str, file: Path, year: LedgerYear = "2015-16", as_json: JsonFlag = False
) -> None:
    """Post a spend file (date, scheme, provider, amount, reference); all or nothing."""
    _existing_file(file)
    with _work() as session, _stage(f"Checking and posting {file.name}"):
        outcome = ledger.import_spend(session, _pool(session, area, year), file, SYSTEM)
    message = (
        f"{file.name} was already imported into {area}'s pool; nothing was posted"
        if outcome.already
        else f"Posted {outcome.posted:,} spend rows ({format_money(outcome.total_pence)}) to "
        f"{area}'s pool; {outcome.skipped:,} rows were already posted and were skipped"
    )
    _say(as_json, outcome.as_dict(), message)


@ledger_app.command("balances")
def ledger_balances(
    area: str,
    year: LedgerYear = "2015-16",
    on: Annotated[str | None, typer.Option(help="Balances at the end of this date.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Each account's balance (now, or at the end of --on DATE)."""
    day = _day(on)
    with _work() as session:
        found = ledger.balances(session, _pool(session, area, year), day)
    rows = [{"account": k, "balance_pence": v} for k, v in found.items()]
    if as_json:
        _emit({"area_code": area, "year": year, "on": str(day) if day else None, "balances": rows})
        return
    title = f"{area} {year} balances" + (f" at {day}" if day else "")
    _table(title, ("Account", "Balance"), [(k, format_money(v)) for k, v in found.items()])


@ledger_app.command("close")
def ledger_close(area: str, period: str, year: LedgerYear = "2015-16") -> None:
    """Close a period (2015-16 Q1, 2015-07 or 2015-16): nothing more may be dated in it."""
    with _work() as session:
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
    with _work() as session:
        result = ledger_settle.settle(session, _pool(session, area, year), SYSTEM, financial_year)
    if as_json:
        _emit(result.as_dict())
        return
    out.print(
        f"{area} {result.financial_year}: {ledger_settle.outcome(result.variance)} of "
        f"{format_money(abs(result.variance))}, shared by rule {result.rule}"
    )
    for line in result.lines:
        out.print(f"  {line.partner:<10} {format_money(line.amount):>16}  {line.explanation}")


@ledger_app.command("export")
def ledger_export(
    area: str,
    file: Path,
    fmt: Annotated[str, typer.Option("--format", help="beancount, csv or balances.")] = "beancount",
    year: LedgerYear = "2015-16",
) -> None:
    """Write the pool's books as Beancount (check with bean-check) or CSV."""
    with _work() as session:
        text = ledger.export(session, _pool(session, area, year), fmt)
    file.write_text(text, encoding="utf-8")
    err.print(f"Wrote {area}'s {year} pool as {fmt} to {file}")


@ledger_app.command("check")
def ledger_check(
    year: Annotated[str | None, typer.Option("--year", "-y", help="Only this year.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Prove every pool balances and its running balances equal the sum of its postings."""
    with _work() as session:
        results = ledger.check(session, year)
    ok = all(r.balanced and r.consistent for r in results)
    for r in [] if as_json else [r for r in results if not (r.balanced and r.consistent)]:
        err.print(
            f"[red]{r.year} {r.area_code}[/red]: balanced={r.balanced}, "
            f"consistent={r.consistent}, differences {list(r.differences)[:5]}"
        )
    data = {"ok": ok, "pools": [r.as_dict() for r in results]}
    verdict = "all balanced and consistent" if ok else "PROBLEMS FOUND"
    _say(as_json, data, f"{len(results)} pools checked: {verdict}")
    if not ok:
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
    pence, day = parse_money(amount), _day(on) or dt.date.today()
    with _work() as session:
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
    with _work() as session:
        pool = _pool(session, area, year)
        new_id = ledger.reverse(session, pool, entry_id, reason, SYSTEM, _day(on))
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
    pence, day = parse_money(amount), _day(as_at)
    with _work() as session:
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
    with _work() as session:
        pool = _pool(session, area, year)
        report = ledger_reports.budget_vs_actual(session, pool, as_at=_day(as_at))
    if as_json:
        _emit(report.as_dict())
        return
    columns = ("Line", "Budget", "Actual to date", "Forecast", "Variance", "Light")
    rows = [_budget_row(line) for line in report.lines]
    _table(f"{area} {report.financial_year} budget against actual at {report.as_at}", columns, rows)


def _budget_row(x: ledger_reports.BudgetLine) -> tuple[str, ...]:
    money = (x.budget, x.actual_to_date, x.forecast, x.variance)
    return (x.group + ": " + x.key, *(format_money(m, pence_shown=False) for m in money), x.light)


@ledger_app.command("council-spend")
def ledger_council_spend(file: Path, as_json: JsonFlag = False) -> None:
    """Import councils' own adult social care spend (area_code, financial_year, amount)."""
    _existing_file(file)
    with _work() as session:
        outcome = ledger_reports.import_council_spend(session, file, SYSTEM)
    counts = f"{outcome.created} new, {outcome.updated} revised, {outcome.unchanged} unchanged"
    _say(as_json, outcome.as_dict(), f"{outcome.rows} figures: {counts}")


@ledger_app.command("substitution")
def ledger_substitution(area: str, as_json: JsonFlag = False) -> None:
    """Did NHS money put into social care replace the council's own spend?"""
    with _work() as session:
        report = ledger_reports.substitution(session, area)
    if as_json:
        _emit(report.as_dict())
        return
    for y in report.years:
        own = "—" if y.own_spend is None else format_money(y.own_spend)
        flag = "  [red]own spend fell while the NHS transfer rose[/red]" if y.flagged else ""
        moved = format_money(y.nhs_transfer)
        out.print(f"{y.financial_year}  own {own:>18}  NHS transfer {moved:>18}{flag}")


if __name__ == "__main__":  # pragma: no cover
    main()
