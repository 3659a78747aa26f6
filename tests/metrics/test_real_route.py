"""The README's real-data route, as a new user runs it: England's real geography and ONS
populations from ``../shared/data``, a small synthetic year of person-level records, and
every metric computed and stored for all 151 areas of 2015-16.

The 2015-16 framework's metrics divide by the ONS mid-2019 single-year-of-age estimates,
mapped back onto the 2015 areas. Bournemouth, Poole and Dorset County were reorganised in
2019 into two councils that cannot be split back exactly; their populations are apportioned
by the CCG-share populations and reported as estimates.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from carepool.domain.metric import Population
from carepool.domain.metric_catalogue import catalogue

pytestmark = pytest.mark.xdist_group("real_route")

AREAS_2015 = 151
DORSET_GROUP = {"E06000028", "E06000029", "E10000009"}


def carepool(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a child process against the test's database (set by the fixtures)."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "carepool", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def ok_json(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(ok(result))


@pytest.fixture
def real_nation(sqlite_engine: Engine, shared_data: Path, tmp_path: Path) -> Path:
    """The real 2015-16 geography imported, and a small ingested year of records."""
    ok(carepool("import", "areas", shared_data / "uk_local_authorities.csv", cwd=tmp_path))
    shares = shared_data / "derived_ccg15_to_la_population_shares_mid2017.csv"
    ok(carepool("import", "shares", shares, cwd=tmp_path))
    mid2019 = shared_data / "ons_mye_mid2019_utla19_single_year_age.csv"
    ok(carepool("import", "populations", mid2019, cwd=tmp_path))
    ok(carepool("data", "generate", "--scale", "0.005", "raw", cwd=tmp_path))
    ok(carepool("data", "ingest", "raw", cwd=tmp_path))
    return tmp_path


def test_every_metric_is_computed_and_stored_for_all_151_areas(
    real_nation: Path, sqlite_engine: Engine, shared_data: Path
) -> None:
    """Rates and counts have a value in every area; a percentage has none only where the
    area had no events to take a percentage of (a small area in a small sample)."""
    report = ok_json(carepool("metrics", "compute", "--json", cwd=real_nation))

    assert report["population_vintage"] == "mid-2019"
    assert report["skipped"] == []
    apportioned = {note.split("(")[1].split(")")[0] for note in report["notes"]}
    assert apportioned == DORSET_GROUP
    by_population = {d.id for d in catalogue() if isinstance(d.denominator, Population)}
    with sqlite_engine.connect() as connection:
        stored = connection.execute(
            text("SELECT metric, COUNT(DISTINCT area_code) FROM metric_value GROUP BY metric")
        ).all()
        areas = connection.execute(text("SELECT COUNT(DISTINCT area_code) FROM metric_value"))
        assert areas.scalar_one() == AREAS_2015
    assert {d.id for d in catalogue()} == {metric for metric, _ in stored}
    assert {metric: n for metric, n in stored if metric in by_population} == dict.fromkeys(
        by_population, AREAS_2015
    )
    # The apportioned estimates keep the reorganised group's residents exactly.
    year_population = {
        v["area_code"]: v["denominator"]
        for v in report["values"]
        if v["metric"] == "non_elective_admissions" and v["grain"] == "year"
    }
    mid2019 = shared_data / "ons_mye_mid2019_utla19_single_year_age.csv"
    with mid2019.open(newline="", encoding="utf-8") as file:
        totals = {row["utla19_code"]: int(row["total_population"]) for row in csv.DictReader(file)}
    assert sum(year_population[code] for code in DORSET_GROUP) == (
        totals["E06000058"] + totals["E06000059"]
    )


def test_populations_that_cannot_serve_everything_are_named_and_the_rest_computed(
    real_nation: Path, shared_data: Path
) -> None:
    # The CCG-share populations are in broad bands: no standardised rate can be taken.
    shares_vintage = "mid-2017 (CCG-LA shares)"
    coarse = ok_json(
        carepool(
            "metrics", "compute", "--no-store", "--population", shares_vintage, "--json",
            cwd=real_nation,
        )
    )  # fmt: skip
    standardised = {d.id for d in catalogue() if d.age_standardised}
    assert {gap["metric"] for gap in coarse["skipped"]} == standardised
    assert len(coarse["skipped"]) == AREAS_2015 * len(standardised)
    assert "too coarse to standardise" in coarse["skipped"][0]["reason"]
    assert standardised.isdisjoint(v["metric"] for v in coarse["values"])
    assert len({v["area_code"] for v in coarse["values"]}) == AREAS_2015

    # The mid-2020 estimates have no Northamptonshire at all (their source uses 2021 codes).
    mid2020 = shared_data / "ons_mye_mid2020_utla20_single_year_age.csv"
    ok(carepool("import", "populations", mid2020, cwd=real_nation))
    lacking = ok_json(
        carepool(
            "metrics", "compute", "--no-store", "--population", "mid-2020", "--json",
            cwd=real_nation,
        )
    )  # fmt: skip
    whole_areas = [gap for gap in lacking["skipped"] if gap["metric"] is None]
    assert [gap["area_code"] for gap in whole_areas] == ["E10000021"]
    assert "Northamptonshire" in whole_areas[0]["reason"]
    assert len({v["area_code"] for v in lacking["values"]}) == AREAS_2015 - 1

    unknown = carepool("metrics", "compute", "--population", "mid-1999", cwd=real_nation)
    assert unknown.returncode == 1 and "Traceback" not in unknown.stderr
    said = " ".join(unknown.stderr.split())
    assert "no population vintage 'mid-1999'; imported: " in said and "mid-2019" in said
