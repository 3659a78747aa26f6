"""Raw person-level files: finding them, inspecting each as a whole, and their rows' shape.

The first two stages of :mod:`carepool.person_data.files.ingest`. A raw file's record kind is told
from its name (``spells.csv``, ``spells-2015.parquet``) or its folder
(``delays/part-1.parquet``); a CSV or Parquet file whose kind cannot be told refuses the
ingest, so a misnamed file is never silently left out. Each file is then inspected before
any row is read: readable, not empty, exactly the kind's columns; a file that fails is
refused whole, and the ingest with it. Messages never quote anything that could be an NHS
number.

:class:`Batch` and :class:`RaggedRow` are what reading a file's rows yields, and are shared
by the later stages.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NoReturn

import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

from carepool.domain.errors import CarepoolError, ImportRejected, Problem
from carepool.domain.person_level import RECORD_KINDS, RecordKind
from carepool.person_data.files.columns import Numbers

FileFormat = Literal["csv", "parquet"]
FORMATS: Mapping[str, FileFormat] = {".csv": "csv", ".parquet": "parquet"}

_KIND_NAME = re.compile(
    r"^(?P<kind>"
    + "|".join(sorted((re.escape(k.name) for k in RECORD_KINDS), key=len, reverse=True))
    + r")(?:[-_. ].*)?$"
)
_LONG_DIGITS = re.compile(r"[0-9][0-9 \-]{4,}[0-9]")
_UTF8_CHUNK = 16 << 20
HIDDEN = "[hidden]"
"""Shown in place of anything that could be an NHS number."""
LOOKS_LIKE_NHS_NUMBER = r"[0-9]{3}[ -]?[0-9]{3}[ -]?[0-9]{4}"
"""A value shaped like an NHS number, hidden wherever a quarantined value is shown."""


def _scrub(text: str) -> str:
    """Hide long runs of digits from a message: they could be an NHS number."""
    return _LONG_DIGITS.sub(HIDDEN, text)


class Unreadable(Exception):
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
        names, rows = csv_header(file) if file.format == "csv" else _parquet_header(file)
        if file.format == "csv":
            check_utf8(file)
    except Unreadable as unreadable:
        return [unreadable.problem]
    except OSError as error:
        return [
            Problem(f"cannot be read: {error.strerror or 'input/output error'}", file=file.name)
        ]
    problems = _column_problems(file, names)
    if rows == 0 and not problems:
        problems.append(Problem("has no records, only column names", file=file.name))
    return problems


def csv_header(file: SourceFile) -> tuple[list[str], int | None]:
    with file.path.open("rb") as handle:
        first = handle.readline(1 << 20)
    try:
        line = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Unreadable(Problem("is not UTF-8 text", file=file.name)) from None
    names = next(csv.reader(io.StringIO(line)), [])
    return [n.rstrip("\r\n") for n in names], None


def check_utf8(file: SourceFile) -> None:
    """Find the first byte that is not UTF-8 before Arrow reads the rows.

    Arrow hands a ragged row's text to Python decoded as UTF-8; when it is not, a traceback
    is printed and the read stops with an error about the row's shape, which points the
    wrong way. Looking first gives one message naming the row. Text that is mostly ASCII
    decodes about as fast as it is read, so the pass costs little beside the ingest.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1  # the line each chunk starts on; the header is row 1
    with file.path.open("rb") as handle:
        while chunk := handle.read(_UTF8_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                _not_utf8(file, line + chunk.count(b"\n", 0, max(error.start, 0)))
            line += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            _not_utf8(file, line)


def _not_utf8(file: SourceFile, row: int) -> NoReturn:
    message = (
        "is not UTF-8 text: this row holds a byte that is not valid UTF-8 (the file was "
        "probably saved as Windows-1252 or Latin-1); save it as 'CSV UTF-8'"
    )
    raise Unreadable(Problem(message, file=file.name, row=row))


def _parquet_header(file: SourceFile) -> tuple[list[str], int | None]:
    try:
        metadata = pq.read_metadata(file.path)
    except (pa.ArrowException, OSError):
        raise Unreadable(Problem("is not a readable Parquet file", file=file.name)) from None
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
# Rows as read, a batch at a time (see :func:`carepool.person_data.files.ingest.read_batches`)


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
