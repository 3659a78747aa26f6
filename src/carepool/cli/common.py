"""What every command shares: consoles, JSON output, one unit of work, error reporting."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from carepool.config import database_url
from carepool.domain.errors import CarepoolError
from carepool.io.tabular import parse_date
from carepool.store.db import default_engine, migrate, unit_of_work

out = Console()
err = Console(stderr=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object to stdout.")]
YearOption = Annotated[str, typer.Option("--year", "-y", help="Programme year, e.g. 2015-16.")]


def report_error(exc: CarepoolError) -> None:
    err.print(f"[red]Error:[/red] {exc.message}", highlight=False, markup=True)
    for problem in exc.problems[:200]:
        err.print(f"  - {problem}", highlight=False, markup=False)
    if len(exc.problems) > 200:
        err.print(f"  … and {len(exc.problems) - 200} more")


def safe_url() -> str:
    url = database_url()
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://…@{rest.split('@', 1)[1]}"
    return url


def emit(data: Any) -> None:
    out.print_json(json.dumps(data, ensure_ascii=False)) if out.is_terminal else print(
        json.dumps(data, ensure_ascii=False, indent=2)
    )


def utc(moment: dt.datetime) -> dt.datetime:
    """SQLite returns times without their zone; every stored time is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@contextmanager
def work() -> Iterator[Session]:
    """Migrate if needed, then one unit of work for the command."""
    engine = default_engine()
    migrate(engine)
    with unit_of_work(engine) as session:
        yield session


@contextmanager
def stage(message: str) -> Iterator[Callable[[str], None]]:
    """A spinner on stderr while a step runs; the step may change its message as it goes."""
    with err.status(message, spinner="dots") as status:
        yield lambda text: status.update(text)


def existing_file(path: Path) -> Path:
    if not path.is_file():
        raise CarepoolError(f"{path} does not exist or is not a file")
    return path


def parse_day(text: str | None) -> dt.date | None:
    try:
        return None if text is None else parse_date(text.strip())
    except ValueError as exc:
        raise CarepoolError(str(exc)) from None


def say(as_json: bool, data: dict[str, Any], message: str) -> None:
    """The command's result: one JSON object on stdout, or a sentence on stderr."""
    emit(data) if as_json else err.print(message)


def print_table(title: str, columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    table = Table(title=title)
    for index, column in enumerate(columns):
        table.add_column(column, justify="left" if index == 0 else "right")
    for row in rows:
        table.add_row(*row)
    out.print(table)
