"""The substitution check on the real published returns: every council placed, imports
audited, refused files leave nothing behind, and the command's JSON keeps its contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from carepool.domain.errors import CarepoolError, ImportRejected
from carepool.domain.roles import SYSTEM
from carepool.geography import service as geography
from carepool.store.db import unit_of_work
from carepool.store.models import AuditEventRow, CouncilFinanceRow, GdpDeflatorRow
from carepool.substitution import service

WIDE = "ascfr/pss_exp_2014_15_council_expenditure.csv"
LONG = "ascfr/pss_exp_2015_16_additional_data.csv"
DEFLATORS = "hmt_gdp_deflators_dec2023.csv"


def _register(engine: Engine, data: Path) -> None:
    with unit_of_work(engine) as session:
        geography.import_councils(session, data / "uk_local_authorities.csv", SYSTEM)


def _counts(engine: Engine) -> tuple[int, int, int]:
    with unit_of_work(engine) as session:
        return (
            session.scalar(select(func.count()).select_from(CouncilFinanceRow)) or 0,
            session.scalar(select(func.count()).select_from(GdpDeflatorRow)) or 0,
            session.scalar(select(func.count()).select_from(AuditEventRow)) or 0,
        )


def test_the_real_returns_import_for_all_152_councils_and_audit(
    engine: Engine, shared_data: Path
) -> None:
    _register(engine, shared_data)
    with unit_of_work(engine) as session:
        service.import_deflators(session, shared_data / DEFLATORS, SYSTEM)
        first = service.import_return(session, shared_data / WIDE, "2014-15", SYSTEM)
        bridging = service.import_return(session, shared_data / LONG, "2015-16", SYSTEM)
    assert (first.councils, first.missing, first.basis) == (152, (), "ASC-FR")
    assert (bridging.councils, bridging.basis) == (152, "bridging")
    with unit_of_work(engine) as session:
        again = service.import_return(session, shared_data / WIDE, "2014-15", SYSTEM)
        report = service.report(session)
        events = session.scalars(
            select(AuditEventRow.entity).where(
                AuditEventRow.entity.in_(["council_finance", "gdp_deflator"])
            )
        ).all()
    assert again.created is False
    assert sorted(events) == ["council_finance", "council_finance", "gdp_deflator"]
    assert len(report.councils) == 152
    cornwall, scilly = report.council("E06000052"), report.council("E06000053")
    assert cornwall.area_code == scilly.area_code == "E06000052"  # one HWB area
    cumbria = report.council("E10000006")
    base = cumbria.years[0]
    # Own-funded 2014-15 = 177,607.74 - 14,484.96 - 0 (£k) in 2015-16 prices: x 82.459/81.870.
    assert base.figures.own_funded == 16_312_278_000
    assert base.own_funded_real == round(16_312_278_000 * 82459 / 81870)
    # 2015-16 is returned on the bridging basis: shown, never compared with 2014-15.
    assert not cumbria.years[1].comparable and not cumbria.flagged


def test_a_refused_return_stores_nothing(engine: Engine, shared_data: Path, tmp_path: Path) -> None:
    _register(engine, shared_data)
    before = _counts(engine)
    text = (shared_data / WIDE).read_bytes().replace(b"102 - Cumbria", b"999 - Atlantis", 1)
    broken = tmp_path / "broken.csv"
    broken.write_bytes(text.replace(b"177607.74", b"lots", 1))
    with pytest.raises(ImportRejected) as caught, unit_of_work(engine) as session:
        service.import_return(session, broken, "2014-15", SYSTEM)
    located = {(p.row, p.column) for p in caught.value.problems}
    assert (2, "999 - Atlantis") in located
    assert _counts(engine) == before


def test_a_year_that_is_not_a_financial_year_is_refused(engine: Engine, shared_data: Path) -> None:
    _register(engine, shared_data)
    with pytest.raises(CarepoolError, match="not a financial year"), unit_of_work(engine) as s:
        service.import_return(s, shared_data / WIDE, "2014", SYSTEM)


def test_the_report_needs_deflators(engine: Engine, shared_data: Path) -> None:
    _register(engine, shared_data)
    with unit_of_work(engine) as session:
        service.import_return(session, shared_data / WIDE, "2014-15", SYSTEM)
    with pytest.raises(CarepoolError, match="import deflators"), unit_of_work(engine) as s:
        service.report(s)


def _carepool(*args: str | Path, cwd: Path) -> dict[str, object]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "carepool", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    parsed: dict[str, object] = json.loads(result.stdout)
    return parsed


def test_the_command_json_contract(
    sqlite_engine: Engine, shared_data: Path, tmp_path: Path
) -> None:
    _register(sqlite_engine, shared_data)
    _carepool("import", "deflators", shared_data / DEFLATORS, "--json", cwd=tmp_path)
    done = _carepool(
        "import", "ascfr", shared_data / WIDE, "--year", "2014-15", "--json", cwd=tmp_path
    )
    assert done["councils"] == 152 and done["created"] is True
    _carepool("import", "ascfr", shared_data / LONG, "--year", "2015-16", "--json", cwd=tmp_path)

    report = _carepool("substitution", "--json", cwd=tmp_path)

    councils = report["councils"]
    assert isinstance(councils, list) and len(councils) == 152
    cumbria = next(c for c in councils if c["code"] == "E10000006")
    assert cumbria["name"] == "Cumbria"
    first, second = cumbria["years"]
    for year in (first, second):
        assert {
            "year",
            "gross_current_expenditure_pence",
            "nhs_income_pence",
            "bcf_income_pence",
            "own_funded_real_pence",
            "flagged",
        } <= set(year)
    assert first["year"] == "2014-15" and first["gross_current_expenditure_pence"] == 17_760_774_000
    assert first["nhs_income_pence"] == 1_448_496_000 and first["bcf_income_pence"] is None
    assert isinstance(first["own_funded_real_pence"], int)
    assert second["year"] == "2015-16" and second["bcf_income_pence"] == 3_601_300_000
    assert second["flagged"] is False
    gateshead = next(c for c in councils if c["code"] == "E08000037")
    assert gateshead["years"][1]["bcf_income_pence"] is None  # not returned


def test_a_return_without_its_year_is_refused_and_nothing_stored(
    sqlite_engine: Engine, shared_data: Path, tmp_path: Path
) -> None:
    _register(sqlite_engine, shared_data)
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "carepool", "import", "ascfr", str(shared_data / WIDE)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode != 0 and "--year" in result.stderr
    assert "Traceback" not in result.stderr
    assert _counts(sqlite_engine)[0] == 0
