"""What only a real server can show: a payment run killed while it is being paid leaves the
ledgers, the runs and the audit log exactly as they were, and paying it again then works.

``carepool payments pay`` runs in a child process against the test's PostgreSQL database.
The test holds a lock that the child needs to move the pools' balances, so the child stops
with the run already marked paid, its audit event written and the ledger entries inserted,
all inside its one transaction; then it is killed with SIGKILL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ledger_helpers import (
    YEAR,
    admission_ambitions,
    build_published_nation,
    pooled_areas,
    store_admissions,
)
from sqlalchemy import Engine, func, select, text

from carepool.domain.payment import RunAction, RunStatus
from carepool.domain.roles import SYSTEM
from carepool.payments.service import runs as payments
from carepool.pools.service import ledger
from carepool.store.db import unit_of_work
from carepool.store.models import AuditEventRow, LedgerEntryRow

pytestmark = pytest.mark.postgres

APP = "carepool-payment-crash-test"
AREAS = 4


def on_postgres(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("this needs a PostgreSQL server")


@pytest.fixture
def approved_run(engine: Engine) -> Engine:
    """Q1's national run for a few pooled areas, each halfway to its ambition, approved."""
    on_postgres(engine)
    build_published_nation(engine)
    areas = pooled_areas(engine, AREAS)
    with unit_of_work(engine) as session:
        halfway = {}
        for area in areas:
            baselines, planned = admission_ambitions(session, area)
            halfway[(area, 1)] = int((baselines[0] + planned[0]) / 2)
        store_admissions(session, "provisional", halfway)
    with unit_of_work(engine) as session:
        run = payments.draft(session, YEAR, 1, SYSTEM).run
        payments.move(session, run, RunAction.CHECK, SYSTEM)
        payments.move(session, run, RunAction.APPROVE, SYSTEM)
    return engine


def state(engine: Engine) -> dict[str, Any]:
    """Everything paying changes: every pool's entries and balances, the runs, the audit log."""
    with unit_of_work(engine) as session:
        pools = ledger.pools(session, YEAR)
        return {
            "entries": session.scalar(select(func.count()).select_from(LedgerEntryRow)),
            "balances": {p.area_code: ledger.balances(session, p) for p in pools},
            "runs": [
                (payments.run_label(r), r.status, len(r.events), len(r.lines))
                for r in payments.runs(session, YEAR)
            ],
            "audit": {
                chain: head
                for chain, head in session.execute(
                    select(AuditEventRow.chain, func.max(AuditEventRow.sequence)).group_by(
                        AuditEventRow.chain
                    )
                )
            },
        }


def child_activity(engine: Engine) -> tuple[str, str | None] | None:
    """The child's database session: its query and what it waits for (None once gone)."""
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT query, wait_event_type FROM pg_stat_activity "
                "WHERE application_name = :app AND state <> 'idle'"
            ),
            {"app": APP},
        ).first()
    return None if row is None else (str(row[0]), row[1])


def child_holds_written(engine: Engine, table: str) -> bool:
    """The child has written rows into ``table`` in its open transaction."""
    with engine.connect() as connection:
        return bool(
            connection.execute(
                text(
                    "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE a.application_name = :app AND l.relation = CAST(:table AS regclass) "
                    "AND l.mode = 'RowExclusiveLock' AND l.granted"
                ),
                {"app": APP, "table": table},
            ).scalar()
        )


def waiting_on_balances(engine: Engine) -> bool:
    found = child_activity(engine)
    return found is not None and found[1] == "Lock" and "account_balance" in found[0]


def wait_for(condition: Callable[[], bool], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting")
        time.sleep(0.02)


def pay_in_child(engine: Engine, log: Path) -> subprocess.Popen[bytes]:
    url = engine.url.update_query_dict({"application_name": APP})
    env = {**os.environ, "CAREPOOL_DATABASE_URL": url.render_as_string(hide_password=False)}
    with log.open("w", encoding="utf-8") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", "carepool", "payments", "pay", "--quarter", "Q1"],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )


def test_killing_a_payment_run_midway_leaves_ledgers_runs_and_audit_as_they_were(
    approved_run: Engine, tmp_path: Path
) -> None:
    engine = approved_run
    before = state(engine)
    assert [r[1] for r in before["runs"]] == [RunStatus.APPROVED]
    log = tmp_path / "pay.log"
    with engine.connect() as blocker:
        blocker.execute(text("LOCK TABLE account_balance IN SHARE MODE"))  # until rollback
        child = pay_in_child(engine, log)
        try:
            wait_for(lambda: waiting_on_balances(engine) or child.poll() is not None)
            assert child.poll() is None, log.read_text(encoding="utf-8")
            for table in ("payment_run", "audit_event", "ledger_entry", "ledger_posting"):
                assert child_holds_written(engine, table), table
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
            blocker.rollback()
    assert child.returncode == -signal.SIGKILL
    wait_for(lambda: child_activity(engine) is None)
    assert state(engine) == before

    again = pay_in_child(engine, tmp_path / "again.log")
    assert again.wait(timeout=120) == 0, (tmp_path / "again.log").read_text(encoding="utf-8")
    after = state(engine)
    assert [r[1] for r in after["runs"]] == [RunStatus.PAID]
    assert after["entries"] == before["entries"] + 2 * AREAS
    with unit_of_work(engine) as session:
        checks = ledger.check(session, YEAR)
    assert len(checks) == AREAS and all(c.balanced and c.consistent for c in checks)
