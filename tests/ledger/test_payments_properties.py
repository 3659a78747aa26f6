"""Invariants of paying for performance, whatever the areas' emergency admissions turn out to be.

Hypothesis draws each quarter's admissions for a few pooled areas (some missing), pays the
year on them through the real services, then trues Q1 up on revised figures. Every line
conserves its pot, the national totals are the areas' amounts, the pools' books hold exactly
what was paid and balance, and drafting or paying again changes nothing.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_helpers import (
    YEAR,
    admission_ambitions,
    build_published_nation,
    pooled_areas,
    store_admissions,
)
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from carepool.domain.errors import Conflict, NotFound
from carepool.domain.ledger import Accounts, EntryKind
from carepool.domain.payment import PaymentStatus, RunAction
from carepool.domain.roles import SYSTEM
from carepool.payments import repository as payment_repo
from carepool.payments.schemas import StatusOut
from carepool.payments.service import runs as payments
from carepool.payments.service import status as standing
from carepool.pools.repository import ledger as pool_repo
from carepool.pools.service import ledger
from carepool.pools.service.ledger import PoolRow
from carepool.store.db import engine_for, unit_of_work
from carepool.store.models import AuditEventRow, LedgerEntryRow

AREAS = 3
RETAINED = "Income:PerformanceRetained"


@dataclass(frozen=True)
class Nation:
    """A SQLite file holding a few pooled areas, and each area's baseline."""

    path: Path
    baselines: dict[str, Decimal]


@pytest.fixture(scope="module")
def nation_file(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[Nation]:
    path = tmp_path_factory.mktemp("payment-props") / "nation.db"
    shutil.copyfile(sqlite_template, path)
    engine = engine_for(f"sqlite:///{path}")
    try:
        build_published_nation(engine)
        areas = pooled_areas(engine, AREAS)
        with unit_of_work(engine) as session:
            baselines = {area: admission_ambitions(session, area)[0][0] for area in areas}
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()
        engine_for.cache_clear()
    yield Nation(path, baselines)


Percentages = list[int | None]
"""Each area's admissions in each quarter as a percentage of its baseline (None: no value)."""

year_of_admissions = st.lists(
    st.one_of(st.none(), st.integers(80, 110)), min_size=4 * AREAS, max_size=4 * AREAS
)
revised_admissions = st.lists(st.integers(80, 110), min_size=4 * AREAS, max_size=4 * AREAS)
"""Revised data has a value for every area and quarter: see the last test for one without."""


def admissions(nation: Nation, drawn: Percentages) -> dict[tuple[str, int], int]:
    cells = [(area, number) for area in sorted(nation.baselines) for number in range(1, 5)]
    return {
        (area, number): int(nation.baselines[area] * share / 100)
        for (area, number), share in zip(cells, drawn, strict=True)
        if share is not None
    }


def pay_quarter(session: Session, number: int, *, final: bool = False) -> bool:
    """Draft, check, approve and pay a quarter; False when no area has a value for it."""
    try:
        run = payments.draft(session, YEAR, number, SYSTEM, final=final).run
    except NotFound:
        return False
    payments.move(session, run, RunAction.CHECK, SYSTEM)
    payments.move(session, run, RunAction.APPROVE, SYSTEM)
    payments.pay(session, run, SYSTEM)
    return True


def footprint(session: Session) -> tuple[int | None, int | None, int]:
    """What any write would change: entries, audit events and runs."""
    entries = session.scalar(select(func.count()).select_from(LedgerEntryRow))
    events = session.scalar(select(func.count()).select_from(AuditEventRow))
    return entries, events, len(payments.runs(session, YEAR))


def in_the_books(session: Session, pool: PoolRow) -> dict[str, tuple[int, int, int]]:
    """Each quarter's pot, released and retained money as the pool's performance entries
    that stand (not reversed) hold them."""
    undone = pool_repo.reversed_ids(session, pool.id)
    found: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for stored in pool_repo.entries(session, pool.id, kind=EntryKind.PERFORMANCE):
        if stored.id in undone:
            continue
        cell = found[str(stored.entry.source["quarter"])]
        for leg in stored.entry.postings:
            if leg.account == Accounts.PERFORMANCE_HELD and leg.amount > 0:
                cell[0] += leg.amount
            elif leg.account == Accounts.BANK and leg.amount > 0:
                cell[1] += leg.amount
            elif leg.account.startswith(RETAINED):
                cell[2] += leg.amount
    return {
        quarter: (pot, released, retained) for quarter, (pot, released, retained) in found.items()
    }


def assert_paid_as_shown(session: Session, paid: set[int]) -> None:
    rows = standing.status(session, YEAR)
    assert {int(r.line.quarter[-1]) for r in rows} == paid
    totals = StatusOut.of(YEAR, rows).totals
    assert totals.pot_pence == sum(r.line.pot_pence for r in rows)
    assert totals.released_pence == sum(r.line.released_pence for r in rows)
    assert totals.retained_pence == sum(r.line.retained_pence for r in rows)
    assert totals.released_pence + totals.retained_pence == totals.pot_pence
    for row in rows:
        line = row.line
        assert line.released_pence + line.retained_pence == line.pot_pence
        if line.status is not PaymentStatus.NO_DATA:
            run = payments.current_run(session, YEAR, line.quarter)
            assert run is not None and run.status == "Paid"
            [stored] = [r for r in run.lines if r.area_code == line.area_code]
            assert payment_repo.line_of(stored, line.quarter) == line
    for pool in ledger.pools(session, YEAR):
        assert ledger.balances(session, pool).get(Accounts.PERFORMANCE_HELD, 0) == 0
        shown = {
            r.line.quarter: (r.line.pot_pence, r.line.released_pence, r.line.retained_pence)
            for r in rows
            if r.line.area_code == pool.area_code
            and r.line.status is not PaymentStatus.NO_DATA
            and r.line.pot_pence
        }
        assert in_the_books(session, pool) == shown, pool.area_code
    checks = ledger.check(session, YEAR)
    assert checks and all(c.balanced and c.consistent for c in checks)


def assert_again_changes_nothing(session: Session, paid: set[int]) -> None:
    before = footprint(session)
    for number in paid:
        run = payments.run_in_play(session, YEAR, number)
        drafted = payments.draft(session, YEAR, number, SYSTEM, data_vintage=run.data_vintage,
                                 final=not run.provisional)  # fmt: skip
        assert not drafted.created and drafted.run.id == run.id
        assert payments.pay(session, run, SYSTEM).already
    assert footprint(session) == before


@given(first=year_of_admissions, revised=revised_admissions)
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_payments_conserve_money_match_the_books_and_are_paid_once(
    nation_file: Nation, first: Percentages, revised: Percentages
) -> None:
    folder = Path(tempfile.mkdtemp(prefix="payment-props-"))
    shutil.copyfile(nation_file.path, folder / "nation.db")
    engine: Engine = engine_for(f"sqlite:///{folder / 'nation.db'}")
    try:
        measured = admissions(nation_file, first)
        with unit_of_work(engine) as session:
            if measured:
                store_admissions(session, "provisional", measured)
            paid = {n for n in range(1, 5) if pay_quarter(session, n)}
        assert paid == {number for _, number in measured}
        with unit_of_work(engine) as session:
            assert_paid_as_shown(session, paid)
            assert_again_changes_nothing(session, paid)

        if 1 not in paid:
            return
        final = admissions(nation_file, revised)
        with unit_of_work(engine) as session:
            store_admissions(session, "final", final)
            assert pay_quarter(session, 1, final=True)
        with unit_of_work(engine) as session:
            assert_paid_as_shown(session, paid)
            assert_again_changes_nothing(session, paid | {1})
    finally:
        engine.dispose()
        engine_for.cache_clear()
        shutil.rmtree(folder, ignore_errors=True)


def test_a_true_up_on_a_vintage_without_a_paid_areas_value_is_refused_and_changes_nothing(
    nation_file: Nation,
) -> None:
    folder = Path(tempfile.mkdtemp(prefix="payment-props-"))
    shutil.copyfile(nation_file.path, folder / "nation.db")
    engine: Engine = engine_for(f"sqlite:///{folder / 'nation.db'}")
    first_area = sorted(nation_file.baselines)[0]
    try:
        measured = admissions(nation_file, [90] * 4 * AREAS)
        with unit_of_work(engine) as session:
            store_admissions(session, "provisional", measured)
            assert pay_quarter(session, 1)
            revised = {cell: n for cell, n in measured.items() if cell != (first_area, 1)}
            store_admissions(session, "final", revised)
        with unit_of_work(engine) as session, pytest.raises(Conflict, match=first_area):
            pay_quarter(session, 1, final=True)
        with unit_of_work(engine) as session:
            assert_paid_as_shown(session, {1})
    finally:
        engine.dispose()
        engine_for.cache_clear()
        shutil.rmtree(folder, ignore_errors=True)
