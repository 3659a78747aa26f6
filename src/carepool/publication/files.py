"""The open data files: each table as CSV, ``datapackage.json``, and the 360Giving files.

A package is written into a staging folder beside ``OUT`` and renamed into place only once
every file is whole (:func:`carepool.person_data.files.output.staged_directory`, the same
swap the person-level data directory uses), so a reader never finds a package half-written
and a failure leaves ``OUT`` exactly as it was.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from carepool.domain.errors import CarepoolError
from carepool.domain.grants import FLAT_COLUMNS, Grant, flat_row
from carepool.domain.open_data import Resource, text
from carepool.person_data.files.output import staged_directory

DESCRIPTOR = "datapackage.json"
GRANTS_JSON = "360giving.json"
GRANTS_CSV = "360giving.csv"


def check_destination(out: Path) -> None:
    """Refuse to replace anything but an earlier package: a non-empty folder without a
    ``datapackage.json`` may be someone's work, and a file is not a folder."""
    if out.exists() and not out.is_dir():
        raise CarepoolError(f"{out} is a file, not a folder for the data package")
    if out.is_dir() and any(out.iterdir()) and not (out / DESCRIPTOR).is_file():
        raise CarepoolError(
            f"{out} is not empty and holds no {DESCRIPTOR}: choose a new or empty folder, so "
            "nothing is replaced by mistake"
        )


@contextmanager
def staged_package(out: Path) -> Iterator[Path]:
    """A folder to write the package into, renamed to ``out`` only if the block succeeds."""
    check_destination(out)
    with staged_directory(out) as folder:
        folder.chmod(0o755)  # a staging folder is private; the package is for anyone to read
        yield folder


def write_table(target: TextIO, resource: Resource) -> None:
    """A table as CSV: its header, then each row with empty cells for nothing."""
    writer = csv.writer(target, lineterminator="\r\n")
    writer.writerow([c.name for c in resource.columns])
    writer.writerows([text(cell) for cell in row] for row in resource.rows)


def table_csv(resource: Resource) -> str:
    """A table as CSV text, for a download served from memory."""
    buffer = io.StringIO()
    write_table(buffer, resource)
    return buffer.getvalue()


def rows_csv(rows: Iterable[Sequence[str]]) -> str:
    """Rows of text as CSV text."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def write_table_file(folder: Path, resource: Resource) -> Path:
    path = folder / resource.path
    with path.open("w", encoding="utf-8", newline="") as handle:
        write_table(handle, resource)
    return path


def write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_grants_csv(path: Path, grants: Iterable[Grant]) -> None:
    """The 360Giving flat file: one grant a row, columns named by the schema's titles."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(FLAT_COLUMNS)
        writer.writerows(flat_row(g) for g in grants)
