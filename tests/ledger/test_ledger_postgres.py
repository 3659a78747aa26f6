"""What only a real server can show: a killed import leaves nothing, and writers queue.

Both tests drive the ledger from other processes or threads against the test's PostgreSQL
database, the way a finance officer's import and a second user's would meet in production.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from ledger_helpers import Area, WriteSpend, spend_rows, the_pool
from sqlalchemy import Engine, func, select, text

from carepool.domain.roles import SYSTEM
from carepool.pools.repository import ledger as repo
from carepool.pools.service import ledger
from carepool.store.db import unit_of_work
from carepool.store.models import LedgerEntryRow, SpendImportRow

pytestmark = pytest.mark.postgres

CHILD = """
import sys
from pathlib import Path
from carepool.domain.roles import SYSTEM
from carepool.pools.service import ledger
from carepool.store.db import unit_of_work

with unit_of_work() as session:
    pool = ledger.pool_for(session, "2015-16", sys.argv[1], SYSTEM)
    ledger.import_spend(session, pool, Path(sys.argv[2]), SYSTEM)
print("committed")
"""
APP = "carepool-crash-test"


def on_postgres(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("this needs a PostgreSQL server")


def state(engine: Engine, area_code: str) -> tuple[int, dict[str, int], int, int]:
    with unit_of_work(engine) as session:
        pool = the_pool(session, area_code)
        imports = session.scalar(select(func.count()).select_from(SpendImportRow)) or 0
        lines = (
            session.scalar(select(func.count()).where(LedgerEntryRow.reference.is_not(None))) or 0
        )
        return repo.entry_count(session, pool.id), ledger.balances(session, pool), imports, lines


def child_query(engine: Engine, *, active: bool = False) -> str | None:
    """What the child's database session is doing (None once it is gone, or idle if asked)."""
    state = "AND state = 'active'" if active else ""
    with engine.connect() as connection:
        return connection.execute(
            text(f"SELECT query FROM pg_stat_activity WHERE application_name = :app {state}"),
            {"app": APP},
        ).scalar()


def writing_ledger_rows(engine: Engine) -> bool:
    """The child is writing rows into the books (copying entries in, or from the stage)."""
    query = (child_query(engine, active=True) or "").lower()
    return query.startswith(("copy ledger_", "insert into ledger_"))


def wait_for(condition: object, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting")
        time.sleep(0.02)


def test_killing_an_import_midway_leaves_the_ledger_exactly_as_it_was(
    pool_area: Area, write_spend: WriteSpend
) -> None:
    on_postgres(pool_area.engine)
    big = write_spend("year.csv", spend_rows(60_000, ["S1", "S2", "S3"]))
    before = state(pool_area.engine, pool_area.code)
    url = pool_area.engine.url.update_query_dict({"application_name": APP})
    env = {**os.environ, "CAREPOOL_DATABASE_URL": url.render_as_string(hide_password=False)}
    log = big.with_suffix(".log").open("w", encoding="utf-8")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, pool_area.code, str(big)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        # Kill it once it is writing ledger rows, inside its one transaction.
        wait_for(lambda: writing_ledger_rows(pool_area.engine) or child.poll() is not None)
        assert child.poll() is None, big.with_suffix(".log").read_text(encoding="utf-8")
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        log.close()
    assert child.returncode == -signal.SIGKILL
    wait_for(lambda: child_query(pool_area.engine) is None)
    assert state(pool_area.engine, pool_area.code) == before
    with unit_of_work(pool_area.engine) as session:
        [check] = ledger.check(session)
        assert check.balanced and check.consistent


def test_simultaneous_imports_to_one_pool_queue_and_post_each_row_once(
    pool_area: Area, write_spend: WriteSpend
) -> None:
    on_postgres(pool_area.engine)
    rows = spend_rows(3_000, ["S1", "S2"])
    files = [write_spend("a.csv", rows[:2_000]), write_spend("b.csv", rows[1_000:])]
    outcomes: list[ledger.SpendOutcome] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run(path: Path) -> None:
        try:
            start.wait()
            with unit_of_work(pool_area.engine) as session:
                pool = the_pool(session, pool_area.code)
                outcomes.append(ledger.import_spend(session, pool, path, SYSTEM))
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(path,)) for path in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sorted(o.posted for o in outcomes) == [1_000, 2_000]
    assert sorted(o.skipped for o in outcomes) == [0, 1_000]
    with unit_of_work(pool_area.engine) as session:
        [check] = ledger.check(session)
        assert check.balanced and check.consistent
        assert (
            session.scalar(select(func.count()).where(LedgerEntryRow.reference.is_not(None)))
            == 3_000
        )
