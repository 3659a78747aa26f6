"""A provisional extract of a data directory: its records, less the spells not yet coded.

Hospital activity reaches national data through monthly extracts, and a spell is in an
extract only once the hospital has coded it. An extract taken soon after a quarter ends lacks
some of the emergency spells admitted in the quarter's last days; a later, revised extract
has them. :class:`LateCoding` says which spells an earlier extract would have lacked, and
:func:`copy_kind` writes a kind's files into another data directory without them, in the
format the ingest writes (:mod:`carepool.person_data.files.output`).

Which spells are late is decided by each spell's identifier alone (its SHA-256), so the same
data always gives the same extract, whatever the pseudonym key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

from carepool.domain.errors import CarepoolError
from carepool.domain.periods import parse_quarter, quarter_label
from carepool.domain.person_level import PERSON_ID, SPELLS, AdmissionMethod, RecordKind
from carepool.person_data.files.columns import Mask, coded_columns, storage_schema
from carepool.person_data.files.output import data_writer


@dataclass(frozen=True, slots=True)
class LateCoding:
    """Emergency spells admitted in the last ``days`` days of a quarter are coded late, one
    in ``every``: those whose spell identifier's SHA-256 is a multiple of ``every``."""

    days: int
    every: int

    def __post_init__(self) -> None:
        if not 0 < self.days <= 31 or self.every < 1:
            raise CarepoolError("late coding needs 1 to 31 days and a share of 1 in 1 or more")

    def describe(self) -> str:
        """The rule in words, as a data directory's manifest records it."""
        return (
            f"1 in {self.every} emergency spells admitted in the last {self.days} days of a "
            "quarter, chosen by the SHA-256 of the spell identifier, not yet coded"
        )

    def late(self, batch: pa.RecordBatch) -> Mask:
        """Which spells of ``batch`` (read from a data directory) are coded late."""
        emergency = pc.equal(
            pc.cast(batch.column("admission_method"), pa.string()), AdmissionMethod.NON_ELECTIVE
        )
        admitted = batch.column("admission_date").to_numpy(zero_copy_only=False)
        candidates = np.flatnonzero(
            emergency.to_numpy(zero_copy_only=False) & self._near_quarter_end(admitted)
        )
        ids = batch.column(SPELLS.key).take(pa.array(candidates)).to_pylist()
        late = np.zeros(batch.num_rows, np.bool_)
        late[candidates] = [_digest(str(spell)) % self.every == 0 for spell in ids]
        return late

    def _near_quarter_end(self, admitted: npt.NDArray[Any]) -> Mask:
        days = np.unique(admitted)
        near = {day for day in days.tolist() if _days_to_quarter_end(day) < self.days}
        return np.isin(admitted, np.array(sorted(near), dtype=admitted.dtype))


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def _days_to_quarter_end(day: dt.date) -> int:
    """0 on a quarter's last day, 1 the day before, and so on."""
    end: dt.date = parse_quarter(quarter_label(day)).period.end
    return (end - day).days


def copy_kind(
    source: Path, target: Path, kind: RecordKind, rule: LateCoding
) -> tuple[int, int, set[str]]:
    """Copy ``kind``'s files from data directory ``source`` into ``target`` (a staging
    directory); spells are copied less those ``rule`` says are coded late.

    Returns the rows copied, the rows left out and the people of the rows left out.
    """
    files = sorted((source / kind.name).glob("*.parquet"))
    if not files:
        return 0, 0, set()
    (target / kind.name).mkdir(parents=True, exist_ok=True)
    if kind != SPELLS:
        for path in files:
            shutil.copyfile(path, target / kind.name / path.name)
        return sum(pq.ParquetFile(path).metadata.num_rows for path in files), 0, set()
    kept = left_out = 0
    people: set[str] = set()
    for path in files:
        with (
            pq.ParquetFile(path, read_dictionary=sorted(coded_columns(kind))) as parquet,
            data_writer(target / kind.name / path.name, kind) as writer,
        ):
            for batch in parquet.iter_batches():
                late = rule.late(batch)
                stored = pa.Table.from_batches([batch]).cast(storage_schema(kind))
                writer.write_table(stored.filter(pa.array(~late)))
                people.update(stored.column(PERSON_ID.name).filter(pa.array(late)).to_pylist())
                kept += batch.num_rows - int(late.sum())
                left_out += int(late.sum())
    return kept, left_out, people


def people_present(data_dir: Path, kinds: tuple[RecordKind, ...], wanted: set[str]) -> set[str]:
    """Those of ``wanted`` (pseudonyms) who have a record of any of ``kinds`` in ``data_dir``."""
    if not wanted:
        return set()
    values = pa.array(sorted(wanted), pa.string())
    found: set[str] = set()
    for kind in kinds:
        for path in sorted((data_dir / kind.name).glob("*.parquet")):
            with pq.ParquetFile(path) as parquet:
                for batch in parquet.iter_batches(columns=[PERSON_ID.name]):
                    people = batch.column(0)
                    found.update(people.filter(pc.is_in(people, value_set=values)).to_pylist())
    return found
