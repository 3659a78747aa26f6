"""Allocating real and synthetic nations: exact totals, versions, workflow and variation."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from carepool.allocation import service as allocation
from carepool.allocation.schemas import AllocationReport
from carepool.audit import service as audit_log
from carepool.domain.allocation import AllocationStatus
from carepool.domain.errors import CarepoolError, Forbidden, ImportRejected, StateTransitionError
from carepool.domain.roles import SYSTEM, principal
from carepool.frameworks import load_framework
from carepool.geography import service as geography
from carepool.store.db import unit_of_work


@pytest.fixture
def real_nation(engine: Engine, shared_data: Path) -> Engine:
    with unit_of_work(engine) as session:
        geography.import_councils(session, shared_data / "uk_local_authorities.csv", SYSTEM)
        geography.import_shares(
            session, shared_data / "derived_ccg15_to_la_population_shares_mid2017.csv", SYSTEM
        )
    return engine


def test_real_2015_16_allocation_adds_up_to_the_penny(real_nation: Engine) -> None:
    framework = load_framework("2015-16")
    with unit_of_work(real_nation) as session:
        run = allocation.allocate(session, "2015-16", SYSTEM)
        report = AllocationReport.of(allocation.view(session, run)).model_dump(mode="json")
    assert report["total_pence"] == framework.minimum_total == 381_400_000_000
    areas = report["areas"]
    assert len(areas) == 151
    assert sum(a["total_pence"] for a in areas) == framework.minimum_total
    for area in areas:
        assert sum(line["amount_pence"] for line in area["lines"]) == area["total_pence"]
    stream_sums: dict[str, int] = defaultdict(int)
    per_ccg: dict[str, int] = defaultdict(int)
    for area in areas:
        for line in area["lines"]:
            stream_sums[line["stream"]] += line["amount_pence"]
            if line["commissioner_code"]:
                per_ccg[line["commissioner_code"]] += line["amount_pence"]
            else:
                assert line["stream"] != "ccg_minimum"
    assert stream_sums == {s.id: sum(s.totals.values()) for s in framework.streams}
    assert len(per_ccg) == 209
    assert sum(per_ccg.values()) == 346_000_000_000


def test_allocating_again_with_the_same_inputs_reuses_the_run(real_nation: Engine) -> None:
    with unit_of_work(real_nation) as session:
        first = allocation.allocate(session, "2015-16", SYSTEM)
        second = allocation.allocate(session, "2015-16", SYSTEM)
        assert first.id == second.id
        assert len(allocation.runs(session, "2015-16")) == 1


def _table_rows(report: dict, shift: int = 0) -> list[tuple[str, ...]]:  # type: ignore[type-arg]
    """Area-level rows of a report, moving ``shift`` pence from the first area to the second."""
    rows = []
    for index, area in enumerate(report["areas"]):
        by_stream: dict[tuple[str, str], int] = defaultdict(int)
        for line in area["lines"]:
            by_stream[(line["financial_year"], line["stream"])] += line["amount_pence"]
        for (year, stream), amount in sorted(by_stream.items()):
            if stream == "ccg_minimum" and year == report["areas"][0]["lines"][0]["financial_year"]:
                amount += -shift if index == 0 else shift if index == 1 else 0
            pounds = Decimal(amount) / 100
            rows.append((year, stream, area["code"], "", f'"£{pounds:,.2f}"'))
    return rows


def test_publish_then_vary_with_a_reason_keeps_history(real_nation: Engine, tmp_path: Path) -> None:
    with unit_of_work(real_nation) as session:
        run = allocation.allocate(session, "2017-19", SYSTEM)
        with pytest.raises(StateTransitionError, match="cannot become Published"):
            allocation.move(session, run, AllocationStatus.PUBLISHED, SYSTEM)
        allocation.move(session, run, AllocationStatus.APPROVED, SYSTEM)
        allocation.move(session, run, AllocationStatus.PUBLISHED, SYSTEM)
        report = AllocationReport.of(allocation.view(session, run)).model_dump(mode="json")
    varied = _write_table(tmp_path / "varied.csv", _table_rows(report, shift=100_000))
    with pytest.raises(CarepoolError, match="needs a reason"), unit_of_work(real_nation) as s:
        allocation.import_allocation(s, "2017-19", varied, SYSTEM)
    with unit_of_work(real_nation) as session:
        second = allocation.import_allocation(
            session, "2017-19", varied, SYSTEM, reason="corrected population for two areas"
        )
        allocation.move(session, second, AllocationStatus.APPROVED, SYSTEM)
        allocation.move(session, second, AllocationStatus.PUBLISHED, SYSTEM)
    with unit_of_work(real_nation) as session:
        runs = allocation.runs(session, "2017-19")
        assert [r.status for r in runs] == ["Superseded", "Published"]
        assert runs[1].varies_id == runs[0].id
        assert runs[1].total_pence == runs[0].total_pence
        assert [e.to_status for e in runs[0].events] == [
            "Draft", "Approved", "Published", "Superseded"
        ]  # fmt: skip
        assert allocation.current_run(session, "2017-19", principal("p", "P", [])) == runs[1]


def test_only_national_admins_allocate(real_nation: Engine) -> None:
    editor = principal("area", "Area", ["area_editor:E06000052"])
    with pytest.raises(Forbidden), unit_of_work(real_nation) as session:
        allocation.allocate(session, "2015-16", editor)


def _write_table(path: Path, rows: list[tuple[str, ...]]) -> Path:
    header = "financial_year,stream,area_code,commissioner_code,amount\n"
    path.write_text(header + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_an_imported_table_must_reconcile_with_the_framework(
    real_nation: Engine, tmp_path: Path
) -> None:
    with unit_of_work(real_nation) as session:
        run = allocation.allocate(session, "2015-16", SYSTEM)
        report = AllocationReport.of(allocation.view(session, run)).model_dump(mode="json")
    rows = _table_rows(report)
    good = _write_table(tmp_path / "published.csv", rows)
    with unit_of_work(real_nation) as session:
        imported = allocation.import_allocation(session, "2015-16", good, SYSTEM)
        assert imported.method == "imported" and imported.total_pence == 381_400_000_000
        imported_id = imported.id

    short = _write_table(
        tmp_path / "short.csv", [*rows[:-1], ("2015-16", "ccg_minimum", "E99999999", "", "1")]
    )
    with pytest.raises(ImportRejected) as caught, unit_of_work(real_nation) as session:
        allocation.import_allocation(session, "2015-16", short, SYSTEM)
    assert any(p.column == "area_code" and p.row == len(rows) + 1 for p in caught.value.problems)
    with unit_of_work(real_nation) as session:
        assert allocation.runs(session, "2015-16")[-1].id == imported_id


def test_audit_verify_detects_an_edited_row(real_nation: Engine) -> None:
    with unit_of_work(real_nation) as session:
        allocation.allocate(session, "2015-16", SYSTEM)
        count, breaks = audit_log.verify(session)
    assert count >= 3 and breaks == []
    with real_nation.begin() as connection:
        connection.execute(text("UPDATE audit_event SET actor = 'mallory' WHERE sequence = 2"))
    with unit_of_work(real_nation) as session:
        _, breaks = audit_log.verify(session)
    assert [b.sequence for b in breaks] == [2]
