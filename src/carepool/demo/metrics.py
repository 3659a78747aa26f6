"""The demo's metrics: a synthetic year of person-level data, ingested and computed.

The demo shows metrics the way a real programme gets them: raw records with NHS numbers are
generated for the synthetic nation, ingested (checked and pseudonymised, the bad rows
quarantined), and every metric is computed with the default engine and stored. Published
statistics are imported beside them when their files are at hand.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from carepool.domain.errors import CarepoolError
from carepool.domain.roles import SYSTEM
from carepool.geography.service import year_geography
from carepool.metrics import repository as repo
from carepool.metrics.service import compute as metric_compute
from carepool.metrics.service import published as published_statistics
from carepool.person_data import service as person_data

DEMO_METRICS_YEAR = "2015-16"
DEMO_SCALE = 0.1
"""A tenth of a nation's year (about 2 million hospital spells): quick to build, realistic."""
STATISTICS_FILES = (
    "oflog_asc_outcomes_by_la_2015_2023.csv",
    "nhse_dtoc_england_monthly_2010_2020.xls",
)


@dataclass(frozen=True)
class DemoMetrics:
    """What the demo's metrics step did."""

    data_vintage: str
    values: int
    computed: bool
    statistics: tuple[str, ...]


def build_demo_metrics(
    session: Session,
    data_dir: Path,
    key: bytes,
    *,
    seed: int = 2015,
    scale: float = DEMO_SCALE,
    statistics_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> DemoMetrics:
    """Generate, ingest and compute the demo year's metrics; safe to run again.

    ``data_dir`` is where the ingested data goes: the default data directory, so that
    ``carepool metrics compute`` finds it without options. The raw files are made in a
    folder beside it and deleted once ingested. When the data directory already holds an
    ingest whose values are stored, nothing is redone.
    """
    say = progress or (lambda _message: None)
    if not _already_computed(session, data_dir):
        _generate_and_ingest(session, data_dir, key, seed, scale, say)
        say("Computing every metric with DuckDB")
        outcome = metric_compute.compute(
            session, engine="duckdb", data_dir=data_dir, year=DEMO_METRICS_YEAR, actor=SYSTEM
        )
        computed, values = True, len(outcome.values)
    else:
        computed, values = False, 0
    imported = _import_statistics(session, statistics_dir, say)
    return DemoMetrics(metric_compute.data_vintage(data_dir), values, computed, imported)


def _already_computed(session: Session, data_dir: Path) -> bool:
    try:
        vintage = metric_compute.data_vintage(data_dir)
    except CarepoolError:
        return False
    return repo.latest_metric_vintage(session, "non_elective_admissions") == vintage


def _generate_and_ingest(
    session: Session,
    data_dir: Path,
    key: bytes,
    seed: int,
    scale: float,
    say: Callable[[str], None],
) -> None:
    raw = data_dir.with_name(f"{data_dir.name}-raw")
    shutil.rmtree(raw, ignore_errors=True)
    say(f"Generating person-level records ({scale:g} of a nation's year)")
    person_data.generate(raw, seed=seed, scale=scale, financial_year=DEMO_METRICS_YEAR)
    say("Ingesting and pseudonymising them")
    areas = year_geography(session, DEMO_METRICS_YEAR).areas
    codes = {area.code for area in areas}
    merged = person_data.merged_councils(areas)
    person_data.ingest(raw, data_dir, codes, key, merged=merged)
    shutil.rmtree(raw, ignore_errors=True)  # raw NHS numbers are not kept once ingested


def _import_statistics(
    session: Session, statistics_dir: Path | None, say: Callable[[str], None]
) -> tuple[str, ...]:
    """Import the published statistics files found in ``statistics_dir`` (each only once)."""
    if statistics_dir is None:
        return ()
    found = [statistics_dir / name for name in STATISTICS_FILES]
    imported = []
    for path in found:
        if path.is_file():
            say(f"Importing published statistics from {path.name}")
            published_statistics.import_statistics(session, path, SYSTEM)
            imported.append(path.name)
    return tuple(imported)
