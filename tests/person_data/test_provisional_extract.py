"""A provisional extract: the same data directory less the emergency spells not coded yet.

A spell is late if it is an emergency admitted in the last days of a quarter and its
identifier's SHA-256 picks it; everything else is copied as it was, and the extract's
manifest says what it was taken from and what it leaves out.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from person_files import NUMBERS, Ingest, WriteRaw, read_kind

from carepool.domain.errors import CarepoolError
from carepool.person_data import service as person_data
from carepool.person_data.service import LateCoding

LATE = LateCoding(days=7, every=2)


def picked(spell_id: str) -> bool:
    return int.from_bytes(hashlib.sha256(spell_id.encode()).digest()[:8], "big") % 2 == 0


@pytest.fixture
def ingested(write_raw: WriteRaw, ingest: Ingest) -> person_data.IngestReport:
    """Emergency spells in Q1's last week (and one on the day before it), an elective one in
    that week, an emergency one mid-quarter, and a delay for the first spell's person."""
    late = [{"admission_date": f"2015-06-{day}", "discharge_date": "2015-07-02"} for day in
            range(24, 31)] * 3  # fmt: skip
    others = [
        {"admission_date": "2015-06-23", "discharge_date": "2015-06-25"},
        {"admission_date": "2015-06-29", "admission_method": "elective"},
        {"admission_date": "2015-05-10"},
    ]
    write_raw("spells.csv", "spells", late + others)
    write_raw("delays.csv", "delays", [{"nhs_number": NUMBERS[0]}])
    return ingest()


def test_late_emergency_spells_are_left_out_and_everything_else_is_copied(
    ingested: person_data.IngestReport, data_dir: Path, tmp_path: Path
) -> None:
    extract = tmp_path / "provisional"
    report = person_data.provisional_extract(data_dir, extract, LATE)

    spells = read_kind(data_dir, "spells").to_pylist()
    kept = read_kind(extract, "spells").to_pylist()
    late = {s["spell_id"] for s in spells[:21] if picked(s["spell_id"])}
    assert 0 < len(late) < 21
    assert kept == [s for s in spells if s["spell_id"] not in late]
    assert (extract / "delays").is_dir()
    assert read_kind(extract, "delays") == read_kind(data_dir, "delays")

    manifest = json.loads((extract / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["vintage"] == report.vintage != ingested.vintage
    assert manifest["extract"] == {
        "of": ingested.vintage,
        "rule": LATE.describe(),
        "left_out": {"spells": len(late), "delays": 0},
    }
    assert manifest["kinds"]["spells"]["accepted"] == len(spells) - len(late)
    # Each late spell was its own person's only record, except the first (who has a delay).
    first_late = spells[0]["spell_id"] in late
    assert report.people == ingested.people - len(late) + first_late


def test_the_same_data_gives_the_same_extract_and_vintage(
    ingested: person_data.IngestReport, data_dir: Path, tmp_path: Path
) -> None:
    first = person_data.provisional_extract(data_dir, tmp_path / "a", LATE)
    spells = read_kind(tmp_path / "a", "spells")
    again = person_data.provisional_extract(data_dir, tmp_path / "a", LATE)
    other = person_data.provisional_extract(data_dir, tmp_path / "b", LateCoding(7, 3))
    assert first.vintage == again.vintage != other.vintage
    assert read_kind(tmp_path / "a", "spells") == spells


def test_only_a_data_directory_can_be_extracted(tmp_path: Path) -> None:
    with pytest.raises(CarepoolError, match="not a carepool data directory"):
        person_data.provisional_extract(tmp_path / "nothing", tmp_path / "out", LATE)
    with pytest.raises(CarepoolError, match="1 to 31 days"):
        LateCoding(days=0, every=4)
