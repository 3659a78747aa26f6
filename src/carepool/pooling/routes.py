"""The pooling tracker's public pages: England's share pooled, year by year and area by area,
and one area's years against the trajectory it declared.

The figures are published allocations, councils' published returns and approved plans
(which are public), so every page is public. Figures the demo invented are labelled.
"""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from carepool.domain.pooling import DEFINITION, behind_their_plans, furthest_behind, share_of
from carepool.pooling import service
from carepool.pooling.service import AreaHistory, PoolingStatus
from carepool.web.auth import DbSession, PublicViewer
from carepool.web.charts import Pair, PairedChart, paired_bar_chart
from carepool.web.kit import render

router = APIRouter(include_in_schema=False)

NOT_KNOWN = -1
"""A chart value for a share that cannot be worked out: drawn as no bar, shown as a dash."""


def percent(share: Decimal | None) -> str:
    """A share as people read it, to two places: ``6.34%``; a dash when there is none."""
    if share is None:
        return "—"
    return f"{(share * 100).quantize(Decimal('0.01'))}%"


def _points(share: Decimal | None) -> int:
    """A share in hundredths of a percentage point, the chart's integer scale."""
    return NOT_KNOWN if share is None else int(share * 10_000)


def _shown(points: int) -> str:
    return "—" if points < 0 else f"{points // 100}.{points % 100:02d}%"


def _default_year(session: DbSession) -> str:
    """The latest year with a share for any area, or the first year the tracker speaks of."""
    years = service.years(session)
    counted = [y for y in years if service.status(session, y).counted]
    return counted[-1] if counted else years[0]


@router.get("/pooling", response_class=HTMLResponse)
def pooling_national(
    request: Request, session: DbSession, viewer: PublicViewer, year: str | None = None
) -> Response:
    """England's share of health and care money pooled, and the areas furthest behind."""
    chosen = service.year_from_address(year) if year else _default_year(session)
    report = service.status(session, chosen)
    history = [service.status(session, y) for y in service.years(session)]
    counted = [a for a in report.counted]
    behind = {r.area_code for r in behind_their_plans(a.figures for a in counted)}
    context = {
        "report": report,
        "years": [h.financial_year for h in history],
        "history": history,
        "chart": _national_chart(history),
        "planned": {h.financial_year: _national_planned(h) for h in history},
        "rows": sorted(counted, key=lambda a: (a.figures.share_pooled, a.figures.area_code)),
        "furthest": [report.area(r.area_code) for r in furthest_behind(a.figures for a in counted)],
        "behind_plan": [a for a in counted if a.figures.area_code in behind],
        "without": [a for a in report.areas if a.figures.share_pooled is None],
        "definition": DEFINITION,
        "percent": percent,
    }
    return render(request, "pooling_national.html", context, viewer=viewer, session=session)


def _national_planned(report: PoolingStatus) -> Decimal | None:
    """England's planned share: areas' planned shares weighted by their money in scope."""
    weighted = [
        (a.figures.planned_share, a.figures.in_scope)
        for a in report.areas
        if a.figures.planned_share is not None and a.figures.in_scope is not None
    ]
    total = sum(in_scope for _, in_scope in weighted)
    if not total:
        return None
    return share_of(round(sum(share * in_scope for share, in_scope in weighted)), total)


def _national_chart(history: list[PoolingStatus]) -> PairedChart | None:
    pairs = [
        Pair(h.financial_year, _points(h.totals.share_pooled), _points(_national_planned(h)))
        for h in history
        if h.totals.share_pooled is not None or _national_planned(h) is not None
    ]
    if not pairs:
        return None
    return paired_bar_chart(
        "pooling-chart",
        "England: share of health and care money pooled, and areas' planned share, by year",
        "For each year the share of the money in scope that approved plans pooled, beside "
        "the share areas' trajectories planned (weighted by their money in scope). A dash "
        "is a share that cannot be worked out. The table below gives the same figures.",
        pairs,
        headings=("Year", "Share pooled", "Planned share"),
        shown=_shown,
    )


@router.get("/pooling/{area_code}", response_class=HTMLResponse)
def pooling_area(
    request: Request, area_code: str, session: DbSession, viewer: PublicViewer
) -> Response:
    """One area's share pooled, year by year, against its declared trajectory."""
    history = service.area_history(session, area_code)
    context = {
        "history": history,
        "chart": _area_chart(history),
        "definition": DEFINITION,
        "percent": percent,
        "gap": lambda share: (
            None if share is None else max(Decimal(0), history.ambition.target_share - share)
        ),
    }
    return render(request, "pooling_area.html", context, viewer=viewer, session=session)


def _area_chart(history: AreaHistory) -> PairedChart | None:
    pairs = [
        Pair(y.financial_year, _points(y.share_pooled), _points(y.planned_share))
        for y in history.years
        if y.share_pooled is not None or y.planned_share is not None
    ]
    if not pairs:
        return None
    return paired_bar_chart(
        "pooling-area-chart",
        f"{history.name}: share of health and care money pooled, and its planned share",
        "For each year the share of the area's money in scope its approved plan pooled, "
        "beside the share its trajectory planned. A dash is a share that cannot be worked "
        "out. The table below gives the same figures.",
        pairs,
        headings=("Year", "Share pooled", "Planned share"),
        shown=_shown,
    )
