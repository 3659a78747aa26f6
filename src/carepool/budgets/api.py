"""The personal budget collection in the versioned JSON API: England's or one area's figures
for a quarter, the same as the pages show.

Only aggregates are served, never a person's budget. A caller without a token (the public)
gets them after disclosure control; a national role's token, or the area's coordinator's or
pool finance officer's for their area, gets them exact (``exact`` says which).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from carepool.budgets import service
from carepool.budgets.published import CollectionOut, Counts, publish
from carepool.domain.budget_access import sees_exact_counts
from carepool.domain.errors import NotFound
from carepool.domain.periods import QUARTER_PATTERN, PeriodError, Quarter, parse_quarter
from carepool.domain.roles import SYSTEM
from carepool.pools.service import ledger
from carepool.web.auth import ApiRoute, DbSession, PublicViewer
from carepool.web.errors import API_ERROR_RESPONSES

router = APIRouter(
    prefix="/api/v1/budgets",
    tags=["personal budgets"],
    responses=API_ERROR_RESPONSES,
    route_class=ApiRoute,
)


QuarterPath = Annotated[str, Path(pattern=QUARTER_PATTERN, description="e.g. 2015-16-Q2")]


def _quarter(slug: str) -> Quarter:
    """The quarter named; one of no financial year (``2015-17-Q1``) is not found."""
    try:
        return parse_quarter(slug)
    except PeriodError as exc:
        raise NotFound(exc.message) from None


def _collection(session: DbSession, slug: str, area_code: str | None, exact: bool) -> CollectionOut:
    q = _quarter(slug)
    if area_code is not None and not any(p.area_code == area_code for p in ledger.pools(session)):
        raise NotFound(f"there is no pooled budget for {area_code!r}, so no personal budgets")
    # Read as the system: only aggregates leave, published unless the caller may see them exact.
    report = service.quarter_report(session, q.financial_year, q.number, SYSTEM, area_code)
    counts = Counts.of(report, q, area_code or "England")
    return CollectionOut.of(publish(counts, exact))


@router.get(
    "/collection/{quarter}",
    summary="England's personal budget collection for a quarter (e.g. 2015-16-Q2)",
)
def england(quarter: QuarterPath, session: DbSession, viewer: PublicViewer) -> CollectionOut:
    return _collection(session, quarter, None, sees_exact_counts(viewer, None))


@router.get(
    "/collection/{quarter}/{area}",
    summary="One area's personal budget collection for a quarter, by the area's ONS code",
)
def area_collection(
    quarter: QuarterPath, area: str, session: DbSession, viewer: PublicViewer
) -> CollectionOut:
    return _collection(session, quarter, area, sees_exact_counts(viewer, area))
