"""The versioned JSON API (``/api/v1``) for machines: open data without a token, more with one.

Without a token a client is the public and sees published data only. With ``Authorization:
Bearer <token>`` it sees what the token's owner would see on the web pages; the same
:func:`carepool.web.kit.visible_run` decides. Money is integer pence (``*_pence``), never
a float. Every error is the one envelope from :mod:`carepool.web.errors`.
"""

from __future__ import annotations

from fastapi import APIRouter, Query

from carepool.allocation import service as allocation
from carepool.allocation.schemas import AllocationReport, AllocationRuns, AreaAllocation, RunOut
from carepool.domain.framework import Framework
from carepool.frameworks import available_years, load_framework
from carepool.geography.schemas import AreasReport
from carepool.geography.service import year_geography
from carepool.web.auth import DbSession, NationalViewer, PublicViewer
from carepool.web.errors import API_ERROR_RESPONSES
from carepool.web.kit import check_year, visible_run
from carepool.web.schemas.frameworks import FrameworkList, FrameworkSummary

router = APIRouter(prefix="/api/v1", tags=["v1"], responses=API_ERROR_RESPONSES)


@router.get("/frameworks", summary="The programme years that have a policy framework")
def frameworks(viewer: PublicViewer) -> FrameworkList:
    return FrameworkList(
        frameworks=[FrameworkSummary.of(load_framework(year)) for year in available_years()]
    )


@router.get("/frameworks/{year}", summary="One programme year's whole policy framework")
def framework(year: str, viewer: PublicViewer) -> Framework:
    return load_framework(check_year(year))


@router.get("/areas", summary="The year's Health and Wellbeing Board areas and populations")
def areas(
    session: DbSession,
    viewer: PublicViewer,
    year: str = Query(description="programme year, e.g. 2015-16"),
) -> AreasReport:
    return AreasReport.of(year_geography(session, check_year(year)))


@router.get("/allocations/{year}", summary="The allocation the caller may see for a year")
def allocation_report(
    year: str,
    session: DbSession,
    viewer: PublicViewer,
    version: int | None = Query(default=None, ge=1, description="a version; default the current"),
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
    version: int | None = Query(default=None, ge=1, description="a version; default the current"),
) -> AreaAllocation:
    check_year(year)
    year_geography(session, year).area(code)  # an unknown area is a 404 before any run is read
    run = visible_run(session, year, viewer, version=version, area_code=code)
    return AreaAllocation.of(allocation.view(session, run), code)
