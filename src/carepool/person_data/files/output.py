"""Where an ingest's output goes: the data directory, its Parquet files and quarantine.

The last stage of :mod:`carepool.person_data.files.ingest` writes accepted rows as Parquet (the
pseudonyms uncompressed, the rest with snappy) and quarantine lines beside them, into a
staging directory that replaces the data directory only when everything succeeded. A data
directory is refused if it would overwrite the inputs or something that is not carepool's,
and records in its manifest the vintage of the files it was made from.

A process killed part-way can leave two kinds of leftover beside the data directory
``<dir>``: a ``.<dir>.*.staging`` folder (an ingest that never finished; up to the size of
a whole data directory) and a ``.<dir>.*.old`` folder (the previous data, moved aside just
before the new one was renamed in). :func:`recover`, run at the start of every ingest and
whenever a data directory's vintage is read, puts this right: if ``<dir>`` is missing but
an ``.old`` copy exists (the crash came between the two renames), the ``.old`` copy is
renamed back, so the configured path again holds the last complete data; once ``<dir>``
exists, any ``.old`` copy is a completed swap's leftover and is deleted; and at the start of
an ingest every staging folder of ``<dir>`` is deleted. An old copy is renamed
``.<dir>.*.trash`` before it is deleted, so a deletion cut short never leaves a partial copy
that could be restored; ``recover`` deletes ``.trash`` folders too. Two ingests into the same data
directory at once are not supported: the second would delete the first one's staging.
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
    recover(target, staging=True)
    staging = Path(
        tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".staging", dir=target.parent)
    )
    try:
        yield staging
        _replace(target, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def recover(target: Path, *, staging: bool = False) -> None:
    """Put right what a process killed while replacing data directory ``target`` left behind.

        If ``target`` is missing but a ``.<name>.*.old`` copy exists, the newest copy is renamed
        back to ``target``; once ``target`` exists, every ``.old`` copy is deleted, as is every
    ``.trash`` folder (an old copy whose deletion was cut short). With
        ``staging``, every ``.<name>.*.staging`` folder is deleted too (only safe when no other
        ingest into ``target`` is running, so only an ingest asks for it). Cheap when there is
        nothing to do: a listing or two of ``target``'s parent.
    """
    olds = _leftovers(target, "old")
    stagings = _leftovers(target, "staging") if staging else []
    if olds and not os.path.lexists(target):
        olds.sort(key=lambda path: path.stat().st_mtime)
        os.rename(olds.pop(), target)
    if os.path.lexists(target):
        for old in olds:
            _discard(old)
    for folder in [*stagings, *_leftovers(target, "trash")]:
        shutil.rmtree(folder, ignore_errors=True)


def _discard(old: Path) -> None:
    """Delete a complete old copy, renamed ``.trash`` first: a deletion cut short never
    leaves a partial copy under a ``.old`` name, which :func:`recover` might restore."""
    trash = old.with_name(f"{old.name.removesuffix('.old')}.trash")
    os.rename(old, trash)
    shutil.rmtree(trash, ignore_errors=True)


def _leftovers(target: Path, end: str) -> list[Path]:
    """The folders ``.<name>.<tag>.<end>`` beside ``target`` (not those of ``<name>.2025``)."""
    if not target.parent.is_dir():
        return []
    prefix = f".{target.name}."
    found = []
    for entry in target.parent.iterdir():
        tag, dot, rest = entry.name[len(prefix) :].partition(".")
        if (
            entry.name.startswith(prefix)
            and tag
            and dot
            and rest == end
            and entry.is_dir()
            and not entry.is_symlink()
        ):
            found.append(entry)
    return found


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
    _discard(old)
