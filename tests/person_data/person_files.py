"""Small person-level files for the person-data tests, written as a data supplier would send them.

Each record kind has one valid row; a test names only the values it changes, so the row
that should be quarantined reads plainly in the test. NHS numbers come from the range
reserved for testing (999 000 0000 to 999 999 9999), never real ones.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import nhs_number
import pyarrow as pa
import pyarrow.dataset as ds

from carepool.domain.person_level import RecordKind, record_kind
from carepool.person_data.service import IngestReport

KEY = b"carepool tests: a pseudonym key that is long enough"
AREAS = frozenset({"E06000901", "E06000902", "E09000901"})
AS_OF = dt.date(2016, 6, 30)


def valid_numbers(count: int, start: int = 0) -> list[str]:
    """Valid NHS numbers from the testing range."""
    found: list[str] = []
    body = 999_000_000 + start
    while len(found) < count:
        check = nhs_number.calculate_checksum(str(body))
        if check is not None and check < 10:
            found.append(f"{body}{check}")
        body += 1
    return found


NUMBERS = valid_numbers(40)

BASE: Mapping[str, Mapping[str, str]] = {
    "spells": {
        "spell_id": "S1",
        "nhs_number": NUMBERS[0],
        "admission_date": "2015-05-10",
        "discharge_date": "2015-05-14",
        "admission_method": "non_elective",
        "primary_diagnosis": "J44.1",
        "secondary_diagnoses": "I10;E11.9",
        "age": "78",
        "sex": "F",
        "area_code": "E06000901",
        "discharge_destination": "usual_residence",
    },
    "delays": {
        "delay_id": "D1",
        "nhs_number": NUMBERS[0],
        "month": "2015-06-01",
        "responsible": "social_care",
        "care_type": "acute",
        "reason": "E",
        "delayed_days": "12",
        "age": "84",
        "area_code": "E06000902",
    },
    "care_home_admissions": {
        "admission_id": "C1",
        "nhs_number": NUMBERS[0],
        "admission_date": "2015-07-01",
        "setting": "nursing",
        "funding": "council",
        "previous_setting": "hospital",
        "age": "88",
        "area_code": "E09000901",
    },
    "reablement": {
        "episode_id": "R1",
        "nhs_number": NUMBERS[0],
        "discharge_date": "2015-10-12",
        "status_91_days": "at_home",
        "age": "81",
        "area_code": "E06000901",
    },
    "survey_responses": {
        "response_id": "Q1",
        "nhs_number": NUMBERS[0],
        "response_date": "2016-02-01",
        "question": "care_coordination",
        "positive": "1",
        "age": "70",
        "area_code": "E06000901",
    },
}

Rows = Sequence[Mapping[str, str]]
WriteRaw = Callable[..., Path]  # the ``write_raw`` fixture
Ingest = Callable[..., IngestReport]  # the ``ingest`` fixture


def rows_of(kind: str, changes: Rows) -> list[dict[str, str]]:
    """Valid rows of ``kind``, each with its own key and person, then the given changes."""
    kind_ = record_kind(kind)
    made = []
    for index, change in enumerate(changes):
        row = dict(BASE[kind])
        row[kind_.key] = f"{row[kind_.key]}-{index + 1}"
        row["nhs_number"] = NUMBERS[index % len(NUMBERS)]
        row.update(change)
        made.append(row)
    return made


def csv_text(kind: str, changes: Rows, columns: Sequence[str] | None = None) -> str:
    header = list(columns or record_kind(kind).column_names)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, header, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows_of(kind, changes))
    return buffer.getvalue()


def read_kind(folder: Path, kind: RecordKind | str) -> pa.Table:
    """Every Parquet file of a kind in a data directory (or its quarantine) as one table."""
    name = kind if isinstance(kind, str) else kind.name
    return ds.dataset(folder / name, format="parquet").to_table()


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under a folder, by relative path, with its bytes."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }
