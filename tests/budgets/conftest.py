"""Fixtures for the personal budget tests: areas with open pools, and files to import.

The pools come from the ledger tests' helpers (a small nation, approved plans, pools
opened); budgets are written as CSV text in the tests themselves.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "ledger"))

from budget_files import WriteFile
from ledger_helpers import build_published_nation, pooled_areas


@pytest.fixture
def areas(engine: Engine) -> list[str]:
    """Two areas of a small nation, each with its 2015-16 pool open."""
    build_published_nation(engine)
    return pooled_areas(engine, 2)


@pytest.fixture
def sqlite_areas(sqlite_engine: Engine) -> list[str]:
    """The same on SQLite only."""
    build_published_nation(sqlite_engine)
    return pooled_areas(sqlite_engine, 2)


@pytest.fixture
def write_file(tmp_path: Path) -> WriteFile:
    """Write text (a CSV) into the test's folder."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text.strip() + "\n", encoding="utf-8")
        return path

    return _write
