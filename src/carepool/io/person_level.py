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
   people there are, so each distinct person is pseudonymised once.
4. **Check** every row. A row with any problem (an invalid NHS number, a date that cannot
   be, an unknown area, a value outside its list, a duplicate key...) goes to
   **quarantine** with one line per problem: file, row, column and reason. Rows are never
   silently dropped: every one read is either accepted or quarantined, and counted.
5. **Write** accepted rows as Parquet, with ``person_id`` in place of ``nhs_number``, into
   a staging directory that replaces the data directory only when everything succeeded.

Row numbers are what a person opening the file sees: in a CSV the header is row 1 and the
first record row 2; in Parquet the first record is row 1.

The raw NHS number never leaves this module: quarantine shows the pseudonym when the number
was valid and nothing when it was not, messages never quote values that could be one, and
anything in another column that looks like an NHS number is hidden.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped, unused-ignore]
import pyarrow.csv as pcsv  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

from carepool.domain.errors import CarepoolError, ImportRejected, Problem
from carepool.domain.person_level import (
    AREA,
    EARLIEST_EVENT_DATE,
    NHS_NUMBER,
    PERSON_ID,
    RECORD_KINDS,
    Column,
    ColumnType,
    RecordKind,
)
from carepool.domain.pseudonym import INVALID, hex_text, nhs_numbers_from_text
from carepool.io.tabular import file_sha256

ProgressCallback = Callable[[str, int, int | None], None]
"""Told ``(what is happening, units done, units in all or None when unknown)``."""

FileFormat = Literal["csv", "parquet"]
FORMATS: Mapping[str, FileFormat] = {".csv": "csv", ".parquet": "parquet"}
MANIFEST = "manifest.json"
QUARANTINE = "quarantine"
BATCH_ROWS = 1 << 20
"""Rows checked at a time: large enough for column-wise speed, small enough for memory."""

ARROW_TYPES: Mapping[ColumnType, pa.DataType] = {
    ColumnType.TEXT: pa.string(),
    ColumnType.INTEGER: pa.int32(),
    ColumnType.DATE: pa.date32(),
    ColumnType.MONTH: pa.date32(),
}

Mask = npt.NDArray[np.bool_]
Numbers = npt.NDArray[np.int64]
Places = npt.NDArray[np.int32]
Hashes = npt.NDArray[np.uint64]

_KIND_NAME = re.compile(
    r"^(?P<kind>"
    + "|".join(sorted((re.escape(k.name) for k in RECORD_KINDS), key=len, reverse=True))
    + r")(?:[-_. ].*)?$"
)
_LOOKS_LIKE_NHS_NUMBER = r"[0-9]{3}[ -]?[0-9]{3}[ -]?[0-9]{4}"
_LONG_DIGITS = re.compile(r"[0-9][0-9 \-]{4,}[0-9]")
_WHOLE_NUMBER = r"^-?[0-9]{1,9}$"
_HIDDEN = "[hidden]"
_EPOCH = dt.date(1970, 1, 1)


def arrow_schema(columns: Iterable[Column]) -> pa.Schema:
    """The Arrow schema of columns: TEXT as string, INTEGER as int32, DATE and MONTH date32."""
    return pa.schema([pa.field(c.name, ARROW_TYPES[c.type]) for c in columns])


def raw_schema(kind: RecordKind) -> pa.Schema:
    """How carepool itself writes a raw file of ``kind`` (with ``nhs_number``)."""
    return arrow_schema(kind.columns)


def data_schema(kind: RecordKind) -> pa.Schema:
    """How a data directory holds ``kind``: the pseudonymised columns, in order."""
    return arrow_schema(kind.pseudonymised_columns())


def _storage_schema(kind: RecordKind) -> pa.Schema:
    """:func:`data_schema` as written: coded text columns as dictionaries. The files do not
    store this Arrow schema, so readers see exactly :func:`data_schema` (text as string)."""
    coded = pa.dictionary(pa.int32(), pa.string())
    return pa.schema(
        [
            pa.field(c.name, coded if _is_coded_column(c) else ARROW_TYPES[c.type])
            for c in kind.pseudonymised_columns()
        ]
    )


def _scrub(text: str) -> str:
    """Hide long runs of digits from a message: they could be an NHS number."""
    return _LONG_DIGITS.sub(_HIDDEN, text)


class _Unreadable(Exception):
    """A file cannot be used at all; carries the problem to report."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


# --------------------------------------------------------------------------------------------
# 1. Find the files


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One raw file, the kind of record it holds and the name people know it by."""

    path: Path
    name: str
    kind: RecordKind
    format: FileFormat


def kind_of(path: Path) -> RecordKind | None:
    """The record kind a file holds, from its name or else its folder's name."""
    kinds = {k.name: k for k in RECORD_KINDS}
    match = _KIND_NAME.match(path.stem)
    return kinds[match.group("kind")] if match else kinds.get(path.parent.name)


def find_sources(source: Path) -> tuple[tuple[SourceFile, ...], tuple[str, ...]]:
    """The raw files under ``source`` (a file or a folder) and any files passed over.

    A CSV or Parquet file whose kind cannot be told from its name refuses the ingest, so a
    misnamed file is never silently left out. Other files (notes, hidden files) are listed
    as passed over.
    """
    if not source.exists():
        raise CarepoolError(f"{source} does not exist")
    root = source if source.is_dir() else source.parent
    paths = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
    found: list[SourceFile] = []
    skipped: list[str] = []
    problems: list[Problem] = []
    for path in paths:
        name = path.relative_to(root).as_posix()
        file_format = FORMATS.get(path.suffix.lower())
        if file_format is None or any(part.startswith(".") for part in Path(name).parts):
            skipped.append(name)
            continue
        kind = kind_of(path)
        if kind is None:
            problems.append(Problem(_unknown_kind(), file=name))
        else:
            found.append(SourceFile(path, name, kind, file_format))
    if problems:
        raise ImportRejected.from_problems(str(source), problems)
    if not found:
        raise CarepoolError(f"{source} holds no CSV or Parquet files to ingest")
    return tuple(found), tuple(skipped)


def _unknown_kind() -> str:
    kinds = ", ".join(k.name for k in RECORD_KINDS)
    return (
        f"cannot tell which records this file holds: name it, or the folder it is in, after "
        f"one of {kinds} (for example spells.csv, spells-2015.parquet or delays/part-1.parquet)"
    )


# --------------------------------------------------------------------------------------------
# 2. Inspect each file


def inspect(file: SourceFile) -> list[Problem]:
    """Everything that makes a file unusable as a whole: empty, unreadable, wrong columns."""
    try:
        if file.path.stat().st_size == 0:
            return [Problem("the file is empty", file=file.name)]
        names, rows = _csv_header(file) if file.format == "csv" else _parquet_header(file)
    except _Unreadable as unreadable:
        return [unreadable.problem]
    except OSError as error:
        return [
            Problem(f"cannot be read: {error.strerror or 'input/output error'}", file=file.name)
        ]
    problems = _column_problems(file, names)
    if rows == 0 and not problems:
        problems.append(Problem("has no records, only column names", file=file.name))
    return problems


def _csv_header(file: SourceFile) -> tuple[list[str], int | None]:
    with file.path.open("rb") as handle:
        first = handle.readline(1 << 20)
    try:
        line = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _Unreadable(Problem("is not UTF-8 text", file=file.name)) from None
    names = next(csv.reader(io.StringIO(line)), [])
    return [n.rstrip("\r\n") for n in names], None


def _parquet_header(file: SourceFile) -> tuple[list[str], int | None]:
    try:
        metadata = pq.read_metadata(file.path)
    except (pa.ArrowException, OSError):
        raise _Unreadable(Problem("is not a readable Parquet file", file=file.name)) from None
    return list(metadata.schema.to_arrow_schema().names), metadata.num_rows


def _column_problems(file: SourceFile, names: list[str]) -> list[Problem]:
    """Missing, unknown and repeated columns, each named; values are never quoted."""
    expected = file.kind.column_names
    if not set(names) & set(expected):
        listed = ", ".join(expected)
        return [Problem(f"has no header row naming the columns: expected {listed}", file=file.name)]
    problems = [
        Problem(f"column {_scrub(n)!r} appears more than once", file=file.name, column=_scrub(n))
        for n, count in Counter(names).items()
        if count > 1
    ]
    problems += [
        Problem(f"the column {c!r} is missing", file=file.name, column=c)
        for c in expected
        if c not in names
    ]
    problems += [
        Problem(
            f"has a column {_scrub(n)!r} that {file.kind.name} files do not have",
            file=file.name,
            column=_scrub(n),
        )
        for n in dict.fromkeys(names)
        if n not in expected
    ]
    return problems


# --------------------------------------------------------------------------------------------
# Reading rows in batches


@dataclass(frozen=True, slots=True)
class RaggedRow:
    """A CSV row with the wrong number of fields: it cannot be read, so it is quarantined."""

    row: int | None
    fields: int
    expected: int


@dataclass(frozen=True, slots=True)
class Batch:
    """Some rows of a file, with the row number a person would see for each."""

    values: pa.RecordBatch
    rows: Numbers


def read_batches(
    file: SourceFile, columns: Sequence[str], ragged: list[RaggedRow]
) -> Iterator[Batch]:
    """The file's rows in batches, with only ``columns``; ragged CSV rows go to ``ragged``.

    Raises :class:`_Unreadable` when the file turns out to be unreadable part-way.
    """
    reader = _csv_batches if file.format == "csv" else _parquet_batches
    try:
        yield from reader(file, columns, ragged)
    except (pa.ArrowException, OSError, UnicodeDecodeError) as error:
        raise _Unreadable(_read_failure(file, error)) from None


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
    coded = _coded_columns(file.kind)
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


def _coded_columns(kind: RecordKind) -> set[str]:
    """Text columns with few distinct values, read as dictionaries so each value is checked
    once rather than once per row (the key, the NHS number and free text are not)."""
    return {c.name for c in kind.columns if _is_coded_column(c)}


def _is_coded_column(column: Column) -> bool:
    return column.type == ColumnType.TEXT and bool(
        column.allowed or column.pattern or column == AREA
    )


def _is_text(schema: pa.Schema, name: str) -> bool:
    index = schema.get_field_index(name)
    return index >= 0 and bool(pa.types.is_string(schema.field(index).type))


def _csv_batches(
    file: SourceFile, columns: Sequence[str], ragged: list[RaggedRow]
) -> Iterator[Batch]:
    names, _ = _csv_header(file)
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
# Column helpers


def _text(values: pa.Array | pa.ChunkedArray, *, pad_integers: bool = False) -> pa.Array:
    """Any column as Arrow text (integers zero-padded to 10 places for NHS numbers)."""
    array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if pa.types.is_string(array.type):
        return array
    if pad_integers and pa.types.is_integer(array.type):
        return pc.utf8_lpad(pc.cast(array, pa.string()), width=10, padding="0")
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    return pc.cast(array, pa.string())


def _missing(text: pa.Array) -> Mask:
    """Empty and null values: both mean nothing was given."""
    empty = pc.equal(pc.utf8_length(text), 0)
    return _mask(pc.or_kleene(pc.is_null(text), empty))


def from_numpy(
    values: npt.NDArray[Any], type_: pa.DataType | None = None, missing: Mask | None = None
) -> pa.Array:
    """A numpy array as an Arrow array, built from its buffers without copying the values.

    ``pa.array`` on a numpy array first looks for pandas, and importing pandas (where it is
    installed) costs seconds; this does not.
    """
    if values.dtype == np.bool_:
        type_, data = pa.bool_(), np.packbits(values, bitorder="little")
    else:
        type_, data = type_ or pa.from_numpy_dtype(values.dtype), np.ascontiguousarray(values)
    validity = None
    if missing is not None and missing.any():
        validity = pa.py_buffer(np.packbits(~missing, bitorder="little"))
    return pa.Array.from_buffers(type_, len(values), [validity, pa.py_buffer(data)])


def _mask(values: pa.Array | pa.ChunkedArray) -> Mask:
    filled = pc.fill_null(values, False)
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=np.bool_)


def _text_buffers(text: pa.Array) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int32]]:
    """The bytes and offsets of a text array, as numpy views (no copy)."""
    buffers = text.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int32)[text.offset : text.offset + len(text) + 1]
    data = buffers[2]
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    return raw, offsets


def nhs_numbers(values: pa.Array | pa.ChunkedArray) -> Numbers:
    """Each row's NHS number as an integer, or -1 when missing or not a valid number."""
    text = _text(values, pad_integers=True)
    data, offsets = _text_buffers(text)
    return nhs_numbers_from_text(data, offsets, ~_missing(text))


def text_hashes(values: pa.Array | pa.ChunkedArray) -> Hashes:
    """A 64-bit hash of each text value, to find repeated keys among millions by sorting.

    Equal texts hash equal; different texts almost never do, and a shared hash is only a
    candidate that is then compared exactly (see :func:`find_duplicate_keys`).
    """
    text = _text(values)
    data, offsets = _text_buffers(text)
    lengths = np.diff(offsets).astype(np.int64)
    hashes = lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    width = int(lengths.max(initial=0))
    if width and (lengths == width).all():  # keys of one width: read them as words
        padded = np.zeros((len(lengths), -(-width // 8) * 8), np.uint8)
        padded[:, :width] = data[offsets[0] : offsets[-1]].reshape(len(lengths), width)
        for column in padded.view(np.uint64).T:
            hashes = _mix(hashes ^ column)
        return hashes
    starts = offsets[:-1].astype(np.int64)
    for word in range(0, width, 8):
        rows = np.flatnonzero(lengths > word)
        take = np.arange(8) < (lengths[rows] - word)[:, None]
        index = np.minimum(starts[rows, None] + word + np.arange(8), max(len(data) - 1, 0))
        chunk = np.where(take, data[index], 0).astype(np.uint8)
        hashes[rows] = _mix(hashes[rows] ^ chunk.view(np.uint64).ravel())
    return hashes


def _mix(values: Hashes) -> Hashes:
    values = values * np.uint64(0xBF58476D1CE4E5B9)
    values ^= values >> np.uint64(31)
    values = values * np.uint64(0x94D049BB133111EB)
    values ^= values >> np.uint64(29)
    return values


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
    duplicates: Mask | None = None
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
        has_key.add(~_missing(_text(keys)))
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
        except _Unreadable as unreadable:
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
    """Mark, in each scan, the rows whose key another row of the same kind also has.

    Keys are hashed and sorted, which is fast for tens of millions; rows sharing a hash are
    then read again and compared as text, so a hash collision never quarantines a row.
    """
    if not scans:
        return
    ordered = np.concatenate([s.hashes[s.has_key] for s in scans])
    ordered.sort()
    shared = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    del ordered
    candidates = {id(s): np.isin(s.hashes, shared) & s.has_key for s in scans}
    for s in scans:
        s.hashes = np.zeros(0, np.uint64)  # the hashes have done their work
    if not shared.size:
        return
    texts = {id(s): _key_texts(s, candidates[id(s)]) for s in scans}
    counts = Counter(t for found in texts.values() for t in found)
    for s in scans:
        mask = np.zeros(s.rows, np.bool_)
        rows = np.flatnonzero(candidates[id(s)])
        mask[rows] = [counts[t] > 1 for t in texts[id(s)]]
        s.duplicates = mask if mask.any() else None


def _key_texts(found: FileScan, rows: Mask) -> list[str]:
    if not rows.any():
        return []
    key = found.file.kind.key
    keys = [_text(b.values.column(key)) for b in read_batches(found.file, (key,), [])]
    chosen = pa.chunked_array(keys, type=pa.string()).filter(from_numpy(rows))
    return [str(k) for k in chosen.to_pylist()]


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
# 4. Check every row


@dataclass(frozen=True, slots=True)
class PseudonymTable:
    """The pseudonym of every distinct person of an ingest, as hex text, by place.

    One more text than people: an empty one, at the place rows with invalid numbers have.
    """

    texts: pa.Array

    @classmethod
    def from_digests(cls, digests: npt.NDArray[np.uint8]) -> PseudonymTable:
        hexes = hex_text(digests)
        offsets = np.arange(len(hexes) + 2, dtype=np.int32) * hexes.shape[1]
        offsets[-1] = offsets[-2]  # the empty text at the end
        buffers = [None, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(hexes))]
        return cls(pa.Array.from_buffers(pa.string(), len(hexes) + 1, buffers))

    @property
    def invalid(self) -> int:
        """The place of rows whose NHS number is not valid."""
        return len(self.texts) - 1

    def column(self, people: Places) -> pa.Array:
        """The ``person_id`` text for each row: its pseudonym, or empty for an invalid number."""
        return self.texts.take(from_numpy(people))


@dataclass(frozen=True, slots=True)
class CheckContext:
    """What row checks need besides the rows: the year's areas, today, the pseudonyms."""

    area_codes: pa.Array
    as_of: dt.date
    pseudonyms: PseudonymTable

    @classmethod
    def build(
        cls, area_codes: Iterable[str], as_of: dt.date, pseudonyms: PseudonymTable
    ) -> CheckContext:
        return cls(pa.array(sorted(area_codes), pa.string()), as_of, pseudonyms)


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in a column, and the rows of the batch that have it."""

    column: str
    reason: str
    rows: Mask


@dataclass(slots=True)
class Checked:
    """A column after checking: its values as stored, and what is wrong with which rows."""

    values: pa.Array
    findings: list[Finding]


def _finding(column: Column, reason: str, rows: Mask) -> list[Finding]:
    return [Finding(column.name, reason, rows)] if rows.any() else []


def _check_text(column: Column, raw: pa.Array, context: CheckContext) -> Checked:
    text = raw if _is_coded(raw) else _text(raw)
    missing = _per_value(text, _missing)
    findings = [] if column.nullable else _finding(column, "is missing", missing)
    present = ~missing
    if column.allowed:
        listed = _per_value(text, _listed(column.allowed))
        reason = "is not one of: " + ", ".join(column.allowed)
        findings += _finding(column, reason, present & ~listed)
    if column.pattern:
        fits = _per_value(
            text, lambda v: _mask(pc.match_substring_regex(v, f"^(?:{column.pattern})$"))
        )
        findings += _finding(column, "is not in the expected form", present & ~fits)
    if column == AREA:
        known = _per_value(text, lambda v: _mask(pc.is_in(v, value_set=context.area_codes)))
        reason = "is not an area code of this year's geography"
        findings += _finding(column, reason, present & ~known)
    if not column.allowed and not column.pattern and column != AREA:
        lookalike = _per_value(text, _lookalike) & present
        findings += _finding(column, "looks like an NHS number, which must not be kept", lookalike)
    return Checked(_stored_text(column, text, missing), findings)


def _stored_text(column: Column, text: pa.Array, missing: Mask) -> pa.Array:
    """Text as written: coded columns stay dictionaries (so the Parquet writer need not hash
    every value again), others plain; a nullable column's empty values become nulls."""
    if column.nullable:
        text = pc.if_else(from_numpy(missing), pa.scalar(None, pa.string()), _text(text))
    if not _is_coded_column(column):
        return _text(text)
    return text if _is_coded(text) else pc.dictionary_encode(text)


def _is_coded(raw: pa.Array) -> bool:
    return bool(pa.types.is_dictionary(raw.type) and pa.types.is_string(raw.type.value_type))


def _per_value(text: pa.Array, test: Callable[[pa.Array], Mask]) -> Mask:
    """Run a test once per distinct value of a dictionary-coded column, else once per row."""
    if not _is_coded(text):
        return test(text)
    on_values = test(text.dictionary)
    nulls = _mask(pc.is_null(text))
    indices = np.asarray(pc.fill_null(text.indices, 0).to_numpy(zero_copy_only=False), np.int64)
    result = on_values[indices] if len(on_values) else np.zeros(len(text), np.bool_)
    return np.where(nulls, test(pa.nulls(1, pa.string()))[0], result)


def _listed(allowed: Sequence[str]) -> Callable[[pa.Array], Mask]:
    value_set = pa.array(allowed, pa.string())
    return lambda values: _mask(pc.is_in(values, value_set=value_set))


def _lookalike(values: pa.Array) -> Mask:
    found: Mask = nhs_numbers_from_text(*_text_buffers(values), ~_missing(values)) != INVALID
    return found


def _check_integer(column: Column, raw: pa.Array, context: CheckContext) -> Checked:
    whole, missing, parsed = _whole_numbers(raw)
    findings = [] if column.nullable else _finding(column, "is missing", missing)
    findings += _finding(column, "is not a whole number", ~missing & ~parsed)
    low = -(2**31) if column.minimum is None else column.minimum
    high = 2**31 - 1 if column.maximum is None else column.maximum
    in_range = (whole >= low) & (whole <= high)
    findings += _finding(column, f"is not between {low} and {high}", parsed & ~in_range)
    stored = np.where(parsed & in_range, whole, 0).astype(np.int32)
    return Checked(from_numpy(stored, pa.int32(), missing), findings)


def _whole_numbers(raw: pa.Array) -> tuple[Numbers, Mask, Mask]:
    """Values as integers, which are missing, and which were whole numbers."""
    if pa.types.is_integer(raw.type):
        missing = _mask(pc.is_null(raw))
        values = pc.fill_null(pc.cast(raw, pa.int64()), 0).to_numpy(zero_copy_only=False)
        return np.asarray(values, np.int64), missing, ~missing
    if pa.types.is_floating(raw.type):
        missing = _mask(pc.is_null(raw))
        floats = np.asarray(pc.fill_null(raw, 0).to_numpy(zero_copy_only=False), np.float64)
        whole = np.isfinite(floats) & (np.floor(floats) == floats) & (np.abs(floats) < 1e9)
        return np.where(whole, floats, 0).astype(np.int64), missing, whole & ~missing
    text = pc.utf8_trim_whitespace(_text(raw))
    missing = _missing(text)
    parsed = _mask(pc.match_substring_regex(text, _WHOLE_NUMBER))
    values = pc.cast(pc.if_else(from_numpy(parsed), text, "0"), pa.int64())
    return np.asarray(values.to_numpy(zero_copy_only=False), np.int64), missing, parsed


def _check_date(column: Column, raw: pa.Array, context: CheckContext) -> Checked:
    days, missing, parsed = _dates(raw)
    findings = [] if column.nullable else _finding(column, "is missing", missing)
    findings += _finding(column, "is not a date written YYYY-MM-DD", ~missing & ~parsed)
    earliest = (EARLIEST_EVENT_DATE - _EPOCH).days
    findings += _finding(
        column, "is before 5 July 1948, when the NHS began", parsed & (days < earliest)
    )
    latest = (context.as_of - _EPOCH).days
    findings += _finding(column, "is in the future", parsed & (days > latest))
    if column.type == ColumnType.MONTH:
        first = days.astype("datetime64[D]").astype("datetime64[M]").astype("datetime64[D]")
        not_first = days != first.astype(np.int64)
        findings += _finding(column, "is not the first day of a month", parsed & not_first)
    stored = np.where(parsed, days, 0).astype(np.int32)
    return Checked(from_numpy(stored, pa.date32(), missing), findings)


def _dates(raw: pa.Array) -> tuple[Numbers, Mask, Mask]:
    """Values as days since 1970, which are missing, and which were real dates."""
    if pa.types.is_date(raw.type) or pa.types.is_timestamp(raw.type):
        dates = pc.cast(raw, pa.date32()) if not pa.types.is_date32(raw.type) else raw
        missing = _mask(pc.is_null(dates))
        days = pc.fill_null(pc.cast(dates, pa.int32()), 0).to_numpy(zero_copy_only=False)
        return np.asarray(days, np.int64), missing, ~missing
    text = _text(raw)
    missing = _missing(text)
    stamps = pc.strptime(text, format="%Y-%m-%d", unit="s", error_is_null=True)
    shaped = _mask(pc.match_substring_regex(text, r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))
    # strptime rolls 30 February over into March: a real date keeps the day it was given.
    written_day = pc.cast(
        pc.if_else(from_numpy(shaped), pc.utf8_slice_codeunits(text, 8, 10), "0"), pa.int64()
    )
    parsed = shaped & _mask(pc.equal(pc.day(stamps), written_day))
    days = pc.fill_null(pc.cast(pc.cast(stamps, pa.date32()), pa.int32()), 0)
    return np.asarray(days.to_numpy(zero_copy_only=False), np.int64), missing, parsed


_CHECKS: Mapping[ColumnType, Callable[[Column, pa.Array, CheckContext], Checked]] = {
    ColumnType.TEXT: _check_text,
    ColumnType.INTEGER: _check_integer,
    ColumnType.DATE: _check_date,
    ColumnType.MONTH: _check_date,
}


# Rules across columns of one row: each sees the stored values and which were valid.
RowRule = Callable[[Mapping[str, pa.Array], Mapping[str, Mask]], list[Finding]]


def _days(values: pa.Array) -> Numbers:
    days = pc.fill_null(pc.cast(values, pa.int32()), 0)
    return np.asarray(days.to_numpy(zero_copy_only=False), np.int64)


def _discharged_before_admitted(
    values: Mapping[str, pa.Array], valid: Mapping[str, Mask]
) -> list[Finding]:
    early = _days(values["discharge_date"]) < _days(values["admission_date"])
    both = valid["discharge_date"] & valid["admission_date"]
    return [Finding("discharge_date", "is before admission_date", both & early)]


def _more_days_than_the_month(
    values: Mapping[str, pa.Array], valid: Mapping[str, Mask]
) -> list[Finding]:
    starts = _days(values["month"]).astype("datetime64[D]")
    ends = (starts.astype("datetime64[M]") + 1).astype("datetime64[D]")
    length = (ends - starts).astype(np.int64)
    days = np.asarray(values["delayed_days"].to_numpy(zero_copy_only=False), np.int64)
    both = valid["month"] & valid["delayed_days"]
    return [Finding("delayed_days", "is more than the days in the month", both & (days > length))]


ROW_RULES: Mapping[str, tuple[RowRule, ...]] = {
    "spells": (_discharged_before_admitted,),
    "delays": (_more_days_than_the_month,),
}


@dataclass(slots=True)
class KindOutcome:
    """Counts for the rows of one kind: read, accepted, quarantined, and why."""

    rows_read: int = 0
    accepted: int = 0
    quarantined: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def add(self, other: KindOutcome) -> None:
        self.rows_read += other.rows_read
        self.accepted += other.accepted
        self.quarantined += other.quarantined
        self.reasons.update(other.reasons)


@dataclass(frozen=True, slots=True)
class CheckedBatch:
    """A batch split into the rows to keep (pseudonymised) and the quarantine lines."""

    accepted: pa.RecordBatch
    quarantine: pa.Table | None
    outcome: KindOutcome


def check_batch(
    kind: RecordKind,
    batch: Batch,
    people: Places,
    duplicates: Mask | None,
    context: CheckContext,
    file_name: str,
) -> CheckedBatch:
    """Check every row of a batch; accepted rows come back ready to store."""
    values: dict[str, pa.Array] = {}
    findings: list[Finding] = []
    for column in kind.columns:
        raw = batch.values.column(column.name)
        if column == NHS_NUMBER:
            findings += _nhs_number_findings(raw, people == context.pseudonyms.invalid)
            continue
        checked = _CHECKS[column.type](column, raw, context)
        values[column.name] = checked.values
        findings += checked.findings
    if duplicates is not None:
        findings += _finding(
            _key_column(kind), "is not unique: another row has the same key", duplicates
        )
    valid = _valid_columns(kind, findings, batch.values.num_rows)
    for rule in ROW_RULES.get(kind.name, ()):
        findings += [f for f in rule(values, valid) if f.rows.any()]
    return _split(kind, batch, values, people, findings, context, file_name)


def _key_column(kind: RecordKind) -> Column:
    return next(c for c in kind.columns if c.name == kind.key)


def _nhs_number_findings(raw: pa.Array, invalid: Mask) -> list[Finding]:
    missing = _missing(_text(raw, pad_integers=True))
    return _finding(NHS_NUMBER, "is missing", missing) + _finding(
        NHS_NUMBER, "is not a valid NHS number", ~missing & invalid
    )


def _valid_columns(kind: RecordKind, findings: list[Finding], rows: int) -> dict[str, Mask]:
    valid = {c.name: np.ones(rows, np.bool_) for c in kind.columns}
    for finding in findings:
        valid[finding.column] &= ~finding.rows
    return valid


def _split(
    kind: RecordKind,
    batch: Batch,
    values: dict[str, pa.Array],
    people: Places,
    findings: list[Finding],
    context: CheckContext,
    file_name: str,
) -> CheckedBatch:
    bad = np.zeros(batch.values.num_rows, np.bool_)
    for finding in findings:
        bad |= finding.rows
    person_ids = context.pseudonyms.column(people)
    columns = [
        person_ids if c == PERSON_ID else values[c.name] for c in kind.pseudonymised_columns()
    ]
    if bad.any():
        keep = from_numpy(~bad)
        columns = [column.filter(keep) for column in columns]
    columns = [_compacted(column) for column in columns]
    accepted = pa.RecordBatch.from_arrays(columns, schema=_storage_schema(kind))
    outcome = KindOutcome(
        rows_read=batch.values.num_rows,
        accepted=accepted.num_rows,
        quarantined=int(bad.sum()),
        reasons=Counter({f"{f.column}: {f.reason}": int(f.rows.sum()) for f in findings}),
    )
    if not findings:
        return CheckedBatch(accepted, None, outcome)
    lines = _quarantine_lines(kind, batch, person_ids, findings, file_name)
    return CheckedBatch(accepted, lines, outcome)


def _compacted(column: pa.Array) -> pa.Array:
    """A coded column whose dictionary holds only the values its rows use.

    The dictionary is written to the file as it is. Rows filtered out, or rows of another
    batch of the same row group (which shares its dictionary), leave their values in it, and
    a quarantined row's value (an NHS number typed into the wrong column, say) must not be
    stored that way.
    """
    if not pa.types.is_dictionary(column.type):
        return column
    present = ~_mask(pc.is_null(column)) if column.null_count else None
    indices = np.asarray(pc.fill_null(column.indices, 0).to_numpy(zero_copy_only=False))
    used = np.zeros(len(column.dictionary), np.bool_)
    used[indices if present is None else indices[present]] = True
    if used.all():
        return column
    places = (np.cumsum(used) - 1).astype(np.int32)
    remapped = from_numpy(places[indices], pa.int32(), None if present is None else ~present)
    return pa.DictionaryArray.from_arrays(remapped, column.dictionary.filter(from_numpy(used)))


# --------------------------------------------------------------------------------------------
# Quarantine


def quarantine_schema(kind: RecordKind) -> pa.Schema:
    """One line per problem: where it is and why, then the row's values as text."""
    located = [
        ("source_file", pa.string()),
        ("source_row", pa.int64()),
        ("problem_column", pa.string()),
        ("problem", pa.string()),
    ]
    return pa.schema(located + [(c.name, pa.string()) for c in kind.pseudonymised_columns()])


def _quarantine_lines(
    kind: RecordKind,
    batch: Batch,
    person_ids: pa.Array,
    findings: list[Finding],
    file_name: str,
) -> pa.Table:
    rows = [np.flatnonzero(f.rows) for f in findings]
    index = np.concatenate(rows)
    located = {
        "source_file": _repeat(file_name, len(index)),
        "source_row": from_numpy(batch.rows[index]),
        "problem_column": _repeated(
            [(f.column, len(r)) for f, r in zip(findings, rows, strict=True)]
        ),
        "problem": _repeated([(f.reason, len(r)) for f, r in zip(findings, rows, strict=True)]),
    }
    taken = from_numpy(index)
    shown = {
        c.name: person_ids.take(taken)
        if c == PERSON_ID
        else _shown(batch.values.column(c.name), taken)
        for c in kind.pseudonymised_columns()
    }
    return _table({**located, **shown}, quarantine_schema(kind))


def _table(columns: Mapping[str, pa.Array], schema: pa.Schema) -> pa.Table:
    """A table from named columns (``pa.table`` on a dict would look for pandas first)."""
    return pa.Table.from_arrays([columns[name] for name in schema.names], schema=schema)


def _repeat(text: str, count: int) -> pa.Array:
    return pa.repeat(pa.scalar(text, pa.string()), count)


def _repeated(runs: Sequence[tuple[str, int]]) -> pa.Array:
    return pa.concat_arrays([_repeat(text, count) for text, count in runs])


def _shown(raw: pa.Array, index: pa.Array) -> pa.Array:
    """A quarantined value as text, with anything shaped like an NHS number hidden."""
    return pc.replace_substring_regex(_text(raw.take(index)), _LOOKS_LIKE_NHS_NUMBER, _HIDDEN)


def ragged_lines(kind: RecordKind, ragged: Sequence[RaggedRow], file_name: str) -> pa.Table:
    """Quarantine lines for CSV rows that could not be split into the kind's columns."""
    columns: dict[str, pa.Array] = {
        "source_file": _repeat(file_name, len(ragged)),
        "source_row": pa.array([r.row for r in ragged], pa.int64()),
        "problem_column": _repeat("", len(ragged)),
        "problem": pa.array([_ragged_reason(r) for r in ragged], pa.string()),
    }
    blank = _repeat("", len(ragged))
    columns.update({c.name: blank for c in kind.pseudonymised_columns()})
    return _table(columns, quarantine_schema(kind))


def _ragged_reason(row: RaggedRow) -> str:
    return f"has {row.fields} fields where {row.expected} were expected"


def ragged_outcome(ragged: Sequence[RaggedRow]) -> KindOutcome:
    """Ragged rows count as read and quarantined, with the whole row as the place."""
    reasons = Counter(f"row: {_ragged_reason(r)}" for r in ragged)
    return KindOutcome(rows_read=len(ragged), quarantined=len(ragged), reasons=reasons)


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
            _data_writer(target, kind) as accepted,
            _Quarantine(staging / QUARANTINE / kind.name / target.name, kind) as quarantine,
        ):
            for batch in read_batches(found.file, kind.column_names, ragged):
                rows = slice(done, done + batch.values.num_rows)
                if rows.stop > found.rows:
                    raise _Unreadable(_changed(found.file))
                duplicates = None if found.duplicates is None else found.duplicates[rows]
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
                raise _Unreadable(_changed(found.file))
            if ragged:
                quarantine.write(ragged_lines(kind, ragged, found.file.name))
                outcome.add(ragged_outcome(ragged))
    except _Unreadable as unreadable:
        raise ImportRejected.from_problems(found.file.name, [unreadable.problem]) from None
    return outcome


def _changed(file: SourceFile) -> Problem:
    return Problem("changed while it was being read: ingest it again", file=file.name)


def _data_writer(path: Path, kind: RecordKind) -> pq.ParquetWriter:
    """A writer of accepted rows. Pseudonyms are random hex, which no codec shrinks much, so
    that column is stored uncompressed; the rest is compressed with snappy."""
    schema = _storage_schema(kind)
    codecs = {name: "none" if name == PERSON_ID.name else "snappy" for name in schema.names}
    return pq.ParquetWriter(path, schema, store_schema=False, compression=codecs)


class _Quarantine:
    """Appends quarantine lines for one kind, opening its file only when there are some."""

    def __init__(self, path: Path, kind: RecordKind) -> None:
        self._path = path
        self._kind = kind
        self._writer: pq.ParquetWriter | None = None

    def __enter__(self) -> _Quarantine:
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
