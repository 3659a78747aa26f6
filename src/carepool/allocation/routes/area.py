"""One Health and Wellbeing Board area: who it is, its people, and what it was allocated.

The area's geography and population are public reference data. Its allocation is shown from
the published run, except that the area's own people (and national roles) also see a draft
before it is published; nobody else ever sees another area's draft.
"""

from __future__ import annotations

from collections import defaultdict

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from carepool.allocation import service as allocation
from carepool.allocation.service import OPEN_STATUSES, AllocationView, may_see, visible_run
from carepool.domain.allocation import AllocationLine
from carepool.domain.errors import NotFound
from carepool.domain.geography import BROAD_BANDS, FIVE_YEAR_BANDS, Area, band_label
from carepool.domain.roles import Principal
from carepool.frameworks import available_years
from carepool.geography.service import YearGeography, council_names, year_geography
from carepool.web.auth import DbSession, PublicViewer
from carepool.web.charts import population_chart
from carepool.web.kit import check_year, render
from carepool.web.params import VersionQuery

router = APIRouter(include_in_schema=False)

PAYERS = {"commissioner": "NHS commissioners", "council": "Council"}
COUNCIL_PAYER = "The council"


def _councils(session: Session, geo: YearGeography, area: Area) -> list[tuple[str, str]]:
    names = council_names(session, geo)
    return [(code, names.get(code, code)) for code in area.councils]


def _population(geo: YearGeography, area: Area) -> dict[str, object] | None:
    bands = geo.bands.get(area.code)
    if not bands:
        return None
    broad = [(band.value, bands[band.value]) for band in BROAD_BANDS if band.value in bands]
    five_year = [
        (band_label(lo, hi), bands[band_label(lo, hi)])
        for lo, hi in FIVE_YEAR_BANDS
        if band_label(lo, hi) in bands
    ]
    chart = population_chart("population", area.name, five_year) if five_year else None
    return {"broad": broad, "all": bands["all"], "chart": chart}


def _payer_rows(shown: AllocationView, lines: list[AllocationLine]) -> list[dict[str, object]]:
    """The area's money by who pays it: each NHS commissioner, then the council."""
    by_payer: dict[str | None, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for line in lines:
        by_payer[line.commissioner_code][line.stream] += line.amount
    rows: list[dict[str, object]] = []
    for code in sorted(by_payer, key=lambda c: (c is None, c or "")):
        commissioner = shown.geo.commissioners.get(code or "")
        rows.append(
            {
                "code": code,
                "name": commissioner.name if commissioner else (code or COUNCIL_PAYER),
                "by_stream": dict(by_payer[code]),
                "total": sum(by_payer[code].values()),
            }
        )
    return rows


def _allocation(
    shown: AllocationView, area: Area, viewer: Principal, explicit: bool
) -> dict[str, object]:
    lines = shown.area_lines(area.code)
    by_year: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for line in lines:
        by_year[line.stream][line.financial_year] += line.amount
    stream_rows = [
        {"name": s.name, "payer": PAYERS[s.payer.value], "by_year": dict(by_year[s.id])}
        for s in shown.geo.framework.streams
    ]
    run = shown.run
    return {
        "run": run,
        "total": sum(line.amount for line in lines),
        "stream_rows": stream_rows,
        "payer_rows": _payer_rows(shown, lines),
        "version_query": f"?version={run.version}" if explicit else "",
        "whole_run_visible": may_see(run, viewer),
    }


def _visible_allocation(
    session: Session, year: str, viewer: Principal, area: Area, version: int | None
) -> AllocationView | None:
    try:
        run = visible_run(session, year, viewer, version=version, area_code=area.code)
    except NotFound:
        if version is not None:
            raise
        return None
    return allocation.view(session, run)


@router.get("/areas/{code}", response_class=HTMLResponse)
def area_page(
    request: Request,
    code: str,
    session: DbSession,
    viewer: PublicViewer,
    year: str | None = None,
    version: VersionQuery = None,
) -> Response:
    chosen = check_year(year or allocation.allocated_years(session)[-1])
    geo = year_geography(session, chosen)
    area = geo.area(code)
    shown = _visible_allocation(session, chosen, viewer, area, version)
    explicit = shown is not None and (version is not None or shown.run.status not in OPEN_STATUSES)
    population = _population(geo, area)
    context = {
        "framework": geo.framework,
        "area": area,
        "councils": _councils(session, geo, area),
        "allocation": _allocation(shown, area, viewer, explicit) if shown else None,
        "population": population,
        "population_vintage": geo.population_vintage.name if geo.population_vintage else "",
        "population_missing": geo.populations.unmatched.get(
            area.code, "No population figures have been imported for this area."
        ),
        "other_years": [y for y in available_years() if y != chosen],
    }
    return render(request, "area.html", context, viewer=viewer, synthetic=geo.synthetic)
