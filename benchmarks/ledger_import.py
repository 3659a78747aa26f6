"""Spend import throughput beside Beancount's, on SQLite and PostgreSQL.

For each engine: a synthetic nation with one approved 2015-16 plan and its pool opened; a
spend file of ``rows`` rows (unique references, spread over the pool's schemes and year)
posted in two imports, 10% then 90%, each one unit of work; the running balances read after
each (to show a balance query does not grow with the postings); then the pool exported as
Beancount text and loaded (parsed, booked and checked) by ``beancount.loader.load_file``.

Every measured step runs in a fresh spawned process, so its peak RSS is its own. Reported:
rows/s per import, entries/s for Beancount, peak RSS per step, and the ratios of the same
run: carepool rows/s ÷ Beancount entries/s (target ≥ 10×) and the balance query's time at
100% ÷ at 10% of the rows (≈ 1 when independent of the number of postings).

On a machine shared with other work, wall-clock rates move with the load, so the CPU
seconds of each step are reported too, and a second ratio from them. An import's CPU time
counts both its own process and, on PostgreSQL, the server process that did its writing
(read from ``/proc`` when the server runs on this machine). The load average is printed
beside each step.

Run: ``python -m benchmarks ledger_import`` (1,000,000 rows) or
``python -m benchmarks.ledger_import --rows 20000``. It starts its own throwaway PostgreSQL
server unless ``CAREPOOL_BENCH_POSTGRES_URL`` names one.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import multiprocessing
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from benchmarks.common import parser, run, throwaway_postgres
from carepool.allocation import service as allocation
from carepool.demo import service as demo
from carepool.domain.allocation import AllocationStatus
from carepool.domain.plan import RiskShareKind, Section75
from carepool.domain.plan_workflow import Action
from carepool.domain.roles import SYSTEM, Principal, principal
from carepool.geography.service import SyntheticInputs, load_synthetic, year_geography
from carepool.plans import service as plans
from carepool.pools.repository import ledger as repo
from carepool.pools.service import ledger
from carepool.store.db import engine_for, migrate, unit_of_work
from carepool.synth.nation import build_nation
from carepool.synth.plans import synthetic_plan

YEAR = "2015-16"
REPO = Path(__file__).resolve().parent.parent
FIRST_SHARE = 0.1
BALANCE_REPEATS = 200


def in_child(step: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    """Run one step in a fresh spawned process: its result and that process's peak RSS (MiB)."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_measured, (step, *args))


def _measured(step: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    result = step(*args)
    return result, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def own_cpu() -> float:
    """CPU seconds this process has used (user and system)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def process_cpu(pid: int | None) -> float | None:
    """CPU seconds another local process has used, or None if it cannot be read."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def load() -> float:
    """The one-minute load average: how many processes wanted the CPUs."""
    return os.getloadavg()[0]


def finance(code: str) -> Principal:
    return principal("finance", "Pool finance", [f"pool_finance:{code}"])


# --------------------------------------------------------------------------------------------
# Steps (each runs in its own process)


def published_nation(url: str) -> Engine:
    """A migrated database holding the synthetic nation with its 2015-16 allocation published."""
    engine = engine_for(url)
    migrate(engine)
    built = build_nation(7)
    inputs = SyntheticInputs(
        demo.synthetic_vintage_name(built),
        built.councils,
        built.commissioners,
        built.shares,
        built.populations,
        demo.fingerprint(built),
    )
    with unit_of_work(engine) as session:
        load_synthetic(session, inputs, SYSTEM, "mid-2017 (CCG-LA shares)")
        run = allocation.allocate(session, YEAR, SYSTEM)
        allocation.move(session, run, AllocationStatus.APPROVED, SYSTEM)
        allocation.move(session, run, AllocationStatus.PUBLISHED, SYSTEM)
    return engine


def setup(url: str) -> dict[str, Any]:
    """A published nation, the first area's plan approved, its pool opened."""
    engine = published_nation(url)
    with unit_of_work(engine) as session:
        code = year_geography(session, YEAR).areas[0].code
        _approve(session, code)
    with unit_of_work(engine) as session:
        pool = ledger.open_pool(session, YEAR, code, finance(code))
        schemes = [s.ref for s in ledger.plan_content(session, pool).schemes]
        found = {"code": code, "schemes": schemes, "starts": pool.starts, "ends": pool.ends}
    engine.dispose()
    return found


def _approve(session: Any, area: str) -> None:
    """Write, sign, assure and approve the area's plan (as the ledger tests do)."""
    editor = principal("editor", "Editor", [f"area_editor:{area}"])
    plan = plans.start(session, YEAR, area, editor)
    geo = year_geography(session, YEAR)
    facts = plans.area_facts(session, geo, area)
    content = synthetic_plan(facts.context, geo.bands[area]["all"], random.Random(area))
    terms = Section75(
        host_partner=area,
        pool_manager="A. Patel",
        risk_share=RiskShareKind.PROPORTIONAL,
        risk_share_parameters={},
        instalments=4,
        signed=content.section75.signed,
    )
    content = content.model_copy(update={"section75": terms})
    plans.save(session, plan, content, plan.lock_version, editor)
    plans.act(session, plan, Action.REQUEST_SIGN_OFF, editor)
    for partner in sorted(plans.progress(plan).required_signers):
        signer = principal(f"s-{partner}", "S", [f"area_signatory:{area}:{partner}"])
        plans.act(session, plan, Action.SIGN, signer, plans.Decision(partner=partner))
    assurer = principal("assurer", "A", ["assurer"])
    plans.act(session, plan, Action.START_ASSURANCE, assurer)
    plans.act(session, plan, Action.RECORD_CATEGORY, assurer, plans.Decision(category="Approved"))
    plans.act(session, plan, Action.APPROVE, principal("h", "H", ["health_approver"]))
    plans.act(session, plan, Action.APPROVE, principal("l", "L", ["lg_approver"]))


def import_file(url: str, code: str, path: str) -> tuple[float, int, float]:
    """Seconds to post one spend file in one unit of work (commit included); rows posted;
    CPU seconds used by this process and (PostgreSQL on this machine) the server process."""
    engine = engine_for(url)
    with unit_of_work(engine) as session:
        backend = _server_pid(session)
    server_before = process_cpu(backend)
    cpu_before = own_cpu()
    started = time.perf_counter()
    with unit_of_work(engine) as session:
        assert _server_pid(session) == backend  # the same pooled connection, so the same process
        pool = ledger.pool_for(session, YEAR, code, SYSTEM)
        outcome = ledger.import_spend(session, pool, Path(path), finance(code))
    seconds = time.perf_counter() - started
    cpu = own_cpu() - cpu_before
    server_after = process_cpu(backend)
    if server_before is not None and server_after is not None:
        cpu += server_after - server_before
    engine.dispose()
    assert not outcome.already and outcome.posted == outcome.rows, outcome
    return seconds, outcome.posted, cpu


def _server_pid(session: Any) -> int | None:
    if session.get_bind().dialect.name != "postgresql":
        return None
    return int(session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def balance_time(url: str, code: str) -> tuple[float, int]:
    """Median seconds of ``ledger.balances`` (after a warm-up call); accounts returned."""
    engine = engine_for(url)
    times = []
    with unit_of_work(engine) as session:
        pool = ledger.pool_for(session, YEAR, code, SYSTEM)
        accounts = len(ledger.balances(session, pool))
        for _ in range(BALANCE_REPEATS):
            started = time.perf_counter()
            ledger.balances(session, pool)
            times.append(time.perf_counter() - started)
    engine.dispose()
    return statistics.median(times), accounts


def export_file(url: str, code: str, out: str) -> tuple[float, int]:
    """Seconds to export the pool as Beancount text to ``out``; entries in the pool."""
    engine = engine_for(url)
    started = time.perf_counter()
    with unit_of_work(engine) as session:
        pool = ledger.pool_for(session, YEAR, code, SYSTEM)
        with Path(out).open("w", encoding="utf-8", newline="") as handle:
            ledger.export_to(session, pool, "beancount", handle)
        entries = repo.entry_count(session, pool.id)
    seconds = time.perf_counter() - started
    engine.dispose()
    return seconds, entries


def load_beancount(path: str) -> tuple[float, int, int, float]:
    """Seconds for Beancount to load and check the file (no pickle cache); entries, errors,
    CPU seconds."""
    from beancount import loader

    loader.initialize(use_cache=False)
    cpu_before = own_cpu()
    started = time.perf_counter()
    entries, errors, _options = loader.load_file(path)
    return time.perf_counter() - started, len(entries), len(errors), own_cpu() - cpu_before


# --------------------------------------------------------------------------------------------
# The run


def write_spend(path: Path, numbers: range, facts: dict[str, Any]) -> None:
    """Spend rows spread over the pool's schemes and year, references unique by number."""
    rng = random.Random(numbers.start)
    days = (facts["ends"] - facts["starts"]).days
    schemes = facts["schemes"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(("date", "scheme", "provider", "amount", "reference"))
        for i in numbers:
            day: dt.date = facts["starts"] + dt.timedelta(days=rng.randint(0, days))
            pence = rng.randint(100, 5_000_000)
            writer.writerow(
                (
                    day.isoformat(),
                    schemes[i % len(schemes)],
                    "Community health trust",
                    f"{pence // 100}.{pence % 100:02d}",
                    f"R{i:08d}",
                )
            )


def run_engine(name: str, url: str, rows: int, folder: Path) -> dict[str, Any]:
    print(f"{name}: building the nation, approving a plan, opening the pool…", flush=True)
    facts, _ = in_child(setup, url)
    first = max(1, int(rows * FIRST_SHARE))
    parts = [folder / f"{name}-spend-10pc.csv", folder / f"{name}-spend-90pc.csv"]
    write_spend(parts[0], range(first), facts)
    write_spend(parts[1], range(first, rows), facts)
    result: dict[str, Any] = {"engine": name}
    for label, part in zip(("10%", "100%"), parts, strict=True):
        print(f"{name}: importing to {label} of {rows:,} rows (load {load():.1f})…", flush=True)
        (seconds, posted, cpu), rss = in_child(import_file, url, facts["code"], str(part))
        result[f"import {label}"] = Step(posted, seconds, rss, cpu, load())
        (median, accounts), _ = in_child(balance_time, url, facts["code"])
        result[f"balances {label}"] = (median, accounts)
    out = folder / f"{name}.beancount"
    (seconds, entries), rss = in_child(export_file, url, facts["code"], str(out))
    result["export"] = Step(entries, seconds, rss, None, load())
    size = out.stat().st_size / 2**20
    print(f"{name}: loading {size:.1f} MiB in Beancount (load {load():.1f})…", flush=True)
    (seconds, loaded, errors, cpu), rss = in_child(load_beancount, str(out))
    result["beancount"] = Step(loaded, seconds, rss, cpu, load())
    result["beancount errors"] = errors
    out.unlink()
    return result


@dataclass(frozen=True, slots=True)
class Step:
    """One measured step: how many rows or entries, wall seconds, peak RSS (MiB), CPU
    seconds (None if not measured) and the one-minute load average when it ended."""

    count: int
    seconds: float
    rss: float
    cpu: float | None
    load: float


STEPS = (
    ("import first 10%", "import 10%"),
    ("import other 90%", "import 100%"),
    ("export beancount", "export"),
    ("beancount load", "beancount"),
)


def report(results: list[dict[str, Any]]) -> int:
    print(
        f"\n{'engine':<11}{'step':<18}{'count':>10}{'seconds':>9}{'per s':>10}"
        f"{'CPU s':>8}{'per CPU s':>11}{'peak MiB':>9}{'load':>6}"
    )
    status = 0
    for r in results:
        for label, key in STEPS:
            step: Step = r[key]
            cpu = f"{step.cpu:>8.2f}{step.count / step.cpu:>11,.0f}" if step.cpu else f"{'':>19}"
            print(
                f"{r['engine']:<11}{label:<18}{step.count:>10,}{step.seconds:>9.2f}"
                f"{step.count / step.seconds:>10,.0f}{cpu}{step.rss:>9.0f}{step.load:>6.1f}"
            )
    print()
    for r in results:
        status |= _summary(r)
    return status


def _summary(r: dict[str, Any]) -> int:
    first, rest, bean = r["import 10%"], r["import 100%"], r["beancount"]
    posted, seconds = first.count + rest.count, first.seconds + rest.seconds
    rate, bean_rate = posted / seconds, bean.count / bean.seconds
    print(
        f"{r['engine']}: carepool {rate:,.0f} rows/s ÷ Beancount {bean_rate:,.0f} entries/s "
        f"= {rate / bean_rate:.1f}× (target ≥ 10×); Beancount errors {r['beancount errors']}"
    )
    if first.cpu and rest.cpu and bean.cpu:
        cpu_rate, bean_cpu_rate = posted / (first.cpu + rest.cpu), bean.count / bean.cpu
        print(
            f"{r['engine']}: by CPU time, {cpu_rate:,.0f} rows per CPU second ÷ "
            f"{bean_cpu_rate:,.0f} entries per CPU second = {cpu_rate / bean_cpu_rate:.1f}×"
        )
    small, accounts = r["balances 10%"]
    large, _ = r["balances 100%"]
    print(
        f"{r['engine']}: balances ({accounts} accounts) {small * 1000:.2f} ms at 10%, "
        f"{large * 1000:.2f} ms at 100% of the rows (ratio {large / small:.2f}; ≈ 1 means "
        "independent of the number of postings)"
    )
    return 1 if r["beancount errors"] else 0


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark as the command line asks (``--rows``, default a million)."""
    options = _arguments(argv or [])
    return run(lambda: measure(options.rows))


def measure(rows: int) -> int:
    with tempfile.TemporaryDirectory(prefix="carepool-ledger-bench-") as tmp:
        folder = Path(tmp)
        results = [run_engine("sqlite", f"sqlite:///{folder / 'ledger.db'}", rows, folder)]
        with throwaway_postgres("bench-ledger-import") as url:
            results.append(run_engine("postgresql", url, rows, folder))
    return report(results)


def _arguments(argv: list[str]) -> argparse.Namespace:
    parsing = parser("benchmarks.ledger_import", __doc__)
    parsing.add_argument(
        "--rows",
        type=lambda text: int(text.replace("_", "")),
        default=1_000_000,
        help="spend rows to import (default 1,000,000)",
    )
    return parsing.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
