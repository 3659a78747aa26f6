"""Pooled budgets in the versioned JSON API: balances, budget against actual, entries, returns.

A pool's books are not open data: every route needs a bearer token, and the token's owner
sees what they would see on the pool pages (their own pool as its finance officer, every pool
as a national role, an area's returns as its signatory). Money is integer pence
(``*_pence``), never a float. Errors are the one envelope from :mod:`carepool.web.errors`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from carepool.domain.errors import Forbidden
from carepool.domain.ledger import Entry
from carepool.services import ledger, returns
from carepool.services.ledger_reports import budget_vs_actual
from carepool.web.auth import DbSession, SignedInViewer
from carepool.web.errors import API_ERROR_RESPONSES
from carepool.web.routes import check_year

router = APIRouter(prefix="/api/v1", tags=["pools"], responses=API_ERROR_RESPONSES)

Json = dict[str, Any]


def _entry(entry_id: int, entry: Entry, created_by: str) -> Json:
    return {
        "id": entry_id,
        "date": entry.date.isoformat(),
        "kind": entry.kind.value,
        "narration": entry.narration,
        "correlation": entry.correlation,
        "reverses": entry.reverses,
        "source": dict(entry.source),
        "created_by": created_by,
        "postings": [
            {"account": p.account, "amount_pence": p.amount, "memo": p.memo} for p in entry.postings
        ],
    }


@router.get("/pools/{year}", summary="The pools the caller may see, each at a glance")
def pools(year: str, session: DbSession, viewer: SignedInViewer) -> Json:
    check_year(year)
    shown = [p for p in ledger.pools(session, year) if ledger.may_read(viewer, p.area_code)]
    if not shown and not viewer.is_national:
        raise Forbidden("pooled budgets are seen by pool finance officers and the national team")
    rows = []
    for pool in shown:
        at = returns.position(session, pool)
        rows.append(
            {
                "area_code": pool.area_code,
                "contributions_due_pence": at.due,
                "contributions_received_pence": at.received,
                "spend_pence": at.spend,
                "budget_pence": at.budget,
                "forecast_pence": at.forecast,
                "forecast_variance_pence": at.variance,
                "light": at.light.value,
                "settled": at.settled,
                "url": f"/api/v1/pools/{year}/{pool.area_code}",
            }
        )
    return {"year": year, "pools": rows}


@router.get("/pools/{year}/{area}", summary="One pool: balances and budget against actual")
def pool(year: str, area: str, session: DbSession, viewer: SignedInViewer) -> Json:
    found = ledger.pool_for(session, check_year(year), area, viewer)
    return {
        "year": found.year,
        "area_code": found.area_code,
        "host_partner": found.host_partner,
        "pool_manager": found.pool_manager,
        "risk_share": found.risk_share_kind,
        "plan_version": found.plan_version,
        "partners": dict(found.partners or {}),
        "balances": [
            {"account": name, "balance_pence": amount}
            for name, amount in ledger.balances(session, found).items()
        ],
        "budget": budget_vs_actual(session, found).as_dict(),
        "settlements": [
            {
                "financial_year": s.financial_year,
                "variance_pence": s.variance,
                "rule": s.rule,
                "shares": [
                    {"partner": x.partner, "amount_pence": x.amount, "explanation": x.explanation}
                    for x in s.shares
                ],
            }
            for s in returns.settlements(session, found)
        ],
    }


@router.get("/pools/{year}/{area}/entries", summary="The pool's entries, newest first, by page")
def entries(
    year: str,
    area: str,
    session: DbSession,
    viewer: SignedInViewer,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Json:
    found = ledger.pool_for(session, check_year(year), area, viewer)
    shown = returns.entry_page(session, found, page, per_page)
    return {
        "year": year,
        "area_code": area,
        "page": shown.page,
        "pages": shown.pages,
        "total": shown.total,
        "entries": [_entry(s.id, s.entry, s.created_by) for s in shown.entries],
    }


@router.get("/pools/{year}/{area}/returns/{quarter}", summary="A quarterly return, e.g. 2015-16-Q2")
def quarterly_return(
    year: str, area: str, quarter: str, session: DbSession, viewer: SignedInViewer
) -> Json:
    found = returns.pool_of(session, check_year(year), area, viewer)
    shown = returns.view(session, found, returns.quarter_of(found, quarter))
    return returns.return_report(shown)
