"""The history pages' charts: one bar per year, each drawn with its table beside it."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from carepool.domain.money import format_millions
from carepool.scorecard.history import History, MetricHistory, YearFigures
from carepool.web.charts import Bar, Chart, horizontal_bar_chart


def money_chart(
    chart_id: str, title: str, history: History, amount: Callable[[YearFigures], int | None]
) -> Chart:
    """Money by programme year; a year without the figure gets no bar, not a zero."""
    bars = [
        Bar(year.year, value, format_millions(value))
        for year in history.years
        if (value := amount(year)) is not None
    ]
    description = "; ".join(f"{b.label}: {b.shown}" for b in bars) or "No figures yet"
    return horizontal_bar_chart(
        chart_id, title, description, bars, label_heading="Programme year", value_heading="Amount"
    )


def metric_chart(chart_id: str, metric: MetricHistory) -> Chart:
    """A metric's yearly values; withheld values are named in the table, not drawn."""
    places = metric.definition.decimal_places
    scale = Decimal(10) ** places
    bars = [
        Bar(point.period, int(point.value * scale), f"{point.value:,}")
        if point.value is not None
        else Bar(point.period, 0, "withheld or not computed")
        for point in metric.points
    ]
    description = "; ".join(f"{b.label}: {b.shown}" for b in bars)
    return horizontal_bar_chart(
        chart_id,
        metric.definition.name,
        description,
        bars,
        label_heading="Year",
        value_heading="Value",
    )
