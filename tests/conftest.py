"""Fixtures shared by the whole suite.

Databases
    ``engine``        a migrated, empty database of its own for each test, once on SQLite and
                      once on PostgreSQL (the second carries ``pytest.mark.postgres``).
    ``sqlite_engine`` the same on SQLite only, for tests that need no second engine.
    ``sqlite_copy``   ``sqlite_copy(path)``: a SQLite database copied from a prepared file.
    ``empty_engine``  a blank database on both engines (not migrated), for migration tests.

``demo_db_file`` is the demo nation in a SQLite file, built once per run, for tests to copy.

``CAREPOOL_AUDIT_KEY`` is set for the whole run (``audit_key``), so every database the suite
makes, in this process or a child running the CLI in another folder, is written and verified
under one key, and no key file is made in the working directory.

While a database fixture is active, ``CAREPOOL_DATABASE_URL`` points at it, so code that
uses the default engine (the CLI, the web app) works on the test's database and never on a
``carepool.db`` in the working directory.

The schema is built once per session by :func:`carepool.store.db.migrate` into a template,
and each test gets a copy: a copied file on SQLite, ``CREATE DATABASE … TEMPLATE`` on
PostgreSQL. Nothing is shared between tests and nothing needs rolling back.

Under pytest-xdist every worker is a process with its own session: its own templates, its own
``tmp_path`` folders under a basetemp of its own, and its own uniquely named PostgreSQL
databases on the one shared server. They share only the files ``SharedFiles`` builds, which
they copy and never change. ``pytest_collection_modifyitems`` keeps some tests together on one
worker.

PostgreSQL comes from ``CAREPOOL_TEST_POSTGRES_URL`` (``make test`` starts a throwaway server
and sets it; by hand: ``scripts/test-postgres.sh start``). Without it the PostgreSQL cases
are skipped, except in CI (``CI=true``), where a missing server or missing reference data is
a failure: CI must never pass by skipping.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import NoReturn

import pytest
from filelock import FileLock
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from carepool.demo import service as demo
from carepool.store.db import engine_for, migrate, unit_of_work

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
POSTGRES_URL_VARIABLE = "CAREPOOL_TEST_POSTGRES_URL"
DATABASE_URL_VARIABLE = "CAREPOOL_DATABASE_URL"
AUDIT_KEY_VARIABLE = "CAREPOOL_AUDIT_KEY"
AUDIT_KEY = "the test suite's audit key, for its throwaway databases only"

XDIST_WORKER_VARIABLE = "PYTEST_XDIST_WORKER"

ENGINES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def unavailable(reason: str) -> NoReturn:
    """Skip a test whose prerequisite is missing; in CI, fail it instead."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: this must not be skipped in CI)", pytrace=False)
    pytest.skip(reason)


def pytest_report_header(config: pytest.Config) -> list[str]:
    postgres = os.environ.get(POSTGRES_URL_VARIABLE) or "not set: PostgreSQL cases skip"
    return [
        f"carepool: {POSTGRES_URL_VARIABLE}={postgres}",
        f"carepool: CI={'true' if in_ci() else 'false'}, shared data "
        f"{'found' if SHARED_DATA.is_dir() else 'missing'} at ../shared/data",
    ]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep heavy shared set-up on one pytest-xdist worker (``--dist loadgroup``).

    Every ``spark`` test shares one local Spark session: a JVM of its own per worker would cost
    more than the tests, and two would compete for the same cores. A browser module's tests
    share one served app and one Chromium, which a second worker would only start again.
    Serially (``-n 0``) the groups mean nothing.
    """
    for item in items:
        if item.get_closest_marker("spark"):
            item.add_marker(pytest.mark.xdist_group("spark"))
        elif item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group(f"browser-{item.path.stem}"))


@pytest.fixture(scope="session", autouse=True)
def audit_key() -> Iterator[str]:
    """One audit key for every database of the run (see the module's docstring)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(AUDIT_KEY_VARIABLE, AUDIT_KEY)
        yield AUDIT_KEY


# --------------------------------------------------------------------------------------------
# Built once for the whole run


class SharedFiles:
    """Test files that take seconds to build, built once per run however many workers there are.

    ``shared_files("demo.db", build)`` calls ``build(path)`` to write the file and returns its
    path. Serially that is all. Under pytest-xdist the file lies in the run's temporary root,
    which every worker of the run shares: the first worker to ask builds it while holding a file
    lock, and the others wait for the lock rather than build it again. A build that fails
    leaves no file behind for the next worker to trust. Tests copy these files; none changes
    one.
    """

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self.factory = factory
        self.worker = os.environ.get(XDIST_WORKER_VARIABLE)

    def __call__(self, name: str, build: Callable[[Path], None]) -> Path:
        if self.worker is None:
            path = self.factory.mktemp(name) / name
            build(path)
            return path
        root = self.factory.getbasetemp().parent  # the run's root, above each worker's own
        folder, built = root / f"shared-{name}", root / f"shared-{name}.built"
        with FileLock(root / f"shared-{name}.lock"):
            if not built.exists():
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir()
                build(folder / name)
                built.touch()
        return folder / name


@pytest.fixture(scope="session")
def shared_files(tmp_path_factory: pytest.TempPathFactory) -> SharedFiles:
    """Build slow test files once per run, even across pytest-xdist workers (`SharedFiles`)."""
    return SharedFiles(tmp_path_factory)


def _build_demo(path: Path) -> None:
    engine = engine_for(f"sqlite:///{path}")
    try:
        migrate(engine)
        with unit_of_work(engine) as session:
            demo.build_demo(session)
        with engine.connect() as connection:
            # Fold the write-ahead log into the main file so a copy of that file is complete.
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        _forget(engine)


@pytest.fixture(scope="session")
def demo_db_file(shared_files: SharedFiles) -> Path:
    """The demo (``carepool demo``'s synthetic nation) in a SQLite file, for tests to copy."""
    return shared_files("demo.db", _build_demo)


# --------------------------------------------------------------------------------------------
# SQLite


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    engine = engine_for(f"sqlite:///{path}")  # the engine settings the application uses
    try:
        migrate(engine)
        with engine.connect() as connection:
            # Fold the write-ahead log into the main file so a copy of that file is complete.
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        _forget(engine)
    return path


def _sqlite_database(tmp_path: Path, template: Path | None) -> Iterator[Engine]:
    path = tmp_path / "carepool-test.db"
    if template is not None:
        shutil.copyfile(template, path)
    url = f"sqlite:///{path}"
    engine = engine_for(url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(DATABASE_URL_VARIABLE, url)
        try:
            yield engine
        finally:
            _forget(engine)


# --------------------------------------------------------------------------------------------
# PostgreSQL


class PostgresServer:
    """The test server: makes and drops a uniquely named database per test."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.admin = create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        try:
            with self.admin.connect() as connection:
                connection.execute(text("SELECT 1"))
                self.version = connection.dialect.server_version_info or (0,)
        except OperationalError as error:
            self.admin.dispose()
            pytest.fail(
                f"{POSTGRES_URL_VARIABLE} is set but the server does not answer: {error}",
                pytrace=False,
            )

    def url_for(self, database: str) -> str:
        return self.url.set(database=database).render_as_string(hide_password=False)

    def create(self, prefix: str, template: str | None = None) -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        sql = f'CREATE DATABASE "{name}"'
        if template is not None:
            sql += f' TEMPLATE "{template}"'
            if self.version >= (15,):
                # Copying the files is several times faster than WAL-logging every block.
                sql += " STRATEGY FILE_COPY"
        with self.admin.connect() as connection:
            connection.exec_driver_sql(sql)
        return name

    def drop(self, name: str) -> None:
        force = " WITH (FORCE)" if self.version >= (13,) else ""
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"{force}')

    def close(self) -> None:
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        unavailable(
            f"PostgreSQL tests need {POSTGRES_URL_VARIABLE} "
            "(run `make test`, or `scripts/test-postgres.sh start` and export its URL)"
        )
    server = PostgresServer(url)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> Iterator[str]:
    """A migrated database that each test's database is created from."""
    name = postgres_server.create("carepool_template")
    try:
        engine = engine_for(postgres_server.url_for(name))
        try:
            migrate(engine)
        finally:
            _forget(engine)  # a template must have no open connections
        yield name
    finally:
        postgres_server.drop(name)


def _postgres_database(server: PostgresServer, template: str | None) -> Iterator[Engine]:
    name = server.create("carepool_test", template)
    url = server.url_for(name)
    try:
        engine = engine_for(url)
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(DATABASE_URL_VARIABLE, url)
            try:
                yield engine
            finally:
                _forget(engine)
    finally:
        server.drop(name)


# --------------------------------------------------------------------------------------------
# The fixtures tests use


def _forget(engine: Engine) -> None:
    """Close the engine's connections and drop it from ``engine_for``'s cache.

    Every test has its own URL, so a cached engine would never be reused; keeping hundreds of
    them would only hold connections (and raise ResourceWarnings when collected).
    """
    engine.dispose()
    engine_for.cache_clear()


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty database of the test's own, on each engine."""
    if request.param == "sqlite":
        yield from _sqlite_database(tmp_path, request.getfixturevalue("sqlite_template"))
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        yield from _postgres_database(server, request.getfixturevalue("postgres_template"))


@pytest.fixture
def sqlite_engine(tmp_path: Path, sqlite_template: Path) -> Iterator[Engine]:
    """A migrated, empty SQLite database of the test's own."""
    yield from _sqlite_database(tmp_path, sqlite_template)


@pytest.fixture
def sqlite_copy(tmp_path: Path) -> Iterator[Callable[[Path], Engine]]:
    """Make the test's SQLite database a copy of a given file (a prepared world, say), as
    ``sqlite_engine`` copies the empty template: ``engine = sqlite_copy(path)``."""
    with ExitStack() as stack:
        yield lambda source: stack.enter_context(contextmanager(_sqlite_database)(tmp_path, source))


@pytest.fixture(params=ENGINES)
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A blank database of the test's own (no tables), on each engine."""
    if request.param == "sqlite":
        yield from _sqlite_database(tmp_path, None)
    else:
        yield from _postgres_database(request.getfixturevalue("postgres_server"), None)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real public reference data in ``../shared/data`` (not shipped in the repository)."""
    if not SHARED_DATA.is_dir():
        unavailable(f"reference data not found at {SHARED_DATA}")
    return SHARED_DATA


# --------------------------------------------------------------------------------------------
# The fuzz suite's tally (tests/fuzz), printed at the end of every run that ran it


FUZZ_OUTCOMES = ("tried", "refused cleanly", "accepted", "database unchanged")
FUZZ_TALLY_KEY = "fuzz"
_fuzz_tally: Counter[str] = Counter()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Add up the outcomes the fuzz cases report, from this process or an xdist worker."""
    if report.when != "call":
        return
    for key, counts in report.user_properties:
        if key == FUZZ_TALLY_KEY and isinstance(counts, dict):
            _fuzz_tally.update(counts)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _fuzz_tally["tried"]:
        return
    terminalreporter.section("fuzz: malformed import files")
    terminalreporter.write_line(", ".join(f"{n} {_fuzz_tally[n]}" for n in FUZZ_OUTCOMES))
