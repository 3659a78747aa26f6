"""The ``carepool`` command line: every batch job, with progress and no tracebacks for user errors.

Each command is one unit of work: it commits once at the end or, on any error, leaves the
database exactly as it was. ``--json`` output goes to standard output and is stable;
messages and progress go to standard error.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from sqlalchemy.exc import OperationalError

from carepool.accounts.cli import users_app
from carepool.allocation import cli as allocation_cli
from carepool.allocation.cli import allocation_app
from carepool.audit.cli import audit_app
from carepool.cli.common import (
    err,
    report_error,
    safe_url,
    stage,
)
from carepool.cli.frameworks import frameworks_app
from carepool.config import pseudonym_key, settings
from carepool.demo import metrics as demo_metrics
from carepool.demo import payments as demo_payments
from carepool.demo import service as demo
from carepool.domain.errors import CarepoolError
from carepool.domain.money import format_money
from carepool.geography import cli as geography_cli
from carepool.metrics.cli import metrics_app
from carepool.payments.cli import payments_app
from carepool.person_data.cli import data_app, data_directory
from carepool.plans.cli import plans_app
from carepool.pools.cli import ledger_app
from carepool.publication import cli as publication_cli
from carepool.store.db import default_engine, migrate, unit_of_work
from carepool.substitution import cli as substitution_cli

app = typer.Typer(
    help="carepool: run a pooled health and social care budget programme (the Better Care Fund).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
import_app = typer.Typer(help="Import reference files and allocation tables.", no_args_is_help=True)
import_app.command("areas")(geography_cli.import_areas)
import_app.command("populations")(geography_cli.import_populations)
import_app.command("shares")(geography_cli.import_shares)
import_app.command("allocation")(allocation_cli.import_allocation)
import_app.command("ascfr")(substitution_cli.import_ascfr)
import_app.command("deflators")(substitution_cli.import_deflators)
app.command("substitution")(substitution_cli.substitution)
app.command("areas")(geography_cli.areas)
app.command("allocate")(allocation_cli.allocate)
app.command("publish")(publication_cli.publish)
app.add_typer(import_app, name="import")
app.add_typer(frameworks_app, name="frameworks")
app.add_typer(allocation_app, name="allocation")
app.add_typer(audit_app, name="audit")
app.add_typer(users_app, name="users")
app.add_typer(plans_app, name="plans")
app.add_typer(ledger_app, name="ledger")
app.add_typer(data_app, name="data")
app.add_typer(metrics_app, name="metrics")
app.add_typer(payments_app, name="payments")


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


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Serve the web app and API."""
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    from carepool.web.access import uvicorn_log_config
    from carepool.web.app import create_app

    config = settings()
    migrate(default_engine())
    bind_host, bind_port = host or config.host, port or config.port
    err.print(f"carepool is serving at [bold]http://{bind_host}:{bind_port}/[/bold] (Ctrl+C stops)")
    app_ = create_app(https_only=config.secure_cookies)
    # Believe X-Forwarded-For only from configured proxies: otherwise anyone could send the
    # header and appear to come from anywhere, dodging the sign-in limits.
    proxies = config.trusted_proxies
    uvicorn.run(
        app_,
        host=bind_host,
        port=bind_port,
        log_level="warning",
        access_log=False,  # it writes query strings; carepool's own access log leaves them out
        log_config=uvicorn_log_config(LOGGING_CONFIG),
        proxy_headers=bool(proxies),
        forwarded_allow_ips=",".join(proxies) if proxies else None,
    )


DEMO_METRICS_STEPS = 5


def _demo_payments_line(paid: demo_payments.DemoPayments) -> str:
    released = sum(change.released_change for change in paid.true_ups)
    return (
        f"Payment for performance: paid {', '.join(paid.paid[:-1])} on provisional data "
        f"and {paid.paid[-1]} on the final data, which trued up {len(paid.true_ups)} areas' "
        f"payments (released changed by {format_money(released)}). "
        "See 'carepool payments status'."
    )


def demo_ready_lines(summary: Mapping[str, object]) -> list[str]:
    """What the demo says when it is ready: what was built, and every account to sign in
    with and its password, so nobody has to look them up."""
    accounts = summary.get("accounts")
    listed = [f"  {line}" for line in accounts] if isinstance(accounts, list) else []
    return [
        f"{summary['label']}: {summary['areas']} areas, allocations published for "
        f"{', '.join(demo.DEMO_YEARS)}.",
        f"Sign in with any of these accounts; each has the password {demo.DEMO_PASSWORD}:",
        *listed,
    ]


def print_unwrapped(console: Console, lines: Sequence[str]) -> None:
    """Print each line whole: a narrow terminal folds it, but no line break is put into a
    sentence, so it can be copied and searched as written."""
    for line in lines:
        console.print(line, soft_wrap=True, highlight=False, markup=False)


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
    """Build a whole synthetic nation, allocate it, plan, pool, measure and pay it, and serve it."""
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=err,
    )
    with progress:
        measured = DEMO_METRICS_STEPS + demo_payments.DEMO_PAYMENTS_STEPS
        steps = demo.DEMO_STEPS + (measured if metrics_scale else 0)
        task = progress.add_task("Preparing the database", total=steps)

        def step(message: str) -> None:
            progress.update(task, description=message, advance=1)

        migrate(default_engine())
        paid = demo_payments.DemoPayments(created=False)
        with unit_of_work() as session:
            plan_scale = metrics_scale or demo_metrics.DEMO_SCALE  # ambitions on the data's scale
            summary = demo.build_demo(session, seed=seed, progress=step, scale=plan_scale)
        if metrics_scale:
            with unit_of_work() as session:
                demo_metrics.build_demo_metrics(
                    session,
                    data_directory(None),
                    pseudonym_key(),
                    seed=seed,
                    scale=metrics_scale,
                    statistics_dir=statistics,
                    progress=step,
                )
            with unit_of_work() as session:
                paid = demo_payments.build_demo_payments(session, data_directory(None), step)
        progress.update(task, completed=steps, description="Demo ready")
    lines = demo_ready_lines(summary)
    if paid.created:
        lines.append(_demo_payments_line(paid))
    print_unwrapped(err, lines)
    if not no_serve:
        serve(host, port)
