"""The versioned JSON API (``/api/v1``) for machines: open data without a token, more with one.

Without a token a client is the public and sees published data only. With ``Authorization:
Bearer <token>`` it sees what the token's owner would see on the web pages; the same
:func:`carepool.web.kit.visible_run` decides. Money is integer pence (``*_pence``), never
a float. Every error is the one envelope from :mod:`carepool.web.errors`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from carepool.allocation import service as allocation
from carepool.frameworks import available_years, load_framework
from carepool.geography.service import YearGeography, areas_report, year_geography
from carepool.web.auth import DbSession, NationalViewer, PublicViewer
from carepool.web.errors import API_ERROR_RESPONSES
from carepool.web.kit import check_year, visible_run

router = APIRouter(prefix="/api/v1", tags=["v1"], responses=API_ERROR_RESPONSES)

Json = dict[str, Any]


@router.get("/frameworks", summary="The programme years that have a policy framework")
def frameworks(viewer: PublicViewer) -> Json:
    return {
        "frameworks": [
            {
                "year": f.year,
                "name": f.name,
                "financial_years": list(f.financial_years),
                "minimum_total_pence": f.minimum_total,
                "url": f"/api/v1/frameworks/{f.year}",
            }
            for f in (load_framework(year) for year in available_years())
        ]
    }


@router.get("/frameworks/{year}", summary="One programme year's whole policy framework")
def framework(year: str, viewer: PublicViewer) -> Json:
    return load_framework(check_year(year)).model_dump(mode="json")


@router.get("/areas", summary="The year's Health and Wellbeing Board areas and populations")
def areas(
    session: DbSession,
    viewer: PublicViewer,
    year: str = Query(description="programme year, e.g. 2015-16"),
) -> Json:
    return areas_report(year_geography(session, check_year(year)))


@router.get("/allocations/{year}", summary="The allocation the caller may see for a year")
def allocation_report(
    year: str,
    session: DbSession,
    viewer: PublicViewer,
    version: int | None = Query(default=None, ge=1, description="a version; default the current"),
) -> Json:
    run = visible_run(session, year, viewer, version=version)
    return allocation.report(allocation.view(session, run))


@router.get("/allocations/{year}/runs", summary="Every version of a year's allocation (national)")
def allocation_runs(year: str, session: DbSession, viewer: NationalViewer) -> Json:
    return {
        "year": check_year(year),
        "runs": [
            {
                "version": run.version,
                "status": run.status,
                "method": run.method,
                "total_pence": run.total_pence,
                "created_by": run.created_by,
                "created_at": run.created_at.isoformat(),
                "reason": run.reason,
                "events": [
                    {
                        "from": e.from_status,
                        "to": e.to_status,
                        "actor": e.actor,
                        "at": e.at.isoformat(),
                        "comment": e.comment,
                    }
                    for e in run.events
                ],
            }
            for run in allocation.runs(session, year)
        ],
    }


def _commissioner_name(geo: YearGeography, code: str | None) -> str | None:
    commissioner = geo.commissioners.get(code or "")
    return commissioner.name if commissioner else None


@router.get("/allocations/{year}/areas/{code}", summary="One area's part of the allocation")
def area_allocation(
    year: str,
    code: str,
    session: DbSession,
    viewer: PublicViewer,
    version: int | None = Query(default=None, ge=1, description="a version; default the current"),
) -> Json:
    check_year(year)
    geo = year_geography(session, year)
    area = geo.area(code)
    run = visible_run(session, year, viewer, version=version, area_code=code)
    shown = allocation.view(session, run)
    lines = shown.area_lines(code)
    stream_totals: dict[str, int] = {}
    for line in lines:
        stream_totals[line.stream] = stream_totals.get(line.stream, 0) + line.amount
    return {
        "year": year,
        "version": run.version,
        "status": run.status,
        "synthetic": geo.synthetic,
        "area": {
            "code": area.code,
            "name": area.name,
            "region": area.region,
            "councils": list(area.councils),
        },
        "total_pence": sum(line.amount for line in lines),
        "streams": [
            {"id": s.id, "name": s.name, "total_pence": stream_totals.get(s.id, 0)}
            for s in geo.framework.streams
        ],
        "lines": [
            {
                "financial_year": line.financial_year,
                "stream": line.stream,
                "commissioner_code": line.commissioner_code,
                "commissioner_name": _commissioner_name(geo, line.commissioner_code),
                "amount_pence": line.amount,
            }
            for line in lines
        ],
    }
