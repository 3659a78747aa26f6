"""The demo's payment for performance: a year paid on provisional data, Q1 trued up on the final.

A small nation with a few pooled areas and a data directory of their emergency admissions
stands in for the demo's (which takes a minute to build): each area is halfway to its
ambition in every quarter, so the admissions the provisional extract lacks change what it
earns.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from ledger_helpers import YEAR, admission_ambitions, build_published_nation, pooled_areas
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from carepool.audit import repository as audit
from carepool.demo import payments as demo_payments
from carepool.domain.payment import RunStatus
from carepool.domain.periods import quarters
from carepool.domain.person_level import SPELLS
from carepool.domain.roles import SYSTEM
from carepool.engines.data_directory import write_records
from carepool.metrics.service import results as metric_results
from carepool.payments.service import runs as payments
from carepool.person_data import service as person_data
from carepool.person_data.files.ingest import write_manifest
from carepool.pools.service import ledger, returns, settlement
from carepool.store.db import unit_of_work
from carepool.store.models import AuditEventRow, LedgerEntryRow, MetricValueRow

AREAS = 3


def spells(area: str, count: int, first: dt.date, days: int, start: int) -> list[dict[str, object]]:
    """``count`` emergency spells of the area's residents spread evenly over ``days`` days."""
    return [
        {
            "spell_id": f"S{start + i:09d}",
            "person_id": f"p{start + i}",
            "admission_date": first + dt.timedelta(days=i * days // count),
            "discharge_date": first + dt.timedelta(days=i * days // count + 2),
            "admission_method": "non_elective",
            "primary_diagnosis": "J44.1",
            "age": 80,
            "sex": "F",
            "area_code": area,
            "discharge_destination": "usual_residence",
        }
        for i in range(count)
    ]


def halfway_data(session: Session, areas: list[str], data_dir: Path) -> str:
    """A data directory in which each area is halfway to its ambition in every quarter."""
    rows: list[dict[str, object]] = []
    for area in areas:
        baselines, planned = admission_ambitions(session, area)
        for period, baseline, plan in zip(quarters(YEAR), baselines, planned, strict=True):
            count = int((baseline + plan) / 2)
            days = (period.end - period.start).days + 1
            rows += spells(area, count, period.start, days, len(rows))
    write_records(data_dir, SPELLS, rows)
    report = person_data.IngestReport(
        vintage="f" * 64,
        data_dir=data_dir,
        kinds=(person_data.KindReport("spells", ("spells.csv",), len(rows), len(rows), 0),),
        people=len(rows),
        key_id="test",
    )
    write_manifest(data_dir, person_data.manifest(report))
    return report.vintage


def footprint(session: Session) -> tuple[int | None, ...]:
    """What building again would change: entries, audit events, runs and metric values."""
    counted = (LedgerEntryRow, AuditEventRow, MetricValueRow)
    found = tuple(session.scalar(select(func.count()).select_from(t)) for t in counted)
    return (*found, len(payments.runs(session, YEAR)))


@pytest.mark.slow
def test_the_demo_pays_the_year_provisionally_then_trues_q1_up_once(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    build_published_nation(sqlite_engine)
    areas = pooled_areas(sqlite_engine, AREAS)
    data_dir = tmp_path / "ingested"
    with unit_of_work(sqlite_engine) as session:
        final = halfway_data(session, areas, data_dir)
        for code in areas[:2]:  # settled, as the demo's ledgers leave the year
            settlement.settle(session, ledger.pool_for(session, YEAR, code, SYSTEM), SYSTEM)
    told: list[str] = []
    with unit_of_work(sqlite_engine) as session:
        built = demo_payments.build_demo_payments(session, data_dir, told.append)

    assert len(told) == demo_payments.DEMO_PAYMENTS_STEPS
    assert built.created and built.final_vintage == final != built.provisional_vintage
    assert built.paid == (*(f"{YEAR} Q{n} v1" for n in range(1, 5)), f"{YEAR} Q1 v2")
    assert {change.area_code for change in built.true_ups} == set(areas)
    assert all(change.released_change < 0 for change in built.true_ups)  # late admissions
    assert not (tmp_path / "ingested-provisional").exists()
    with unit_of_work(sqlite_engine) as session:
        runs = {payments.run_label(r): r for r in payments.runs(session, YEAR)}
        assert runs[f"{YEAR} Q1 v1"].status == RunStatus.TRUED_UP
        assert all(
            r.status == RunStatus.PAID for label, r in runs.items() if label != "2015-16 Q1 v1"
        )
        assert [r.provisional for r in runs.values()] == [True, False, True, True, True]
        events = {(e.actor, e.to_status) for r in runs.values() for e in r.events}
        assert {("national", "Draft"), ("analyst", "Checked"), ("health", "Approved")} <= events
        assert ("national", "Paid") in events
        # The metric pages and returns read the latest vintage: the final one.
        assert metric_results.latest_vintage(session, "non_elective_admissions") == final
        for code in areas[:2]:  # reopened to be paid into, then settled again
            pool = ledger.pool_for(session, YEAR, code, SYSTEM)
            assert [s.financial_year for s in returns.settlements(session, pool)] == [YEAR]
            events = [e.action for e in audit.chain(session, ledger.audit_chain(pool))]
            assert events.index("reopen") < events.index("performance_payment")
            assert events[-2:] == ["settle", "close_period"]
        checks = ledger.check(session, YEAR)
        assert len(checks) == AREAS and all(c.balanced and c.consistent for c in checks)
        before = footprint(session)

    with unit_of_work(sqlite_engine) as session:
        again = demo_payments.build_demo_payments(session, data_dir)
        assert not again.created and footprint(session) == before
