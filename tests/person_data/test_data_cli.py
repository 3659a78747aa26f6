"""``carepool data generate`` and ``carepool data ingest`` end to end, at a tiny scale.

A synthetic year with deliberate flaws is generated as CSV, then ingested against the
synthetic nation's areas stored in the test's database: every kind has rows quarantined,
and no NHS number from the raw files appears in the output, the data directory or the
messages.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from person_files import KEY, csv_text
from sqlalchemy import Engine
from typer.testing import CliRunner

from carepool.cli.app import app
from carepool.config import pseudonym_key
from carepool.demo import service as demo
from carepool.domain.errors import CarepoolError
from carepool.domain.metric_value import Grain
from carepool.domain.person_level import RECORD_KINDS
from carepool.domain.pseudonym import pseudonym
from carepool.domain.roles import SYSTEM
from carepool.geography.service import SyntheticInputs, load_synthetic
from carepool.metrics.service import results as metric_results
from carepool.store.db import unit_of_work
from carepool.synth.nation import build_nation

SEED = 2015
SCALE = "0.0005"


@pytest.fixture
def areas_stored(sqlite_engine: Engine) -> Engine:
    """The test's database holds the synthetic nation the generator draws its areas from."""
    built = build_nation(SEED)
    inputs = SyntheticInputs(
        demo.synthetic_vintage_name(built),
        built.councils,
        built.commissioners,
        built.shares,
        built.populations,
        demo.fingerprint(built),
    )
    with unit_of_work(sqlite_engine) as session:
        load_synthetic(session, inputs, SYSTEM, "mid-2017 (CCG-LA shares)")
    return sqlite_engine


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> bytes:
    monkeypatch.setenv("CAREPOOL_PSEUDONYM_KEY", KEY.decode())
    return KEY


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def raw_numbers(folder: Path) -> set[str]:
    found: set[str] = set()
    for path in folder.glob("*.csv"):
        found.update(pcsv.read_csv(path).column("nhs_number").cast("string").to_pylist())
    return found


def test_generate_then_ingest_quarantines_flaws_and_keeps_numbers_out(
    areas_stored: Engine, key: bytes, tmp_path: Path
) -> None:
    raw, data = tmp_path / "raw", tmp_path / "data"
    code, out, _ = run(
        "data", "generate", raw, "--scale", SCALE, "--format", "csv", "--flaws", "--json"
    )
    assert code == 0
    made = json.loads(out)
    assert set(made["files"]) == {k.name for k in RECORD_KINDS}
    assert made["files"]["spells"]["rows"] == pytest.approx(20_000_000 * float(SCALE), rel=0.1)

    code, out, err = run("data", "ingest", raw, "--data-dir", data, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert [k["kind"] for k in report["kinds"]] == [k.name for k in RECORD_KINDS]
    for kind in report["kinds"]:
        assert kind["quarantined"] > 0, kind["kind"]
        assert kind["rows_read"] == kind["accepted"] + kind["quarantined"]
        assert kind["reasons"]
    spells = next(k for k in report["kinds"] if k["kind"] == "spells")
    assert "nhs_number: is not a valid NHS number" in spells["reasons"]

    numbers = raw_numbers(raw)
    stored = b"".join(p.read_bytes() for p in data.rglob("*") if p.is_file())
    values = "\n".join(
        str(v)
        for path in data.rglob("*.parquet")
        for column in pq.read_table(path).columns
        for v in column.to_pylist()
    )
    for number in numbers:
        assert number.encode() not in stored
        assert number not in values
        assert number not in out + err
    first = pcsv.read_csv(raw / "spells.csv").column("nhs_number")[0].as_py()  # never spoilt
    people = set(pq.read_table(data / "spells").column("person_id").to_pylist())
    assert pseudonym(str(first), key) in people


def test_ingest_prints_a_summary_and_replaces_the_data_directory(
    areas_stored: Engine, key: bytes, tmp_path: Path
) -> None:
    raw, data = tmp_path / "raw", tmp_path / "data"
    assert run("data", "generate", raw, "--scale", SCALE)[0] == 0
    code, out, err = run("data", "ingest", raw, "--data-dir", data)
    assert code == 0
    assert "spells" in out and "Quarantined" in out
    assert "vintage" in err
    first = (data / "manifest.json").read_text(encoding="utf-8")
    assert run("data", "ingest", raw, "--data-dir", data)[0] == 0
    again = json.loads((data / "manifest.json").read_text(encoding="utf-8"))
    assert again["vintage"] == json.loads(first)["vintage"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_ingest_without_geography_in_the_database_says_so(
    sqlite_engine: Engine, key: bytes, tmp_path: Path
) -> None:
    (tmp_path / "spells.csv").write_text("spell_id\n", encoding="utf-8")
    with pytest.raises(CarepoolError, match="no councils register imported yet") as refused:
        run("data", "ingest", tmp_path / "spells.csv", "--data-dir", tmp_path / "data")
    assert "ingest checks each record's area against the 2015-16 areas" in refused.value.message


def test_user_errors_are_messages_without_a_traceback(areas_stored: Engine, tmp_path: Path) -> None:
    """As a user runs it: ``Error:`` and the problems on stderr, exit 1, nothing written."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "spells.csv").write_text("spell_id,nhs_number,postcode\nS1,9990000008,AB1\n", "utf-8")
    env = {
        **os.environ,
        "CAREPOOL_PSEUDONYM_KEY": KEY.decode(),
        "COLUMNS": "200",
        "NO_COLOR": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "carepool", "data", "ingest", str(raw), "--data-dir", "out"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "Error:" in result.stderr
    assert "spells.csv, column 'postcode': has a column 'postcode'" in result.stderr
    assert "spells.csv, column 'age': the column 'age' is missing" in result.stderr
    assert "9990000008" not in result.stderr + result.stdout
    assert not (tmp_path / "out").exists()


def test_ingest_counts_records_of_a_merged_council_in_its_area_and_says_how_many(
    areas_stored: Engine, key: bytes, tmp_path: Path
) -> None:
    """The synthetic nation, like the real one, has the Isles of Scilly (E06000053) in
    Cornwall and Isles of Scilly's area (E06000052) in 2015-16."""
    raw = tmp_path / "raw"
    raw.mkdir()
    rows = [{"area_code": code} for code in ("E06000053", "E06000053", "E06000052", "E0600005")]
    (raw / "spells.csv").write_text(csv_text("spells", rows), encoding="utf-8")

    code, out, err = run("data", "ingest", raw, "--data-dir", tmp_path / "data", "--json")
    assert code == 0, err
    (spells,) = json.loads(out)["kinds"]
    assert (spells["accepted"], spells["quarantined"]) == (3, 1)
    assert spells["mapped"] == {"E06000053 to E06000052": 2}
    unknown = "area_code: is not an area of this year's geography, nor a council merged into one"
    assert spells["reasons"] == {unknown: 1}

    code, _, err = run("data", "ingest", raw, "--data-dir", tmp_path / "data")
    assert code == 0
    said = " ".join(err.split())
    assert (
        "spells: 2 coded E06000053, a council merged into E06000052: counted in E06000052" in said
    )


def test_the_pseudonym_key_comes_from_the_environment_or_a_private_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CAREPOOL_PSEUDONYM_KEY", "x" * 40)
    assert pseudonym_key(tmp_path) == b"x" * 40
    assert not (tmp_path / "pseudonym_key").exists()
    monkeypatch.delenv("CAREPOOL_PSEUDONYM_KEY")
    made = pseudonym_key(tmp_path)
    assert len(made) >= 32 and re.fullmatch(rb"[A-Za-z0-9_-]+", made)
    assert stat.S_IMODE((tmp_path / "pseudonym_key").stat().st_mode) == 0o600
    assert pseudonym_key(tmp_path) == made


def test_metrics_compute_prints_every_area_and_stores_the_values(
    areas_stored: Engine, key: bytes, tmp_path: Path
) -> None:
    raw, data = tmp_path / "raw", tmp_path / "data"
    assert run("data", "generate", raw, "--scale", SCALE)[0] == 0
    assert run("data", "ingest", raw, "--data-dir", data)[0] == 0

    code, out, err = run("metrics", "compute", "--data-dir", data, "--json")
    assert code == 0, err
    result = json.loads(out)
    vintage = json.loads((data / "manifest.json").read_text(encoding="utf-8"))["vintage"]
    assert (result["engine"], result["data_vintage"], result["stored"]) == ("duckdb", vintage, True)
    values = result["values"]
    keys = {"metric", "area_code", "period", "numerator", "denominator", "value", "complete"}
    assert keys <= set(values[0])
    yearly = [
        v for v in values if v["metric"] == "non_elective_admissions" and v["grain"] == "year"
    ]
    assert len({v["area_code"] for v in yearly}) == 151
    assert {(v["period"], v["complete"]) for v in yearly} == {("2015-16", True)}  # a whole year
    with unit_of_work(areas_stored) as session:
        area = yearly[0]["area_code"]
        stored = metric_results.series(session, "non_elective_admissions", area, Grain.YEAR)
    assert [(str(v.value), v.complete) for v in stored.values] == [
        (v["value"], v["complete"]) for v in yearly if v["area_code"] == area
    ]


def test_metrics_compute_on_a_folder_that_is_not_a_data_directory_says_so(
    areas_stored: Engine, key: bytes, tmp_path: Path
) -> None:
    with pytest.raises(CarepoolError, match="not a carepool data directory"):
        run("metrics", "compute", "--data-dir", tmp_path)


def test_metrics_compute_restores_a_data_directory_left_half_swapped_by_a_killed_ingest(
    areas_stored: Engine, key: bytes, tmp_path: Path
) -> None:
    raw, data = tmp_path / "raw", tmp_path / "data"
    assert run("data", "generate", raw, "--scale", SCALE)[0] == 0
    assert run("data", "ingest", raw, "--data-dir", data)[0] == 0
    vintage = json.loads((data / "manifest.json").read_text(encoding="utf-8"))["vintage"]
    # What a kill between the two renames leaves: the data aside, the new one still staged.
    data.rename(tmp_path / ".data.1234abcd.old")
    (tmp_path / ".data.x1y2z3.staging" / "spells").mkdir(parents=True)

    code, out, err = run("metrics", "compute", "--no-store", "--data-dir", data, "--json")
    assert code == 0, err
    assert json.loads(out)["data_vintage"] == vintage
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == [
        ".data.x1y2z3.staging"  # an ingest might be writing it: only the next ingest removes it
    ]
    assert run("data", "ingest", raw, "--data-dir", data)[0] == 0
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
