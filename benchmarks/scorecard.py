"""The public scorecard page on the demo nation: how long a member of the public waits.

The demo nation is built once into a SQLite file (``carepool demo --no-serve``), or read from
``--database URL``, and served in-process by the web app. Each round asks for the scorecard
of every one of its 151 areas, in a shuffled order, as the public (no session), and times
each request; the area's first request of the benchmark is its cold one and is reported
apart. In the same round, for comparison, the same app answers:

- the **floor**: ``/healthz``, which touches nothing, so what is left is the framework's own
  cost of a request;
- the **area page** (``/areas/CODE``): the page the scorecard replaced as the public's way
  in, which reads the area's geography and allocation.

Reported every round: p50 and p95 of each, and the scorecard's p95 as a ratio of the floor's
and the area page's. The target: the scorecard's warm p95 under 150 ms.

Run: ``python -m benchmarks scorecard`` or
``python -m benchmarks.scorecard [--rounds 3] [--database URL] [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.publish import build_demo, load, workspace
from carepool.demo.service import DEMO_YEARS
from carepool.geography.service import year_geography
from carepool.store.db import engine_for, unit_of_work
from carepool.web.app import create_app

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

TARGET_P95_MS = 150.0
YEAR = DEMO_YEARS[0]  # the demo's first year, which has plans, metrics and payments


def _time(client: TestClient, path: str) -> float:
    started = time.perf_counter()
    answer = client.get(path)
    spent = (time.perf_counter() - started) * 1000
    if answer.status_code != 200:
        raise SystemExit(f"{path} answered {answer.status_code}")
    return spent


def _p(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(share * 100) - 1]


def one_round(number: int, client: TestClient, codes: list[str]) -> tuple[bool, list[float]]:
    """Every area's scorecard, area page and a floor request, interleaved; milliseconds."""
    order = random.Random(number).sample(codes, len(codes))
    scorecards, areas, floors = [], [], []
    for code in order:
        floors.append(_time(client, "/healthz"))
        areas.append(_time(client, f"/areas/{code}?year={YEAR}"))
        scorecards.append(_time(client, f"/areas/{code}/scorecard?year={YEAR}"))
    p95 = _p(scorecards, 0.95)
    ok = p95 < TARGET_P95_MS
    print(
        f"round {number}: scorecard p50 {_p(scorecards, 0.5):.1f} ms, p95 {p95:.1f} ms; "
        f"area page p50 {_p(areas, 0.5):.1f} ms, p95 {_p(areas, 0.95):.1f} ms; floor p95 "
        f"{_p(floors, 0.95):.2f} ms; scorecard p95 = {p95 / _p(floors, 0.95):.0f}x the floor, "
        f"{p95 / _p(areas, 0.95):.1f}x the area page; target p95 < {TARGET_P95_MS:.0f} ms "
        f"{'met' if ok else 'MISSED'} ({len(codes)} areas); {load()}"
    )
    return ok, scorecards


def main(argv: list[str] | None = None) -> int:
    options = _arguments(argv or [])
    with workspace(options.keep) as folder:
        url = options.database or build_demo(folder)
        engine = engine_for(url)
        with unit_of_work(engine) as session:
            codes = [area.code for area in year_geography(session, YEAR).areas]
        failed = False
        from fastapi.testclient import TestClient  # here: its import warns, and --help needs none

        with TestClient(create_app(engine, "benchmark-secret-key")) as client:
            cold = _time(client, f"/areas/{codes[0]}/scorecard?year={YEAR}")
            print(f"scorecard benchmark ({YEAR}): first request {cold:.0f} ms (cold); {load()}")
            for number in range(1, options.rounds + 1):
                ok, _ = one_round(number, client, codes)
                failed |= not ok
        engine.dispose()
    return 1 if failed else 0


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.scorecard", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--rounds", type=int, default=3, help="how many rounds (default 3)")
    parser.add_argument("--database", metavar="URL", help="serve this database, not a new demo")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="work in DIR and keep it")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
