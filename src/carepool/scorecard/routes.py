"""The public's way in: find an area by name or code, then read its scorecard."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from carepool.allocation.service import allocated_years
from carepool.domain.benchmark import Verdict
from carepool.domain.geography import Area
from carepool.domain.roles import Principal
from carepool.frameworks import available_years
from carepool.geography.service import council_names, year_geography
from carepool.scorecard.history import History, area_history, national_history
from carepool.scorecard.history_charts import metric_chart, money_chart
from carepool.scorecard.service import scorecard
from carepool.scorecard.spine import VERDICT_COLOURS, spine_chart
from carepool.web.auth import DbSession, PublicViewer
from carepool.web.kit import check_year, render

router = APIRouter(include_in_schema=False)

MAX_QUERY = 100
"""Longer than any area or council name; a longer search is refused at the edge."""


def _folded(text: str) -> str:
    """Lower case without accents or punctuation, so "st helens" finds "St. Helens"."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join("".join(c if c.isalnum() else " " for c in plain.lower()).split())


def matching(areas: list[Area], councils: dict[str, str], query: str) -> list[Area]:
    """Areas whose code, name or one of whose councils' names holds every word searched."""
    words = _folded(query).split()
    found = []
    for area in areas:
        names = [area.code, area.name, *(councils.get(c, c) for c in area.councils)]
        haystack = _folded(" ".join(names))
        if all(word in haystack for word in words):
            found.append(area)
    return found


@router.get("/areas", response_class=HTMLResponse)
def find_area(
    request: Request,
    session: DbSession,
    viewer: PublicViewer,
    q: Annotated[str, Query(max_length=MAX_QUERY)] = "",
    year: str | None = None,
) -> Response:
    chosen = check_year(year or allocated_years(session)[-1])
    geo = year_geography(session, chosen)
    areas = sorted(geo.areas, key=lambda a: a.name)
    results = matching(areas, council_names(session, geo), q) if q.strip() else []
    if q.strip() and len(results) == 1:
        return RedirectResponse(f"/areas/{results[0].code}/scorecard?year={chosen}", 303)
    context = {
        "framework": geo.framework,
        "query": q,
        "results": results,
        "areas": areas if not q.strip() else [],
        "regions": sorted({a.region or "Not recorded" for a in areas}),
    }
    return render(request, "area_finder.html", context, viewer=viewer, synthetic=geo.synthetic)


@router.get("/areas/{code}/scorecard", response_class=HTMLResponse)
def area_scorecard(
    request: Request, code: str, session: DbSession, viewer: PublicViewer, year: str | None = None
) -> Response:
    chosen = check_year(year or allocated_years(session)[0])
    card = scorecard(session, chosen, code, viewer)
    context = {
        "card": card,
        "framework": card.framework,
        "area": card.area,
        "spine": spine_chart("spine", f"{card.area.name} against every area", card.metrics),
        "colours": {v.value: c for v, c in VERDICT_COLOURS.items()},
        "verdicts": list(Verdict),
        "other_years": [y for y in available_years() if y != chosen],
    }
    return render(request, "scorecard.html", context, viewer=viewer, synthetic=card.synthetic)


# ---------------------------------------------------------------------------------------
# History across years


@router.get("/areas/{code}/history", response_class=HTMLResponse)
def area_history_page(
    request: Request, code: str, session: DbSession, viewer: PublicViewer
) -> Response:
    """The area's allocation, pooling, spend, payments and metrics year by year."""
    found = area_history(session, code)
    return _history_page(request, found, viewer)


@router.get("/history", response_class=HTMLResponse)
def national_history_page(request: Request, session: DbSession, viewer: PublicViewer) -> Response:
    """England's allocation, pooling, spend, payments and metrics year by year."""
    return _history_page(request, national_history(session), viewer)


def _history_page(request: Request, found: History, viewer: Principal) -> Response:
    prefix = "history"
    context = {
        "history": found,
        "money_charts": [
            money_chart(
                f"{prefix}-allocation", f"Allocated to {found.place}", found, lambda y: y.allocation
            ),
            money_chart(
                f"{prefix}-pooled",
                f"Pooled by {found.place} in approved plans",
                found,
                lambda y: y.pooled if y.pooled else None,
            ),
        ],
        "metric_charts": [
            metric_chart(f"{prefix}-metric-{i}", m) for i, m in enumerate(found.metrics, start=1)
        ],
    }
    return render(request, "history.html", context, viewer=viewer, synthetic=found.synthetic)
