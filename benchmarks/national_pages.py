"""The national team's lists on the demo nation: how long someone at the centre waits.

The demo nation is built once into a SQLite file (``carepool demo --no-serve``), or read from
``--database URL``, and served in-process by the web app, signed in as the demo's ``national``
account. Each page's first request after the app starts is its cold one and is reported
apart. Each round then asks for every page ``--repeats`` times, in a shuffled order, and
times each request; in the same round, for comparison, the same app answers the **floor**:
``/healthz``, which touches nothing, so what is left is the framework's own cost of a request.

Reported every round: each page's p50 and p95, and its p95 as a ratio of the floor's. The
targets: every page's warm p95 under 300 ms, and its cold request under 1 s.

Run: ``python -m benchmarks national_pages`` or
``python -m benchmarks.national_pages [--rounds 3] [--repeats 10] [--database URL]
[--keep DIR]``.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.common import run
from benchmarks.publish import build_demo, load, workspace
from carepool.frameworks import available_years
from carepool.store.db import engine_for

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

TARGET_P95_MS = 300.0
TARGET_COLD_MS = 1000.0
YEAR = available_years()[0]
USERNAME = "national"
PAGES = (
    f"/pools/{YEAR}",
    f"/pools/{YEAR}/returns",
    f"/plans/{YEAR}",
    f"/payments/{YEAR}",
    "/metrics",
    "/allocations",
    f"/allocations/{YEAR}",
    "/national",
)
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _time(client: TestClient, path: str) -> float:
    started = time.perf_counter()
    answer = client.get(path)
    spent = (time.perf_counter() - started) * 1000
    if answer.status_code != 200:
        raise SystemExit(f"{path} answered {answer.status_code}")
    return spent


def _p(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(share * 100) - 1]


def _sign_in(client: TestClient) -> None:
    from carepool.demo.service import DEMO_PASSWORD

    found = _CSRF.search(client.get("/sign-in").text)
    if found is None:
        raise SystemExit("the sign-in page has no CSRF field")
    answer = client.post(
        "/sign-in",
        data={"csrf_token": found.group(1), "username": USERNAME, "password": DEMO_PASSWORD},
        follow_redirects=False,
    )
    if answer.status_code != 303:
        raise SystemExit(f"signing in as {USERNAME!r} answered {answer.status_code}")


def cold_requests(client: TestClient) -> bool:
    """Each page's first request since the app started; True if all are under target."""
    ok = True
    for path in PAGES:
        spent = _time(client, path)
        met = spent < TARGET_COLD_MS
        ok &= met
        print(f"cold {path}: {spent:.0f} ms ({'met' if met else 'MISSED'} < {TARGET_COLD_MS:.0f})")
    return ok


def one_round(number: int, client: TestClient, repeats: int) -> bool:
    """Every page ``repeats`` times with a floor request before each, shuffled; True if every
    page's p95 is under target."""
    order = random.Random(number).sample(PAGES * repeats, len(PAGES) * repeats)
    spent: dict[str, list[float]] = {path: [] for path in PAGES}
    floors = []
    for path in order:
        floors.append(_time(client, "/healthz"))
        spent[path].append(_time(client, path))
    floor = _p(floors, 0.95)
    ok = True
    parts = []
    for path in PAGES:
        p95 = _p(spent[path], 0.95)
        ok &= p95 < TARGET_P95_MS
        parts.append(
            f"{path} p50 {_p(spent[path], 0.5):.0f} p95 {p95:.0f} ms ({p95 / floor:.0f}x floor)"
        )
    print(
        f"round {number}: floor p95 {floor:.2f} ms; " + "; ".join(parts) + f"; target p95 < "
        f"{TARGET_P95_MS:.0f} ms {'met' if ok else 'MISSED'}; {load()}"
    )
    return ok


def main(argv: list[str] | None = None) -> int:
    options = _arguments(argv or [])
    return run(lambda: measure(options))


def measure(options: argparse.Namespace) -> int:
    """Build or open the demo, serve it in-process and time the pages; 1 if a target is
    missed. Run by :func:`benchmarks.common.run`, so SIGTERM still removes the workspace."""
    with workspace(options.keep) as folder:
        url = options.database or build_demo(folder)
        engine = engine_for(url)
        from fastapi.testclient import TestClient  # here: its import warns, and --help needs none

        from carepool.web.app import create_app

        with TestClient(create_app(engine, "benchmark-secret-key")) as client:
            _sign_in(client)
            print(f"national pages benchmark ({YEAR}), as {USERNAME!r}; {load()}")
            failed = not cold_requests(client)
            for number in range(1, options.rounds + 1):
                failed |= not one_round(number, client, options.repeats)
        engine.dispose()
    return 1 if failed else 0


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.national_pages", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--rounds", type=int, default=3, help="how many rounds (default 3)")
    parser.add_argument(
        "--repeats", type=int, default=10, help="requests per page per round (default 10)"
    )
    parser.add_argument("--database", metavar="URL", help="serve this database, not a new demo")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="work in DIR and keep it")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
