"""The year's Health and Wellbeing Board areas in the JSON API: public reference data."""

from __future__ import annotations

from fastapi import APIRouter, Query

from carepool.geography.schemas import AreasReport
from carepool.geography.service import year_geography
from carepool.web.auth import ApiRoute, DbSession, PublicViewer
from carepool.web.errors import API_ERROR_RESPONSES
from carepool.web.kit import check_year

router = APIRouter(
    prefix="/api/v1",
    tags=["areas"],
    responses=API_ERROR_RESPONSES,
    route_class=ApiRoute,
)


@router.get("/areas", summary="The year's Health and Wellbeing Board areas and populations")
def areas(
    session: DbSession,
    viewer: PublicViewer,
    year: str = Query(description="programme year, e.g. 2015-16"),
) -> AreasReport:
    return AreasReport.of(year_geography(session, check_year(year)))
