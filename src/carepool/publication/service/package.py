"""``carepool publish OUT``: the public tables as a data package and a 360Giving file.

Every table is read first and its keys checked (:func:`carepool.domain.open_data.key_problems`)
before anything is written, because the validators downstream let an empty primary key
through. Then the package is written beside ``OUT`` and swapped in whole.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from carepool.domain.errors import CarepoolError
from carepool.domain.grants import package as grants_package
from carepool.domain.open_data import LICENCE, Resource, key_problems, package_descriptor
from carepool.io.tabular import file_sha256
from carepool.publication import files
from carepool.publication.service.grants import grants
from carepool.publication.service.resources import build_all, published_years


@dataclass(frozen=True, slots=True)
class Published:
    """What a publish wrote: where, each table's rows, and how many grants."""

    out: Path
    tables: tuple[tuple[str, int], ...]
    grants: int
    bytes: int


def check_keys(resources: list[Resource]) -> None:
    """Refuse a package with an empty or repeated primary key or a foreign key to nothing."""
    problems = key_problems(resources)
    if problems:
        raise CarepoolError(
            "the open data was not published: its keys are not sound", problems
        )


def publish(session: Session, out: Path, *, now: dt.datetime | None = None) -> Published:
    """Read, check and write the whole package to ``out``; ``out`` is untouched on failure."""
    moment = now or dt.datetime.now(dt.UTC)
    years = published_years(session)
    resources = build_all(session, moment.date(), years)
    check_keys(resources)
    made = grants(years, resources)
    with files.staged_package(out) as folder:
        hashes = {r.path: file_sha256(files.write_table_file(folder, r)) for r in resources}
        files.write_json(
            folder / files.DESCRIPTOR,
            package_descriptor(resources, created=moment, hashes=hashes),
        )
        files.write_json(
            folder / files.GRANTS_JSON,
            grants_package(made, issued=moment.date(), licence=str(LICENCE["path"])),
        )
        files.write_grants_csv(folder / files.GRANTS_CSV, made)
    size = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    return Published(out, tuple((r.name, len(r.rows)) for r in resources), len(made), size)
