"""Rows that share a key: an exact repeat counts once, a conflict counts not at all.

Part of the scan stage of :mod:`carepool.person_data.files.ingest`. An extract can hold the
same record twice (a file sent again, a batch that was run twice): the same key with the
same content. Such a record is counted once, from its first copy (files in the order the
ingest reads them, rows in file order), and the other copies are quarantined as repeats.
Rows that share a key but differ in anything else contradict each other; none of them can
be trusted, so every one is quarantined. Either way each quarantine line names the key, how
many rows have it and where they are.

"Content" is every column of the raw row as text, so a typed Parquet column and a text one
holding the same values agree; a key with and without spaces, or a date and a timestamp, do
not.

This has to work on tens of millions of rows without holding them in Python objects:

1. the scan hashes every key and sorting the hashes finds the rows whose key hash another
   row shares, the *candidates* (usually few);
2. only files holding candidates are read again, and of each candidate only its key (as
   text, so a hash collision never joins two keys), a 128-bit fingerprint of its content
   (each value's 64-bit hash, folded in column order two ways) and its place are kept, as
   Arrow and numpy arrays;
3. sorting the candidates by key and place puts each key's rows together, first copy first;
   numpy tells each group's size and whether its fingerprints agree, and Arrow writes one
   message per group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped, unused-ignore]

from carepool.domain.person_level import NHS_NUMBER, RecordKind
from carepool.person_data.files.columns import (
    Hashes,
    Mask,
    Numbers,
    Places,
    as_text,
    from_numpy,
    text_hashes,
    to_mask,
)
from carepool.person_data.files.raw import HIDDEN, LOOKS_LIKE_NHS_NUMBER, Batch

REPEAT = "repeats another row exactly: the record is counted once, from its first row"
"""The counted reason for a copy of a record that is kept once."""

CONFLICT = "is shared by rows with different content: none of them is counted"
"""The counted reason for rows whose key another row has with other content."""

LISTED = 10
"""Rows named in a duplicate's message; more are counted, not listed."""

# --------------------------------------------------------------------------------------------
# Candidates: the rows whose key hash another row shares


def candidate_rows(
    kind: RecordKind, batch: Batch, chosen: Mask, file_index: int, first_row: int
) -> pa.Table:
    """The chosen rows of a batch: key text, content fingerprint and place.

    ``first_row`` is the batch's first row in the file's reading order (counting from 0),
    ``file_index`` the file's place among the kind's files.
    """
    take = from_numpy(chosen)
    keys = as_text(batch.values.column(kind.key)).filter(take)
    prints = _fingerprints(kind, batch.values, take)
    rows = np.flatnonzero(chosen).astype(np.int64)
    return pa.Table.from_arrays(
        [
            keys,
            from_numpy(prints[:, 0]),
            from_numpy(prints[:, 1]),
            from_numpy(np.full(len(rows), file_index, np.int32)),
            from_numpy(rows + first_row),
            from_numpy(batch.rows[rows]),
        ],
        names=["key", "print_a", "print_b", "file", "row", "line"],
    )


def _fingerprints(kind: RecordKind, values: pa.RecordBatch, take: pa.Array) -> Hashes:
    """A 128-bit fingerprint of each taken row, as a (rows, 2) array: each value's 64-bit
    hash as text, folded in column order two different ways."""
    found = np.zeros((len(take) - take.false_count, 2), np.uint64)
    for column in kind.columns:
        hashes = _value_hashes(values.column(column.name), take, column == NHS_NUMBER)
        found[:, 0] = _mixed(found[:, 0] ^ hashes, 0xBF58476D1CE4E5B9)
        found[:, 1] = _mixed(
            found[:, 1] * np.uint64(0x9E3779B97F4A7C15) + hashes, 0x94D049BB133111EB
        )
    return found


def _value_hashes(raw: pa.Array, take: pa.Array, nhs_number: bool) -> Hashes:
    """Each taken value's hash as text; a coded column's values are hashed once each."""
    chosen = raw.filter(take)
    if not pa.types.is_dictionary(chosen.type):
        return text_hashes(as_text(chosen, pad_integers=nhs_number))
    # The values, then an empty one for missing rows (as a missing text value hashes).
    values = pa.concat_arrays([as_text(chosen.dictionary), pa.array([""], pa.string())])
    on_values = text_hashes(values)
    indices = pc.fill_null(chosen.indices, len(on_values) - 1)
    return on_values[np.asarray(indices.to_numpy(zero_copy_only=False), np.int64)]


def _mixed(values: Hashes, factor: int) -> Hashes:
    values = values * np.uint64(factor)
    values ^= values >> np.uint64(31)
    return values


# --------------------------------------------------------------------------------------------
# What each file's duplicate rows are


@dataclass(frozen=True, slots=True)
class BatchDuplicates:
    """A batch's duplicate rows: repeats of a kept copy, rows in conflict, and each one's
    message (null for rows that are neither)."""

    repeats: Mask
    conflicts: Mask
    messages: pa.Array


@dataclass(frozen=True, slots=True)
class SharedKeys:
    """The keys of a kind that more than one row has, and where the rows are.

    Messages are written only for the rows of the batch being checked, so however many keys
    are shared, only their parts are held: each key as shown (anything like an NHS number
    hidden), how many rows have it, whether their content agrees, and the places of its
    first :data:`LISTED` rows (``places[offsets[k]:offsets[k + 1]]``, as file and row).
    """

    key_name: str
    keys: pa.Array
    sizes: Numbers
    exact: Mask
    offsets: Numbers
    files: Places
    lines: Numbers
    file_names: pa.Array

    def messages(self, shared: Places) -> tuple[pa.Array, Places]:
        """The message of each key among ``shared`` (places in ``keys``), and where each of
        ``shared`` finds its message: ``spell_id S9 appears 2 times with different content,
        none of them counted: spells-a.csv row 2, spells-b.csv row 3``."""
        wanted, each = np.unique(shared, return_inverse=True)
        counts = self.offsets[wanted + 1] - self.offsets[wanted]
        ends = np.cumsum(counts)
        listed = np.repeat(self.offsets[wanted] - (ends - counts), counts) + np.arange(ends[-1])
        places = pc.binary_join_element_wise(
            self.file_names.take(from_numpy(self.files[listed])),
            pc.cast(from_numpy(self.lines[listed]), pa.string()),
            " row ",
        )
        offsets = from_numpy(np.concatenate([[0], ends]).astype(np.int32))
        listing = pc.binary_join(pa.ListArray.from_arrays(offsets, places), ", ")
        sizes = self.sizes[wanted]
        how = pc.if_else(
            from_numpy(self.exact[wanted]),
            "the same content, counted once, from the first: ",
            "different content, none of them counted: ",
        )
        more = sizes - LISTED
        tail = pc.if_else(
            from_numpy(more > 0),
            pc.binary_join_element_wise(
                ", and ", pc.cast(from_numpy(more), pa.string()), " more", ""
            ),
            "",
        )
        written = pc.binary_join_element_wise(
            f"{self.key_name} ",
            self.keys.take(from_numpy(wanted)),
            " appears ",
            pc.cast(from_numpy(sizes), pa.string()),
            " times with ",
            how,
            listing,
            tail,
            "",
        )
        return written, each.astype(np.int32)


@dataclass(frozen=True, slots=True)
class DuplicateRows:
    """The rows of one file to quarantine because another row has their key.

    ``rows`` are in reading order (counting from 0); ``exact`` says, per row, whether it
    repeats a kept copy (rather than conflicting); ``shared`` is its key's place in
    ``keys``, which the kind's files share.
    """

    rows: Numbers
    exact: Mask
    shared: Places
    keys: SharedKeys

    def in_batch(self, first_row: int, count: int) -> BatchDuplicates | None:
        """The duplicates among ``count`` rows read from ``first_row`` on, if any."""
        low, high = np.searchsorted(self.rows, [first_row, first_row + count])
        if low == high:
            return None
        local = self.rows[low:high] - first_row
        exact = self.exact[low:high]
        repeats = np.zeros(count, np.bool_)
        repeats[local[exact]] = True
        conflicts = np.zeros(count, np.bool_)
        conflicts[local[~exact]] = True
        written, each = self.keys.messages(self.shared[low:high])
        places = np.zeros(count, np.int32)
        places[local] = each
        messages = written.take(from_numpy(places, pa.int32(), ~(repeats | conflicts)))
        return BatchDuplicates(repeats, conflicts, messages)


def group_duplicates(
    kind: RecordKind, pieces: Sequence[pa.Table], file_names: Sequence[str]
) -> list[DuplicateRows | None]:
    """Group the candidates of a kind's files by key; each file's rows to quarantine.

    A key of one row (its hash was shared by another key) is no duplicate. In a key of
    several rows whose fingerprints all agree, every row but the first is a repeat; in any
    other key every row is in conflict.
    """
    if not pieces:
        return [None] * len(file_names)
    table = pa.concat_tables(pieces).combine_chunks()
    order = pc.sort_indices(
        table, [("key", "ascending"), ("file", "ascending"), ("row", "ascending")]
    )
    keys = _column(table, "key").take(order)
    starts_here = np.ones(len(keys), np.bool_)
    starts_here[1:] = to_mask(pc.not_equal(keys[1:], keys[:-1]))
    group = np.cumsum(starts_here) - 1
    starts = np.flatnonzero(starts_here)
    sizes = np.diff(np.append(starts, len(keys)))
    exact = _agreeing(table, order, group, starts)
    shared_rows = sizes[group] > 1
    flagged = shared_rows & ~(exact[group] & starts_here)
    listed = shared_rows & (np.arange(len(keys)) - starts[group] < LISTED)
    files, lines = _numbers(table, "file", order), _numbers(table, "line", order)
    shared = sizes > 1
    shared_keys = SharedKeys(
        key_name=kind.key,
        keys=pc.replace_substring_regex(
            keys.take(from_numpy(starts[shared])), LOOKS_LIKE_NHS_NUMBER, HIDDEN
        ),
        sizes=sizes[shared],
        exact=exact[shared],
        offsets=np.concatenate([[0], np.cumsum(np.minimum(sizes[shared], LISTED))]),
        files=files[listed].astype(np.int32),
        lines=lines[listed],
        file_names=pa.array(file_names, pa.string()),
    )
    place = (np.cumsum(shared) - 1)[group]  # each row's key's place among the shared keys
    rows = _numbers(table, "row", order)
    return [
        _of_file(rows, flagged & (files == index), exact[group], place, shared_keys)
        for index in range(len(file_names))
    ]


def _agreeing(table: pa.Table, order: pa.Array, group: Numbers, starts: Numbers) -> Mask:
    """Whether every row of each key has the same fingerprint as the key's first row."""
    prints = np.stack([_numbers(table, "print_a", order), _numbers(table, "print_b", order)], 1)
    agrees = (prints == prints[starts[group]]).all(axis=1)
    return np.logical_and.reduceat(agrees, starts)


def _of_file(
    rows: Numbers, mine: Mask, exact: Mask, place: Numbers, keys: SharedKeys
) -> DuplicateRows | None:
    if not mine.any():
        return None
    in_order = np.argsort(rows[mine], kind="stable")
    return DuplicateRows(
        rows=rows[mine][in_order],
        exact=exact[mine][in_order],
        shared=place[mine][in_order].astype(np.int32),
        keys=keys,
    )


def _column(table: pa.Table, name: str) -> pa.Array:
    return table.column(name).combine_chunks()


def _numbers(table: pa.Table, name: str, order: pa.Array) -> npt.NDArray[Any]:
    values = _column(table, name).take(order)
    return np.asarray(values.to_numpy(zero_copy_only=False))
