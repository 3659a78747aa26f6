"""Computed metric values in the versioned JSON API, under the same publication control as the
pages: without a token (or with a token whose owner holds no national role) small counts are
withheld (``null``) and other counts rounded; a national role's token gets the exact figures.
Values are exact decimal text, never floats.
"""

from __future__ import annotations

from fastapi import APIRouter, Query

from carepool.domain.metric_value import Grain
from carepool.metrics.schemas import AreaMetricValues
from carepool.metrics.service import pages as metric_pages
from carepool.web.auth import ApiRoute, DbSession, PublicViewer
from carepool.web.errors import API_ERROR_RESPONSES

router = APIRouter(
    prefix="/api/v1",
    tags=["metrics"],
    responses=API_ERROR_RESPONSES,
    route_class=ApiRoute,
)


@router.get("/metrics/{area_code}", summary="An area's computed metric values over time")
def area_metric_values(
    area_code: str,
    session: DbSession,
    viewer: PublicViewer,
    metric: str | None = Query(default=None, description="one metric id; default every metric"),
    grain: Grain = Query(default=Grain.MONTH, description="month, quarter or year"),
) -> AreaMetricValues:
    found = metric_pages.area_values(session, area_code, grain, viewer, metric=metric)
    return AreaMetricValues.of(found)
