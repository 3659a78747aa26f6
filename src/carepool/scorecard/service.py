"""Putting an area's whole story on one page: what it was given, what it agreed to pool, what
it spent, what it achieved against its ambition and against England, what that earned, and
whether its books and returns are in.

Each figure comes from the capability that owns it and is shown as that capability shows it
to the viewer: the published allocation, an approved plan, spend in closed quarters, paid
payments, disclosure-controlled metric values. Nothing here decides visibility anew.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy.orm import Session

from carepool.allocation import service as allocation
from carepool.domain.benchmark import (
    Verdict,
    compare,
    england_value,
    interval,
    quarter_of_areas,
)
from carepool.domain.direction import meets
from carepool.domain.errors import CarepoolError, NotFound
from carepool.domain.framework import Framework
from carepool.domain.geography import Area
from carepool.domain.metric import MetricDefinition
from carepool.domain.metric_catalogue import catalogue
from carepool.domain.metric_value import Grain, MetricValue
from carepool.domain.plan_workflow import PlanStatus
from carepool.domain.roles import Principal
from carepool.geography.service import YearGeography, year_geography
from carepool.metrics.service import pages as metric_pages
from carepool.metrics.service import results as metric_results
from carepool.metrics.service.pages import Distribution, Shown, distribution
from carepool.payments.service import views as payments
from carepool.payments.service.views import PaymentRow
from carepool.plans import service as plans
from carepool.pools.service import ledger
from carepool.pools.service import reports as pool_reports
from carepool.pools.service import returns as pool_returns
from carepool.substitution import service as substitution
from carepool.substitution.service import CouncilCheck


@dataclass(frozen=True, slots=True)
class PlanCard:
    status: str
    category: str | None
    version: int
    minimum: int
    additional: int
    readable: bool

    @property
    def pooled(self) -> int:
        return self.minimum + self.additional

    @property
    def approved(self) -> bool:
        return self.status == PlanStatus.APPROVED


@dataclass(frozen=True, slots=True)
class SpendRow:
    """A scheme's spend in each closed quarter (``None``: the quarter is not closed)."""

    label: str
    by_quarter: tuple[int | None, ...]

    @property
    def total(self) -> int:
        return sum(v for v in self.by_quarter if v is not None)


@dataclass(frozen=True, slots=True)
class MetricCard:
    """One metric's latest complete year for the area, against England, region and peers."""

    definition: MetricDefinition
    period: str
    data_vintage: str
    value: Shown
    england: Decimal | None
    region: Decimal | None
    similar: Decimal | None
    verdict: Verdict
    quarter: int | None
    spread: Distribution | None
    ambitions_met: tuple[int, int] | None  # quarters met, quarters with an ambition and a value

    @property
    def compared(self) -> bool:
        return self.verdict is not Verdict.NOT_COMPARED


@dataclass(frozen=True, slots=True)
class Scorecard:
    framework: Framework
    area: Area
    synthetic: bool
    allocation_total: int | None
    allocation_version: int | None
    plan: PlanCard | None
    spend_quarters: tuple[str, ...]
    spend: tuple[SpendRow, ...]
    payments: tuple[PaymentRow, ...]
    returns: tuple[tuple[str, str], ...]
    metrics: tuple[MetricCard, ...]
    similar_areas: tuple[str, ...]
    substitution: tuple[CouncilCheck, ...]

    @property
    def earned(self) -> int:
        return sum(row.line.earned_pence for row in self.payments)

    @property
    def retained(self) -> int:
        return sum(row.line.retained_pence for row in self.payments)

    @property
    def spent(self) -> int:
        return sum(row.total for row in self.spend)


def scorecard(session: Session, year: str, code: str, viewer: Principal) -> Scorecard:
    """The area's scorecard for a programme year, as ``viewer`` may see it."""
    geo = year_geography(session, year)
    area = geo.area(code)
    quarters_, spend = _spend(session, year, code)
    neighbours = metric_pages.similar_to(geo, code)
    allocated = _allocation_total(session, year, code, viewer)
    return Scorecard(
        framework=geo.framework,
        area=area,
        synthetic=geo.synthetic,
        allocation_total=allocated[0],
        allocation_version=allocated[1],
        plan=_plan(session, year, code, viewer),
        spend_quarters=quarters_,
        spend=spend,
        payments=tuple(payments.area_rows(session, year, code, viewer)),
        returns=_returns(session, year, code),
        metrics=tuple(_metrics(session, geo, area, neighbours, viewer)),
        similar_areas=tuple(neighbours),
        substitution=_substitution(session, area),
    )


def _substitution(session: Session, area: Area) -> tuple[CouncilCheck, ...]:
    """The substitution check of each of the area's councils that has figures."""
    try:
        found = substitution.report(session)
    except CarepoolError:
        return ()  # no deflators yet: the substitution page says what to import
    return tuple(c for c in found.councils if c.code in area.councils)


def _allocation_total(
    session: Session, year: str, code: str, viewer: Principal
) -> tuple[int | None, int | None]:
    try:
        run = allocation.visible_run(session, year, viewer, area_code=code)
    except NotFound:
        return None, None
    lines = allocation.view(session, run).area_lines(code)
    return sum(line.amount for line in lines), run.version


def _plan(session: Session, year: str, code: str, viewer: Principal) -> PlanCard | None:
    plan = plans.find(session, year, code)
    if plan is None:
        return None
    readable = plans.can_read(viewer, plan)
    content = plans.content_of(plans.current_version(plan)) if readable else None
    return PlanCard(
        status=plan.status,
        category=plan.category if readable else None,
        version=plans.current_version(plan).number,
        minimum=sum(c.minimum for c in content.contributions) if content else 0,
        additional=sum(c.additional for c in content.contributions) if content else 0,
        readable=readable,
    )


def _pool(session: Session, year: str, code: str) -> ledger.PoolRow | None:
    return next((p for p in ledger.pools(session, year) if p.area_code == code), None)


def _spend(session: Session, year: str, code: str) -> tuple[tuple[str, ...], tuple[SpendRow, ...]]:
    pool = _pool(session, year, code)
    if pool is None:
        return (), ()
    labels = tuple(q.label for q in pool_returns.pool_quarters(pool))
    found: dict[str, dict[str, int]] = {}
    names: dict[str, str] = {}
    for item in pool_reports.public_spend(session, pool):
        found.setdefault(item.key, {})[item.quarter] = item.actual
        names[item.key] = item.label
    rows = tuple(
        SpendRow(names[key], tuple(by_quarter.get(q) for q in labels))
        for key, by_quarter in found.items()
    )
    return labels, rows


def _returns(session: Session, year: str, code: str) -> tuple[tuple[str, str], ...]:
    pool = _pool(session, year, code)
    if pool is None:
        return ()
    stored = pool_returns.returns_of(session, pool)
    return tuple(
        (q.label, stored[q.label].status if q.label in stored else "Not started")
        for q in pool_returns.pool_quarters(pool)
    )


# --------------------------------------------------------------------------------------------
# Metrics against England, region and similar areas


def _metrics(
    session: Session, geo: YearGeography, area: Area, neighbours: Sequence[str], viewer: Principal
) -> Iterable[MetricCard]:
    exact = metric_pages.sees_exact(viewer)
    regions = {a.code: a.region for a in geo.areas}
    ambitions = metric_pages.plan_ambitions(session, area.code, viewer)
    for metric in catalogue():
        source = metric_pages.provenance(session, metric.id)
        period = source.latest_complete_period(Grain.YEAR) if source else None
        if source is None or period is None:
            continue
        every = metric_results.period_values(
            session, metric.id, period, data_vintage=source.data_vintage
        )
        own = next((v for v in every if v.area_code == area.code), None)
        if own is None:
            continue
        met = _ambitions_met(session, metric, area.code, source.data_vintage, ambitions, exact)
        yield metric_card(
            metric, period, source.data_vintage, own, every, regions, neighbours, exact, met
        )


def metric_card(
    metric: MetricDefinition,
    period: str,
    vintage: str,
    own: MetricValue,
    every: Sequence[MetricValue],
    regions: Mapping[str, str | None],
    neighbours: Sequence[str],
    exact: bool,
    met: tuple[int, int] | None,
) -> MetricCard:
    seen = metric_pages.shown(own, metric.measure, exact=exact)
    standardised = metric.age_standardised
    england = england_value(
        metric.measure, [(v.numerator, v.denominator) for v in every], standardised=standardised
    )
    region_counts = [
        (v.numerator, v.denominator)
        for v in every
        if regions.get(v.area_code) == regions.get(own.area_code)
    ]
    region = england_value(metric.measure, region_counts, standardised=standardised)
    peers = [v.value for v in every if v.area_code in neighbours]
    verdict = (
        Verdict.NOT_COMPARED
        if seen.withheld
        else compare(
            interval(metric.measure, own.numerator, own.denominator, standardised=standardised),
            england,
            metric.direction,
        )
    )
    values = [v.value for v in every]
    return MetricCard(
        definition=metric,
        period=period,
        data_vintage=vintage,
        value=seen,
        england=_rounded(england, metric),
        region=_rounded(region, metric),
        similar=_rounded(Decimal(statistics.median(peers)), metric) if peers else None,
        verdict=verdict,
        quarter=None if seen.withheld else quarter_of_areas(own.value, values, metric.direction),
        spread=distribution(values, metric.decimal_places),
        ambitions_met=met,
    )


def _ambitions_met(
    session: Session,
    metric: MetricDefinition,
    code: str,
    vintage: str,
    ambitions: Mapping[str, Mapping[str, Decimal | None]],
    exact: bool,
) -> tuple[int, int] | None:
    planned = ambitions.get(metric.id)
    if not planned:
        return None
    stored = metric_results.series(session, metric.id, code, Grain.QUARTER, data_vintage=vintage)
    reached = {v.period: metric_pages.shown(v, metric.measure, exact=exact) for v in stored.values}
    judged = [
        meets(metric.direction, achieved, target)
        for period, target in planned.items()
        if target is not None
        and period in reached
        and reached[period].complete
        and (achieved := reached[period].value) is not None
    ]
    known = [j for j in judged if j is not None]
    return (sum(known), len(known)) if known else None


def _rounded(value: Decimal | None, metric: MetricDefinition) -> Decimal | None:
    if value is None:
        return None
    return value.quantize(Decimal(1).scaleb(-metric.decimal_places), rounding=ROUND_HALF_EVEN)
