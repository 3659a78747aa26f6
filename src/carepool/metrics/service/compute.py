"""Compute every metric from an ingested data directory and store the values.

The data directory says which data vintage it holds (its ``manifest.json``, written by the
ingest); the year's geography gives the populations that are the denominators. Values are
stored against the engine and the vintage, so a page can always say where a figure came from
and a recomputation replaces exactly the values of that vintage.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from carepool import engines
from carepool.domain.errors import CarepoolError
from carepool.domain.metric import PopulationGap, area_populations, population_gaps
from carepool.domain.metric_catalogue import catalogue
from carepool.domain.metric_value import MetricValue
from carepool.domain.roles import Principal
from carepool.geography.service import denominators
from carepool.metrics.service import results as metric_results
from carepool.person_data.service import recover

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class ComputeOutcome:
    """What a computation produced and where it was stored.

    ``skipped`` names each area and metric that could not be computed, and why (an area the
    population vintage cannot give, ages too coarse for a standardised rate); ``notes`` says
    which areas' populations are estimates.
    """

    engine: str
    data_vintage: str
    year: str
    values: list[MetricValue]
    stored: bool
    population_vintage: str = ""
    skipped: tuple[PopulationGap, ...] = ()
    notes: tuple[str, ...] = ()


def data_vintage(data_dir: Path) -> str:
    """The vintage the ingest recorded; a clear error if the folder is not a data directory.

    An ingest killed while swapping the data directory in is put right first (see
    :func:`carepool.person_data.service.recover`)."""
    recover(data_dir)
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
    population_vintage: str | None = None,
) -> ComputeOutcome:
    """Compute every catalogue metric for every area, then (by default) store the values.

    The denominators are the year's metric population vintage (or ``population_vintage``).
    An area or metric that cannot be computed is named in ``skipped`` and every other value
    is computed and stored; only a population that serves nothing at all is refused.
    """
    if engine not in engines.ENGINES:
        raise CarepoolError(f"unknown engine {engine!r}: choose {', '.join(engines.ENGINES)}")
    vintage = data_vintage(data_dir)
    say = progress or (lambda _message: None)
    say("Reading populations")
    found = denominators(session, year, population_vintage)
    definitions = catalogue()
    gaps = population_gaps(definitions, area_populations(definitions, found.counts))
    say(f"Computing metrics with {engine}")
    values = engines.compute(engine, data_dir, found.counts, definitions, spark=spark)
    if store:
        say("Storing the values")
        metric_results.save_results(session, values, actor, engine=engine, data_vintage=vintage)
    unmatched = (PopulationGap(p.key or "", None, p.message) for p in found.unmatched)
    skipped = (*unmatched, *gaps)
    return ComputeOutcome(
        engine, vintage, year, values, store, found.vintage, skipped, found.apportioned
    )
