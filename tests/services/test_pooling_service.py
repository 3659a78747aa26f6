"""The pooling tracker on a small synthetic nation: one area's approved plan, commissioners'
allocations of £1,000 a resident and its councils' returns give a share worked out by hand;
a refused allocation table stores nothing; the command's JSON keeps its contract."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import subprocess
import sys
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from carepool.allocation import service as allocation
from carepool.demo import service as demo
from carepool.domain.allocation import AllocationStatus
from carepool.domain.errors import ImportRejected
from carepool.domain.plan import PlanContent, PlannedShare
from carepool.domain.plan_workflow import Action
from carepool.domain.roles import SYSTEM, principal
from carepool.domain.substitution import Basis, CouncilYear
from carepool.geography.service import SyntheticInputs, load_synthetic, year_geography
from carepool.plans import service as plans
from carepool.pooling import service
from carepool.pools.service import ledger
from carepool.store.db import unit_of_work
from carepool.store.models import AuditEventRow
from carepool.store.models_pooling import CommissionerAllocationRow
from carepool.substitution import service as substitution
from carepool.synth.nation import build_nation
from carepool.synth.plans import synthetic_plan

YEAR = "2015-16"
PER_RESIDENT = 100_000  # £1,000 a resident, in pence
GROSS = 20_000_000_000  # £200m gross current expenditure for each of the area's councils
BCF_INCOME = 1_000_000_000  # £10m of it income from the Better Care Fund


def _nation(engine: Engine) -> None:
    built = build_nation(7)
    inputs = SyntheticInputs(
        demo.synthetic_vintage_name(built),
        built.councils,
        built.commissioners,
        built.shares,
        built.populations,
        demo.fingerprint(built),
    )
    with unit_of_work(engine) as session:
        load_synthetic(session, inputs, SYSTEM, "mid-2017 (CCG-LA shares)")
        run = allocation.allocate(session, YEAR, SYSTEM)
        allocation.move(session, run, AllocationStatus.APPROVED, SYSTEM)
        allocation.move(session, run, AllocationStatus.PUBLISHED, SYSTEM)


def _approve(engine: Engine, area: str, trajectory: tuple[PlannedShare, ...]) -> PlanContent:
    """Write, sign, assure and approve the area's plan, with the trajectory given."""
    editor = principal("editor", "Editor", [f"area_editor:{area}"])
    with unit_of_work(engine) as session:
        plan = plans.start(session, YEAR, area, editor)
        geo = year_geography(session, YEAR)
        facts = plans.area_facts(session, geo, area)
        content = synthetic_plan(facts.context, geo.bands[area]["all"], random.Random(area))
        content = content.model_copy(update={"trajectory": trajectory})
        plans.save(session, plan, content, plan.lock_version, editor)
        plans.act(session, plan, Action.REQUEST_SIGN_OFF, editor)
        for partner in sorted(plans.progress(plan).required_signers):
            signer = principal(f"s-{partner}", "S", [f"area_signatory:{area}:{partner}"])
            plans.act(session, plan, Action.SIGN, signer, plans.Decision(partner=partner))
        assurer = principal("assurer", "A", ["assurer"])
        plans.act(session, plan, Action.START_ASSURANCE, assurer)
        approved = plans.Decision(category="Approved")
        plans.act(session, plan, Action.RECORD_CATEGORY, assurer, approved)
        plans.act(session, plan, Action.APPROVE, principal("h", "H", ["health_approver"]))
        plans.act(session, plan, Action.APPROVE, principal("l", "L", ["lg_approver"]))
    return content


def _allocation_table(engine: Engine, path: Path) -> dict[str, int]:
    """Every commissioner's allocation at £1,000 for each of its residents; by commissioner."""
    with unit_of_work(engine) as session:
        geo = year_geography(session, YEAR)
        residents: dict[str, int] = {}
        for share in geo.shares:
            code = share.commissioner_code
            residents[code] = residents.get(code, 0) + share.population
    lines = ["commissioner_code,commissioner_name,allocation"]
    lines += [f'{code},CCG {code},"£{n * PER_RESIDENT // 100:,}"' for code, n in residents.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return residents


def _area_residents(engine: Engine, area: str) -> tuple[int, tuple[str, ...]]:
    with unit_of_work(engine) as session:
        geo = year_geography(session, YEAR)
        councils = geo.area(area).councils
        return sum(s.population for s in geo.shares if s.council_code in councils), councils


def _returns(engine: Engine, councils: tuple[str, ...]) -> None:
    years = [
        CouncilYear(c, YEAR, Basis.ASC_FR, gross_current_expenditure=GROSS, bcf_income=BCF_INCOME)
        for c in councils
    ]
    with unit_of_work(engine) as session:
        substitution.store_synthetic(session, years, {}, SYSTEM, "test returns")


@pytest.fixture
def world(sqlite_engine: Engine, tmp_path: Path) -> tuple[Engine, str, PlanContent, Path]:
    _nation(sqlite_engine)
    with unit_of_work(sqlite_engine) as session:
        area = year_geography(session, YEAR).areas[0].code
    trajectory = (PlannedShare(financial_year=YEAR, share=Decimal("0.5")),)
    content = _approve(sqlite_engine, area, trajectory)
    table = tmp_path / "ccg-allocations.csv"
    _allocation_table(sqlite_engine, table)
    _, councils = _area_residents(sqlite_engine, area)
    _returns(sqlite_engine, councils)
    return sqlite_engine, area, content, table


def test_the_share_pooled_is_worked_out_by_hand(
    world: tuple[Engine, str, PlanContent, Path],
) -> None:
    engine, area, content, table = world
    with unit_of_work(engine) as session:
        outcome = service.import_ccg_allocations(session, table, YEAR, SYSTEM)
    assert outcome.created and outcome.missing == ()
    residents, councils = _area_residents(engine, area)
    with unit_of_work(engine) as session:
        report = service.status(session, YEAR)
    row = report.area(area).figures
    # NHS side: £1,000 for each resident, whichever commissioner serves them.
    assert row.nhs_side == residents * PER_RESIDENT
    # Council side: revised gross = gross + BCF income; the BCF income is counted once.
    assert row.council_revised == len(councils) * (GROSS + BCF_INCOME)
    assert row.in_scope == residents * PER_RESIDENT + len(councils) * GROSS
    minimum = sum(c.minimum for c in content.contributions if c.financial_year == YEAR)
    additional = sum(c.additional for c in content.contributions if c.financial_year == YEAR)
    assert (row.minimum, row.additional) == (minimum, additional)
    exact = Fraction(minimum + additional, residents * PER_RESIDENT + len(councils) * GROSS)
    assert row.share_pooled == Decimal(round(exact * 10_000)) / 10_000
    assert row.planned_share == Decimal("0.5")
    assert row.behind_plan == Decimal("0.5") - row.share_pooled
    # Only the area with an approved plan and returns has a share; England's is the same.
    assert [a.figures.area_code for a in report.counted] == [area]
    assert report.totals.share_pooled == row.share_pooled
    other = next(a for a in report.areas if a.figures.area_code != area).figures
    assert other.share_pooled is None and "approved plan" in other.missing
    assert row.received is None  # no pool opened yet


def test_paid_in_is_read_from_the_pools_ledger(
    world: tuple[Engine, str, PlanContent, Path],
) -> None:
    engine, area, content, _ = world
    first = next(c for c in content.contributions if c.financial_year == YEAR and c.total)
    with unit_of_work(engine) as session:
        pool = ledger.open_pool(session, YEAR, area, SYSTEM)
        paid = dt.date(2015, 4, 20)
        ledger.record_receipt(
            session, pool, first.partner_code, first.stream, 12_345, paid, "BACS 1", SYSTEM
        )
    with unit_of_work(engine) as session:
        row = service.status(session, YEAR).area(area).figures
    assert row.received == 12_345  # the schedule posted as owed, one receipt against it


def test_a_year_returned_on_the_bridging_basis_counts_its_bridging_expenditure(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    # The published 2015-16 council-level file gives no gross current expenditure, only the
    # bridging-year expenditure: the council side uses that, marked as such.
    _nation(sqlite_engine)
    with unit_of_work(sqlite_engine) as session:
        area = year_geography(session, YEAR).areas[1].code
    _approve(sqlite_engine, area, ())
    table = tmp_path / "ccg-allocations.csv"
    _allocation_table(sqlite_engine, table)
    residents, councils = _area_residents(sqlite_engine, area)
    years = [
        CouncilYear(c, YEAR, Basis.BRIDGING, bcf_income=BCF_INCOME, bridging_expenditure=GROSS)
        for c in councils
    ]
    with unit_of_work(sqlite_engine) as session:
        substitution.store_synthetic(session, years, {}, SYSTEM, "test returns")
        service.import_ccg_allocations(session, table, YEAR, SYSTEM)
    with unit_of_work(sqlite_engine) as session:
        row = service.status(session, YEAR).area(area).figures
    assert row.council is not None and row.council.bridging
    assert row.in_scope == residents * PER_RESIDENT + len(councils) * GROSS
    assert row.planned_share is None and row.behind_plan is None


def test_the_same_table_again_changes_nothing(
    world: tuple[Engine, str, PlanContent, Path],
) -> None:
    engine, _, _, table = world
    with unit_of_work(engine) as session:
        service.import_ccg_allocations(session, table, YEAR, SYSTEM)
    with unit_of_work(engine) as session:
        again = service.import_ccg_allocations(session, table, YEAR, SYSTEM)
        events = session.scalar(
            select(func.count())
            .select_from(AuditEventRow)
            .where(AuditEventRow.entity == "commissioner_allocation")
        )
    assert again.created is False and events == 1


def _held(engine: Engine) -> tuple[int, int]:
    with unit_of_work(engine) as session:
        return (
            session.scalar(select(func.count()).select_from(CommissionerAllocationRow)) or 0,
            session.scalar(select(func.count()).select_from(AuditEventRow)) or 0,
        )


def test_bad_tables_are_refused_with_file_row_and_column_and_store_nothing(
    world: tuple[Engine, str, PlanContent, Path], tmp_path: Path
) -> None:
    engine, _, _, table = world
    with unit_of_work(engine) as session:
        service.import_ccg_allocations(session, table, YEAR, SYSTEM)
    before = _held(engine)
    lines = table.read_text(encoding="utf-8").splitlines()
    code = lines[1].split(",")[0]
    broken = tmp_path / "broken.csv"
    bad_rows = [
        'E38999999,Nowhere CCG,"£1,000"',  # row 2: unknown
        f"{code},CCG,lots",  # row 3: not money
        f"{code},CCG,£5.00",  # row 4: a repeat of row 5's commissioner
    ]
    broken.write_text("\n".join([lines[0], *bad_rows, *lines[1:]]) + "\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as caught, unit_of_work(engine) as session:
        service.import_ccg_allocations(session, broken, YEAR, SYSTEM)
    located = {(p.file, p.row, p.column) for p in caught.value.problems}
    assert ("broken.csv", 2, "commissioner_code") in located
    assert ("broken.csv", 3, "allocation") in located
    assert any(row == 5 and column == "commissioner_code" for _, row, column in located)
    assert _held(engine) == before

    no_column = tmp_path / "no-column.csv"
    no_column.write_text("commissioner_code,amount\nE38000001,£1\n", encoding="utf-8")
    with pytest.raises(ImportRejected, match="allocation") as caught, unit_of_work(engine) as s:
        service.import_ccg_allocations(s, no_column, YEAR, SYSTEM)
    assert caught.value.problems[0].row == 1
    not_a_table = tmp_path / "not-a-table.csv"
    not_a_table.write_bytes(b"\xff\xfe\x00\x01garbage")
    with pytest.raises(ImportRejected), unit_of_work(engine) as session:
        service.import_ccg_allocations(session, not_a_table, YEAR, SYSTEM)
    wrong_year = tmp_path / "wrong-year.csv"
    wrong_year.write_text(f"financial_year,{lines[0]}\n2016-17,{lines[1]}\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as caught, unit_of_work(engine) as session:
        service.import_ccg_allocations(session, wrong_year, YEAR, SYSTEM)
    assert (2, "financial_year") in {(p.row, p.column) for p in caught.value.problems}
    assert _held(engine) == before


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
    world: tuple[Engine, str, PlanContent, Path], tmp_path: Path
) -> None:
    engine, area, _, table = world
    done = _carepool("import", "ccg-allocations", table, "--year", YEAR, "--json", cwd=tmp_path)
    assert done["created"] is True and done["financial_year"] == YEAR
    report = _carepool("pooling", "status", "--year", YEAR, "--json", cwd=tmp_path)
    areas = report["areas"]
    assert isinstance(areas, list) and [a["area_code"] for a in areas] == [area]
    (row,) = areas
    assert {
        "area_code",
        "in_scope_pence",
        "pooled_pence",
        "minimum_pence",
        "share_pooled",
        "planned_share",
    } <= set(row)
    assert isinstance(row["in_scope_pence"], int) and isinstance(row["pooled_pence"], int)
    exact = Decimal(row["pooled_pence"]) / row["in_scope_pence"]
    assert abs(Decimal(row["share_pooled"]) - exact) <= Decimal("0.00005")
    assert row["planned_share"] == "0.5"
    with unit_of_work(engine) as session:
        figures = service.status(session, YEAR).area(area).figures
    assert row["share_pooled"] == str(figures.share_pooled)
