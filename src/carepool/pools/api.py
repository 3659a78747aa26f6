"""Pooled budgets in the versioned JSON API: balances, budget against actual, entries, returns.

A pool's books are not open data: every route needs a bearer token, and the token's owner
sees what they would see on the pool pages (their own pool as its finance officer, every pool
as a national role, an area's returns as its signatory). Money is integer pence
(``*_pence``), never a float. Errors are the one envelope from :mod:`carepool.web.errors`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from carepool.domain.errors import Forbidden
from carepool.domain.periods import QUARTER_PATTERN
from carepool.pools.schemas import (
    Balance,
    BudgetReportOut,
    EntryPage,
    LedgerEntry,
    PoolList,
    PoolOut,
    PoolSummary,
    ReturnReport,
    ReturnsOverviewOut,
    Settlement,
)
from carepool.pools.service import ledger, returns
from carepool.pools.service.reports import budget_vs_actual
from carepool.web.auth import ApiRoute, DbSession, NationalViewer, SignedInViewer
from carepool.web.errors import API_ERROR_RESPONSES
from carepool.web.kit import check_year

router = APIRouter(
    prefix="/api/v1",
    tags=["pools"],
    responses=API_ERROR_RESPONSES,
    route_class=ApiRoute,
)


@router.get("/pools/{year}", summary="The pools the caller may see, each at a glance")
def pools(year: str, session: DbSession, viewer: SignedInViewer) -> PoolList:
    check_year(year)
    shown = [p for p in ledger.pools(session, year) if ledger.may_read(viewer, p.area_code)]
    if not shown and not viewer.is_national:
        raise Forbidden("pooled budgets are seen by pool finance officers and the national team")
    return PoolList(
        year=year,
        pools=[PoolSummary.of(year, returns.position(session, pool)) for pool in shown],
    )


# Declared before ``/pools/{year}/{area}``, which would otherwise take ``returns`` as an area.
@router.get(
    "/pools/{year}/returns", summary="Every area's quarterly returns: status, counts, overdue"
)
def returns_overview(year: str, session: DbSession, viewer: NationalViewer) -> ReturnsOverviewOut:
    """For the national team only. Every area of the year × every quarter, with ``counts``
    adding up to that product; an area with no pool has no returns to write ("No pool")."""
    return ReturnsOverviewOut.of(returns.overview(session, viewer, check_year(year)))


@router.get("/pools/{year}/{area}", summary="One pool: balances and budget against actual")
def pool(year: str, area: str, session: DbSession, viewer: SignedInViewer) -> PoolOut:
    found = ledger.pool_for(session, check_year(year), area, viewer)
    return PoolOut(
        year=found.year,
        area_code=found.area_code,
        host_partner=found.host_partner,
        pool_manager=found.pool_manager,
        risk_share=found.risk_share_kind,
        plan_version=found.plan_version,
        partners=dict(found.partners or {}),
        balances=[
            Balance(account=name, balance_pence=amount)
            for name, amount in ledger.balances(session, found).items()
        ],
        budget=BudgetReportOut.of(budget_vs_actual(session, found)),
        settlements=[Settlement.of(s) for s in returns.settlements(session, found)],
    )


@router.get("/pools/{year}/{area}/entries", summary="The pool's entries, newest first, by page")
def entries(
    year: str,
    area: str,
    session: DbSession,
    viewer: SignedInViewer,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 100,
) -> EntryPage:
    found = ledger.pool_for(session, check_year(year), area, viewer)
    shown = returns.entry_page(session, found, page, per_page)
    return EntryPage(
        year=year,
        area_code=area,
        page=shown.page,
        pages=shown.pages,
        total=shown.total,
        entries=[LedgerEntry.of(s) for s in shown.entries],
    )


@router.get("/pools/{year}/{area}/returns/{quarter}", summary="A quarterly return, e.g. 2015-16-Q2")
def quarterly_return(
    request: Request,
    year: str,
    area: str,
    quarter: Annotated[str, Path(pattern=QUARTER_PATTERN, description="e.g. 2015-16-Q2")],
    session: DbSession,
    viewer: SignedInViewer,
) -> ReturnReport:
    found = returns.pool_of(session, check_year(year), area, viewer)
    reader: returns.ActualsReader = request.app.state.metric_actuals
    shown = returns.view(session, found, returns.quarter_of(found, quarter), actuals=reader)
    return ReturnReport.of(shown)
