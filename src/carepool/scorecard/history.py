"""Each area's and England's story across programme years, from public figures only.

The BCF changed every year (streams, metrics, payment rules), so one year's scorecard cannot
say whether an area is pooling more, spending what it pooled, or getting better. This puts
the years side by side: the published allocation (the formula on that year's population
vintage), what approved plans pooled as the minimum and beyond it, spend in closed quarters,
what payment for performance paid or kept back, and each metric as one series by its
identity, whatever label the year's framework gave it (ASCOF 2A(2) became 2C).

Everything is what the public may see: published allocations, approved plans, public spend,
paid payments and disclosure-controlled metric values.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy.orm import Session

from carepool.allocation import repository as allocation_store
from carepool.allocation import service as allocation
from carepool.domain.benchmark import england_value
from carepool.domain.errors import NotFound
from carepool.domain.metric import MetricDefinition
from carepool.domain.metric_catalogue import catalogue
from carepool.domain.metric_value import Grain
from carepool.domain.roles import PUBLIC
from carepool.frameworks import available_years, load_framework
from carepool.geography.service import year_geography
from carepool.metrics.service import pages as metric_pages
from carepool.metrics.service import results as metric_results
from carepool.plans.service.history import approved_contents
from carepool.pools.service import reports as pool_reports
from carepool.scorecard.service import national_figures, scorecard

PAYMENT_KINDS = {
    "conditions_and_metrics": "Payment for performance (conditions and metrics)",
    "non_elective_reduction": "Payment for performance (fewer emergency admissions)",
    "local_risk_share": "Local risk share",
    "non_elective_risk_share": "Risk share on emergency admissions",
    "none": "None",
}
"""How a year's payment design is named on the history pages."""


@dataclass(frozen=True, slots=True)
class YearFigures:
    """One programme year: money allocated, pooled, spent and paid (``None``: not known)."""

    year: str
    name: str
    population_vintage: str
    allocation: int | None
    plan_status: str
    minimum: int
    additional: int
    spend: int | None
    payment_design: str
    earned: int | None
    retained: int | None

    @property
    def pooled(self) -> int:
        return self.minimum + self.additional


@dataclass(frozen=True, slots=True)
class MetricPoint:
    period: str
    value: Decimal | None  # None: withheld, or not computed


@dataclass(frozen=True, slots=True)
class MetricHistory:
    """A metric as one series across years, with the labels the years gave it."""

    definition: MetricDefinition
    labels: tuple[tuple[str, tuple[str, ...]], ...]
    points: tuple[MetricPoint, ...]


@dataclass(frozen=True, slots=True)
class History:
    place: str
    code: str | None
    synthetic: bool
    years: tuple[YearFigures, ...]
    metrics: tuple[MetricHistory, ...]


def history_years(session: Session) -> list[str]:
    """Programme years with a published allocation, oldest first."""
    published = set(allocation_store.published_years(session))
    return [y for y in available_years() if y in published]


def area_history(session: Session, code: str) -> History:
    """The area's years side by side, as the public may see them."""
    years = history_years(session)
    if not years:
        raise NotFound("no allocation has been published yet, so there is no history")
    rows = tuple(_area_year(session, year, code) for year in years)
    geo = year_geography(session, years[-1])
    area = next((a for a in geo.areas if a.code == code), None)
    if area is None:
        area = year_geography(session, years[0]).area(code)
    series = metric_pages.area_values(session, code, Grain.YEAR, PUBLIC)
    points: dict[str, list[MetricPoint]] = defaultdict(list)
    for shown in series.values:
        if shown.figures.complete:
            points[shown.metric.id].append(MetricPoint(shown.figures.period, shown.figures.value))
    metrics = tuple(
        MetricHistory(m, metric_pages.framework_labels(m.id), tuple(points[m.id]))
        for m in catalogue()
        if points.get(m.id)
    )
    return History(area.name, code, geo.synthetic, rows, metrics)


def _area_year(session: Session, year: str, code: str) -> YearFigures:
    framework = load_framework(year)
    geo = year_geography(session, year)
    design = PAYMENT_KINDS.get(framework.payment_in_force.kind, framework.payment_in_force.kind)
    vintage = geo.population_vintage.name if geo.population_vintage else "not imported"
    if code not in {a.code for a in geo.areas}:
        return YearFigures(
            year,
            framework.name,
            vintage,
            None,
            "Not an area this year",
            0,
            0,
            None,
            design,
            None,
            None,
        )
    card = scorecard(session, year, code, PUBLIC)
    approved = card.plan is not None and card.plan.approved
    paid = bool(card.payments)
    return YearFigures(
        year=year,
        name=framework.name,
        population_vintage=vintage,
        allocation=card.allocation_total,
        plan_status=card.plan.status if card.plan else "Not started",
        minimum=card.plan.minimum if card.plan and approved else 0,
        additional=card.plan.additional if card.plan and approved else 0,
        spend=card.spent if card.spend else None,
        payment_design=design,
        earned=card.earned if paid else None,
        retained=card.retained if paid else None,
    )


def national_history(session: Session) -> History:
    """England's years side by side: totals over every area, and England's metric values."""
    years = history_years(session)
    if not years:
        raise NotFound("no allocation has been published yet, so there is no history")
    rows = tuple(_national_year(session, year) for year in years)
    geo = year_geography(session, years[-1])
    return History("England", None, geo.synthetic, rows, tuple(_england_metrics(session)))


def _national_year(session: Session, year: str) -> YearFigures:
    framework = load_framework(year)
    geo = year_geography(session, year)
    run = allocation.visible_run(session, year, PUBLIC)
    plans = approved_contents(session, year)
    nation = national_figures(session, year)
    spend = sum(
        item.actual or 0
        for pool in nation.pools.values()
        for item in pool_reports.public_spend(session, pool)
    )
    paid = [row for rows in nation.public_payments.values() for row in rows]
    return YearFigures(
        year=year,
        name=framework.name,
        population_vintage=geo.population_vintage.name if geo.population_vintage else "",
        allocation=run.total_pence,
        plan_status=f"{len(plans)} of {len(geo.areas)} plans approved",
        minimum=sum(p.minimum() for p in plans.values()),
        additional=sum(p.pooled() - p.minimum() for p in plans.values()),
        spend=spend if nation.pools else None,
        payment_design=PAYMENT_KINDS.get(framework.payment_in_force.kind, "—"),
        earned=sum(r.line.earned_pence for r in paid) if paid else None,
        retained=sum(r.line.retained_pence for r in paid) if paid else None,
    )


def _england_metrics(session: Session) -> list[MetricHistory]:
    found = []
    for metric in catalogue():
        source = metric_pages.provenance(session, metric.id)
        if source is None:
            continue
        by_period: dict[str, list[tuple[int, int | None]]] = defaultdict(list)
        for value in metric_results.vintage_values(session, metric.id)[1]:
            if value.grain is Grain.YEAR and value.complete:
                by_period[value.period].append((value.numerator, value.denominator))
        points = tuple(
            MetricPoint(period, _england(metric, counts))
            for period, counts in sorted(by_period.items())
        )
        if points:
            found.append(MetricHistory(metric, metric_pages.framework_labels(metric.id), points))
    return found


def _england(metric: MetricDefinition, counts: list[tuple[int, int | None]]) -> Decimal | None:
    """England's value as the ratio of the sums; none for an age-standardised rate, which
    needs England's own age structure rather than a sum of areas'."""
    if metric.measure == "count":
        return Decimal(sum(n for n, _ in counts))
    value = england_value(metric.measure, counts, standardised=metric.age_standardised)
    if value is None:
        return None
    return value.quantize(Decimal(1).scaleb(-metric.decimal_places), rounding=ROUND_HALF_EVEN)
