"""Person-level data: make a synthetic national year, and ingest real or synthetic files.

``ingest`` turns raw files (which carry NHS numbers) into a *data directory* that the metric
engines read: every NHS number checked and replaced by its keyed pseudonym, every row
either accepted or quarantined with its reasons, and a ``manifest.json`` saying what went in
(the data vintage is a SHA-256 over the inputs) and what came out. The data directory is
replaced whole or not at all: a refused or failed ingest leaves the previous one exactly as
it was. An ingest killed part-way is put right by the next one, or by :func:`recover` (which
the metrics call before reading the data vintage): its staging folder is deleted, and a data
directory left moved aside by a kill between the two renames that swap a new one in is
renamed back.

The stages are those of :mod:`carepool.person_data.files.ingest`; this module runs them in order,
pseudonymises each distinct person once (on every core when there are many), and counts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import repeat
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from carepool.domain.errors import CarepoolError
from carepool.domain.geography import Area, PopulationCount
from carepool.domain.person_level import RECORD_KINDS
from carepool.domain.pseudonym import Pseudonymiser, pseudonym_digests
from carepool.person_data.files import extract as extracts
from carepool.person_data.files import ingest as files
from carepool.person_data.files.extract import LateCoding as LateCoding
from carepool.person_data.files.ingest import FileFormat, ProgressCallback
from carepool.synth.person_level import person_level_chunks

MANIFEST_FORMAT = "carepool person-level data directory"
MANIFEST_VERSION = 1
PARALLEL_FROM = 2_000_000
"""Distinct people above which pseudonymising is shared between processes (one per core)."""


@dataclass(frozen=True, slots=True)
class KindReport:
    """What happened to one record kind's rows."""

    kind: str
    files: tuple[str, ...]
    rows_read: int
    accepted: int
    quarantined: int
    reasons: Mapping[str, int] = field(default_factory=dict)
    mapped: Mapping[str, int] = field(default_factory=dict)
    """Accepted rows coded with a merged council, by ``council to area``."""

    def as_dict(self) -> dict[str, Any]:
        """The kind's counts as the data directory's ``manifest.json`` records them (the
        manifest is written by the ingest, below the schemas, so it cannot use
        :class:`~carepool.person_data.schemas.KindIngest`, the same shape in ``--json``)."""
        return {
            "kind": self.kind,
            "files": list(self.files),
            "rows_read": self.rows_read,
            "accepted": self.accepted,
            "quarantined": self.quarantined,
            "reasons": dict(sorted(self.reasons.items())),
            "mapped": dict(sorted(self.mapped.items())),
        }


@dataclass(frozen=True, slots=True)
class IngestReport:
    """The outcome of an ingest: the vintage, and per kind what was read and kept."""

    vintage: str
    data_dir: Path
    kinds: tuple[KindReport, ...]
    people: int
    key_id: str
    skipped: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def rows_read(self) -> int:
        return sum(k.rows_read for k in self.kinds)

    @property
    def quarantined(self) -> int:
        return sum(k.quarantined for k in self.kinds)


def ingest(
    source: Path,
    data_dir: Path,
    area_codes: set[str],
    key: bytes,
    progress: ProgressCallback | None = None,
    *,
    as_of: dt.date | None = None,
    merged: Mapping[str, str] | None = None,
) -> IngestReport:
    """Check and pseudonymise the raw files under ``source`` into the data directory.

    ``area_codes`` are the year's valid HWB area codes; ``merged`` the councils the year
    merges into an area of another code, with that area's code (see
    :func:`merged_councils`): a record coded with one is stored, and counted, in its area.
    ``key`` is the pseudonym key (at least 32 bytes); ``as_of`` the last date a record may
    carry (default today). Files with problems as a whole are refused with
    :class:`~carepool.domain.errors.ImportRejected` and nothing changes; rows with problems
    are quarantined and counted.
    """
    started = time.perf_counter()
    pseudonymiser = Pseudonymiser(key)
    if not area_codes:
        raise CarepoolError("no area codes to check records against")
    files.recover(data_dir, staging=True)  # what an ingest killed part-way left behind
    sources, skipped = files.find_sources(source)
    files.check_destination(source, data_dir)
    with ThreadPoolExecutor(max_workers=1) as hasher:
        vintage = hasher.submit(files.inputs_sha256, sources)  # reads while the scan computes
        scans = files.scan_all(sources, progress)
        people = files.index_people(scans)
        table = _pseudonyms(pseudonymiser, people, progress)
        context = files.CheckContext.build(area_codes, as_of or dt.date.today(), table, merged)
        with files.staged_directory(data_dir) as staging:
            kinds = _write_all(scans, context, staging, progress)
            report = IngestReport(
                vintage=vintage.result(),
                data_dir=data_dir,
                kinds=kinds,
                people=len(people),
                key_id=pseudonymiser.key_id,
                skipped=skipped,
                seconds=time.perf_counter() - started,
            )
            files.write_manifest(staging, manifest(report))
    return report


def merged_councils(areas: Iterable[Area]) -> dict[str, str]:
    """Each council a year's geography merges into an area of another code, with that area's
    code: ``{"E06000053": "E06000052"}`` (the Isles of Scilly, in Cornwall and Isles of
    Scilly). A record coded with such a council belongs to its area."""
    return {
        council: area.code for area in areas for council in area.councils if council != area.code
    }


def _pseudonyms(
    pseudonymiser: Pseudonymiser, numbers: np.ndarray[Any, Any], progress: ProgressCallback | None
) -> files.PseudonymTable:
    """Each distinct person's pseudonym, computed once; shared between cores when many.

    Worker processes are started fresh ("spawn"), which is safe beside the threads Arrow and
    the progress display run; as always with multiprocessing, a script that calls
    :func:`ingest` must do so under ``if __name__ == "__main__":``.
    """
    if progress:
        progress(f"Pseudonymising {len(numbers):,} people", 0, len(numbers))
    workers = min(os.cpu_count() or 1, 4)
    if len(numbers) < PARALLEL_FROM or workers < 2:
        digests = pseudonymiser.digests(numbers)
    else:
        parts = np.array_split(numbers, workers)
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            digests = np.concatenate(
                list(pool.map(pseudonym_digests, repeat(pseudonymiser.key), parts))
            )
    if progress:
        progress(f"Pseudonymising {len(numbers):,} people", len(numbers), len(numbers))
    return files.PseudonymTable.from_digests(digests)


def _write_all(
    scans: Sequence[files.FileScan],
    context: files.CheckContext,
    staging: Path,
    progress: ProgressCallback | None,
) -> tuple[KindReport, ...]:
    reports = []
    for kind in RECORD_KINDS:
        mine = [s for s in scans if s.file.kind == kind]
        if not mine:
            continue
        total = files.KindOutcome()
        for part, found in enumerate(mine):
            total.add(files.ingest_file(found, context, staging, part, progress))
            found.people = np.zeros(0, np.int32)  # done with; free the memory
        reports.append(
            KindReport(
                kind=kind.name,
                files=tuple(s.file.name for s in mine),
                rows_read=total.rows_read,
                accepted=total.accepted,
                quarantined=total.quarantined,
                reasons=dict(total.reasons),
                mapped=dict(total.mapped),
            )
        )
    return tuple(reports)


def manifest(report: IngestReport) -> dict[str, Any]:
    """What a data directory says about itself, for engines and for people."""
    columns = {
        kind.name: [{"name": c.name, "type": c.type.value} for c in kind.pseudonymised_columns()]
        for kind in RECORD_KINDS
    }
    return {
        "format": MANIFEST_FORMAT,
        "version": MANIFEST_VERSION,
        "vintage": report.vintage,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "pseudonym": {"method": "HMAC-SHA256 of the 10-digit NHS number", "key_id": report.key_id},
        "people": report.people,
        "kinds": {
            k.kind: {**k.as_dict(), "columns": columns[k.kind], "path": f"{k.kind}/*.parquet"}
            for k in report.kinds
        },
        "quarantine": f"{files.QUARANTINE}/<kind>/*.parquet",
        "skipped": list(report.skipped),
    }


def recover(data_dir: Path) -> None:
    """Restore ``data_dir`` if a process was killed between the two renames that swap a new
    data directory in, and delete a completed swap's ``.old`` copy; see
    :func:`carepool.person_data.files.output.recover`. Cheap; call it before reading."""
    files.recover(data_dir)


def provisional_extract(data_dir: Path, out_dir: Path, late: LateCoding) -> IngestReport:
    """Write into ``out_dir`` the data directory an earlier, provisional extract of the same
    records would have given: ``data_dir`` less the emergency spells ``late`` says were not
    coded yet (see :mod:`carepool.person_data.files.extract`).

    Its vintage is a SHA-256 of the source's vintage and the rule, so the same extract of the
    same data always has the same vintage; its manifest says what it is an extract of and how
    many rows it leaves out. Each kind's counts are the source ingest's, except ``accepted``:
    the rows the extract holds. ``out_dir`` is replaced whole or not at all, as by an ingest.
    """
    recover(data_dir)
    files.recover(out_dir, staging=True)
    source = files.read_manifest(data_dir)
    files.check_destination(data_dir, out_dir)
    rule = late.describe()
    vintage = hashlib.sha256(f"{source['vintage']}\n{rule}\n".encode()).hexdigest()
    with files.staged_directory(out_dir) as staging:
        kinds, left_out, gone = _copy_kinds(data_dir, staging, source["kinds"], late)
        if (data_dir / files.QUARANTINE).is_dir():
            shutil.copytree(data_dir / files.QUARANTINE, staging / files.QUARANTINE)
        report = IngestReport(
            vintage=vintage,
            data_dir=out_dir,
            kinds=kinds,
            people=int(source["people"]) - gone,
            key_id=str(source["pseudonym"]["key_id"]),
            skipped=tuple(source.get("skipped", ())),
        )
        extract = {"of": source["vintage"], "rule": rule, "left_out": left_out}
        files.write_manifest(staging, {**manifest(report), "extract": extract})
    return report


def _copy_kinds(
    data_dir: Path, staging: Path, described: Mapping[str, Any], late: LateCoding
) -> tuple[tuple[KindReport, ...], dict[str, int], int]:
    """Copy each kind the source holds; what each kind now holds, the rows left out of
    each, and how many people no longer have any record."""
    reports, left_out, withheld = [], {}, set()
    for kind in RECORD_KINDS:
        if kind.name not in described:
            continue
        counts = described[kind.name]
        kept, dropped, people = extracts.copy_kind(data_dir, staging, kind, late)
        left_out[kind.name] = dropped
        withheld |= people
        reports.append(
            KindReport(
                kind=kind.name,
                files=tuple(counts["files"]),
                rows_read=int(counts["rows_read"]),
                accepted=kept,
                quarantined=int(counts["quarantined"]),
                reasons=dict(counts["reasons"]),
                mapped=dict(counts.get("mapped", {})),
            )
        )
    remaining = extracts.people_present(staging, RECORD_KINDS, withheld)
    return tuple(reports), left_out, len(withheld - remaining)


@dataclass(frozen=True, slots=True)
class GenerateReport:
    """What the generator wrote: one raw file per kind, with its row count."""

    out_dir: Path
    seed: int
    scale: float
    financial_year: str
    file_format: str
    files: Mapping[str, tuple[Path, int]]


def generate(
    out_dir: Path,
    *,
    seed: int = 2015,
    scale: float = 0.1,
    financial_year: str = "2015-16",
    file_format: FileFormat = "parquet",
    flaws: bool = False,
    progress: ProgressCallback | None = None,
    populations: Sequence[PopulationCount] | None = None,
) -> GenerateReport:
    """Write a synthetic national year of raw person-level files (one per kind) to ``out_dir``.

    ``scale`` 1.0 is a whole nation's year (~20 million spells); ``flaws`` adds a few
    deliberately bad rows for ingest to quarantine. The records are for the synthetic
    nation's areas, or for the areas of ``populations`` (the database's real geography).
    """
    if not 0 < scale <= 1:
        raise CarepoolError(f"scale must be above 0 and at most 1, not {scale}")
    if file_format not in ("parquet", "csv"):
        raise CarepoolError(f"format must be parquet or csv, not {file_format!r}")
    chunks = person_level_chunks(
        seed=seed,
        scale=scale,
        financial_year=financial_year,
        flaws=flaws,
        progress=progress,
        populations=populations,
    )
    written = files.write_raw_files(chunks, out_dir, file_format)
    return GenerateReport(out_dir, seed, scale, financial_year, file_format, written)
