"""Person-level records as Arrow columns: their schemas, and helpers on whole columns.

A national year is twenty million rows, so every stage of :mod:`carepool.person_data.files.ingest`
works on whole columns at once (Arrow compute and numpy), never row by row in Python. This
module holds what those stages share: the Arrow schema of each record kind (raw, stored and
as written), which text columns are coded (read and written as dictionaries), and helpers
that turn any column into text, masks, NHS numbers or 64-bit hashes without copying more
than they must.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped, unused-ignore]

from carepool.domain.person_level import AREA, Column, ColumnType, RecordKind
from carepool.domain.pseudonym import nhs_numbers_from_text

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


# --------------------------------------------------------------------------------------------
# Schemas


def arrow_schema(columns: Iterable[Column]) -> pa.Schema:
    """The Arrow schema of columns: TEXT as string, INTEGER as int32, DATE and MONTH date32."""
    return pa.schema([pa.field(c.name, ARROW_TYPES[c.type]) for c in columns])


def raw_schema(kind: RecordKind) -> pa.Schema:
    """How carepool itself writes a raw file of ``kind`` (with ``nhs_number``)."""
    return arrow_schema(kind.columns)


def data_schema(kind: RecordKind) -> pa.Schema:
    """How a data directory holds ``kind``: the pseudonymised columns, in order."""
    return arrow_schema(kind.pseudonymised_columns())


def storage_schema(kind: RecordKind) -> pa.Schema:
    """:func:`data_schema` as written: coded text columns as dictionaries. The files do not
    store this Arrow schema, so readers see exactly :func:`data_schema` (text as string)."""
    coded = pa.dictionary(pa.int32(), pa.string())
    return pa.schema(
        [
            pa.field(c.name, coded if is_coded_column(c) else ARROW_TYPES[c.type])
            for c in kind.pseudonymised_columns()
        ]
    )


def coded_columns(kind: RecordKind) -> set[str]:
    """Text columns with few distinct values, read as dictionaries so each value is checked
    once rather than once per row (the key, the NHS number and free text are not)."""
    return {c.name for c in kind.columns if is_coded_column(c)}


def is_coded_column(column: Column) -> bool:
    """A text column with a list of values, a pattern or area codes: few distinct values.

    A column holding a list of codes is not: its lists combine codes in too many ways.
    """
    return (
        column.type == ColumnType.TEXT
        and not column.is_list
        and bool(column.allowed or column.pattern or column == AREA)
    )


# --------------------------------------------------------------------------------------------
# Column helpers


def as_text(values: pa.Array | pa.ChunkedArray, *, pad_integers: bool = False) -> pa.Array:
    """Any column as Arrow text (integers zero-padded to 10 places for NHS numbers)."""
    array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if pa.types.is_string(array.type):
        return array
    if pad_integers and pa.types.is_integer(array.type):
        return pc.utf8_lpad(pc.cast(array, pa.string()), width=10, padding="0")
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    return pc.cast(array, pa.string())


def is_missing(text: pa.Array) -> Mask:
    """Empty and null values: both mean nothing was given."""
    empty = pc.equal(pc.utf8_length(text), 0)
    return to_mask(pc.or_kleene(pc.is_null(text), empty))


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


def to_mask(values: pa.Array | pa.ChunkedArray) -> Mask:
    filled = pc.fill_null(values, False)
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=np.bool_)


def text_buffers(text: pa.Array) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int32]]:
    """The bytes and offsets of a text array, as numpy views (no copy)."""
    buffers = text.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int32)[text.offset : text.offset + len(text) + 1]
    data = buffers[2]
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    return raw, offsets


def nhs_numbers(values: pa.Array | pa.ChunkedArray) -> Numbers:
    """Each row's NHS number as an integer, or -1 when missing or not a valid number."""
    text = as_text(values, pad_integers=True)
    data, offsets = text_buffers(text)
    return nhs_numbers_from_text(data, offsets, ~is_missing(text))


def text_hashes(values: pa.Array | pa.ChunkedArray, seed: int = 0) -> Hashes:
    """A 64-bit hash of each text value, to find repeated keys among millions by sorting.

    Equal texts hash equal; different texts almost never do, and a shared hash is only a
    candidate that is then compared exactly (see :func:`find_duplicate_keys`). Another
    ``seed`` gives another hash of the same texts, for a wider fingerprint.
    """
    text = as_text(values)
    data, offsets = text_buffers(text)
    lengths = np.diff(offsets).astype(np.int64)
    hashes = lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) ^ np.uint64(seed)
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
