"""The benchmarks' command lines: ``--help`` answers at once rather than starting a run, and a
benchmark stopped by Ctrl+C or SIGTERM stops the PostgreSQL server it started."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

REPO = Path(__file__).resolve().parents[1]
MODULES = sorted(
    ["benchmarks"]
    + [f"benchmarks.{p.stem}" for p in (REPO / "benchmarks").glob("*.py") if p.stem[0] != "_"]
)
RUNNERS = [m for m in MODULES if m not in {"benchmarks", "benchmarks.common"}]


def test_every_benchmark_is_listed() -> None:
    assert RUNNERS == [
        "benchmarks.budgets",
        "benchmarks.ledger_import",
        "benchmarks.metrics",
        "benchmarks.national_pages",
        "benchmarks.payments",
        "benchmarks.plan_deadline",
        "benchmarks.publish",
        "benchmarks.scorecard",
        "benchmarks.upload_memory",
    ]


@pytest.mark.parametrize("module", [m for m in MODULES if m != "benchmarks.common"])
def test_help_answers_without_starting_a_run(module: str) -> None:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", module, "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: python -m {module}")
    assert time.monotonic() - started < 60
    assert "postgres" not in result.stderr.lower()


CHILD = """
import sys
import time

from benchmarks.common import run, throwaway_postgres


def body() -> int:
    with throwaway_postgres("bench-signal-test") as url:
        print(url, flush=True)
        time.sleep(600)
    return 0


sys.exit(run(body))
"""


def _postgres_installed() -> bool:
    return bool(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl") or shutil.which("pg_ctl"))


def _accepts(url: str) -> bool:
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(plain, connect_timeout=5):
            return True
    except psycopg.OperationalError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not _postgres_installed(), reason="needs PostgreSQL's server programs")
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl+C"])
def test_a_stopped_benchmark_leaves_no_postgres_running(stop: signal.Signals) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CAREPOOL_BENCH_POSTGRES_URL"}
    with subprocess.Popen(
        [sys.executable, "-c", CHILD],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as child:
        state = REPO / ".test-run" / f"bench-signal-test-{child.pid}.env"
        try:
            assert child.stdout is not None
            url = child.stdout.readline().strip()
            assert url.startswith("postgresql+psycopg://")
            assert state.is_file() and _accepts(url)
            child.send_signal(stop)
            child.wait(timeout=120)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
    assert child.returncode != 0
    assert not state.exists()
    assert not _accepts(url)
