"""Person-level files in; a checked, pseudonymised data directory out.

Raw files (hospital spells, delayed transfers, care-home admissions, reablement episodes,
survey answers) come as CSV or Parquet in the schemas of
:mod:`carepool.domain.person_level`, and carry the NHS number. Reading them is staged, like
every carepool import, but a national year is twenty million rows, so each stage works on
whole columns at once (Arrow compute and numpy), never row by row in Python:

1. **Find** the files and the record kind each holds, from its name (``spells.csv``,
   ``spells-2015.parquet``) or its folder (``delays/part-1.parquet``).
2. **Inspect** each file: readable, not empty, exactly the kind's columns. A file that fails
   is refused whole, and the ingest with it.
3. **Scan** the key and the NHS number of every row: which keys are used twice, and which
   people there are, so each distinct person is pseudonymised once. A record repeated
   exactly (the same key, the same content) is kept once, from its first row; rows that
   share a key with different content are all quarantined.
4. **Check** every row. A row with any problem (an invalid NHS number, a date that cannot
   be, an unknown area, a value outside its list, a duplicate key...) goes to
   **quarantine** with one line per problem: file, row, column and reason. Rows are never
   silently dropped: every one read is either accepted or quarantined, and counted.
5. **Write** accepted rows as Parquet, with ``person_id`` in place of ``nhs_number``, into
   a staging directory that replaces the data directory only when everything succeeded.

Row numbers are what a person opening the file sees: in a CSV the header is row 1 and the
first record row 2; in Parquet the first record is row 1.

The raw NHS number never leaves these modules: quarantine shows the pseudonym when the
number was valid and nothing when it was not, messages never quote values that could be
one, and anything in another column that looks like an NHS number is hidden.

This module reads rows in batches and runs the stages that pass over them (scan, then check
and write each file); the rest lives beside it, and every public name is importable from
here:

- :mod:`carepool.person_data.files.raw`: finding and inspecting the files (stages 1 and 2);
- :mod:`carepool.person_data.files.columns`: Arrow schemas and helpers on whole columns;
- :mod:`carepool.person_data.files.duplicates`: rows sharing a key, repeats and conflicts;
- :mod:`carepool.person_data.files.checks`: the checks of each batch and its quarantine lines;
- :mod:`carepool.person_data.files.output`: the data directory, its writers, staging and manifest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped, unused-ignore]
import pyarrow.csv as pcsv  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

from carepool.domain.errors import ImportRejected, Problem
from carepool.domain.person_level import NHS_NUMBER, RECORD_KINDS, RecordKind
from carepool.domain.pseudonym import INVALID
from carepool.person_data.files.checks import (
    ROW_RULES,
    CheckContext,
    Checked,
    CheckedBatch,
    Finding,
    KindOutcome,
    PseudonymTable,
    RowRule,
    check_batch,
    quarantine_schema,
    ragged_lines,
    ragged_outcome,
)
from carepool.person_data.files.columns import (
    ARROW_TYPES,
    Hashes,
    Mask,
    Numbers,
    Places,
    arrow_schema,
    as_text,
    coded_columns,
    data_schema,
    from_numpy,
    is_missing,
    nhs_numbers,
    raw_schema,
    text_hashes,
)
from carepool.person_data.files.duplicates import (
    BatchDuplicates,
    DuplicateRows,
    candidate_rows,
    group_duplicates,
)
from carepool.person_data.files.output import (
    MANIFEST,
    QUARANTINE,
    QuarantineWriter,
    check_destination,
    data_writer,
    inputs_sha256,
    read_manifest,
    recover,
    staged_directory,
    write_manifest,
)
from carepool.person_data.files.raw import (
    FORMATS,
    Batch,
    FileFormat,
    RaggedRow,
    SourceFile,
    Unreadable,
    csv_header,
    find_sources,
    inspect,
    kind_of,
)

__all__ = [
    "ARROW_TYPES",
    "BATCH_ROWS",
    "FORMATS",
    "MANIFEST",
    "QUARANTINE",
    "ROW_RULES",
    "Batch",
    "BatchDuplicates",
    "CheckContext",
    "Checked",
    "CheckedBatch",
    "DuplicateRows",
    "FileFormat",
    "FileScan",
    "Finding",
    "Hashes",
    "KindOutcome",
    "Mask",
    "Numbers",
    "Places",
    "ProgressCallback",
    "PseudonymTable",
    "RaggedRow",
    "RowRule",
    "SourceFile",
    "arrow_schema",
    "check_batch",
    "check_destination",
    "data_schema",
    "find_duplicate_keys",
    "find_sources",
    "from_numpy",
    "index_people",
    "ingest_file",
    "inputs_sha256",
    "inspect",
    "kind_of",
    "nhs_numbers",
    "quarantine_schema",
    "ragged_lines",
    "ragged_outcome",
    "raw_schema",
    "read_batches",
    "read_manifest",
    "recover",
    "scan",
    "scan_all",
    "staged_directory",
    "text_hashes",
    "write_manifest",
    "write_raw_files",
]

ProgressCallback = Callable[[str, int, int | None], None]
"""Told ``(what is happening, units done, units in all or None when unknown)``."""

BATCH_ROWS = 1 << 20
"""Rows checked at a time: large enough for column-wise speed, small enough for memory."""


# --------------------------------------------------------------------------------------------
# Reading rows in batches. It stays beside BATCH_ROWS, which the tests set small on this
# module to read a file in many batches.


def read_batches(
    file: SourceFile, columns: Sequence[str], ragged: list[RaggedRow]
) -> Iterator[Batch]:
    """The file's rows in batches, with only ``columns``; ragged CSV rows go to ``ragged``.

    Raises :class:`Unreadable` when the file turns out to be unreadable part-way.
    """
    reader = _csv_batches if file.format == "csv" else _parquet_batches
    try:
        yield from reader(file, columns, ragged)
    except (pa.ArrowException, OSError, UnicodeDecodeError) as error:
        raise Unreadable(_read_failure(file, error)) from None


def _read_failure(file: SourceFile, error: Exception) -> Problem:
    text = str(error)
    if "UTF8" in text or "UTF-8" in text or isinstance(error, UnicodeDecodeError):
        return Problem("is not UTF-8 text", file=file.name)
    if file.format == "csv":
        return Problem("cannot be read as CSV (is a quote left open?)", file=file.name)
    return Problem("cannot be read: the Parquet file is damaged", file=file.name)


def _parquet_batches(
    file: SourceFile, columns: Sequence[str], ragged: list[RaggedRow]
) -> Iterator[Batch]:
    done = 0
    coded = coded_columns(file.kind)
    with pq.ParquetFile(file.path) as probe:
        texts = [c for c in columns if c in coded and _is_text(probe.schema_arrow, c)]
    # Without pre-buffering, Arrow keeps no read-ahead of column chunks already read.
    options = {"read_dictionary": texts, "pre_buffer": False, "buffer_size": 1 << 20}
    with pq.ParquetFile(file.path, **options) as parquet:
        pieces = parquet.iter_batches(batch_size=BATCH_ROWS, columns=list(columns))
        for values in _rebatched(pieces):
            yield Batch(values, np.arange(done + 1, done + 1 + values.num_rows, dtype=np.int64))
            done += values.num_rows


def _rebatched(pieces: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Batches of about :data:`BATCH_ROWS` rows, however small the file's row groups are:
    checking costs a little per batch as well as per row."""
    pending: list[pa.RecordBatch] = []
    size = 0
    for piece in pieces:
        pending.append(piece)
        size += piece.num_rows
        if size >= BATCH_ROWS:
            yield _joined(pending)
            pending, size = [], 0
    if pending:
        yield _joined(pending)


def _joined(pieces: list[pa.RecordBatch]) -> pa.RecordBatch:
    if len(pieces) == 1:
        return pieces[0]
    joined = pa.Table.from_batches(pieces).combine_chunks().to_batches()
    return joined[0] if joined else pieces[0].slice(0, 0)


def _is_text(schema: pa.Schema, name: str) -> bool:
    index = schema.get_field_index(name)
    return index >= 0 and bool(pa.types.is_string(schema.field(index).type))


def _csv_batches(
    file: SourceFile, columns: Sequence[str], ragged: list[RaggedRow]
) -> Iterator[Batch]:
    names, _ = csv_header(file)
    skipped: list[int] = []

    def handle(row: Any) -> str:
        ragged.append(RaggedRow(row.number, row.actual_columns, row.expected_columns))
        if row.number is not None:
            skipped.append(row.number)
        return "skip"

    reader = pcsv.open_csv(
        file.path,
        # One thread, so Arrow knows each skipped row's number; blocks of 16 MB keep the
        # reader's read-ahead small.
        read_options=pcsv.ReadOptions(use_threads=False, block_size=16 << 20),
        parse_options=pcsv.ParseOptions(invalid_row_handler=handle),
        convert_options=pcsv.ConvertOptions(
            column_types={name: pa.string() for name in names},
            include_columns=list(columns),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    done = 0
    for values in _rebatched(reader):
        yield Batch(values, _line_numbers(done, values.num_rows, skipped))
        done += values.num_rows


def _line_numbers(done: int, count: int, skipped: list[int]) -> Numbers:
    """Row numbers of records ``done`` to ``done + count``, counting the header as row 1 and
    the skipped ragged rows in between."""
    gaps = np.asarray(sorted(skipped), dtype=np.int64)
    before = gaps - np.arange(len(gaps)) - 2  # records read before each skipped row
    index = np.arange(done, done + count, dtype=np.int64)
    return index + 2 + np.searchsorted(before, index, side="right")


# --------------------------------------------------------------------------------------------
# 3. Scan keys and people


@dataclass(slots=True)
class FileScan:
    """What the scan learned about one file: its rows' people and repeated keys.

    ``numbers`` holds each row's NHS number (or -1) until :func:`index_people` replaces them
    with ``people``: each row's place in the ingest's list of distinct people.
    """

    file: SourceFile
    rows: int = 0
    numbers: Numbers = field(default_factory=lambda: np.zeros(0, np.int64))
    people: Places = field(default_factory=lambda: np.zeros(0, np.int32))
    hashes: Hashes = field(default_factory=lambda: np.zeros(0, np.uint64))
    has_key: Mask = field(default_factory=lambda: np.zeros(0, np.bool_))
    duplicates: DuplicateRows | None = None
    ragged: int = 0


def scan(file: SourceFile, progress: ProgressCallback | None = None) -> FileScan:
    """Read a file's key and NHS number columns: one pass, nothing kept but numbers."""
    ragged: list[RaggedRow] = []
    total = _row_count(file)
    numbers, hashes = _Filled(np.int64, total), _Filled(np.uint64, total)
    has_key = _Filled(np.bool_, total)
    for batch in read_batches(file, (file.kind.key, NHS_NUMBER.name), ragged):
        keys = batch.values.column(file.kind.key)
        numbers.add(nhs_numbers(batch.values.column(NHS_NUMBER.name)))
        hashes.add(text_hashes(keys))
        has_key.add(~is_missing(as_text(keys)))
        if progress:
            progress(f"Scanning {file.name}", numbers.size, total)
    pa.default_memory_pool().release_unused()
    return FileScan(
        file,
        numbers.size,
        numbers=numbers.result(),
        hashes=hashes.result(),
        has_key=has_key.result(),
        ragged=len(ragged),
    )


class _Filled:
    """An array filled a batch at a time: in place when its size is known beforehand (as a
    Parquet file's is), so twenty million rows are never held twice; else joined at the end."""

    def __init__(self, dtype: type[np.generic], size: int | None) -> None:
        self._whole = np.empty(size or 0, dtype)
        self._parts: list[npt.NDArray[Any]] = []
        self.size = 0

    def add(self, values: npt.NDArray[Any]) -> None:
        end = self.size + len(values)
        if not self._parts and end <= len(self._whole):
            self._whole[self.size : end] = values
        else:
            self._parts.append(values)
        self.size = end

    def result(self) -> npt.NDArray[Any]:
        filled = self._whole[: self.size - sum(len(p) for p in self._parts)]
        return np.concatenate([filled, *self._parts]) if self._parts else filled


def scan_all(
    files: Sequence[SourceFile], progress: ProgressCallback | None = None
) -> list[FileScan]:
    """Inspect and scan every file, refusing the ingest with every file-level problem found."""
    problems = [p for f in files for p in inspect(f)]
    refused = {p.file for p in problems}
    scans: list[FileScan] = []
    for file in files:
        if file.name in refused:
            continue
        try:
            found = scan(file, progress)
        except Unreadable as unreadable:
            problems.append(unreadable.problem)
            continue
        if found.rows + found.ragged == 0:
            problems.append(Problem("has no records, only column names", file=file.name))
        scans.append(found)
    if problems:
        problems.sort(key=lambda p: p.file or "")
        raise ImportRejected.from_problems("person-level data", problems)
    for kind in RECORD_KINDS:
        find_duplicate_keys([s for s in scans if s.file.kind == kind])
    return scans


def _row_count(file: SourceFile) -> int | None:
    return pq.read_metadata(file.path).num_rows if file.format == "parquet" else None


def find_duplicate_keys(scans: Sequence[FileScan]) -> None:
    """Mark, in each scan of one kind, the rows to quarantine because another row has their key.

    Keys are hashed and sorted, which is fast for tens of millions; only the files with rows
    sharing a hash are read again, and those rows grouped by key as text, so a hash collision
    never quarantines a row. An exact repeat is kept once, from its first row; rows that share
    a key with other content are all quarantined (see
    :mod:`carepool.person_data.files.duplicates`).
    """
    if not scans:
        return
    ordered = np.concatenate([s.hashes[s.has_key] for s in scans])
    ordered.sort()
    shared = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    del ordered
    candidates = [np.isin(s.hashes, shared) & s.has_key for s in scans]
    for s in scans:
        s.hashes = np.zeros(0, np.uint64)  # the hashes have done their work
    if not shared.size:
        return
    pieces = [
        piece
        for index, (found, rows) in enumerate(zip(scans, candidates, strict=True))
        if rows.any()
        for piece in _candidates(found, rows, index)
    ]
    names = [s.file.name for s in scans]
    grouped = group_duplicates(scans[0].file.kind, pieces, names)
    for found, duplicates in zip(scans, grouped, strict=True):
        found.duplicates = duplicates


def _candidates(found: FileScan, rows: Mask, index: int) -> Iterator[pa.Table]:
    """The candidate rows of a scanned file, read again a batch at a time."""
    kind = found.file.kind
    done = 0
    for batch in read_batches(found.file, kind.column_names, []):
        count = batch.values.num_rows
        chosen = rows[done : done + count]
        if chosen.any():
            yield candidate_rows(kind, batch, chosen, index, done)
        done += count


def index_people(scans: Sequence[FileScan]) -> Numbers:
    """The distinct valid NHS numbers of an ingest; each scan learns its rows' places in it.

    A row with an invalid number gets the place just past the end. One hash pass over every
    row (Arrow's dictionary encoding) does this several times faster than sorting twenty
    million numbers, and the places make each row's pseudonym a plain look-up.
    """
    numbers = np.concatenate([s.numbers for s in scans]) if scans else np.zeros(0, np.int64)
    encoded = pc.dictionary_encode(from_numpy(numbers, pa.int64(), numbers == INVALID))
    distinct = np.asarray(encoded.dictionary.to_numpy(zero_copy_only=False), np.int64)
    places = pc.fill_null(encoded.indices, len(distinct)).to_numpy(zero_copy_only=False)
    places = np.asarray(places, np.int32)
    start = 0
    for s in scans:
        s.people, s.numbers = places[start : start + s.rows], np.zeros(0, np.int64)
        start += s.rows
    return distinct


# --------------------------------------------------------------------------------------------
# 5. Write


def ingest_file(
    found: FileScan,
    context: CheckContext,
    staging: Path,
    part: int,
    progress: ProgressCallback | None = None,
) -> KindOutcome:
    """Check every row of a scanned file, a batch at a time, and write it into ``staging``.

    Accepted rows go to ``<kind>/part-NNNNN.parquet`` and quarantine lines to
    ``quarantine/<kind>/part-NNNNN.parquet``. Raises :class:`ImportRejected` if the file
    turns out to be unreadable part-way (the caller then throws ``staging`` away).
    """
    kind = found.file.kind
    outcome = KindOutcome()
    ragged: list[RaggedRow] = []
    target = staging / kind.name / f"part-{part:05d}.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    done = 0
    try:
        with (
            data_writer(target, kind) as accepted,
            QuarantineWriter(staging / QUARANTINE / kind.name / target.name, kind) as quarantine,
        ):
            for batch in read_batches(found.file, kind.column_names, ragged):
                rows = slice(done, done + batch.values.num_rows)
                if rows.stop > found.rows:
                    raise Unreadable(_changed(found.file))
                duplicates = (
                    None
                    if found.duplicates is None
                    else found.duplicates.in_batch(done, batch.values.num_rows)
                )
                checked = check_batch(
                    kind, batch, found.people[rows], duplicates, context, found.file.name
                )
                accepted.write_batch(checked.accepted)
                quarantine.write(checked.quarantine)
                outcome.add(checked.outcome)
                done += batch.values.num_rows
                pa.default_memory_pool().release_unused()  # keep the footprint to one batch
                if progress:
                    progress(f"Checking {found.file.name}", done, found.rows)
            if done != found.rows:
                raise Unreadable(_changed(found.file))
            if ragged:
                quarantine.write(ragged_lines(kind, ragged, found.file.name))
                outcome.add(ragged_outcome(ragged))
    except Unreadable as unreadable:
        raise ImportRejected.from_problems(found.file.name, [unreadable.problem]) from None
    return outcome


def _changed(file: SourceFile) -> Problem:
    return Problem("changed while it was being read: ingest it again", file=file.name)


# --------------------------------------------------------------------------------------------
# Raw files, as the synthetic generator writes them


def write_raw_files(
    chunks: Iterable[tuple[RecordKind, pa.Table]], out_dir: Path, file_format: FileFormat
) -> dict[str, tuple[Path, int]]:
    """Write generated chunks as one raw file per kind; returns each kind's file and rows."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, tuple[Path, int]] = {}
    writer: _RawWriter | None = None
    try:
        for kind, table in chunks:
            if writer is None or writer.kind != kind:
                if writer is not None:
                    written[writer.kind.name] = writer.close()
                writer = _RawWriter(out_dir, kind, file_format)
            writer.write(table)
        if writer is not None:
            written[writer.kind.name] = writer.close()
    finally:
        if writer is not None:
            writer.close()
    return written


class _RawWriter:
    """One raw file being written; small chunks are gathered into row groups of a good size."""

    def __init__(self, out_dir: Path, kind: RecordKind, file_format: FileFormat) -> None:
        self.kind = kind
        self.path = out_dir / f"{kind.name}.{file_format}"
        self.rows = 0
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        schema = raw_schema(kind)
        self._writer: pq.ParquetWriter | pcsv.CSVWriter | None = (
            pq.ParquetWriter(self.path, schema)
            if file_format == "parquet"
            else pcsv.CSVWriter(self.path, schema)
        )

    def write(self, table: pa.Table) -> None:
        self._pending.append(table.select(self.kind.column_names).cast(raw_schema(self.kind)))
        self._pending_rows += table.num_rows
        self.rows += table.num_rows
        if self._pending_rows >= BATCH_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._writer is not None and self._pending:
            self._writer.write_table(pa.concat_tables(self._pending).combine_chunks())
        self._pending, self._pending_rows = [], 0

    def close(self) -> tuple[Path, int]:
        if self._writer is not None:
            self._flush()
            self._writer.close()
            self._writer = None
        return self.path, self.rows
