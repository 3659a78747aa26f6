"""Fixtures for the web tests: the demo nation built once, copied for each module that uses it.

Building the demo takes a few seconds, so it is built once per test session into a SQLite
file and every module gets its own copy: a module can change its database without touching
another's. Tests that change state take ``fresh_engine``, a copy of their own.

``varied_engine`` adds an honest unpublished allocation: version 2 of 2015-16, imported as a
variation of the published version 1 that moves one penny of the CCG minimum from one area
to another — exactly what a national team would do to correct a published allocation.
"""

from __future__ import annotations

import csv
import re
import shutil
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from carepool.domain.allocation import AllocationStatus
from carepool.domain.roles import SYSTEM
from carepool.services import accounts, allocation, demo
from carepool.services.geography import year_geography
from carepool.store.db import engine_for, migrate, unit_of_work
from carepool.web.app import create_app

with warnings.catch_warnings():
    # Starlette's test client would rather have the httpx2 fork; plain httpx still works.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

SECRET = "test-secret-key-for-carepool-web-tests-only"
YEAR = "2015-16"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _copy_database(source: Path, folder: Path) -> Engine:
    target = folder / "carepool.db"
    shutil.copyfile(source, target)
    return engine_for(f"sqlite:///{target}")


def _close(engine: Engine) -> None:
    """Fold the write-ahead log into the file (so a copy is complete) and close connections."""
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()


@pytest.fixture(scope="session")
def demo_db_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    engine = engine_for(f"sqlite:///{path}")
    migrate(engine)
    with unit_of_work(engine) as session:
        demo.build_demo(session)
    _close(engine)
    return path


Variation = tuple[str, str]
"""The penny moved by version 2: (from this area, to this area)."""


def _vary(engine: Engine, folder: Path) -> Variation:
    """Import version 2 of 2015-16: version 1's lines with 1p moved between two areas."""
    with unit_of_work(engine) as session:
        published = allocation.current_run(session, YEAR, SYSTEM)
        assert published is not None and published.status == AllocationStatus.PUBLISHED
        lines = allocation.stored_lines(published)
    ccg = [i for i, line in enumerate(lines) if line.stream == "ccg_minimum"]
    first, last = lines[ccg[0]], lines[ccg[-1]]
    assert first.area_code != last.area_code
    table = folder / "variation.csv"
    with table.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["financial_year", "stream", "area_code", "commissioner_code", "amount"])
        for index, line in enumerate(lines):
            pence = line.amount - (1 if index == ccg[0] else 0) + (1 if index == ccg[-1] else 0)
            writer.writerow(
                [line.financial_year, line.stream, line.area_code, line.commissioner_code or "",
                 f"{pence // 100}.{pence % 100:02d}"]
            )  # fmt: skip
    with unit_of_work(engine) as session:
        run = allocation.import_allocation(
            session, YEAR, table, SYSTEM, reason="correction: one penny moved between areas"
        )
        assert run.version == 2 and run.status == AllocationStatus.DRAFT
    return first.area_code, last.area_code


@pytest.fixture(scope="session")
def varied_db_file(
    demo_db_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Variation]:
    folder = tmp_path_factory.mktemp("varied")
    engine = _copy_database(demo_db_file, folder)
    variation = _vary(engine, folder)
    _close(engine)
    return folder / "carepool.db", variation


@pytest.fixture(scope="module")
def demo_engine(demo_db_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The demo as built (2015-16 and 2017-19 published), this module's copy."""
    engine = _copy_database(demo_db_file, tmp_path_factory.mktemp("demo-copy"))
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def varied_engine(
    varied_db_file: tuple[Path, Variation], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """The demo plus a draft version 2 of 2015-16, this module's copy."""
    engine = _copy_database(varied_db_file[0], tmp_path_factory.mktemp("varied-copy"))
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def variation(varied_db_file: tuple[Path, Variation]) -> Variation:
    return varied_db_file[1]


@pytest.fixture
def fresh_engine(varied_db_file: tuple[Path, Variation], tmp_path: Path) -> Iterator[Engine]:
    """A copy of the varied demo for one test that changes it."""
    engine = _copy_database(varied_db_file[0], tmp_path)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def area_codes(demo_engine: Engine) -> tuple[str, str]:
    """The demo ``area`` user's own area, and another area it has no rights over."""
    with unit_of_work(demo_engine) as session:
        user = accounts.find_user(session, "area")
        assert user is not None
        own = next(g.area_code for g in user.grants if g.area_code)
        geo = year_geography(session, YEAR)
    other = next(a.code for a in geo.areas if a.code != own)
    assert own is not None
    return own, other


def _csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def _sign_in(client: TestClient, username: str, password: str = demo.DEMO_PASSWORD) -> None:
    form = client.get("/sign-in")
    response = client.post(
        "/sign-in",
        data={"csrf_token": _csrf_of(form.text), "username": username, "password": password},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


@pytest.fixture(scope="session")
def csrf_of() -> Callable[[str], str]:
    """Read the CSRF token out of a page, as a browser posting its form would send it."""
    return _csrf_of


@pytest.fixture(scope="session")
def sign_in() -> Callable[..., None]:
    """Sign a client in through the real form (``sign_in(client, username[, password])``)."""
    return _sign_in


ClientFor = Callable[..., TestClient]


@pytest.fixture
def client_for() -> Iterator[ClientFor]:
    """Make a test client over an engine, signed in as ``username`` (or the public)."""
    made: list[TestClient] = []

    def make(engine: Engine, username: str | None = None, **options: object) -> TestClient:
        client = TestClient(create_app(engine, SECRET), **options)  # type: ignore[arg-type]
        made.append(client)
        if username:
            _sign_in(client, username)
        return client

    yield make
    for client in made:
        client.close()
