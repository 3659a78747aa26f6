"""The pooling tracker in the versioned JSON API: a year's every area, with the same shape as
``carepool pooling status --json``, and one area's years. Public, as the pages are; money in
integer pence, shares as decimal strings."""

from __future__ import annotations

from fastapi import APIRouter

from carepool.pooling import service
from carepool.pooling.schemas import AreaHistoryOut, PoolingStatusOut
from carepool.web.auth import ApiRoute, DbSession, PublicViewer
from carepool.web.errors import API_ERROR_RESPONSES

router = APIRouter(
    prefix="/api/v1/pooling",
    tags=["pooling"],
    responses=API_ERROR_RESPONSES,
    route_class=ApiRoute,
)


@router.get("/years/{year}", summary="Every area's share of health and care money pooled")
def pooling_year(year: str, session: DbSession, viewer: PublicViewer) -> PoolingStatusOut:
    return PoolingStatusOut.of(service.status(session, service.year_from_address(year)))


@router.get("/areas/{area_code}", summary="One area's share pooled, year by year")
def pooling_area(area_code: str, session: DbSession, viewer: PublicViewer) -> AreaHistoryOut:
    return AreaHistoryOut.of(service.area_history(session, area_code))
