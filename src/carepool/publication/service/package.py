"""``carepool publish OUT``: the public tables as a data package and a 360Giving file.

Every table is read first and its keys checked (:func:`carepool.domain.open_data.key_problems`)
before anything is written, because the validators downstream let an empty primary key
through. Then the package is written beside ``OUT`` and swapped in whole. The open data page
serves the same :class:`Snapshot` from memory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from carepool.domain.errors import CarepoolError, NotFound
from carepool.domain.grants import Grant
from carepool.domain.grants import package as grants_package
from carepool.domain.open_data import LICENCE, Resource, key_problems, package_descriptor
from carepool.io.tabular import file_sha256
from carepool.publication import files
from carepool.publication.service.grants import grants
from carepool.publication.service.resources import build_all, published_years


def check_keys(resources: Sequence[Resource]) -> None:
    """Refuse a package with an empty or repeated primary key or a foreign key to nothing."""
    problems = key_problems(resources)
    if problems:
        raise CarepoolError("the open data was not published: its keys are not sound", problems)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The whole open data as read at one moment: the tables and the grants they make."""

    made_at: dt.datetime
    resources: tuple[Resource, ...]
    grants: tuple[Grant, ...]

    def resource(self, name: str) -> Resource:
        for found in self.resources:
            if found.name == name:
                return found
        raise NotFound(f"there is no open data table called {name!r}")

    def descriptor(self, hashes: dict[str, str] | None = None) -> dict[str, object]:
        """``datapackage.json``; without ``hashes``, each table is hashed as it is served."""
        if hashes is None:
            hashes = {
                r.path: hashlib.sha256(files.table_csv(r).encode("utf-8")).hexdigest()
                for r in self.resources
            }
        return package_descriptor(self.resources, created=self.made_at, hashes=hashes)

    def grants_package(self) -> dict[str, object]:
        return grants_package(self.grants, issued=self.made_at.date(), licence=LICENCE["path"])


def snapshot(session: Session, *, now: dt.datetime | None = None) -> Snapshot:
    """Read and check every table; nothing is written."""
    moment = now or dt.datetime.now(dt.UTC)
    years = published_years(session)
    resources = build_all(session, moment.date(), years)
    check_keys(resources)
    return Snapshot(moment, tuple(resources), tuple(grants(years, resources)))


@dataclass(frozen=True, slots=True)
class Published:
    """What a publish wrote: where, each table's rows, and how many grants."""

    out: Path
    tables: tuple[tuple[str, int], ...]
    grants: int
    bytes: int


def publish(session: Session, out: Path, *, now: dt.datetime | None = None) -> Published:
    """Read, check and write the whole package to ``out``; ``out`` is untouched on failure."""
    return write(snapshot(session, now=now), out)


def write(found: Snapshot, out: Path) -> Published:
    """Write a snapshot as the package in ``out``, swapped in only once every file is whole."""
    with files.staged_package(out) as folder:
        hashes = {r.path: file_sha256(files.write_table_file(folder, r)) for r in found.resources}
        files.write_json(folder / files.DESCRIPTOR, found.descriptor(hashes))
        files.write_json(folder / files.GRANTS_JSON, found.grants_package())
        files.write_grants_csv(folder / files.GRANTS_CSV, found.grants)
    size = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    tables = tuple((r.name, len(r.rows)) for r in found.resources)
    return Published(out, tables, len(found.grants), size)
