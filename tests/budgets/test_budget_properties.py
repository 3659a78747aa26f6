"""Invariants, for any mix of budgets and transactions: each budget's parts and support plan
add up to the whole; the pools' sub-ledgers equal the budgets' totals to the penny at every
quarter end; every pool still balances."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import replace
from pathlib import Path

from budget_files import WriteFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from carepool.budgets import service
from carepool.domain.money import Pence
from carepool.domain.personal_budget import (
    BudgetTerms,
    CouncilHolding,
    Eligibility,
    NhsHolding,
    SupportPlanLine,
    budget_problems,
)
from carepool.domain.roles import SYSTEM
from carepool.pools.service import ledger
from carepool.store.db import unit_of_work
from carepool.synth.personal_budgets import (
    synthetic_budgets,
    write_budgets,
    write_transactions,
)

KEY = b"a test pseudonym key of at least thirty-two bytes"
pence = st.integers(0, 10**9)


@given(nhs=pence, council=pence, total=pence, plan=st.lists(st.integers(1, 10**9), max_size=4))
def test_a_budget_is_accepted_only_when_its_parts_and_plan_add_up(
    nhs: int, council: int, total: int, plan: list[int]
) -> None:
    terms = BudgetTerms(
        reference="PB",
        area_code="E06000001",
        person="p" * 64,
        eligibility=Eligibility.SECTION_117,
        starts=dt.date(2015, 4, 1),
        ends=dt.date(2016, 3, 31),
        review_due=dt.date(2015, 10, 1),
        total_pence=total,
        nhs_pence=nhs,
        council_pence=council,
        nhs_holding=NhsHolding.NOTIONAL if nhs else None,
        council_holding=CouncilHolding.DIRECT_PAYMENT if council else None,
        support_plan=tuple(SupportPlanLine(f"line {i}", Pence(c)) for i, c in enumerate(plan)),
    )
    accepted = not budget_problems(terms)
    assert accepted == (nhs + council == total > 0 and sum(plan) == total and bool(plan))


_runs = itertools.count()


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    count=st.integers(1, 25),
    per_budget=st.integers(1, 6),
    seed=st.integers(0, 10**6),
)
def test_the_sub_ledger_equals_the_budgets_and_the_pools_balance(
    sqlite_areas: list[str],
    sqlite_engine: Engine,
    write_file: WriteFile,
    tmp_path: Path,
    count: int,
    per_budget: int,
    seed: int,
) -> None:
    run = next(_runs)
    budgets = [
        replace(b, reference=f"R{run}-{b.reference}")
        for b in synthetic_budgets(sqlite_areas, count, seed=seed)
    ]
    budget_file = write_budgets(tmp_path / f"b{run}.csv", budgets)
    spend_file = tmp_path / f"t{run}.csv"
    write_transactions(spend_file, budgets, per_budget, seed=seed)
    with unit_of_work(sqlite_engine) as session:
        service.import_budgets(session, budget_file, SYSTEM, key=KEY)
        service.import_transactions(session, spend_file, SYSTEM)
    with unit_of_work(sqlite_engine) as session:
        for area in sqlite_areas:
            for row in service.list_budgets(session, area, SYSTEM):
                assert row.nhs_pence + row.council_pence == row.total_pence
        for number in (1, 2, 3, 4):
            report = service.quarter_report(session, "2015-16", number, SYSTEM)
            assert report.pools and report.ledger_agrees, report.pools
        year_end = service.ledger_agreement(session, dt.date(2016, 3, 31))
        assert all(pool.agrees for pool in year_end)
        assert all(check.balanced and check.consistent for check in ledger.check(session))
