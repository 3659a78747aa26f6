"""Where an ingest's output goes: the data directory, its Parquet files and quarantine.

The last stage of :mod:`carepool.person_data.files.ingest` writes accepted rows as Parquet (the
pseudonyms uncompressed, the rest with snappy) and quarantine lines beside them, into a
staging directory that replaces the data directory only when everything succeeded. A data
directory is refused if it would overwrite the inputs or something that is not carepool's,
and records in its manifest the vintage of the files it was made from.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

from carepool.domain.errors import CarepoolError
from carepool.domain.person_level import PERSON_ID, RecordKind
from carepool.io.tabular import file_sha256
from carepool.person_data.files.checks import quarantine_schema
from carepool.person_data.files.columns import storage_schema
from carepool.person_data.files.raw import SourceFile

MANIFEST = "manifest.json"
QUARANTINE = "quarantine"


def data_writer(path: Path, kind: RecordKind) -> pq.ParquetWriter:
    """A writer of accepted rows. Pseudonyms are random hex, which no codec shrinks much, so
    that column is stored uncompressed; the rest is compressed with snappy."""
    schema = storage_schema(kind)
    codecs = {name: "none" if name == PERSON_ID.name else "snappy" for name in schema.names}
    return pq.ParquetWriter(path, schema, store_schema=False, compression=codecs)


class QuarantineWriter:
    """Appends quarantine lines for one kind, opening its file only when there are some."""

    def __init__(self, path: Path, kind: RecordKind) -> None:
        self._path = path
        self._kind = kind
        self._writer: pq.ParquetWriter | None = None

    def __enter__(self) -> QuarantineWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._writer is not None:
            self._writer.close()

    def write(self, lines: pa.Table | None) -> None:
        if lines is None or lines.num_rows == 0:
            return
        if self._writer is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self._path, quarantine_schema(self._kind))
        self._writer.write_table(lines)


def inputs_sha256(files: Iterable[SourceFile]) -> str:
    """The data vintage: one SHA-256 over every input file's name and content."""
    digest = hashlib.sha256()
    for file in sorted(files, key=lambda f: f.name):
        digest.update(f"{file.name}\t{file_sha256(file.path)}\n".encode())
    return digest.hexdigest()


def write_manifest(folder: Path, manifest: Mapping[str, Any]) -> None:
    (folder / MANIFEST).write_text(
        json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def read_manifest(folder: Path) -> dict[str, Any]:
    """What a data directory says about itself; a clear error if it is not one."""
    path = folder / MANIFEST
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CarepoolError(f"{folder} is not a carepool data directory (no {MANIFEST})") from None
    except ValueError as exc:
        raise CarepoolError(f"{path} is not a valid manifest: {exc}") from None
    if not isinstance(found, dict) or "vintage" not in found:
        raise CarepoolError(f"{path} is not a valid manifest: it names no vintage")
    return found


def check_destination(source: Path, data_dir: Path) -> None:
    """Refuse a data directory that would overwrite the inputs or something not ours."""
    src, dest = source.resolve(), data_dir.resolve()
    if src == dest or dest in src.parents or src in dest.parents:
        raise CarepoolError(
            f"the data directory {data_dir} and the source {source} overlap: choose a data "
            "directory outside the source"
        )
    if dest.exists() and not dest.is_dir():
        raise CarepoolError(f"{data_dir} is a file, not a data directory")
    if dest.is_dir() and any(dest.iterdir()) and not (dest / MANIFEST).is_file():
        raise CarepoolError(
            f"{data_dir} is not empty and is not a carepool data directory (it has no "
            f"{MANIFEST}): choose a new or empty directory, so nothing is replaced by mistake"
        )


@contextmanager
def staged_directory(target: Path) -> Iterator[Path]:
    """A fresh directory beside ``target`` that replaces it only if the block succeeds.

    Until the final renames, ``target`` is untouched; if anything fails, the staging
    directory is removed and ``target`` is exactly as it was. The replacement is two renames
    on the same file system (old aside, new in), then the old copy is deleted.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(
        tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".staging", dir=target.parent)
    )
    try:
        yield staging
        _replace(target, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _replace(target: Path, staging: Path) -> None:
    if not target.exists():
        os.rename(staging, target)
        return
    old = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.old")
    os.rename(target, old)
    try:
        os.rename(staging, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old)
