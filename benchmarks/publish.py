"""``carepool publish`` for the whole demo nation: written, validated, and against a floor.

The demo nation (``carepool demo --no-serve``: 151 areas, two programme years allocated and
published, a year of every pooled budget, metrics from a tenth of a national year of
person-level records, and a year of payments for performance) is built once into a SQLite
file in a temporary folder, or read from ``--database URL``. Each round then:

1. **publishes** it (:func:`carepool.publication.service.package.publish`): every table read
   through its capability's public view, keys checked, the CSVs, ``datapackage.json`` and the
   360Giving files written beside the folder and swapped in;
2. **validates** the package with ``frictionless`` (types, required cells, primary and
   foreign keys) and ``360giving.json`` against the 360Giving schema in
   ``../shared/data/360giving`` (skipped, and said so, if that folder is missing);
3. measures the **floor**: reading the same source rows straight from the database with one
   plain ``SELECT`` per table (the allocation lines, plans and their versions, ledger legs,
   closed periods, metric values, payment lines and returns), nothing checked or written.

Reported every round: wall and CPU seconds of the publish, of each validation and of the
floor, the ratio of publish to floor, and the package's size; then each table's rows. The
target: publish and validate under 60 s.

Run: ``python -m benchmarks publish`` or
``python -m benchmarks.publish [--rounds 3] [--database URL] [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, text

from carepool.publication.service.package import Published, publish
from carepool.store.db import engine_for, unit_of_work

TARGET_SECONDS = 60.0
REPO = Path(__file__).resolve().parent.parent
SCHEMAS = REPO.parent / "shared" / "data" / "360giving"
SOURCE_TABLES = (
    "vintage",
    "council",
    "allocation_run",
    "allocation_line",
    "allocation_event",
    "plan",
    "plan_version",
    "pool",
    "closed_period",
    "ledger_entry",
    "ledger_posting",
    "metric_value",
    "payment_run",
    "payment_line",
    "payment_event",
    "pool_return",
)
"""What the published tables are read from: the floor reads each of them whole, once."""

T = TypeVar("T")


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"


def timed(work: Callable[[], T]) -> tuple[T, float, float]:
    """What ``work`` returns, with the wall and CPU seconds it took."""
    wall, cpu = time.perf_counter(), time.process_time()
    found = work()
    return found, time.perf_counter() - wall, time.process_time() - cpu


def build_demo(folder: Path) -> str:
    """The demo nation in a SQLite file in ``folder``, built by the command a user runs."""
    url = f"sqlite:///{folder / 'carepool.db'}"
    env = {**os.environ, "CAREPOOL_DATABASE_URL": url, "CAREPOOL_SECRET_KEY": "bench-only"}
    print("building the demo nation (carepool demo --no-serve; a few minutes)…")
    subprocess.run(
        [sys.executable, "-m", "carepool", "demo", "--no-serve"],
        cwd=folder,
        env=env,
        check=True,
        capture_output=True,
    )
    return url


def floor(engine: Engine) -> int:
    """Read every source row once, as plainly as SQL can: the least publishing could cost."""
    rows = 0
    with engine.connect() as connection:
        for table in SOURCE_TABLES:
            rows += len(connection.execute(text(f"SELECT * FROM {table}")).all())
    return rows


def validate_package(out: Path) -> str:
    from frictionless import validate

    report = validate(out / "datapackage.json")
    errors = sum(len(task.errors) for task in report.tasks) + len(report.errors)
    return "valid" if report.valid else f"INVALID ({errors} errors)"


def validate_grants(out: Path) -> str:
    if not SCHEMAS.is_dir():
        return f"skipped (no schema at {SCHEMAS})"
    from jsonschema import Draft202012Validator, FormatChecker
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    outer = json.loads((SCHEMAS / "360-giving-package-schema.json").read_text(encoding="utf-8"))
    grant = json.loads((SCHEMAS / "360-giving-schema.json").read_text(encoding="utf-8"))
    resource = DRAFT202012.create_resource(grant)
    reference = outer["properties"]["grants"]["items"]["$ref"]
    registry: Registry[Any] = Registry().with_resources(
        [(reference, resource), (grant["$id"], resource)]
    )
    checker = Draft202012Validator(outer, registry=registry, format_checker=FormatChecker())
    found = json.loads((out / "360giving.json").read_text(encoding="utf-8"))
    errors = sum(1 for _ in checker.iter_errors(found))
    return f"valid ({len(found['grants']):,} grants)" if not errors else f"INVALID ({errors})"


def one_round(number: int, engine: Engine, out: Path) -> tuple[bool, Published]:
    def write() -> Published:
        with unit_of_work(engine) as session:
            return publish(session, out)

    published, wall, cpu = timed(write)
    package, package_wall, _ = timed(lambda: validate_package(out))
    grants, grants_wall, _ = timed(lambda: validate_grants(out))
    rows, floor_wall, floor_cpu = timed(lambda: floor(engine))
    total = wall + package_wall + grants_wall
    ok = total < TARGET_SECONDS and package == "valid" and not grants.startswith("INVALID")
    print(
        f"round {number}: publish {wall:.1f} s (CPU {cpu:.1f} s), {published.bytes / 1e6:.1f} MB; "
        f"frictionless {package_wall:.1f} s: {package}; 360Giving {grants_wall:.1f} s: {grants}; "
        f"floor (read {rows:,} source rows) {floor_wall:.2f} s (CPU {floor_cpu:.2f} s) = "
        f"{wall / floor_wall:.0f}x; publish and validate {total:.1f} s, target < "
        f"{TARGET_SECONDS:.0f} s {'met' if ok else 'MISSED'}; {load()}"
    )
    return ok, published


@contextmanager
def workspace(keep: Path | None) -> Iterator[Path]:
    folder = keep or Path(tempfile.mkdtemp(prefix="carepool-bench-publish-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        yield folder
    finally:
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print(f"kept the database and the package in {folder}")


def main(argv: list[str] | None = None) -> int:
    options = _arguments(argv or [])
    with workspace(options.keep) as folder:
        url = options.database or build_demo(folder)
        engine = engine_for(url)
        print(f"publish benchmark: {options.rounds} rounds; {load()}")
        failed, last = False, None
        for number in range(1, options.rounds + 1):
            ok, last = one_round(number, engine, folder / "open-data")
            failed |= not ok
        engine.dispose()
        if last is not None:
            tables = ", ".join(f"{name} {rows:,}" for name, rows in last.tables)
            print(f"tables (rows): {tables}; grants {last.grants:,}")
    return 1 if failed else 0


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.publish", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--rounds", type=int, default=3, help="how many rounds (default 3)")
    parser.add_argument("--database", metavar="URL", help="publish this database, not a new demo")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="work in DIR and keep it")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
