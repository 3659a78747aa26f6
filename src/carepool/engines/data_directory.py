"""The data directory engines read: one folder of Parquet files per record kind.

``<data_dir>/<kind.name>/*.parquet`` holds that kind's records after ingest, every file with
the kind's pseudonymised columns in their declared order. Text is Arrow ``string``, whole
numbers ``int32``, and dates and months ``date32``. A kind with no folder (or no files in
it) has no records.

:func:`write_records` writes rows in exactly that shape, for tests and the synthetic
generator, so that they and the ingest hand engines the same thing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

from carepool.domain.errors import CarepoolError, Problem
from carepool.domain.person_level import ColumnType, RecordKind

ARROW_TYPES: dict[ColumnType, pa.DataType] = {
    ColumnType.TEXT: pa.string(),
    ColumnType.INTEGER: pa.int32(),
    ColumnType.DATE: pa.date32(),
    ColumnType.MONTH: pa.date32(),
}


def arrow_schema(kind: RecordKind) -> pa.Schema:
    """The Arrow schema of a kind's files after ingest."""
    return pa.schema(
        [pa.field(column.name, ARROW_TYPES[column.type]) for column in kind.pseudonymised_columns()]
    )


def kind_directory(data_dir: Path, kind: RecordKind) -> Path:
    return data_dir / kind.name


def kind_files(data_dir: Path, kind: RecordKind) -> list[Path]:
    """A kind's Parquet files in name order; none if the kind has no folder."""
    folder = kind_directory(data_dir, kind)
    return sorted(folder.glob("*.parquet")) if folder.is_dir() else []


def readable_files(data_dir: Path, kind: RecordKind, columns: Iterable[str]) -> list[Path]:
    """A kind's files, each checked (from its footer alone) to have ``columns`` as the
    contract types them, so an engine never fails halfway through with its own error.

    Every file's faults are reported together; no value from a file is ever quoted.
    """
    files = kind_files(data_dir, kind)
    wanted = arrow_schema(kind)
    problems = []
    for path in files:
        try:
            schema = pq.read_schema(path)
        except (OSError, pa.ArrowException):
            problems.append(Problem("is not a readable Parquet file", file=str(path)))
            continue
        for name in columns:
            found = schema.field(name).type if name in schema.names else None
            expected = wanted.field(name).type
            if found != expected:
                has = "is missing" if found is None else f"is {found}"
                problems.append(Problem(f"{name} {has}, not {expected}", file=str(path)))
    if problems:
        raise CarepoolError(f"{kind.name}: the data directory's files cannot be used", problems)
    return files


def write_records(
    data_dir: Path,
    kind: RecordKind,
    rows: Iterable[Mapping[str, object]],
    *,
    part: str = "part-0",
) -> Path:
    """Write ``rows`` (one mapping per record) as ``<data_dir>/<kind>/<part>.parquet``.

    A column a row leaves out is written as missing (null); a column the kind does not
    have is refused, so a misspelt column cannot be silently dropped.
    """
    schema = arrow_schema(kind)
    records = list(rows)
    for number, row in enumerate(records, start=1):
        unknown = sorted(set(row) - set(schema.names))
        if unknown:
            raise CarepoolError(
                f"{kind.name} row {number}: no such column {', '.join(unknown)} "
                f"(the columns are {', '.join(schema.names)})"
            )
    table = pa.Table.from_pylist(records, schema=schema)
    folder = kind_directory(data_dir, kind)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{part}.parquet"
    pq.write_table(table, path)
    return path
