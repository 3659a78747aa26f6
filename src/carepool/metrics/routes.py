"""Metric pages: an area's metrics as Making Data Count charts, and every area's across England.

Both pages are public. What a viewer sees of each figure (exact for national roles, under
publication control for everyone else) and which target a chart draws are decided by
:mod:`carepool.metrics.service.pages`; this module only turns its readings into charts and
the words and tags that go with them, so the verdict is never told by colour alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from carepool.domain.direction import Direction
from carepool.domain.errors import NotFound
from carepool.domain.metric_catalogue import definition
from carepool.domain.metric_value import Grain
from carepool.domain.spc import (
    MINIMUM_POINTS,
    Assurance,
    SpcAnalysis,
    Variation,
    analyse,
    rounded,
)
from carepool.metrics.service import pages as metric_pages
from carepool.metrics.service.pages import MEASURE_HEADINGS, AreaMetric, AreaMetrics
from carepool.metrics.service.published import DelayedDaysMonth
from carepool.web.auth import DbSession, PublicViewer
from carepool.web.charts import Chart
from carepool.web.kit import render
from carepool.web.spc_chart import spc_chart

router = APIRouter(include_in_schema=False)

GRAINS = (
    (Grain.MONTH, "Monthly", "Month"),
    (Grain.QUARTER, "Quarterly", "Quarter"),
    (Grain.YEAR, "Yearly", "Financial year"),
)
"""Each grain with its link text and its period heading."""

VARIATION_TAGS = {
    Variation.COMMON_CAUSE: ("Common cause", "govuk-tag--grey"),
    Variation.IMPROVEMENT: ("Special cause improvement", "govuk-tag--blue"),
    Variation.CONCERN: ("Special cause concern", "govuk-tag--orange"),
    Variation.NEITHER: ("Special cause, neither better nor worse", "govuk-tag--purple"),
}
"""Making Data Count's variation icons as GOV.UK tags: the words carry the meaning, the
colours follow MDC (grey, blue for improvement, orange for concern, purple for neither)."""

ASSURANCE_TAGS = {
    Assurance.PASS: ("Consistently passing", "govuk-tag--blue"),
    Assurance.FAIL: ("Consistently failing", "govuk-tag--orange"),
    Assurance.HIT_AND_MISS: ("Hit and miss", "govuk-tag--grey"),
}
"""Making Data Count's assurance icons as GOV.UK tags."""

ORGANISATIONS = (
    ("nhs", "NHS", "the NHS"),
    ("social_care", "Social care", "social care"),
    ("both", "Both", "both the NHS and social care"),
)
"""The organisations NHS England's delayed-transfer returns hold responsible."""


@dataclass(frozen=True, slots=True)
class Tag:
    text: str
    css: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """An analysis in words: the latest point's variation and, with a target, the assurance."""

    variation: Tag
    assurance: Tag | None
    sentences: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Card:
    """One metric on the area page: its reading and the chart drawn from it."""

    metric: AreaMetric
    chart: Chart | None
    verdict: Verdict | None


def verdict(analysis: SpcAnalysis, places: int) -> Verdict:
    """The words and tags for an analysis, as Making Data Count's icons say them."""
    latest = analysis.points[-1]
    why = "; ".join(sorted(rule.label for rule in latest.rules))
    sentences = [
        f"The latest point, {latest.period}, shows {latest.variation.label.lower()}"
        + (f": {why}." if why else ".")
    ]
    special = sum(p.variation is not Variation.COMMON_CAUSE for p in analysis.points)
    sentences.append(
        f"{special} of the {len(analysis.points)} points show special cause variation."
    )
    assurance = None
    if analysis.assurance is not None and analysis.target is not None:
        assurance = Tag(*ASSURANCE_TAGS[analysis.assurance])
        sentences.append(
            f"Against the ambition of {rounded(analysis.target, places):,}: "
            f"{analysis.assurance.label.lower()}."
        )
    if analysis.provisional:
        sentences.append(
            f"The limits rest on {analysis.baseline} points; Making Data Count advises at least "
            f"{MINIMUM_POINTS}, so read them as provisional."
        )
    return Verdict(Tag(*VARIATION_TAGS[analysis.variation]), assurance, tuple(sentences))


def _card(page: AreaMetrics, metric: AreaMetric, period_heading: str) -> Card:
    analysis = metric.chart.analysis
    if analysis is None:
        return Card(metric, None, None)
    definition = metric.definition
    chart = spc_chart(
        f"spc-{definition.id}",
        f"{page.area.name}: {definition.name}",
        analysis,
        value_heading=MEASURE_HEADINGS[definition.measure],
        period_heading=period_heading,
        places=definition.decimal_places,
    )
    return Card(metric, chart, verdict(analysis, definition.decimal_places))


@router.get("/areas/{code}/metrics", response_class=HTMLResponse)
def area_metrics(
    request: Request,
    code: str,
    session: DbSession,
    viewer: PublicViewer,
    grain: Grain = Grain.MONTH,
) -> Response:
    """An area's metrics: an SPC chart per metric with its figures, ambition and neighbours."""
    page = metric_pages.area_metrics(session, code, grain, viewer)
    period_heading = next(heading for g, _, heading in GRAINS if g is grain)
    context = {
        "page": page,
        "cards": [_card(page, metric, period_heading) for metric in page.metrics],
        "grains": GRAINS,
        "measure_headings": MEASURE_HEADINGS,
        "numerator_heading": metric_pages.numerator_heading,
        "denominator_heading": metric_pages.denominator_heading,
    }
    return render(request, "metrics_area.html", context, viewer=viewer, synthetic=page.synthetic)


def delayed_days_charts(months: tuple[DelayedDaysMonth, ...]) -> list[tuple[str, Chart, Verdict]]:
    """England's monthly delayed days, one process chart per responsible organisation."""
    if len(months) < 2:
        return []
    charts = []
    for attribute, short, words in ORGANISATIONS:
        series = [(m.period, getattr(m, attribute)) for m in months]
        analysis = analyse(series, Direction.LOWER_IS_BETTER)
        chart = spc_chart(
            f"dtoc-{attribute.replace('_', '-')}",
            f"Delayed days in England attributable to {words}, by month",
            analysis,
            value_heading="Delayed days",
            period_heading="Month",
            places=0,
        )
        charts.append((short, chart, verdict(analysis, 0)))
    return charts


@router.get("/metrics", response_class=HTMLResponse)
def national_metrics(request: Request, session: DbSession, viewer: PublicViewer) -> Response:
    """Every area's latest values of each metric, and England's published statistics."""
    page = metric_pages.national_metrics(session, viewer)
    context = {
        "page": page,
        "delayed_days_charts": delayed_days_charts(page.delayed_days),
        "measure_headings": MEASURE_HEADINGS,
    }
    return render(
        request, "metrics_national.html", context, viewer=viewer, synthetic=page.synthetic
    )


@router.get("/metrics/{metric_id}", response_class=HTMLResponse)
def metric_areas(
    request: Request, metric_id: str, session: DbSession, viewer: PublicViewer
) -> Response:
    """One metric in its latest complete year: every area's value, lowest first."""
    page, found = _national_metric(session, metric_id, viewer)
    context = {"m": found, "exact": page.exact, "measure_headings": MEASURE_HEADINGS}
    return render(request, "metric_areas.html", context, viewer=viewer, synthetic=page.synthetic)


def _national_metric(
    session: DbSession, metric_id: str, viewer: PublicViewer
) -> tuple[metric_pages.NationalMetrics, metric_pages.NationalMetric]:
    definition(metric_id)  # an unknown metric is a 404 that lists the metrics there are
    page = metric_pages.national_metrics(session, viewer)
    found = next((m for m in page.metrics if m.definition.id == metric_id), None)
    if found is None or found.period is None:
        raise NotFound(f"{metric_id} has no complete financial year computed yet")
    return page, found
