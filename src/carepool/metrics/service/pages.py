"""What the metric pages and the metrics API show: an area's series, its similar areas, every
area's latest values, and published statistics beside the computed ones.

The pages read computed values (:mod:`carepool.metrics.service.results`) in the shapes they
draw: a series per metric ready for a Making Data Count chart, the latest complete financial
year for the area and its nearest neighbours, and the spread of every area's values. Four
rules are decided here, once, so that a page and the API can never disagree:

- **Who sees exact figures.** Stored values are exact. National roles (which include the
  analyst) see them as stored; everyone else sees them through
  :mod:`carepool.domain.disclosure`: counts of 1 to 7 withheld, other counts rounded to the
  nearest 5, and a rate withheld when a count it comes from is withheld. A metric that is a
  plain count (its population is only reported beside it) is published as a rounded count,
  never as the exact number.
- **What a chart is drawn from.** The chart is worked out from the figures the viewer sees.
  If any of them is withheld no chart is drawn at that grain, because an XmR chart needs
  every consecutive point, and limits from the other points would let a withheld one be
  worked out from the mean.
- **Whole periods only.** A quarter or year the data cover only in part (a "2016-17" from
  April 2016 alone) is that part's figure, not the period's: tables label it with the months
  it covers and "incomplete", and charts, comparisons and England's spread leave it out.
- **Which target a chart shows.** Plans set ambitions per quarter; the quarterly chart's
  target line is the ambition for the latest quarter it shows that has one, from a plan the
  viewer may read (the public: approved plans only).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import NamedTuple

from sqlalchemy.orm import Session

from carepool.domain.direction import Direction, meets
from carepool.domain.disclosure import SUPPRESSED_SYMBOL, publish_count, publish_rate
from carepool.domain.errors import CarepoolError, NotFound
from carepool.domain.geography import Area
from carepool.domain.metric import CountEvents, Measure, MetricDefinition, SumOf, months_of
from carepool.domain.metric_catalogue import catalogue, definition
from carepool.domain.metric_value import Grain, MetricValue
from carepool.domain.periods import month_start, quarter
from carepool.domain.roles import Principal
from carepool.domain.similar_areas import profiles, similar_areas
from carepool.domain.spc import SpcAnalysis, analyse
from carepool.frameworks import available_years, load_framework
from carepool.geography.service import YearGeography, year_geography
from carepool.metrics import repository as repo
from carepool.metrics.service import published as published_statistics
from carepool.metrics.service import results as metric_results
from carepool.metrics.service.published import DelayedDaysMonth
from carepool.plans import service as plans

MEASURE_HEADINGS = {
    Measure.COUNT: "Count",
    Measure.RATE_PER_100000: "Rate per 100,000",
    Measure.PERCENTAGE: "Percentage",
}
"""What a metric's values are, as a chart's axis and a table's column call them."""


def sees_exact(viewer: Principal) -> bool:
    """Whether a viewer sees stored values exactly, small counts included (national roles)."""
    return viewer.is_national


# --------------------------------------------------------------------------------------------
# Values as a viewer may see them


@dataclass(frozen=True, slots=True)
class Shown:
    """One period's figures as the viewer may see them; ``None`` is a withheld figure.

    An incomplete period (see :attr:`MetricValue.complete`) says which months it ``covers``
    (``April 2016``), where they are known.
    """

    period: str
    numerator: int | None
    denominator: int | None
    value: Decimal | None
    complete: bool = True
    covers: str = ""

    @property
    def withheld(self) -> bool:
        return self.value is None

    @property
    def period_shown(self) -> str:
        """The period, and for an incomplete one what it is: ``2016-17: April 2016 only —
        incomplete``."""
        return self.period if self.complete else f"{self.period}: {self.incomplete}"

    @property
    def incomplete(self) -> str:
        """What an incomplete period's figure is: ``April 2016 only — incomplete``."""
        return f"{self.covers or 'Some months'} only — incomplete"

    @property
    def value_shown(self) -> str:
        return SUPPRESSED_SYMBOL if self.value is None else f"{self.value:,}"

    @property
    def numerator_shown(self) -> str:
        return SUPPRESSED_SYMBOL if self.numerator is None else f"{self.numerator:,}"

    @property
    def denominator_shown(self) -> str:
        return SUPPRESSED_SYMBOL if self.denominator is None else f"{self.denominator:,}"


def shown(
    value: MetricValue,
    measure: Measure,
    *,
    exact: bool,
    span: tuple[dt.date, dt.date] | None = None,
) -> Shown:
    """A stored value as a viewer sees it: exact, or under publication control.

    ``span`` is the first and last month the values were computed from, which an
    incomplete period's label names.
    """
    whole = _Whole(
        value.complete, "" if value.complete else covered(value.grain, value.period, span)
    )
    if exact:
        return Shown(value.period, value.numerator, value.denominator, value.value, *whole)
    if measure is Measure.COUNT:
        # The population beside a count is context, not a denominator: the count is the value,
        # so it is published as a count (rounded), never exactly.
        rate = publish_rate(value.numerator, None, value.value)
        population = None if value.denominator is None else publish_count(value.denominator).value
        return Shown(value.period, rate.numerator.value, population, rate.value, *whole)
    rate = publish_rate(value.numerator, value.denominator, value.value)
    bottom = None if rate.denominator is None else rate.denominator.value
    return Shown(value.period, rate.numerator.value, bottom, rate.value, *whole)


class _Whole(NamedTuple):
    complete: bool
    covers: str


MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def covered(grain: Grain, period: str, span: tuple[dt.date, dt.date] | None) -> str:
    """The months of a period that ``span`` holds, in words: ``April 2016``, ``April to June
    2016`` or ``October 2015 to January 2016`` (empty when not known)."""
    if span is None:
        return ""
    months = [m for m in months_of(grain, period) if span[0] <= m <= span[1]]
    if not months:
        return ""
    first, last = months[0], months[-1]
    named_first, named_last = MONTH_NAMES[first.month - 1], MONTH_NAMES[last.month - 1]
    if first == last:
        return f"{named_first} {first.year}"
    if first.year == last.year:
        return f"{named_first} to {named_last} {last.year}"
    return f"{named_first} {first.year} to {named_last} {last.year}"


def numerator_heading(metric: MetricDefinition) -> str:
    """What a metric's numerator counts, in a table heading."""
    if isinstance(metric.numerator, SumOf):
        return metric.numerator.column.replace("_", " ").capitalize()
    if metric.measure is Measure.PERCENTAGE:
        return "Counted"
    return "Events"


def denominator_heading(metric: MetricDefinition) -> str:
    """What a metric's denominator counts (residents of an age range, or events)."""
    if isinstance(metric.denominator, CountEvents):
        return "Out of"
    if metric.denominator is None:
        return "Denominator"
    return f"Residents ({metric.denominator.label})"


# --------------------------------------------------------------------------------------------
# Where stored values came from


@dataclass(frozen=True, slots=True)
class Provenance:
    """The data vintage a metric's values come from, the engine and when they were computed.

    ``latest_complete`` holds, per grain, the latest period whose months the data all cover;
    ``span`` is the first and last month held.
    """

    data_vintage: str
    engine: str
    computed_at: dt.datetime
    latest: Mapping[str, str]  # grain → the latest period held at that grain
    latest_complete: Mapping[str, str | None] = field(default_factory=dict)
    span: tuple[dt.date, dt.date] | None = None

    def latest_period(self, grain: Grain) -> str | None:
        return self.latest.get(grain.value)

    def latest_complete_period(self, grain: Grain) -> str | None:
        """The latest period at ``grain`` that is complete: the one to compare areas on."""
        return self.latest_complete.get(grain.value)


def provenance(session: Session, metric: str) -> Provenance | None:
    """Where a metric's latest values come from; ``None`` if it was never computed."""
    vintage = repo.latest_metric_vintage(session, metric)
    if vintage is None:
        return None
    rows = repo.vintage_summary(session, metric, vintage)
    engine = max(row.engine for row in rows)
    computed = max(row.computed_at for row in rows)
    months = next((row for row in rows if row.grain == Grain.MONTH.value), None)
    return Provenance(
        vintage,
        engine,
        computed,
        {row.grain: row.latest_period for row in rows},
        {row.grain: row.latest_complete_period for row in rows},
        None
        if months is None
        else (month_start(months.earliest_period), month_start(months.latest_period)),
    )


def framework_labels(metric: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The labels programme years give a metric (``ASCOF 2A(2)``), each with its years."""
    by_label: dict[str, list[str]] = {}
    for year in available_years():
        for use in load_framework(year).metrics:
            if use.metric == metric:
                by_label.setdefault(use.label, []).append(year)
    return tuple((label, tuple(years)) for label, years in by_label.items())


# --------------------------------------------------------------------------------------------
# Charts


@dataclass(frozen=True, slots=True)
class Charted:
    """A series read as an XmR chart, or why it is not charted, and which incomplete periods
    it leaves out (in words)."""

    analysis: SpcAnalysis | None
    not_charted: str | None
    left_out: str | None = None


def chart_of(
    values: Sequence[Shown], direction: Direction, target: Decimal | None = None
) -> Charted:
    """The Making Data Count reading of the values the viewer sees, when it can be drawn.

    Only complete periods are points: a part-year beside whole years would read as special
    cause variation that is only missing months.
    """
    left_out = _left_out([v for v in values if not v.complete])
    values = [v for v in values if v.complete]
    withheld = sum(v.withheld for v in values)
    if withheld:
        return Charted(
            None,
            f"{withheld} of the {len(values)} values are withheld to protect privacy, so no "
            "chart is drawn at this grain: a process chart needs every point in turn. Longer "
            "periods count more people and are more often published.",
            left_out,
        )
    if len(values) < 2:
        there_are = "there is only one" if values else "there are none"
        return Charted(
            None,
            f"A process chart needs at least two complete periods; {there_are}.",
            left_out,
        )
    series = [(v.period, v.value) for v in values if v.value is not None]
    return Charted(analyse(series, direction, target=target), None, left_out)


def _left_out(incomplete: Sequence[Shown]) -> str | None:
    if not incomplete:
        return None
    named = "; ".join(f"{v.period} ({v.covers or 'some months'} only)" for v in incomplete)
    return (
        f"Not charted, because the data do not cover the whole period: {named}. Its figure "
        "is in the table, labelled incomplete."
    )


# --------------------------------------------------------------------------------------------
# An area's page


@dataclass(frozen=True, slots=True)
class Ambition:
    """A plan's quarterly ambitions for a metric, and the one the chart draws as its target.

    ``quarters`` holds each planned quarter with its ambition and, where the series reaches
    it, what was achieved (as the viewer may see it).
    """

    quarters: tuple[tuple[str, Decimal | None, Shown | None], ...]
    target_period: str | None
    target: Decimal | None
    direction: Direction = Direction.NEITHER

    def met(self, planned: Decimal | None, achieved: Shown | None) -> bool | None:
        """Whether what the viewer sees of a quarter meets its ambition, in the metric's
        better direction (as a quarterly return judges it); ``None`` if there is nothing to
        judge: no ambition, or no whole quarter's value (withheld, not computed, or of only
        some of its months)."""
        if planned is None or achieved is None or achieved.value is None:
            return None
        if not achieved.complete:
            return None
        return meets(self.direction, achieved.value, planned)


@dataclass(frozen=True, slots=True)
class Neighbour:
    """A row of the similar-areas table."""

    code: str
    name: str
    figures: Shown | None  # None: no value for the period
    is_self: bool


@dataclass(frozen=True, slots=True)
class Comparison:
    """The area beside its nearest neighbours in the latest complete financial year."""

    period: str
    rows: tuple[Neighbour, ...]
    median: Decimal | None  # of every area's value the viewer sees
    areas: int


@dataclass(frozen=True, slots=True)
class PublishedBeside:
    """An official statistic for the area beside carepool's own yearly values."""

    measure_code: str
    label: str
    unit: str
    note: str
    geography_code: str
    rows: tuple[tuple[str, Shown | None, Decimal | None], ...]  # period, computed, published


@dataclass(frozen=True, slots=True)
class AreaMetric:
    """Everything the area page shows for one metric."""

    definition: MetricDefinition
    labels: tuple[tuple[str, tuple[str, ...]], ...]
    provenance: Provenance
    values: tuple[Shown, ...]
    chart: Charted
    ambition: Ambition | None
    comparison: Comparison | None
    published: PublishedBeside | None


@dataclass(frozen=True, slots=True)
class AreaMetrics:
    area: Area
    grain: Grain
    exact: bool
    synthetic: bool
    neighbours: tuple[str, ...]
    metrics: tuple[AreaMetric, ...]
    not_computed: tuple[MetricDefinition, ...]


@dataclass(frozen=True, slots=True)
class RelatedStatistic:
    measure_code: str
    note: str


RELATED_STATISTICS = {
    "reablement_91_days": RelatedStatistic(
        published_statistics.REABLEMENT_OUTCOME,
        "Oflog's ASC5 (ASCOF 2D) is the percentage of people who needed no further long-term "
        "support after short-term services such as reablement. It is a related measure, not "
        "the same as being at home 91 days after leaving hospital, so the two are shown side "
        "by side rather than as one series.",
    ),
}
"""Published measures that sit beside a computed metric on its area's page."""


def find_area(session: Session, code: str) -> YearGeography:
    """The newest programme year's geography that has the area (codes change over time) and
    whose population vintage is imported: similar areas are found by population, so a
    year whose figures are not there yet cannot describe the area."""
    for year in reversed(available_years()):
        geo = year_geography(session, year)
        if geo.population_vintage is not None and any(area.code == code for area in geo.areas):
            return geo
    raise NotFound(f"no Health and Wellbeing Board area {code!r}")


def area_metrics(session: Session, code: str, grain: Grain, viewer: Principal) -> AreaMetrics:
    """The area's page: each computed metric's series, chart, ambition and comparisons."""
    geo = find_area(session, code)
    area = geo.area(code)
    neighbours = similar_to(geo, code)
    names = {a.code: a.name for a in geo.areas}
    exact = sees_exact(viewer)
    ambitions = plan_ambitions(session, code, viewer)
    shown_metrics, missing = [], []
    for metric in catalogue():
        source = provenance(session, metric.id)
        if source is None:
            missing.append(metric)
            continue
        context = _AreaContext(area, grain, exact, neighbours, names, ambitions.get(metric.id))
        shown_metrics.append(_area_metric(session, metric, source, context))
    return AreaMetrics(
        area, grain, exact, geo.synthetic, neighbours, tuple(shown_metrics), tuple(missing)
    )


@dataclass(frozen=True, slots=True)
class _AreaContext:
    area: Area
    grain: Grain
    exact: bool
    neighbours: tuple[str, ...]
    names: Mapping[str, str]
    ambition: Mapping[str, Decimal | None] | None


def _area_metric(
    session: Session, metric: MetricDefinition, source: Provenance, context: _AreaContext
) -> AreaMetric:
    stored = metric_results.series(
        session, metric.id, context.area.code, context.grain, data_vintage=source.data_vintage
    )
    values = tuple(
        shown(v, metric.measure, exact=context.exact, span=source.span) for v in stored.values
    )
    ambition = _ambition(context.ambition, values, metric.direction) if context.ambition else None
    target = ambition.target if ambition and context.grain is Grain.QUARTER else None
    latest_year = source.latest_complete_period(Grain.YEAR)
    comparison = _comparison(session, metric, source, latest_year, context) if latest_year else None
    return AreaMetric(
        definition=metric,
        labels=framework_labels(metric.id),
        provenance=source,
        values=values,
        chart=chart_of(values, metric.direction, target),
        ambition=ambition,
        comparison=comparison,
        published=_published_beside(session, metric, source, context),
    )


def similar_to(geo: YearGeography, code: str) -> tuple[str, ...]:
    """The area's five most similar areas, or none if it has no population to compare on."""
    kinds = {area.code: area.kind for area in geo.areas}
    try:
        return tuple(similar_areas(code, profiles(kinds, geo.bands)))
    except KeyError:
        return ()


def plan_ambitions(
    session: Session, code: str, viewer: Principal
) -> dict[str, dict[str, Decimal | None]]:
    """Each metric's quarterly ambitions from the area's plans the viewer may read.

    Quarter *n* of a plan is quarter *n* of its programme year's first financial year, as the
    plan form asks for "each quarter of the year".
    """
    found: dict[str, dict[str, Decimal | None]] = {}
    for year in available_years():
        plan = plans.find(session, year, code)
        if plan is None or not plans.can_read(viewer, plan):
            continue
        first_year = load_framework(year).financial_years[0]
        content = plans.content_of(plans.current_version(plan))
        for ambition in content.ambitions:
            if any(q is not None for q in ambition.quarters):
                quarters = found.setdefault(ambition.metric, {})
                for number, planned in enumerate(ambition.quarters, start=1):
                    quarters[quarter(first_year, number).label] = planned
    return found


def _ambition(
    quarters: Mapping[str, Decimal | None], values: Sequence[Shown], direction: Direction
) -> Ambition:
    """The ambitions, with the latest quarter the values reach that has one as the target
    (an incomplete quarter is shown as such, and is never the target: it is not charted)."""
    reached = {v.period: v for v in values}
    rows = tuple((p, planned, reached.get(p)) for p, planned in sorted(quarters.items()))
    targets = [
        p for p, planned, _ in rows if planned is not None and p in reached and reached[p].complete
    ]
    target_period = targets[-1] if targets else None
    target = quarters[target_period] if target_period else None
    return Ambition(rows, target_period, target, direction)


def _comparison(
    session: Session,
    metric: MetricDefinition,
    source: Provenance,
    period: str,
    context: _AreaContext,
) -> Comparison:
    stored = metric_results.period_values(
        session, metric.id, period, data_vintage=source.data_vintage
    )
    by_area = {v.area_code: shown(v, metric.measure, exact=context.exact) for v in stored}
    code = context.area.code
    rows = tuple(
        Neighbour(other, context.names.get(other, other), by_area.get(other), other == code)
        for other in (code, *context.neighbours)
    )
    visible = [v.value for v in by_area.values() if v.value is not None]
    middle = _round(statistics.median(visible), metric) if visible else None
    return Comparison(period, rows, middle, len(by_area))


def _published_beside(
    session: Session, metric: MetricDefinition, source: Provenance, context: _AreaContext
) -> PublishedBeside | None:
    related = RELATED_STATISTICS.get(metric.id)
    if related is None:
        return None
    for code in (context.area.code, *context.area.councils):
        try:
            published = published_statistics.published_series(session, related.measure_code, code)
        except NotFound:
            continue
        yearly = metric_results.series(
            session, metric.id, context.area.code, Grain.YEAR, data_vintage=source.data_vintage
        )
        computed = {
            v.period: shown(v, metric.measure, exact=context.exact, span=source.span)
            for v in yearly.values
        }
        official = dict(published.points)
        rows = tuple(
            (period, computed.get(period), official.get(period))
            for period in sorted(computed.keys() | official.keys())
        )
        return PublishedBeside(
            related.measure_code, published.measure_label, published.unit, related.note, code, rows
        )
    return None


def _round(value: Decimal, metric: MetricDefinition) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-metric.decimal_places), rounding=ROUND_HALF_EVEN)


# --------------------------------------------------------------------------------------------
# The national page


@dataclass(frozen=True, slots=True)
class Distribution:
    """How areas' values spread: the middle half lies between the quartiles."""

    count: int
    lowest: Decimal
    lower_quartile: Decimal
    median: Decimal
    upper_quartile: Decimal
    highest: Decimal


def distribution(values: Iterable[Decimal], places: int) -> Distribution | None:
    """Quartiles (inclusive method) of at least two values, rounded half to even for reading."""
    ordered = sorted(values)
    if len(ordered) < 2:
        return None
    quantum = Decimal(1).scaleb(-places)
    lower, middle, upper = (
        q.quantize(quantum, rounding=ROUND_HALF_EVEN)
        for q in statistics.quantiles(ordered, n=4, method="inclusive")
    )
    return Distribution(len(ordered), ordered[0], lower, middle, upper, ordered[-1])


@dataclass(frozen=True, slots=True)
class AreaValue:
    code: str
    name: str
    figures: Shown


@dataclass(frozen=True, slots=True)
class NationalMetric:
    """Every area's value of a metric in the latest complete financial year, and their spread."""

    definition: MetricDefinition
    labels: tuple[tuple[str, tuple[str, ...]], ...]
    provenance: Provenance
    period: str | None  # the latest complete year
    areas: tuple[AreaValue, ...]  # lowest value first, withheld values last
    withheld: int
    spread: Distribution | None
    incomplete: str | None = None  # a later year held in part, and what it covers, in words


@dataclass(frozen=True, slots=True)
class OutcomeSpread:
    """One of Oflog's adult social care outcome measures across councils in its latest year."""

    measure_code: str
    label: str
    unit: str
    period: str
    spread: Distribution | None


@dataclass(frozen=True, slots=True)
class DelayedDaysCheck:
    """England's delayed days in a month: as NHS England published them, and as computed."""

    period: str
    published: int
    computed: Shown


@dataclass(frozen=True, slots=True)
class NationalMetrics:
    exact: bool
    synthetic: bool
    metrics: tuple[NationalMetric, ...]
    not_computed: tuple[MetricDefinition, ...]
    delayed_days: tuple[DelayedDaysMonth, ...]
    delayed_days_checks: tuple[DelayedDaysCheck, ...]
    outcomes: tuple[OutcomeSpread, ...]


DELAYED_DAYS_METRIC = "delayed_transfers_of_care"


def national_metrics(session: Session, viewer: Principal) -> NationalMetrics:
    """Every computed metric across areas, with England's published statistics beside them."""
    exact = sees_exact(viewer)
    names, synthetic = _area_names(session)
    shown_metrics, missing = [], []
    for metric in catalogue():
        source = provenance(session, metric.id)
        if source is None:
            missing.append(metric)
            continue
        shown_metrics.append(_national_metric(session, metric, source, names, exact))
    delayed = _delayed_days(session)
    return NationalMetrics(
        exact=exact,
        synthetic=synthetic,
        metrics=tuple(shown_metrics),
        not_computed=tuple(missing),
        delayed_days=delayed,
        delayed_days_checks=_delayed_days_checks(session, delayed, exact),
        outcomes=_outcome_spreads(session),
    )


def _area_names(session: Session) -> tuple[dict[str, str], bool]:
    """Every area's name in any programme year (newest wins), and whether they are synthetic."""
    names: dict[str, str] = {}
    synthetic = False
    for year in available_years():
        try:
            geo = year_geography(session, year)
        except CarepoolError:  # no councils register imported yet
            return names, False
        names.update((area.code, area.name) for area in geo.areas)
        synthetic = geo.synthetic
    return names, synthetic


def _national_metric(
    session: Session,
    metric: MetricDefinition,
    source: Provenance,
    names: Mapping[str, str],
    exact: bool,
) -> NationalMetric:
    period = source.latest_complete_period(Grain.YEAR)
    stored = (
        metric_results.period_values(session, metric.id, period, data_vintage=source.data_vintage)
        if period
        else []
    )
    by_area = {v.area_code: shown(v, metric.measure, exact=exact) for v in stored}
    rows = sorted(
        (AreaValue(code, names.get(code, code), figures) for code, figures in by_area.items()),
        key=lambda row: (row.figures.value is None, row.figures.value or 0, row.name),
    )
    visible = [row.figures.value for row in rows if row.figures.value is not None]
    return NationalMetric(
        definition=metric,
        labels=framework_labels(metric.id),
        provenance=source,
        period=period,
        areas=tuple(rows),
        withheld=len(rows) - len(visible),
        spread=distribution(visible, metric.decimal_places),
        incomplete=_incomplete_year(source),
    )


def _incomplete_year(source: Provenance) -> str | None:
    """The latest year held, when the data cover it only in part: ``2016-17 (April 2016
    only)``."""
    latest = source.latest_period(Grain.YEAR)
    if latest is None or latest == source.latest_complete_period(Grain.YEAR):
        return None
    return f"{latest} ({covered(Grain.YEAR, latest, source.span) or 'some months'} only)"


def _delayed_days(session: Session) -> tuple[DelayedDaysMonth, ...]:
    try:
        return tuple(published_statistics.delayed_days_by_organisation(session))
    except NotFound:  # NHS England's file has not been imported
        return ()


def _delayed_days_checks(
    session: Session, published: Sequence[DelayedDaysMonth], exact: bool
) -> tuple[DelayedDaysCheck, ...]:
    """Months where England's published delayed days can be set beside the computed sum."""
    vintage = repo.latest_metric_vintage(session, DELAYED_DAYS_METRIC) if published else None
    if vintage is None:
        return ()
    totals = repo.numerator_totals(session, DELAYED_DAYS_METRIC, Grain.MONTH, vintage)
    checks = []
    for month in published:
        if month.period in totals:
            days = int(totals[month.period])
            cell = publish_count(days)
            computed = (
                Shown(month.period, days, None, Decimal(days))
                if exact
                else Shown(month.period, cell.value, None, _decimal(cell.value))
            )
            checks.append(DelayedDaysCheck(month.period, month.total, computed))
    return tuple(checks)


def _decimal(value: int | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _outcome_spreads(session: Session) -> tuple[OutcomeSpread, ...]:
    """Each outcome measure's spread across councils in the latest year published."""
    spreads = []
    for code in published_statistics.measures_of(published_statistics.ASC_OUTCOMES):
        latest = repo.latest_statistic_period(session, code, published_statistics.ASC_OUTCOMES)
        if latest is None:
            continue
        found = published_statistics.outcomes_for_year(session, code, latest)
        if not found:
            continue
        places = max(-int(s.value.as_tuple().exponent) for s in found)
        spread = distribution((s.value for s in found), max(places, 0))
        spreads.append(OutcomeSpread(code, found[0].measure_label, found[0].unit, latest, spread))
    return tuple(spreads)


# --------------------------------------------------------------------------------------------
# The API


@dataclass(frozen=True, slots=True)
class SourcedMetric:
    """A metric whose values are held, with where they come from."""

    metric: MetricDefinition
    source: Provenance


@dataclass(frozen=True, slots=True)
class ShownValue:
    """One period's value of a metric for an area, as the viewer may see it."""

    metric: MetricDefinition
    figures: Shown


@dataclass(frozen=True, slots=True)
class AreaValues:
    """An area's computed values at one grain, under publication control unless ``exact``."""

    area: Area
    grain: Grain
    synthetic: bool
    exact: bool
    metrics: tuple[SourcedMetric, ...]
    values: tuple[ShownValue, ...]


def area_values(
    session: Session, code: str, grain: Grain, viewer: Principal, metric: str | None = None
) -> AreaValues:
    """An area's computed values, under publication control for the public.

    ``metric`` narrows it to one metric (an unknown id is a 404 naming the known ones). A
    withheld figure is ``None``.
    """
    geo = find_area(session, code)
    chosen = [definition(metric)] if metric else list(catalogue())
    exact = sees_exact(viewer)
    sources: list[SourcedMetric] = []
    values: list[ShownValue] = []
    for wanted in chosen:
        source = provenance(session, wanted.id)
        if source is None:
            continue
        stored = metric_results.series(
            session, wanted.id, code, grain, data_vintage=source.data_vintage
        )
        sources.append(SourcedMetric(wanted, source))
        values += [ShownValue(wanted, shown(v, wanted.measure, exact=exact)) for v in stored.values]
    return AreaValues(geo.area(code), grain, geo.synthetic, exact, tuple(sources), tuple(values))
