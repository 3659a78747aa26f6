"""``carepool publish OUT``: write the open data package."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from carepool.cli.common import JsonFlag, say, work
from carepool.publication.schemas import PublishedOut
from carepool.publication.service.package import publish as write_package


def publish(
    out: Annotated[Path, typer.Argument(help="Folder to write the package into.")],
    as_json: JsonFlag = False,
) -> None:
    """Write the open data: datapackage.json with a CSV per table, and 360giving.json."""
    with work() as session:
        published = write_package(session, out)
    tables = ", ".join(f"{name} ({rows:,})" for name, rows in published.tables)
    say(
        as_json,
        PublishedOut.of(published).model_dump(mode="json"),
        f"Published {out}: {tables}; {published.grants:,} grants in 360giving.json.",
    )
