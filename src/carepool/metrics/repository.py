"""All database access for metric values and published statistics.

Two kinds of figure are kept side by side:

- **Metric values** that carepool computed from person-level data, one row per metric,
  definition version, area, period and *data vintage* (the person-level extract they were
  computed from). Saving a vintage's values for a metric replaces what that vintage held for
  it, in the caller's transaction, so a page never sees half of a recomputation.
- **Published statistics** read from official files (Oflog's adult social care outcomes,
  NHS England's delayed transfers of care). Each file is a :class:`Vintage` recognised by
  its SHA-256, and its rows name the measure, the geography (a council, or England as
  ``E92000001``), the period and the value.

Values are exact decimals stored as text (``"56.2"``, ``"78.05000000000001"``), as the shares
are: SQLite has no exact decimal type, and a float would change the published figure.

The tables are declared in :mod:`carepool.store.models`, with every other table.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from sqlalchemy import (
    ColumnElement,
    Table,
    case,
    delete,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.orm import Session

from carepool.domain.metric_value import Grain, MetricValue
from carepool.store.models import MetricValueRow, PublishedStatisticRow, Vintage

_BATCH = 5_000
_SAVE_LOCK = 7_512_016
"""PostgreSQL advisory lock space for saving a data vintage (the audit chain uses 7_512_015)."""


_METRIC_VALUES = cast(Table, MetricValueRow.__table__)
_STATISTICS = cast(Table, PublishedStatisticRow.__table__)


def _exact(value: Decimal) -> str:
    """A decimal as plain text, never in exponent form, so it reads back identically."""
    return format(value, "f")


def _bulk(session: Session, table: Table, rows: list[dict[str, object]]) -> None:
    for start in range(0, len(rows), _BATCH):
        session.execute(insert(table), rows[start : start + _BATCH])


# --------------------------------------------------------------------------------------------
# Metric values


def save_metric_values(
    session: Session,
    values: Sequence[MetricValue],
    *,
    engine: str,
    data_vintage: str,
    computed_at: dt.datetime,
) -> int:
    """Replace what a data vintage holds for each metric in ``values`` with ``values``.

    Other metrics of the same vintage, and other vintages, are left alone. Returns how many
    stored values were replaced.
    """
    _lock_vintage(session, data_vintage)
    metrics = sorted({v.metric for v in values})
    replaced = 0
    if metrics:
        result = session.execute(
            delete(MetricValueRow).where(
                MetricValueRow.data_vintage == data_vintage, MetricValueRow.metric.in_(metrics)
            )
        )
        replaced = int(getattr(result, "rowcount", 0) or 0)
    _bulk(
        session,
        _METRIC_VALUES,
        [
            {
                "metric": v.metric,
                "definition_version": v.definition_version,
                "area_code": v.area_code,
                "period": v.period,
                "grain": v.grain.value,
                "numerator": v.numerator,
                "denominator": v.denominator,
                "value": _exact(v.value),
                "complete": v.complete,
                "engine": engine,
                "data_vintage": data_vintage,
                "computed_at": computed_at,
            }
            for v in values
        ],
    )
    return replaced


def _lock_vintage(session: Session, data_vintage: str) -> None:
    """On PostgreSQL, queue two saves of one vintage rather than let both insert.

    Without it, two runs saving the same vintage at once would each delete nothing and then
    collide on the unique constraint; SQLite serialises writers on its own.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(data_vintage.encode("utf-8")) - 2**31  # into PostgreSQL's int4 range
        session.execute(
            text("SELECT pg_advisory_xact_lock(CAST(:space AS integer), CAST(:key AS integer))"),
            {"space": _SAVE_LOCK, "key": key},
        )


def latest_metric_vintage(session: Session, metric: str) -> str | None:
    """The data vintage a metric was most recently computed from."""
    query = (
        select(MetricValueRow.data_vintage)
        .where(MetricValueRow.metric == metric)
        .order_by(MetricValueRow.computed_at.desc(), MetricValueRow.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


@dataclass(frozen=True, slots=True)
class GrainSummary:
    """What one data vintage holds of a metric at one grain.

    ``latest_complete_period`` is the latest period whose months the data all cover
    (``None`` if there is none yet: a year of which only April is held).
    """

    grain: str
    latest_period: str
    engine: str  # the greatest engine name, if the vintage was computed by more than one
    computed_at: dt.datetime
    earliest_period: str
    latest_complete_period: str | None


def vintage_summary(session: Session, metric: str, data_vintage: str) -> list[GrainSummary]:
    """For each grain a vintage holds of a metric: its first and latest periods (and latest
    complete one), engine and time."""
    whole = case((MetricValueRow.complete, MetricValueRow.period), else_=None)
    rows = session.execute(
        select(
            MetricValueRow.grain,
            func.max(MetricValueRow.period),
            func.max(MetricValueRow.engine),
            func.max(MetricValueRow.computed_at),
            func.min(MetricValueRow.period),
            func.max(whole),
        )
        .where(MetricValueRow.metric == metric, MetricValueRow.data_vintage == data_vintage)
        .group_by(MetricValueRow.grain)
    ).all()
    return [GrainSummary(*row) for row in rows]


def numerator_totals(
    session: Session, metric: str, grain: Grain, data_vintage: str
) -> dict[str, int]:
    """A metric's numerators summed over every area, by period (England's count)."""
    rows = session.execute(
        select(MetricValueRow.period, func.sum(MetricValueRow.numerator))
        .where(
            MetricValueRow.metric == metric,
            MetricValueRow.grain == grain.value,
            MetricValueRow.data_vintage == data_vintage,
        )
        .group_by(MetricValueRow.period)
    ).all()
    return {period: int(total) for period, total in rows}


def metric_series(
    session: Session, metric: str, area_code: str, grain: Grain, data_vintage: str
) -> list[MetricValue]:
    """A metric's values for one area at one grain, oldest period first.

    Where a vintage holds more than one definition version, the latest version is given.
    """
    where = (
        MetricValueRow.metric == metric,
        MetricValueRow.area_code == area_code,
        MetricValueRow.grain == grain.value,
        MetricValueRow.data_vintage == data_vintage,
    )
    version = session.scalar(select(func.max(MetricValueRow.definition_version)).where(*where))
    rows = session.scalars(
        select(MetricValueRow)
        .where(*where, MetricValueRow.definition_version == version)
        .order_by(MetricValueRow.period)
    )
    return [_metric_value(row) for row in rows]


def metric_values_for_period(
    session: Session, metric: str, period: str, data_vintage: str
) -> list[MetricValue]:
    """Every area's value of a metric in one period, in area code order."""
    rows = session.scalars(
        select(MetricValueRow)
        .where(
            MetricValueRow.metric == metric,
            MetricValueRow.period == period,
            MetricValueRow.data_vintage == data_vintage,
        )
        .order_by(MetricValueRow.area_code, MetricValueRow.definition_version)
    )
    return [_metric_value(row) for row in rows]


def metric_values_of_vintage(session: Session, metric: str, data_vintage: str) -> list[MetricValue]:
    """Every value a vintage holds of a metric, at every grain, by area, grain and period.

    Only the vintage's latest definition version is given, as :func:`metric_series` does.
    """
    where = (MetricValueRow.metric == metric, MetricValueRow.data_vintage == data_vintage)
    version = session.scalar(select(func.max(MetricValueRow.definition_version)).where(*where))
    rows = session.scalars(
        select(MetricValueRow)
        .where(*where, MetricValueRow.definition_version == version)
        .order_by(MetricValueRow.area_code, MetricValueRow.grain, MetricValueRow.period)
    )
    return [_metric_value(row) for row in rows]


def _metric_value(row: MetricValueRow) -> MetricValue:
    return MetricValue(
        metric=row.metric,
        definition_version=row.definition_version,
        area_code=row.area_code,
        period=row.period,
        grain=Grain(row.grain),
        numerator=row.numerator,
        denominator=row.denominator,
        value=Decimal(row.value),
        complete=row.complete,
    )


# --------------------------------------------------------------------------------------------
# Published statistics


@dataclass(frozen=True, slots=True)
class Statistic:
    """A published figure: which measure, where, when, and its exact value and unit."""

    measure_code: str
    measure_label: str
    geography_code: str
    geography_name: str
    period: str
    grain: Grain
    value: Decimal
    unit: str


def add_statistics(session: Session, vintage: Vintage, statistics: Iterable[Statistic]) -> None:
    _bulk(
        session,
        _STATISTICS,
        [
            {
                "vintage_id": vintage.id,
                "source": vintage.kind,
                "measure_code": s.measure_code,
                "measure_label": s.measure_label,
                "geography_code": s.geography_code,
                "geography_name": s.geography_name,
                "period": s.period,
                "grain": s.grain.value,
                "value": _exact(s.value),
                "unit": s.unit,
            }
            for s in statistics
        ],
    )


def _latest_vintage_with(session: Session, *where: ColumnElement[bool]) -> int | None:
    """The most recently imported vintage holding rows that match ``where``."""
    query = (
        select(PublishedStatisticRow.vintage_id)
        .join(Vintage, Vintage.id == PublishedStatisticRow.vintage_id)
        .where(*where)
        .order_by(Vintage.imported_at.desc(), Vintage.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def latest_statistic_period(session: Session, measure_code: str, source: str) -> str | None:
    """The latest period any vintage from ``source`` holds of a measure."""
    return session.scalar(
        select(func.max(PublishedStatisticRow.period)).where(
            PublishedStatisticRow.measure_code == measure_code,
            PublishedStatisticRow.source == source,
        )
    )


def statistics_series(session: Session, measure_code: str, geography_code: str) -> list[Statistic]:
    """A measure for one place from the latest publication that has it, oldest period first."""
    where = (
        PublishedStatisticRow.measure_code == measure_code,
        PublishedStatisticRow.geography_code == geography_code,
    )
    vintage_id = _latest_vintage_with(session, *where)
    rows = session.scalars(
        select(PublishedStatisticRow)
        .where(*where, PublishedStatisticRow.vintage_id == vintage_id)
        .order_by(PublishedStatisticRow.period)
    )
    return [_statistic(row) for row in rows]


def statistics_for_period(session: Session, measure_code: str, period: str) -> list[Statistic]:
    """A measure for every place in one period, from the latest publication that has it."""
    where = (
        PublishedStatisticRow.measure_code == measure_code,
        PublishedStatisticRow.period == period,
    )
    vintage_id = _latest_vintage_with(session, *where)
    rows = session.scalars(
        select(PublishedStatisticRow)
        .where(*where, PublishedStatisticRow.vintage_id == vintage_id)
        .order_by(PublishedStatisticRow.geography_code)
    )
    return [_statistic(row) for row in rows]


def statistics_of_vintage(session: Session, vintage: Vintage) -> int:
    """How many figures a publication's vintage holds."""
    query = select(func.count()).where(PublishedStatisticRow.vintage_id == vintage.id)
    return int(session.scalar(query) or 0)


def _statistic(row: PublishedStatisticRow) -> Statistic:
    return Statistic(
        measure_code=row.measure_code,
        measure_label=row.measure_label,
        geography_code=row.geography_code,
        geography_name=row.geography_name,
        period=row.period,
        grain=Grain(row.grain),
        value=Decimal(row.value),
        unit=row.unit,
    )
