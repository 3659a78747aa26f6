"""Every command that imports a file, with a valid seed file and the world it imports into.

Reference files start empty (the migrated template): their seeds are the head of the real
files in ``../shared/data``, read at run time and never copied into the repository. The
others need a programme in motion, so they run on ``fuzz-demo.db``, the demo nation with a
spend file, an allocation table and a draft plan's workbook taken from it, and the head of
a synthetic spells file for the person-level ingest, which checks records against its areas.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from malformed import Seed
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from carepool.allocation import service as allocation
from carepool.domain.roles import SYSTEM
from carepool.person_data import service as person_data
from carepool.plans import service as plans
from carepool.pools.repository import ledger as pool_repo
from carepool.pools.service import ledger
from carepool.store.db import engine_for, unit_of_work

YEAR = "2015-16"
OPEN_QUARTER = dt.date(2016, 1, 4)  # the demo closes Q1 to Q3 of every pool
SEED_ROWS = 40


@dataclass(frozen=True, slots=True)
class Demo:
    """The prepared demo world: its database file and the seeds taken from it."""

    database: Path
    area: str
    seeds: dict[str, Seed]


@dataclass(frozen=True, slots=True)
class Importer:
    """A command that imports a file: its arguments around the file, and where its seed is."""

    command: tuple[str, ...]
    options: tuple[str, ...]
    on_demo: bool

    def args(self, path: Path, demo: Demo | None, data_dir: Path) -> list[str]:
        """The command line: ``{area}`` is the demo pool's area, ``{data}`` the data folder."""
        fills = {"{area}": demo.area if demo else "", "{data}": str(data_dir)}
        return [fills.get(part, part) for part in (*self.command, str(path), *self.options)]


def _head(path: Path, rows: int | None = SEED_ROWS) -> Seed:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        table = list(csv.reader(handle))
    return Seed(path.name, tuple(tuple(r) for r in table[: None if rows is None else rows + 1]))


SHARED_SEEDS: dict[str, Callable[[Path], Seed]] = {
    "areas": lambda data: _head(data / "uk_local_authorities.csv", None),
    "shares": lambda data: _head(data / "derived_ccg15_to_la_population_shares_mid2017.csv", None),
    "populations": lambda data: _head(data / "ons_mye_mid2019_utla19_single_year_age.csv", None),
    "statistics": lambda data: _head(data / "oflog_asc_outcomes_by_la_2015_2023.csv", 200),
    "deflators": lambda data: _head(data / "hmt_gdp_deflators_dec2023.csv", None),
}

IMPORTERS: dict[str, Importer] = {
    "areas": Importer(("import", "areas"), (), on_demo=False),
    "shares": Importer(("import", "shares"), (), on_demo=False),
    "populations": Importer(("import", "populations"), (), on_demo=False),
    "statistics": Importer(
        ("metrics", "import-statistics"), ("--kind", "asc_outcomes"), on_demo=False
    ),
    "allocation": Importer(
        ("import", "allocation"), ("--year", YEAR, "--reason", "fuzz"), on_demo=True
    ),
    "spend": Importer(("ledger", "import", "{area}"), (), on_demo=True),
    "deflators": Importer(("import", "deflators"), (), on_demo=False),
    "plan workbook": Importer(("plans", "import"), (), on_demo=True),
    "person-level": Importer(("data", "ingest"), ("--data-dir", "{data}"), on_demo=True),
}


def _allocation_seed(session: Session) -> Seed:
    published = allocation.current_run(session, YEAR, SYSTEM)
    assert published is not None
    rows = [("financial_year", "stream", "area_code", "commissioner_code", "amount")]
    for line in allocation.stored_lines(published):
        pence = line.amount
        rows.append(
            (line.financial_year, line.stream, line.area_code, line.commissioner_code or "",
             f"{pence // 100}.{pence % 100:02d}")
        )  # fmt: skip
    return Seed("allocation.csv", tuple(rows))


def _spend_seed(session: Session, area: str) -> Seed:
    pool = ledger.pool_for(session, YEAR, area, SYSTEM)
    schemes = [s.ref for s in ledger.plan_content(session, pool).schemes]
    rows = [("date", "scheme", "provider", "amount", "reference")]
    for n in range(SEED_ROWS):
        day = OPEN_QUARTER + dt.timedelta(days=n % 60)
        rows.append((day.isoformat(), schemes[n % len(schemes)], "Acme Care Ltd", f"{n + 1}00.50",
                     f"FUZZ-{n:04d}"))  # fmt: skip
    return Seed("spend.csv", tuple(rows))


def _plan_seed(session: Session) -> Seed:
    status = plans.national_status(session, YEAR)["plans"]
    draft = next(r["area_code"] for r in status if r["status"] == "Draft")
    out = io.BytesIO()
    plans.export_workbook(session, YEAR, draft, SYSTEM, out)
    rows = (("plan", "area"), ("workbook", draft))
    return Seed(f"plan-{draft}.xlsx", rows, out.getvalue())


def _person_level_seed(folder: Path) -> Seed:
    """The head of a synthetic spells file from the project's own generator."""
    person_data.generate(folder / "raw", scale=0.0002, file_format="csv")
    return _head(folder / "raw" / "spells.csv")


def build_demo_world(demo_db: Path, folder: Path) -> Demo:
    """Copy the demo and take the seeds of the importers that need it from the copy."""
    database = folder / "fuzz-demo.db"
    shutil.copyfile(demo_db, database)
    engine: Engine = engine_for(f"sqlite:///{database}")
    try:
        with unit_of_work(engine) as session:
            area = sorted(p.area_code for p in pool_repo.all_pools(session, YEAR))[0]
            seeds = {
                "allocation": _allocation_seed(session),
                "spend": _spend_seed(session, area),
                "plan workbook": _plan_seed(session),
                "person-level": _person_level_seed(folder),
            }
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()
        engine_for.cache_clear()
    return Demo(database, area, seeds)
