"""The allocation in the JSON API: the run the caller may see for a year, every version of it
(national roles), and one area's part. Published runs are open data; the rest is decided by
:func:`carepool.allocation.service.visible_run`, as on the pages."""

from __future__ import annotations

from fastapi import APIRouter

from carepool.allocation import service as allocation
from carepool.allocation.schemas import AllocationReport, AllocationRuns, AreaAllocation, RunOut
from carepool.allocation.service import visible_run
from carepool.geography.service import year_geography
from carepool.web.auth import ApiRoute, DbSession, NationalViewer, PublicViewer
from carepool.web.errors import API_ERROR_RESPONSES
from carepool.web.kit import check_year
from carepool.web.params import VersionQuery

router = APIRouter(
    prefix="/api/v1",
    tags=["allocations"],
    responses=API_ERROR_RESPONSES,
    route_class=ApiRoute,
)


@router.get("/allocations/{year}", summary="The allocation the caller may see for a year")
def allocation_report(
    year: str,
    session: DbSession,
    viewer: PublicViewer,
    version: VersionQuery = None,
) -> AllocationReport:
    run = visible_run(session, year, viewer, version=version)
    return AllocationReport.of(allocation.view(session, run))


@router.get("/allocations/{year}/runs", summary="Every version of a year's allocation (national)")
def allocation_runs(year: str, session: DbSession, viewer: NationalViewer) -> AllocationRuns:
    return AllocationRuns(
        year=check_year(year), runs=[RunOut.of(run) for run in allocation.runs(session, year)]
    )


@router.get("/allocations/{year}/areas/{code}", summary="One area's part of the allocation")
def area_allocation(
    year: str,
    code: str,
    session: DbSession,
    viewer: PublicViewer,
    version: VersionQuery = None,
) -> AreaAllocation:
    check_year(year)
    year_geography(session, year).area(code)  # an unknown area is a 404 before any run is read
    run = visible_run(session, year, viewer, version=version, area_code=code)
    return AreaAllocation.of(allocation.view(session, run), code)
