"""The demo's pooled budgets: a realistic year for every approved plan, quickly."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import Engine

from carepool.demo import service as demo
from carepool.demo.ledger import demo_ledgers
from carepool.domain.ledger import EntryKind
from carepool.geography.service import year_geography
from carepool.pools.repository import ledger as repo
from carepool.pools.service import ledger
from carepool.store.db import unit_of_work


@pytest.mark.slow
def test_the_demo_runs_a_year_for_every_approved_plan(sqlite_engine: Engine) -> None:
    with unit_of_work(sqlite_engine) as session:
        demo.build_demo(session)  # runs demo_ledgers as one of its steps
    with unit_of_work(sqlite_engine) as session:
        geo = year_geography(session, "2015-16")
        assert demo_ledgers(session, geo, random.Random(2015)) == 0  # a second run adds nothing
    with unit_of_work(sqlite_engine) as session:
        opened = len(repo.all_pools(session))
        assert opened == len(ledger.approved_areas(session, "2015-16")) > 100
        checks = ledger.check(session)
        assert len(checks) == opened and all(c.balanced and c.consistent for c in checks)
        outcomes = set()
        owed = 0
        for pool in repo.all_pools(session):
            [settlement, *_] = repo.entries(session, pool.id, kind=EntryKind.SETTLEMENT)
            outcomes.add(int(settlement.entry.source["variance_pence"]) > 0)
            closed = {p.label for p in repo.closed_periods(session, pool.id)}
            assert closed == {"2015-16 Q1", "2015-16 Q2", "2015-16 Q3", "2015-16"}  # settled
            balances = ledger.balances(session, pool)
            owed += sum(
                v
                for k, v in balances.items()
                if k.startswith("Assets:Receivable") and not k.endswith(":RiskShare")
            )
        assert outcomes == {True, False}  # some pools overspent, some underspent
        assert owed > 0  # a few partners paid late or short
        assert demo_ledgers(session, geo, random.Random(2015)) == 0  # safe to run again
