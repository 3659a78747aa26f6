"""The quarterly collections, from the same rows the budgets and the pools' books hold.

:func:`quarter_report` counts the national personal health budget collection (live at
quarter end apart from active in the year to date, by type and eligibility group, and spend)
and the council's direct-payment measure, and proves the sub-ledger: the pools'
personal-budget accounts must equal the budgets' allocations and transactions to the penny
at the quarter's end (:func:`ledger_agreement`). Published figures go through
:mod:`carepool.domain.disclosure`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy.orm import Session

from carepool.budgets import repository as repo
from carepool.budgets.service.budgets import require_read
from carepool.domain.errors import Forbidden
from carepool.domain.periods import Quarter, financial_year, financial_year_start, quarter
from carepool.domain.personal_budget import (
    BudgetAccounts,
    Part,
    QuarterCollection,
    quarter_collection,
)
from carepool.domain.roles import Principal
from carepool.pools.service import ledger


@dataclass(frozen=True, slots=True)
class PoolAgreement:
    """One pool's personal-budget accounts against the budgets' own totals, at a day's end."""

    year: str
    area_code: str
    ledger_spend_pence: int
    budget_spend_pence: int
    ledger_allocated_pence: int
    budget_allocated_pence: int

    @property
    def agrees(self) -> bool:
        return (
            self.ledger_spend_pence == self.budget_spend_pence
            and self.ledger_allocated_pence == self.budget_allocated_pence
        )


@dataclass(frozen=True, slots=True)
class QuarterReport:
    """The quarter's collection, its area (or all England) and the sub-ledger proof."""

    area_code: str | None
    collection: QuarterCollection
    pools: tuple[PoolAgreement, ...]
    overspent: int

    @property
    def ledger_agrees(self) -> bool:
        return all(pool.agrees for pool in self.pools)


def the_quarter(year: str, number: int) -> Quarter:
    """Quarter ``number`` of financial year ``year`` (``2023-24``)."""
    return quarter(financial_year(year), number)


def quarter_report(
    session: Session, year: str, number: int, viewer: Principal, area_code: str | None = None
) -> QuarterReport:
    """The collection for a quarter, for one area or (for the national team) all of them."""
    if area_code is not None:
        require_read(viewer, area_code)
    elif not viewer.is_national:
        raise Forbidden("only the national team reports every area's budgets")
    q = the_quarter(year, number)
    start, end = financial_year_start(q.financial_year), q.period.end
    moved = repo.movements(session, end, area_code)
    spent = [m for m in moved if not m.recovery]
    collection = quarter_collection(
        q,
        repo.facts(session, start, end, area_code),
        sum(m.pence for m in spent if q.period.contains(m.day)),
        sum(m.pence for m in spent if m.day >= start),
        sum(m.pence for m in spent if m.direct_payment and q.period.contains(m.day)),
    )
    return QuarterReport(
        area_code,
        collection,
        tuple(_agreement(session, end, area_code, moved)),
        len(repo.overspent(session, area_code)),
    )


def ledger_agreement(
    session: Session, on: dt.date, area_code: str | None = None
) -> list[PoolAgreement]:
    """Each pool holding budgets: its personal-budget accounts at the end of ``on`` against
    the budgets' allocations (those started by then) less spend and recoveries."""
    return _agreement(session, on, area_code, repo.movements(session, on, area_code))


def _agreement(
    session: Session, on: dt.date, area_code: str | None, moved: list[repo.Movement]
) -> list[PoolAgreement]:
    wanted = set(repo.pool_ids_with_budgets(session, area_code))
    allocated = repo.allocated(session, on)
    spent: dict[int, int] = defaultdict(int)
    taken: dict[int, int] = defaultdict(int)
    for m in moved:
        taken[m.pool_id] += m.pence
        if not m.recovery:
            spent[m.pool_id] += m.pence
    found = []
    for pool in ledger.pools(session):
        if pool.id not in wanted:
            continue
        balance = ledger.balances(session, pool, on)
        found.append(
            PoolAgreement(
                pool.year,
                pool.area_code,
                sum(balance.get(BudgetAccounts.spend(part), 0) for part in Part),
                spent[pool.id],
                sum(balance.get(BudgetAccounts.allocated(part), 0) for part in Part),
                allocated.get(pool.id, 0) - taken[pool.id],
            )
        )
    return found
