"""The ``carepool`` command line: every batch job, with progress and no tracebacks for user errors.

Each command is one unit of work: it commits once at the end or, on any error, leaves the
database exactly as it was. ``--json`` output goes to standard output and is stable;
messages and progress go to standard error.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.exc import OperationalError

from carepool.accounts import service as accounts
from carepool.allocation import service as allocation
from carepool.allocation.schemas import AllocationReport
from carepool.audit import service as audit_log
from carepool.audit.service import checkpoint_document, read_checkpoint
from carepool.cli.common import (
    JsonFlag,
    YearOption,
    emit,
    err,
    existing_file,
    out,
    report_error,
    safe_url,
    stage,
    utc,
    work,
)
from carepool.config import pseudonym_key, settings
from carepool.demo import metrics as demo_metrics
from carepool.demo import service as demo
from carepool.domain.allocation import AllocationStatus
from carepool.domain.errors import CarepoolError
from carepool.domain.money import format_money
from carepool.domain.roles import SYSTEM
from carepool.frameworks import available_years, load_framework
from carepool.geography import service as geography
from carepool.geography.schemas import AreasReport
from carepool.metrics.cli import metrics_app
from carepool.person_data.cli import data_app
from carepool.plans.cli import plans_app
from carepool.pools.cli import ledger_app
from carepool.store.db import default_engine, migrate, unit_of_work

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
app.add_typer(import_app, name="import")
app.add_typer(frameworks_app, name="frameworks")
app.add_typer(allocation_app, name="allocation")
app.add_typer(audit_app, name="audit")
app.add_typer(users_app, name="users")
app.add_typer(plans_app, name="plans")
app.add_typer(ledger_app, name="ledger")
app.add_typer(data_app, name="data")
app.add_typer(metrics_app, name="metrics")


def main() -> None:
    """Entry point: run the app, turning user errors into messages and exit code 1."""
    try:
        app()
    except CarepoolError as exc:
        report_error(exc)
        sys.exit(1)
    except OperationalError as exc:
        err.print(f"[red]Error:[/red] cannot use the database at {safe_url()}: {exc.orig}")
        sys.exit(1)


@app.command()
def init() -> None:
    """Create or upgrade the database schema."""
    with stage("Migrating the database"):
        migrate(default_engine())
    err.print(f"Database ready at {safe_url()}")


class ImportKind(StrEnum):
    AREAS = "areas"
    POPULATIONS = "populations"
    SHARES = "shares"
    ALLOCATION = "allocation"


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
    existing_file(file)
    with work() as session, stage(f"Reading and checking {file.name}"):
        outcome = importer(session, file, SYSTEM, vintage)
    if as_json:
        emit(outcome.as_dict())
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
    existing_file(file)
    with work() as session:
        with stage(f"Checking {file.name} against the {year} framework"):
            run = allocation.import_allocation(session, year, file, SYSTEM, reason=reason)
        result = AllocationReport.of(allocation.view(session, run)).model_dump(mode="json")
    _finish_allocation(result, as_json)


@app.command()
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


@frameworks_app.command("list")
def frameworks_list(as_json: JsonFlag = False) -> None:
    """The programme years carepool has a framework for."""
    frameworks = [load_framework(year) for year in available_years()]
    if as_json:
        emit(
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
        emit(framework.model_dump(mode="json"))
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
    with work() as session:
        with stage(f"Allocating {year}"):
            run = allocation.allocate(
                session, year, SYSTEM, population_vintage=population, reason=reason
            )
        result = AllocationReport.of(allocation.view(session, run)).model_dump(mode="json")
    _finish_allocation(result, as_json)


def _finish_allocation(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit(result)
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
    with work() as session:
        rows = [
            {
                "version": r.version,
                "status": r.status,
                "method": r.method,
                "source": r.source,
                "total_pence": r.total_pence,
                "reason": r.reason,
                "created_at": utc(r.created_at).isoformat(),
            }
            for r in allocation.runs(session, year)
        ]
    if as_json:
        emit({"year": year, "runs": rows})
        return
    for row in rows:
        out.print(
            f"v{row['version']}  {row['status']:<10} {row['method']:<9} "
            f"{format_money(cast(int, row['total_pence']))}  {row['reason']}"
        )


def _move(year: str, version: int | None, target: AllocationStatus, comment: str) -> None:
    with work() as session:
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


CheckpointFile = Annotated[
    Path | None,
    typer.Option(
        "--checkpoint",
        help="Also compare against a checkpoint file kept outside the database.",
        exists=True,
        dir_okay=False,
    ),
]


@audit_app.command("verify")
def audit_verify(as_json: JsonFlag = False, checkpoint: CheckpointFile = None) -> None:
    """Check that no audit event was edited, removed or reordered."""
    kept = read_checkpoint(checkpoint) if checkpoint else []
    with work() as session:
        found = audit_log.check(session, kept)
    if as_json:
        emit(
            {
                "events": found.events,
                "ok": not found.breaks,
                "breaks": [
                    {"sequence": b.sequence, "reason": b.reason, "chain": b.chain}
                    for b in found.breaks
                ],
                "chains": [
                    {"chain": h.chain, "events": h.sequence, "head": h.hash} for h in found.heads
                ],
                "checkpoints": found.checkpoints,
            }
        )
    if found.breaks:
        for b in found.breaks:
            err.print(f"[red]Audit event {b.sequence} of chain {b.chain}:[/red] {b.reason}")
        raise typer.Exit(1)
    if not as_json:
        err.print(
            f"Audit chain intact: {found.events:,} events in {len(found.heads):,} chains, "
            f"{found.checkpoints:,} checkpoints held"
        )


@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """Record each chain's latest event, and print it as JSON to keep outside the database.

    ``audit verify`` compares the chains against every stored checkpoint, and against a kept
    file given with ``--checkpoint``, so removing the newest events is found.
    """
    with work() as session:
        taken = audit_log.checkpoint(session)
    emit(checkpoint_document(taken))
    err.print(f"Checkpoint of {len(taken):,} chains taken")


@users_app.command("add")
def users_add(
    username: str,
    role: Annotated[list[str], typer.Option("--role", help="Grant, e.g. area_editor:E06000052.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
) -> None:
    """Add a local account; the password is read from standard input or asked for."""
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=sys.stdin.isatty())
    with work() as session:
        accounts.create_user(session, username, password, role, SYSTEM, name)
    err.print(f"Added {username} with roles {', '.join(role)}")


@users_app.command("token")
def users_token(
    username: str, name: Annotated[str, typer.Option(help="What it is for.")] = "api"
) -> None:
    """Create an API token for a user; it is printed once and only its hash is kept."""
    with work() as session:
        token = accounts.create_token(session, username, name, SYSTEM)
    print(token)


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


DEMO_METRICS_STEPS = 5


@app.command("demo")
def demo_command(
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build the data and exit.")] = False,
    seed: Annotated[int, typer.Option(help="Seed for the synthetic nation.")] = 2015,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    metrics_scale: Annotated[
        float,
        typer.Option(
            help="Share of a nation's year of person-level records for metrics (0: none)."
        ),
    ] = demo_metrics.DEMO_SCALE,
    statistics: Annotated[
        Path | None,
        typer.Option(help="Folder with the published statistics files to import beside them."),
    ] = None,
) -> None:
    """Build a whole synthetic nation, allocate it, plan, pool, measure it, and serve it."""
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=err,
    )
    with progress:
        steps = demo.DEMO_STEPS + (DEMO_METRICS_STEPS if metrics_scale else 0)
        task = progress.add_task("Preparing the database", total=steps)

        def step(message: str) -> None:
            progress.update(task, description=message, advance=1)

        migrate(default_engine())
        with unit_of_work() as session:
            summary = demo.build_demo(session, seed=seed, progress=step)
        if metrics_scale:
            with unit_of_work() as session:
                demo_metrics.build_demo_metrics(
                    session,
                    settings().data_dir / "demo",
                    pseudonym_key(),
                    seed=seed,
                    scale=metrics_scale,
                    statistics_dir=statistics,
                    progress=step,
                )
        progress.update(task, completed=steps, description="Demo ready")
    err.print(
        f"{summary['label']}: {summary['areas']} areas, allocations published for "
        f"{', '.join(demo.DEMO_YEARS)}. Sign in with the demo accounts in the README "
        f"(password {demo.DEMO_PASSWORD})."
    )
    if not no_serve:
        serve(host, port)
