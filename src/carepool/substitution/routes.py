"""The substitution check's public pages: the national list of councils, sortable, and one
council's years as a chart beside the table of its figures.

The figures are public statistics (NHS Digital's returns), so every page is public. Years the
demo invented are labelled synthetic wherever they appear.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from carepool.domain.money import format_money
from carepool.domain.substitution import DEFINITION
from carepool.substitution import service
from carepool.substitution.service import CouncilCheck, SubstitutionReport
from carepool.web.auth import DbSession, PublicViewer
from carepool.web.charts import Pair, PairedChart, paired_bar_chart
from carepool.web.kit import render

router = APIRouter(include_in_schema=False)


def percent(value: Fraction | None) -> str:
    """A share of the baseline as people read it: ``-2.1%``; a dash when there is none."""
    if value is None:
        return "—"
    tenths = round(value * 1000)
    sign = "-" if tenths < 0 else "+"
    return f"{sign}{abs(tenths) // 10}.{abs(tenths) % 10}%"


def _latest_change(council: CouncilCheck) -> Fraction | None:
    compared = [y.own_change for y in council.years if y.comparable and y.own_change is not None]
    return compared[-1] if compared else None


SORTS: dict[str, Callable[[CouncilCheck], tuple[object, ...]]] = {
    "name": lambda c: (c.name,),
    "code": lambda c: (c.code,),
    "change": lambda c: (_latest_change(c) is None, _latest_change(c) or 0, c.name),
    "flagged": lambda c: (not c.flagged, c.name),
}
"""The national list's orders, chosen by ``?sort=``; a link in each column's heading."""


@router.get("/substitution", response_class=HTMLResponse)
def substitution_list(
    request: Request, session: DbSession, viewer: PublicViewer, sort: str = "flagged"
) -> Response:
    """Every council: has its own-funded spend fallen while NHS money rose?"""
    report = service.report(session)
    chosen = sort if sort in SORTS else "flagged"
    councils = sorted(report.councils, key=SORTS[chosen])
    context = {
        "report": report,
        "councils": councils,
        "sort": chosen,
        "definition": DEFINITION,
        "latest": {c.code: _latest_change(c) for c in councils},
        "percent": percent,
        "flagged": sum(1 for c in report.councils if c.flagged),
    }
    return render(request, "substitution_list.html", context, viewer=viewer, session=session)


@router.get("/substitution/{code}", response_class=HTMLResponse)
def substitution_council(
    request: Request, code: str, session: DbSession, viewer: PublicViewer
) -> Response:
    """One council's own-funded spend beside the NHS money it received, year by year."""
    report = service.report(session)
    council = report.council(code)
    context = {
        "report": report,
        "council": council,
        "chart": _chart(council, report),
        "definition": DEFINITION,
        "percent": percent,
    }
    return render(request, "substitution_council.html", context, viewer=viewer, session=session)


def _chart(council: CouncilCheck, report: SubstitutionReport) -> PairedChart | None:
    pairs = [
        Pair(y.figures.financial_year, y.own_funded_real, y.nhs_money_real)
        for y in council.years
        if y.own_funded_real is not None and y.nhs_money_real is not None
    ]
    if not pairs:
        return None
    prices = f"{report.price_year} prices"
    synthetic = " (synthetic years)" if council.synthetic else ""
    return paired_bar_chart(
        "substitution-chart",
        f"{council.name}: own-funded adult social care spend and NHS money, {prices}{synthetic}",
        "For each year the council's own-funded spend and the NHS money it received, "
        f"in {prices}. The table below gives the same figures.",
        pairs,
        headings=("Year", "Own-funded spend", "NHS money"),
        shown=lambda pence: format_money(pence, pence_shown=False),
    )
