"""Personal budgets at national scale: budgets and transactions imported, posted to the pools'
sub-ledgers and reported, on SQLite and PostgreSQL.

For each engine: a synthetic nation with ``--areas`` areas' 2015-16 plans approved and their
pools open. Each round writes a budgets file (``--budgets``, 100,000 by default) and a
transactions file (``--transactions``, 5,000,000 by default) from the seeded generator
(:mod:`carepool.synth.personal_budgets`), with references of its own so rounds add to the
same database, and then measures, each step in a fresh spawned process (so its peak RSS is
its own):

- the **floor**: reading both files through, row by row, as the importers do, and nothing
  else: the least any import of them could cost;
- importing the budgets (checked, pseudonymised, stored, allocations posted);
- importing the transactions (checked, stored, posted to the sub-ledgers per budget, part,
  kind and quarter);
- the report: the year's last quarterly collection (its year to date covers every line),
  with its sub-ledger proof.

Reported every round: each step's seconds and peak RSS, the total against the target (under
60 s, peak under 1 GiB) and as a ratio of the floor, and whether the sub-ledgers agreed.

Run: ``python -m benchmarks budgets`` or
``python -m benchmarks.budgets --budgets 10000 --transactions 500000 [--rounds 2]
[--engine sqlite]``. It starts its own throwaway PostgreSQL server unless
``CAREPOOL_BENCH_POSTGRES_URL`` names one.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from benchmarks.common import parser, run, throwaway_postgres
from benchmarks.ledger_import import _approve, in_child, load, published_nation
from carepool.budgets import service
from carepool.domain.roles import SYSTEM
from carepool.geography.service import year_geography
from carepool.pools.service import ledger
from carepool.store.db import engine_for, unit_of_work
from carepool.synth.personal_budgets import synthetic_budgets, write_budgets, write_transactions

YEAR = "2015-16"
TARGET_SECONDS = 60.0
TARGET_RSS_MIB = 1024.0
KEY = b"the budgets benchmark's pseudonym key, for its throwaway data only"


def setup(url: str, areas: int) -> list[str]:
    """A published nation with ``areas`` areas' plans approved and their pools open."""
    engine = published_nation(url)
    with unit_of_work(engine) as session:
        codes = [area.code for area in year_geography(session, YEAR).areas[:areas]]
        for code in codes:
            _approve(session, code)
    with unit_of_work(engine) as session:
        for code in codes:
            ledger.open_pool(session, YEAR, code, SYSTEM)
    engine.dispose()
    return codes


def read_through(paths: list[str]) -> tuple[float, int]:
    """The floor: seconds to read the files' rows as the importers do; rows read."""
    started = time.perf_counter()
    rows = 0
    for path in paths:
        with Path(path).open(encoding="utf-8-sig", newline="") as handle:
            for _ in csv.reader(handle):
                rows += 1
    return time.perf_counter() - started, rows


def import_budgets(url: str, path: str) -> float:
    engine = engine_for(url)
    started = time.perf_counter()
    with unit_of_work(engine) as session:
        service.import_budgets(session, Path(path), SYSTEM, key=KEY)
    seconds = time.perf_counter() - started
    engine.dispose()
    return seconds


def import_transactions(url: str, path: str) -> tuple[float, int]:
    engine = engine_for(url)
    started = time.perf_counter()
    with unit_of_work(engine) as session:
        outcome = service.import_transactions(session, Path(path), SYSTEM)
    seconds = time.perf_counter() - started
    engine.dispose()
    return seconds, outcome.entries


def report(url: str) -> tuple[float, bool, int]:
    """Seconds for the year's last quarterly report (its year to date covers every line);
    whether the sub-ledgers agreed; budgets live at the year's end."""
    engine = engine_for(url)
    started = time.perf_counter()
    with unit_of_work(engine) as session:
        found = service.quarter_report(session, YEAR, 4, SYSTEM)
        agreed, live = found.ledger_agrees, found.collection.live_at_quarter_end
    seconds = time.perf_counter() - started
    engine.dispose()
    return seconds, agreed, live


@dataclass(frozen=True, slots=True)
class Round:
    engine: str
    number: int
    floor: tuple[float, float]
    budgets: tuple[float, float]
    transactions: tuple[float, float]
    report: tuple[float, float]
    rows: int
    entries: int
    agreed: bool
    live: int

    @property
    def total(self) -> float:
        return self.budgets[0] + self.transactions[0] + self.report[0]

    @property
    def peak(self) -> float:
        return max(self.budgets[1], self.transactions[1], self.report[1])

    @property
    def met(self) -> bool:
        return self.total < TARGET_SECONDS and self.peak < TARGET_RSS_MIB and self.agreed


def one_round(
    engine: str, url: str, codes: list[str], options: argparse.Namespace, number: int, folder: Path
) -> Round:
    budgets = [
        replace(b, reference=f"R{number}-{b.reference}")
        for b in synthetic_budgets(codes, options.budgets, YEAR, seed=number)
    ]
    budget_file = write_budgets(folder / f"{engine}-{number}-budgets.csv", budgets)
    spend_file = folder / f"{engine}-{number}-transactions.csv"
    per_budget = max(1, options.transactions // max(1, options.budgets))
    write_transactions(spend_file, budgets, per_budget, seed=number)
    del budgets
    (floor, rows), floor_rss = in_child(read_through, [str(budget_file), str(spend_file)])
    set_up, set_up_rss = in_child(import_budgets, url, str(budget_file))
    (posted, entries), posted_rss = in_child(import_transactions, url, str(spend_file))
    (reported, agreed, live), report_rss = in_child(report, url)
    budget_file.unlink()
    spend_file.unlink()
    found = Round(
        engine,
        number,
        (floor, floor_rss),
        (set_up, set_up_rss),
        (posted, posted_rss),
        (reported, report_rss),
        rows,
        entries,
        agreed,
        live,
    )
    _print_round(found)
    return found


def _print_round(r: Round) -> None:
    print(
        f"{r.engine} round {r.number}: {r.rows:,} rows read; floor {r.floor[0]:.1f} s; "
        f"budgets {r.budgets[0]:.1f} s ({r.budgets[1]:.0f} MiB), transactions "
        f"{r.transactions[0]:.1f} s ({r.transactions[1]:.0f} MiB, {r.entries:,} sub-ledger "
        f"entries), report {r.report[0]:.1f} s ({r.report[1]:.0f} MiB); total {r.total:.1f} s "
        f"= {r.total / r.floor[0]:.1f}x the floor, peak {r.peak:.0f} MiB; sub-ledgers "
        f"{'agree' if r.agreed else 'DISAGREE'}; target < {TARGET_SECONDS:.0f} s and "
        f"< {TARGET_RSS_MIB:.0f} MiB {'met' if r.met else 'MISSED'}; load {load():.1f}",
        flush=True,
    )


def run_engine(engine: str, url: str, options: argparse.Namespace, folder: Path) -> list[Round]:
    print(f"{engine}: building the nation, approving {options.areas} plans, opening pools…")
    codes, _ = in_child(setup, url, options.areas)
    return [
        one_round(engine, url, codes, options, number, folder)
        for number in range(1, options.rounds + 1)
    ]


def measure(options: argparse.Namespace) -> int:
    rounds: list[Round] = []
    with tempfile.TemporaryDirectory(prefix="carepool-budgets-bench-") as tmp:
        folder = Path(tmp)
        if options.engine in ("sqlite", "both"):
            rounds += run_engine("sqlite", f"sqlite:///{folder / 'budgets.db'}", options, folder)
        if options.engine in ("postgresql", "both"):
            with throwaway_postgres("bench-budgets") as url:
                rounds += run_engine("postgresql", url, options, folder)
    print()
    for r in rounds:
        _print_round(r)
    return 0 if all(r.agreed for r in rounds) else 1


def _count(text: str) -> int:
    return int(text.replace("_", "").replace(",", ""))


def _arguments(argv: list[str]) -> argparse.Namespace:
    parsing = parser("benchmarks.budgets", __doc__)
    parsing.add_argument("--budgets", type=_count, default=100_000, help="budgets per round")
    parsing.add_argument(
        "--transactions", type=_count, default=5_000_000, help="transactions per round (about)"
    )
    parsing.add_argument("--areas", type=int, default=10, help="areas with pools (default 10)")
    parsing.add_argument("--rounds", type=int, default=1, help="rounds per engine (default 1)")
    parsing.add_argument(
        "--engine", choices=("sqlite", "postgresql", "both"), default="both", help="default both"
    )
    return parsing.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark as the command line asks."""
    options = _arguments(argv or [])
    return run(lambda: measure(options))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
