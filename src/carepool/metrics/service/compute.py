"""Compute every metric from an ingested data directory and store the values.

The data directory says which data vintage it holds (its ``manifest.json``, written by the
ingest); the year's geography gives the populations that are the denominators. Values are
stored against the engine and the vintage, so a page can always say where a figure came from
and a recomputation replaces exactly the values of that vintage.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from carepool import engines
from carepool.domain.errors import CarepoolError
from carepool.domain.geography import PopulationCount
from carepool.domain.metric_value import MetricValue
from carepool.domain.roles import Principal
from carepool.geography.service import year_geography
from carepool.metrics.service import results as metric_results

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class ComputeOutcome:
    """What a computation produced and where it was stored."""

    engine: str
    data_vintage: str
    year: str
    values: list[MetricValue]
    stored: bool


def data_vintage(data_dir: Path) -> str:
    """The vintage the ingest recorded; a clear error if the folder is not a data directory."""
    manifest = data_dir / MANIFEST
    if not manifest.is_file():
        raise CarepoolError(
            f"{data_dir} is not a carepool data directory (no {MANIFEST}): "
            "run 'carepool data ingest' first"
        )
    try:
        vintage = json.loads(manifest.read_text(encoding="utf-8"))["vintage"]
    except (ValueError, KeyError, TypeError) as exc:
        raise CarepoolError(f"{manifest} is not a valid manifest: {exc}") from None
    return str(vintage)


def populations(session: Session, year: str) -> list[PopulationCount]:
    """Every area's residents by age in the year's population vintage.

    An area of two councils (Cornwall with the Isles of Scilly) has each council's rows; the
    metrics need one count per age, so rows of the same ages are added together.
    """
    geo = year_geography(session, year)
    summed: dict[tuple[str, int, int | None], PopulationCount] = {}
    for counts in geo.populations.counts.values():
        for count in counts:
            key = (count.geo_code, count.age_from, count.age_to)
            before = summed.get(key)
            summed[key] = (
                count if before is None else replace(before, persons=before.persons + count.persons)
            )
    return list(summed.values())


def compute(
    session: Session,
    *,
    engine: str,
    data_dir: Path,
    year: str,
    actor: Principal,
    store: bool = True,
    spark: SparkSession | None = None,
    progress: Callable[[str], None] | None = None,
) -> ComputeOutcome:
    """Compute every catalogue metric for every area, then (by default) store the values."""
    if engine not in engines.ENGINES:
        raise CarepoolError(f"unknown engine {engine!r}: choose {', '.join(engines.ENGINES)}")
    vintage = data_vintage(data_dir)
    say = progress or (lambda _message: None)
    say("Reading populations")
    population = populations(session, year)
    say(f"Computing metrics with {engine}")
    values = engines.compute(engine, data_dir, population, spark=spark)
    if store:
        say("Storing the values")
        metric_results.save_results(session, values, actor, engine=engine, data_vintage=vintage)
    return ComputeOutcome(engine, vintage, year, values, store)
