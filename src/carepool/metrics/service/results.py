"""Computed metric values: storing an engine's results for a data vintage, and reading them.

An engine (the reference engine, DuckDB or Spark) computes :class:`MetricValue`\\ s from one
*data vintage*, a named extract of pseudonymised person-level data. Saving them replaces what
that vintage held for the same metrics, in the caller's unit of work, with an audit event; so
recomputing a metric is safe to repeat and a page never sees half of a run.

The stored values are exact and undisclosed: numerators of 1 to 7 are kept, because payment
for performance and analysts need the true figures. Anything shown to the public goes
through :func:`public_values`, which applies :mod:`carepool.domain.disclosure`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from carepool.audit import repository as audit
from carepool.domain.disclosure import Rate, publish_rate
from carepool.domain.errors import CarepoolError, NotFound, Problem
from carepool.domain.metric import Measure
from carepool.domain.metric_catalogue import definition
from carepool.domain.metric_value import Grain, MetricValue
from carepool.domain.roles import Principal, Role
from carepool.metrics import repository as repo

MAX_VINTAGE_NAME, MAX_ENGINE_NAME = 120, 20


@dataclass(frozen=True, slots=True)
class SavedResults:
    """What a save did: how many values were stored, per metric, and how many replaced."""

    data_vintage: str
    engine: str
    stored: int
    replaced: int
    metrics: tuple[tuple[str, int], ...]

    def as_dict(self) -> dict[str, object]:
        """The audit event's ``after`` payload (stored in the hashed audit chain, so its shape
        stays as it is). No command prints it, so it has no schema: schemas sit above services
        and a service cannot use one."""
        return {
            "data_vintage": self.data_vintage,
            "engine": self.engine,
            "stored": self.stored,
            "replaced": self.replaced,
            "metrics": dict(self.metrics),
        }


def save_results(
    session: Session,
    values: Sequence[MetricValue],
    actor: Principal,
    *,
    engine: str,
    data_vintage: str,
) -> SavedResults:
    """Store a run's values for a data vintage, replacing that vintage's values of the metrics."""
    actor.require(Role.NATIONAL_ADMIN, Role.ANALYST)
    _check_names(engine, data_vintage)
    _check_unique(values)
    replaced = repo.save_metric_values(
        session,
        values,
        engine=engine,
        data_vintage=data_vintage,
        computed_at=dt.datetime.now(dt.UTC),
    )
    counts = tuple(sorted(Counter(v.metric for v in values).items()))
    saved = SavedResults(data_vintage, engine, len(values), replaced, counts)
    audit.record(
        session,
        actor=actor.username,
        action="save_metric_values",
        entity="metric_values",
        entity_id=data_vintage,
        after=saved.as_dict(),
    )
    return saved


def _check_names(engine: str, data_vintage: str) -> None:
    if not data_vintage.strip() or len(data_vintage) > MAX_VINTAGE_NAME:
        raise CarepoolError(f"a data vintage is named with 1 to {MAX_VINTAGE_NAME} characters")
    if not engine.strip() or len(engine) > MAX_ENGINE_NAME:
        raise CarepoolError(f"an engine is named with 1 to {MAX_ENGINE_NAME} characters")


def _check_unique(values: Sequence[MetricValue]) -> None:
    """One value per metric, version, area and period: a second would be an engine's mistake."""
    seen = Counter((v.metric, v.definition_version, v.area_code, v.period) for v in values)
    repeated = [key for key, count in seen.items() if count > 1]
    if repeated:
        raise CarepoolError(
            f"the results hold {len(repeated)} value(s) more than once; nothing was saved",
            [
                Problem(f"{metric} version {version}, {area}, {period}")
                for metric, version, area, period in repeated[:50]
            ],
        )


@dataclass(frozen=True, slots=True)
class MetricSeries:
    """A metric for one area over time, from one data vintage (``None`` if never computed)."""

    metric: str
    area_code: str
    grain: Grain
    data_vintage: str | None
    values: tuple[MetricValue, ...]


def series(
    session: Session,
    metric: str,
    area_code: str,
    grain: Grain,
    *,
    data_vintage: str | None = None,
) -> MetricSeries:
    """An area's values of a metric, oldest period first, from the latest vintage by default."""
    vintage = data_vintage or repo.latest_metric_vintage(session, metric)
    values = () if vintage is None else tuple(
        repo.metric_series(session, metric, area_code, grain, vintage)
    )  # fmt: skip
    return MetricSeries(metric, area_code, grain, vintage, values)


def latest_vintage(session: Session, metric: str) -> str | None:
    """The data vintage a metric was most recently computed from, if any."""
    return repo.latest_metric_vintage(session, metric)


def period_values(
    session: Session, metric: str, period: str, *, data_vintage: str | None = None
) -> list[MetricValue]:
    """Every area's value of a metric in one period (latest vintage by default)."""
    vintage = data_vintage or repo.latest_metric_vintage(session, metric)
    return (
        [] if vintage is None else repo.metric_values_for_period(session, metric, period, vintage)
    )


def vintage_values(session: Session, metric: str) -> tuple[str | None, list[MetricValue]]:
    """The latest vintage of a metric and every value it holds (exact: see
    :func:`public_values` before showing them to anyone but national roles)."""
    vintage = repo.latest_metric_vintage(session, metric)
    if vintage is None:
        return None, []
    return vintage, repo.metric_values_of_vintage(session, metric, vintage)


def public_values(values: Sequence[MetricValue]) -> list[tuple[MetricValue, Rate]]:
    """Each value beside what the public may see of it (small counts withheld).

    A count metric's value is its numerator: the population reported beside it does not make
    it a rate, so it is published as a count (rounded), never exactly.
    """
    return [(v, _published(v)) for v in values]


def _published(value: MetricValue) -> Rate:
    if _is_count(value):
        return publish_rate(value.numerator, None, value.value)
    return publish_rate(value.numerator, value.denominator, value.value)


def _is_count(value: MetricValue) -> bool:
    try:
        return definition(value.metric).measure is Measure.COUNT
    except NotFound:  # not in the catalogue: a value with no denominator is a count
        return value.denominator is None
