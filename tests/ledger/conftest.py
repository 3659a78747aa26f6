"""Fixtures for the ledger tests: a small nation with one approved plan, and spend files."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest
from ledger_helpers import YEAR, Area, WriteSpend, approve_plan, build_published_nation, finance
from sqlalchemy import Engine

from carepool.geography.service import year_geography
from carepool.pools.service import ledger
from carepool.store.db import unit_of_work


@pytest.fixture
def nation(engine: Engine) -> Engine:
    build_published_nation(engine)
    return engine


@pytest.fixture
def area(nation: Engine) -> Area:
    """The first area of the nation, with an approved plan (proportional risk share)."""
    with unit_of_work(nation) as session:
        code = year_geography(session, YEAR).areas[0].code
        approve_plan(session, code)
    return Area(nation, code)


@pytest.fixture
def pool_area(area: Area) -> Area:
    """The same, with its pool opened."""
    with unit_of_work(area.engine) as session:
        ledger.open_pool(session, YEAR, area.code, finance(area.code))
    return area


@pytest.fixture
def write_spend(tmp_path: Path) -> WriteSpend:
    """Write a spend CSV (header added) into the test's folder."""

    def _write(name: str, rows: Iterable[Sequence[str]]) -> Path:
        path = tmp_path / name
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(("date", "scheme", "provider", "amount", "reference"))
            writer.writerows(rows)
        return path

    return _write


@pytest.fixture
def sqlite_area(sqlite_engine: Engine) -> Area:
    """An area with an approved plan on SQLite only, for tests of the engine-free shells."""
    build_published_nation(sqlite_engine)
    with unit_of_work(sqlite_engine) as session:
        code = year_geography(session, YEAR).areas[0].code
        approve_plan(session, code)
    return Area(sqlite_engine, code)
