"""The rows of each published table, read through the capability that owns them.

Nothing here decides what the public may see: each builder asks the capability's own service
with the ``PUBLIC`` viewer, or calls the function its public pages call, so the open data can
never show more than the pages do. The allocation is the year's latest published run; plans
are those any visitor may read (approved); metric values go through
:func:`carepool.metrics.service.results.public_values`; payments are the paid ones, as
:func:`carepool.payments.service.views.year_rows` gives them to the public. Pooled spend is
published as totals per scheme and quarter, and only for quarters the pool has closed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from carepool.allocation import service as allocation
from carepool.domain.allocation import AllocationStatus
from carepool.domain.errors import CarepoolError, NotFound
from carepool.domain.metric_catalogue import catalogue
from carepool.domain.open_data import Cell, Resource
from carepool.domain.payment import RunStatus
from carepool.domain.periods import Period
from carepool.domain.roles import PUBLIC
from carepool.frameworks import available_years
from carepool.geography.service import YearGeography, year_geography
from carepool.metrics.service import results as metric_results
from carepool.payments.service import runs as payment_runs
from carepool.payments.service import views as payment_views
from carepool.plans import service as plans
from carepool.pools.service import ledger
from carepool.pools.service import reports as pool_reports
from carepool.pools.service import returns as pool_returns
from carepool.publication.service import tables
from carepool.publication.service.tables import Table

Row = tuple[Cell, ...]
NOT_STARTED = "Not started"


@dataclass(frozen=True, slots=True)
class Years:
    """The programme years with a published allocation, each with its geography: a year
    with nothing published has nothing to publish."""

    geographies: tuple[YearGeography, ...]

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(g.framework.year for g in self.geographies)


def published_years(session: Session) -> Years:
    found = []
    for year in available_years():
        if allocation.current_run(session, year, PUBLIC) is None:
            continue
        try:
            found.append(year_geography(session, year))
        except CarepoolError:  # no councils register yet: nothing of the year can be shown
            continue
    return Years(tuple(found))


def resource(description: Table, rows: Sequence[Row]) -> Resource:
    return Resource(
        name=description.name,
        title=description.title,
        description=description.description,
        columns=description.columns,
        primary_key=description.primary_key,
        foreign_keys=description.foreign_keys,
        rows=tuple(rows),
    )


# --------------------------------------------------------------------------------------------
# Areas and allocations


def area_rows(session: Session, years: Years) -> Iterator[Row]:
    for geo in years.geographies:
        short = {c.code: c.short_code for c in geo.councils}
        for area in sorted(geo.areas, key=lambda a: a.code):
            lead = area.councils[0] if area.councils else area.code
            yield (
                geo.framework.year,
                area.code,
                area.name,
                area.region or None,
                area.kind,
                ";".join(area.councils),
                f"GB-LAE-{short.get(lead, lead)}",
            )


def allocation_rows(session: Session, years: Years) -> Iterator[Row]:
    for geo in years.geographies:
        year = geo.framework.year
        run = allocation.current_run(session, year, PUBLIC)
        if run is None:
            continue
        streams = {s.id: s for s in geo.framework.streams}
        published_on = _published_on(run)
        for line in allocation.stored_lines(run):
            stream = streams[line.stream]
            yield (
                year,
                run.version,
                line.financial_year,
                line.stream,
                stream.name,
                line.area_code,
                line.commissioner_code or line.area_code,
                "council" if line.commissioner_code is None else "commissioner",
                line.amount,
                stream.passes_to_districts,
                published_on,
            )


def _published_on(run: allocation.AllocationRun) -> dt.date | None:
    for event in reversed(run.events):
        if event.to_status == AllocationStatus.PUBLISHED.value:
            return event.at.date()
    return None


# --------------------------------------------------------------------------------------------
# Plans and schemes


def _approved(session: Session, years: Years) -> Iterator[tuple[str, dict[str, object]]]:
    """Each year's plans as the public sees them in the national view (approved only)."""
    for year in years.labels:
        try:
            report = plans.national_status(session, year)
        except NotFound:
            continue
        for row in plans.visible_status(report, PUBLIC)["plans"]:
            yield year, row


def plan_rows(session: Session, years: Years) -> Iterator[Row]:
    for year, row in _approved(session, years):
        yield (
            year,
            str(row["area_code"]),
            str(row["status"]),
            _text_or_none(row["category"]),
            _int(row["pooled_pence"]),
            _int(row["minimum_pence"]),
            _int(row["conditions_outstanding"]),
        )


def scheme_rows(session: Session, years: Years) -> Iterator[Row]:
    for year, row in _approved(session, years):
        area_code = str(row["area_code"])
        plan = plans.get(session, year, area_code, PUBLIC)
        for s in plans.content_of(plans.current_version(plan)).schemes:
            yield (
                year,
                area_code,
                s.financial_year,
                s.ref,
                s.name,
                s.scheme_type,
                s.commissioner.value,
                s.provider,
                s.funding_source,
                s.area_of_spend,
                s.new_or_existing.value,
                s.planned_spend,
            )


def _int(value: object) -> int:
    if not isinstance(value, int):
        raise TypeError(f"expected a whole number, not {value!r}")
    return value


def _text_or_none(value: object) -> str | None:
    return None if value is None else str(value)


# --------------------------------------------------------------------------------------------
# Pools: spend in closed quarters, and where the returns stand


def pool_spend_rows(session: Session, years: Years) -> Iterator[Row]:
    for year in years.labels:
        pools = ledger.pools(session, year)
        closed = ledger.closed_periods_of(session, pools)
        for pool in pools:
            yield from _pool_spend(session, pool, closed.get(pool.id, []))


def _pool_spend(session: Session, pool: ledger.PoolRow, closed: Sequence[Period]) -> Iterator[Row]:
    content = ledger.plan_content(session, pool)
    shut = pool_reports.closed_quarters(pool, closed)
    for financial_year in sorted({q.financial_year for q in shut}):
        planned = {s.ref for s in content.schemes if s.financial_year == financial_year}
        report = pool_reports.budget_vs_actual(session, pool, financial_year=financial_year)
        for line in report.group("scheme"):
            for q in shut:
                if q.financial_year != financial_year:
                    continue
                yield (
                    pool.year,
                    pool.area_code,
                    q.label,
                    line.key,
                    line.key in planned,
                    line.budget_by_quarter[q.index],
                    line.actual_by_quarter[q.index],
                )


def return_rows(session: Session, years: Years, today: dt.date) -> Iterator[Row]:
    for year in years.labels:
        for pool in ledger.pools(session, year):
            stored = pool_returns.returns_of(session, pool)
            for q in pool_returns.pool_quarters(pool):
                if q.period.end >= today:
                    continue
                row = stored.get(q.label)
                yield (
                    pool.year,
                    pool.area_code,
                    q.label,
                    row.status if row else NOT_STARTED,
                    row.updated_at.date() if row else None,
                )


# --------------------------------------------------------------------------------------------
# Metrics and payments


def metric_rows(session: Session, years: Years) -> Iterator[Row]:
    for d in catalogue():
        yield (d.id, d.name, d.description, d.measure.value, d.direction.value)


def metric_value_rows(session: Session, years: Years, only: str | None = None) -> Iterator[Row]:
    for d in catalogue():
        if only is not None and d.id != only:
            continue
        vintage, values = metric_results.vintage_values(session, d.id)
        for value, shown in metric_results.public_values(values):
            yield (
                value.metric,
                value.area_code,
                value.grain.value,
                value.period,
                shown.value,
                shown.numerator.value,
                None if shown.denominator is None else shown.denominator.value,
                shown.value is None,
                value.complete,
                value.definition_version,
                vintage,
            )


def payment_rows(session: Session, years: Years) -> Iterator[Row]:
    for year in years.labels:
        paid_on = _paid_on(session, year)
        for row in payment_views.year_rows(session, year, PUBLIC):
            line = row.line
            yield (
                year,
                line.quarter,
                row.area_code,
                row.run,
                row.final,
                line.status.value,
                line.baseline,
                line.plan,
                row.actual,
                row.withheld,
                line.pot_pence,
                line.earned_pence,
                line.released_pence,
                line.retained_pence,
                paid_on.get(row.run),
            )


def _paid_on(session: Session, year: str) -> dict[str, dt.date]:
    """When each of the year's paid runs was paid, by run label."""
    found = {}
    for run in payment_runs.runs(session, year):
        for event in run.events:
            if event.to_status == RunStatus.PAID.value:
                found[payment_runs.run_label(run)] = event.at.date()
    return found


# --------------------------------------------------------------------------------------------
# Every table


Builder = Callable[[Session, Years], Iterator[Row]]


def builders(today: dt.date) -> dict[str, Builder]:
    """Each table's rows by table name (return status needs to know which quarters ended)."""
    return {
        tables.AREAS.name: area_rows,
        tables.ALLOCATIONS.name: allocation_rows,
        tables.PLANS.name: plan_rows,
        tables.SCHEMES.name: scheme_rows,
        tables.POOL_SPEND.name: pool_spend_rows,
        tables.METRICS.name: metric_rows,
        tables.METRIC_VALUES.name: metric_value_rows,
        tables.PAYMENTS.name: payment_rows,
        tables.RETURNS.name: lambda session, years: return_rows(session, years, today),
    }


def build(session: Session, name: str, today: dt.date | None = None) -> Resource:
    """One published table with its rows (for a single download)."""
    description = tables.table(name)
    years = published_years(session)
    rows = builders(today or dt.date.today())[name](session, years)
    return resource(description, list(rows))


def build_all(
    session: Session, today: dt.date | None = None, years: Years | None = None
) -> list[Resource]:
    """Every published table with its rows, in :data:`tables.TABLES` order."""
    years = years or published_years(session)
    made = builders(today or dt.date.today())
    return [resource(t, list(made[t.name](session, years))) for t in tables.TABLES]


def metric_csv_resource(session: Session, metric: str) -> Resource:
    """One metric's published values: the download each metric page offers."""
    years = published_years(session)
    return resource(tables.METRIC_VALUES, list(metric_value_rows(session, years, only=metric)))
