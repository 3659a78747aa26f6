"""Fixtures for the pool pages: the demo with a year of pooled budgets, built once.

``pool_db_file`` copies the demo and gives every approved 2015-16 plan a pool with a year of
books (:func:`carepool.demo.ledger.demo_ledgers`, unless the demo already has them).
For the demo ``finance`` user's own pool it then reopens the settled year — late March
invoices are expected — so that its fourth quarter can take more spend and the year can be
settled from the pages. It adds the Health and Wellbeing Board's signatory for that area (``hwb``)
and a finance officer for another area (``finance-other``). Passwords are the demo password.

A test module uses them with ``pytest_plugins = ("pool_fixtures",)``, importing names from
here only under ``TYPE_CHECKING`` (importing the module first would stop pytest rewriting its
asserts).
"""

from __future__ import annotations

import csv
import random
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from carepool.accounts import service as accounts
from carepool.demo import service as demo
from carepool.demo.ledger import demo_ledgers
from carepool.domain.roles import SYSTEM
from carepool.geography.service import year_geography
from carepool.pools.repository import ledger as repo
from carepool.pools.service import ledger, settlement
from carepool.store.db import engine_for, unit_of_work

YEAR = "2015-16"
HWB = "hwb"
OTHER_FINANCE = "finance-other"
"""The council's own adult social care spend: down in 2015-16, while the NHS transfer rose."""


@dataclass(frozen=True, slots=True)
class PoolWorld:
    """Areas the pool tests use."""

    own: str  # the ``finance`` user's area: a year of books, settled year reopened
    own_name: str
    other: str  # another area with a pool (settled), which ``finance`` must not see
    other_name: str
    no_pool: str  # an area whose plan is not approved, so it has no pool
    schemes: tuple[str, ...]  # the own pool's scheme references
    hwb: str = HWB  # the board's signatory for ``own``
    other_finance: str = OTHER_FINANCE  # the finance officer for ``other``


SpendWriter = Callable[[str, Iterable[Sequence[str]]], Path]


def write_spend(path: Path, rows: Iterable[Sequence[str]]) -> Path:
    """A spend CSV with its header row."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(("date", "scheme", "provider", "amount", "reference"))
        writer.writerows(rows)
    return path


def _copy(source: Path, folder: Path) -> Engine:
    target = folder / "carepool.db"
    shutil.copyfile(source, target)
    return engine_for(f"sqlite:///{target}")


def _close(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()


def _build(engine: Engine, folder: Path) -> PoolWorld:
    with unit_of_work(engine) as session:
        geo = year_geography(session, YEAR)
        if not repo.all_pools(session, YEAR):
            demo_ledgers(session, geo, random.Random(2015))
        finance = accounts.find_user(session, "finance")
        assert finance is not None
        own = next(g.area_code for g in finance.grants if g.area_code)
        assert own is not None
        pooled = {p.area_code for p in repo.all_pools(session, YEAR)}
        other = next(code for code in sorted(pooled) if code != own)
        no_pool = next(a.code for a in geo.areas if a.code not in pooled)
        pool = ledger.pool_for(session, YEAR, own, SYSTEM)
        settlement.reopen(session, pool, SYSTEM, "late March invoices expected")
        accounts.create_user(
            session, HWB, demo.DEMO_PASSWORD, [f"area_signatory:{own}:HWB"], SYSTEM,
            "Chair of the Health and Wellbeing Board",
        )  # fmt: skip
        accounts.create_user(
            session, OTHER_FINANCE, demo.DEMO_PASSWORD, [f"pool_finance:{other}"], SYSTEM
        )
        schemes = tuple(s.ref for s in ledger.plan_content(session, pool).schemes)
        return PoolWorld(own, geo.area(own).name, other, geo.area(other).name, no_pool, schemes)


@pytest.fixture(scope="session")
def pool_db_file(
    demo_db_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, PoolWorld]:
    folder = tmp_path_factory.mktemp("pools")
    engine = _copy(demo_db_file, folder)
    world = _build(engine, folder)
    _close(engine)
    return folder / "carepool.db", world


@pytest.fixture(scope="session")
def pool_world(pool_db_file: tuple[Path, PoolWorld]) -> PoolWorld:
    return pool_db_file[1]


@pytest.fixture(scope="module")
def pool_engine(
    pool_db_file: tuple[Path, PoolWorld], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """The pool world: this module's copy, for tests that only read."""
    engine = _copy(pool_db_file[0], tmp_path_factory.mktemp("pools-copy"))
    yield engine
    engine.dispose()


@pytest.fixture
def fresh_pool_engine(pool_db_file: tuple[Path, PoolWorld], tmp_path: Path) -> Iterator[Engine]:
    """A copy of the pool world for one test that changes it."""
    engine = _copy(pool_db_file[0], tmp_path)
    yield engine
    engine.dispose()


@pytest.fixture
def spend_file(tmp_path: Path) -> SpendWriter:
    """Write a spend CSV (header added) into the test's folder: ``spend_file(name, rows)``."""
    return lambda name, rows: write_spend(tmp_path / name, rows)
