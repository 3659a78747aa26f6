"""Importing the real reference files: 151 areas, exact populations, vintages kept apart."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from carepool.domain.errors import CarepoolError, Conflict, ImportRejected
from carepool.domain.roles import SYSTEM
from carepool.geography import service as geography
from carepool.store.db import unit_of_work
from carepool.store.models import AuditEventRow, PopulationRow, Vintage


def _import_real(engine: Engine, data: Path) -> None:
    with unit_of_work(engine) as session:
        geography.import_councils(session, data / "uk_local_authorities.csv", SYSTEM)
        geography.import_shares(
            session, data / "derived_ccg15_to_la_population_shares_mid2017.csv", SYSTEM
        )
        geography.import_populations(
            session, data / "ons_mye_mid2019_utla19_single_year_age.csv", SYSTEM
        )


def _english_total(path: Path) -> int:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = csv.DictReader(handle)
        return sum(
            int(r["total_population"]) for r in rows if next(iter(r.values())).startswith("E")
        )


def test_real_files_give_151_areas_for_2015_16(engine: Engine, shared_data: Path) -> None:
    _import_real(engine, shared_data)
    with unit_of_work(engine) as session:
        geo = geography.year_geography(session, "2015-16")
    assert len(geo.areas) == 151
    cornwall = geo.area("E06000052")
    assert cornwall.councils == ("E06000052", "E06000053")
    assert all(a.region for a in geo.areas)
    assert len({a.region for a in geo.areas}) == 9
    assert geo.populations.unmatched == {}
    assert len(geo.commissioners) == 209


def test_mid_2019_populations_match_the_source_and_report_dorset(
    engine: Engine, shared_data: Path
) -> None:
    _import_real(engine, shared_data)
    source = shared_data / "ons_mye_mid2019_utla19_single_year_age.csv"
    with unit_of_work(engine) as session:
        stored = session.scalar(select(func.sum(PopulationRow.persons)).join(Vintage).where(
            Vintage.name == "mid-2019"))  # fmt: skip
        geo = geography.year_geography(session, "2015-16", "mid-2019")
    assert stored == _english_total(source)
    assert set(geo.populations.unmatched) == {"E06000028", "E06000029", "E10000009"}
    resolved = sum(bands["all"] for bands in geo.bands.values())
    dorset_now = 0
    with source.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["utla19_code"] in {"E06000058", "E06000059"}:
                dorset_now += int(row["total_population"])
    assert resolved + dorset_now == _english_total(source)
    assert "5-9" in geo.bands["E06000052"] and "65+" in geo.bands["E06000052"]


def test_reimporting_the_same_file_changes_nothing(engine: Engine, shared_data: Path) -> None:
    _import_real(engine, shared_data)
    with unit_of_work(engine) as session:
        before = session.scalar(select(func.count()).select_from(AuditEventRow))
        outcome = geography.import_councils(
            session, shared_data / "uk_local_authorities.csv", SYSTEM
        )
        after = session.scalar(select(func.count()).select_from(AuditEventRow))
    assert outcome.created is False
    assert before == after


def test_a_newer_vintage_is_stored_beside_the_old(engine: Engine, shared_data: Path) -> None:
    _import_real(engine, shared_data)
    with unit_of_work(engine) as session:
        geography.import_populations(
            session, shared_data / "ons_mye_mid2020_utla20_single_year_age.csv", SYSTEM
        )
        names = {v.name for v in session.scalars(select(Vintage).filter_by(kind="populations"))}
        geo = geography.year_geography(session, "2015-16", "mid-2020")
    assert {"mid-2019", "mid-2020", "mid-2017 (CCG-LA shares)"} <= names
    # Northamptonshire is absent from mid-2020 and its successors are not there either.
    assert "E10000021" in geo.populations.unmatched


def test_a_bad_file_writes_nothing(engine: Engine, shared_data: Path, tmp_path: Path) -> None:
    _import_real(engine, shared_data)
    text = (shared_data / "ons_mye_mid2019_utla19_single_year_age.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    lines[5] = lines[5].replace(",", ",-", 5)  # a negative count in row 6
    broken = tmp_path / "mid2021.csv"
    broken.write_text("\n".join(lines), encoding="utf-8")
    with unit_of_work(engine) as session:
        counts = session.scalar(select(func.count()).select_from(PopulationRow))
    with pytest.raises(ImportRejected) as caught, unit_of_work(engine) as session:
        geography.import_populations(session, broken, SYSTEM)
    assert any(p.row == 6 for p in caught.value.problems)
    with unit_of_work(engine) as session:
        assert session.scalar(select(func.count()).select_from(PopulationRow)) == counts
        assert session.scalars(select(Vintage).filter_by(name="mid-2021")).first() is None


def test_a_different_file_under_an_existing_name_is_refused(
    engine: Engine, shared_data: Path
) -> None:
    _import_real(engine, shared_data)
    with (
        pytest.raises(Conflict, match="already imported as vintage 'mid-2019'"),
        unit_of_work(engine) as session,
    ):
        geography.import_populations(
            session, shared_data / "ons_mye_mid2020_utla20_single_year_age.csv", SYSTEM, "mid-2019"
        )


def test_areas_need_a_councils_register(engine: Engine) -> None:
    with pytest.raises(CarepoolError, match="no councils register"), unit_of_work(engine) as s:
        geography.year_geography(s, "2015-16")
