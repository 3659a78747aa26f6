"""Computed metric values for an area, as the API shows them: exact decimal text (never a
float), and ``null`` for a figure withheld by publication control; and what the commands
did (``carepool metrics compute --json`` and ``carepool metrics import-statistics --json``)."""

from __future__ import annotations

from typing import Literal

from carepool.domain.disclosure import SUPPRESSED_SYMBOL
from carepool.domain.metric_value import MetricValue
from carepool.metrics.service.compute import ComputeOutcome
from carepool.metrics.service.pages import AreaValues, ShownValue, SourcedMetric
from carepool.metrics.service.published import StatisticsImport
from carepool.web.schemas.common import Schema, Timestamp


class MetricSource(Schema):
    """A metric held for the area: what it measures and where its values come from."""

    metric: str
    name: str
    measure: str
    direction: str
    data_vintage: str
    engine: str
    computed_at: Timestamp

    @classmethod
    def of(cls, held: SourcedMetric) -> MetricSource:
        return cls(
            metric=held.metric.id,
            name=held.metric.name,
            measure=held.metric.measure.value,
            direction=held.metric.direction.value,
            data_vintage=held.source.data_vintage,
            engine=held.source.engine,
            computed_at=held.source.computed_at.isoformat(),
        )


class MetricValueOut(Schema):
    """One period's figures; ``value`` is exact decimal text, ``null`` when withheld.
    ``complete`` is false for a quarter or year the data cover only in part (a year from
    April alone): its figures are those months', not the period's."""

    metric: str
    area_code: str
    period: str
    numerator: int | None
    denominator: int | None
    value: str | None
    withheld: bool
    complete: bool

    @classmethod
    def of(cls, area_code: str, shown: ShownValue) -> MetricValueOut:
        figures = shown.figures
        return cls(
            metric=shown.metric.id,
            area_code=area_code,
            period=figures.period,
            numerator=figures.numerator,
            denominator=figures.denominator,
            value=None if figures.value is None else format(figures.value, "f"),
            withheld=figures.withheld,
            complete=figures.complete,
        )


class AreaMetricValues(Schema):
    area_code: str
    area_name: str
    grain: str
    synthetic: bool
    disclosure: Literal["exact", "published"]
    suppressed_symbol: str
    metrics: list[MetricSource]
    values: list[MetricValueOut]

    @classmethod
    def of(cls, found: AreaValues) -> AreaMetricValues:
        return cls(
            area_code=found.area.code,
            area_name=found.area.name,
            grain=found.grain.value,
            synthetic=found.synthetic,
            disclosure="exact" if found.exact else "published",
            suppressed_symbol=SUPPRESSED_SYMBOL,
            metrics=[MetricSource.of(m) for m in found.metrics],
            values=[MetricValueOut.of(found.area.code, v) for v in found.values],
        )


class ComputedValue(Schema):
    """One value as an engine computed it: exact counts, undisclosed, and the value as exact
    decimal text; ``complete`` is false for a quarter or year the data cover only in part."""

    metric: str
    definition_version: int
    area_code: str
    period: str
    grain: str
    numerator: int
    denominator: int | None
    value: str
    complete: bool

    @classmethod
    def of(cls, value: MetricValue) -> ComputedValue:
        return cls(
            metric=value.metric,
            definition_version=value.definition_version,
            area_code=value.area_code,
            period=value.period,
            grain=value.grain.value,
            numerator=value.numerator,
            denominator=value.denominator,
            value=str(value.value),
            complete=value.complete,
        )


class SkippedOut(Schema):
    """A metric not computed for an area, and why; ``metric`` is null when no metric was."""

    area_code: str
    metric: str | None
    reason: str


class ComputeReport(Schema):
    """What a computation produced, from which data and population vintages, whether it was
    stored, which areas and metrics could not be computed, and which populations are
    estimates (``notes``)."""

    engine: str
    data_vintage: str
    year: str
    population_vintage: str
    stored: bool
    values: list[ComputedValue]
    skipped: list[SkippedOut]
    notes: list[str]

    @classmethod
    def of(cls, outcome: ComputeOutcome) -> ComputeReport:
        return cls(
            engine=outcome.engine,
            data_vintage=outcome.data_vintage,
            year=outcome.year,
            population_vintage=outcome.population_vintage,
            stored=outcome.stored,
            values=[ComputedValue.of(v) for v in outcome.values],
            skipped=[
                SkippedOut(area_code=gap.area_code, metric=gap.metric, reason=gap.reason)
                for gap in outcome.skipped
            ],
            notes=list(outcome.notes),
        )


class StatisticsImportOut(Schema):
    """What an import of published statistics did: ``created`` is false when this very file
    (the same SHA-256) was already imported, and then nothing changed."""

    kind: str
    vintage: str
    file: str
    sha256: str
    rows: int
    created: bool
    notes: list[str]

    @classmethod
    def of(cls, outcome: StatisticsImport) -> StatisticsImportOut:
        return cls(
            kind=outcome.kind,
            vintage=outcome.vintage,
            file=outcome.file,
            sha256=outcome.sha256,
            rows=outcome.rows,
            created=outcome.created,
            notes=list(outcome.notes),
        )
