"""What every benchmark shares: its command line, a throwaway PostgreSQL server, and
stopping cleanly.

A benchmark runs for minutes and starts servers of its own. Stopped with Ctrl+C or SIGTERM
(a CI job cancelled, ``kill``), it must still stop them: Python runs ``finally`` blocks for
Ctrl+C but by default dies at once on SIGTERM, so :func:`stopping_on_signals` turns SIGTERM
and SIGHUP into :class:`SystemExit`, and every server is started inside a ``try`` whose
``finally`` stops it, shielded from a second Ctrl+C. A signal that comes while a server is
starting is acted on once it has started, so it is never left half-started.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

REPO = Path(__file__).resolve().parent.parent
POSTGRES_SCRIPT = REPO / "scripts" / "test-postgres.sh"
STOPPING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def parser(module: str, doc: str | None) -> argparse.ArgumentParser:
    """A benchmark's argument parser: ``--help`` prints the first line of its docstring
    and how to run it, and exits before anything starts."""
    lines = (doc or "").strip().splitlines()
    return argparse.ArgumentParser(
        prog=f"python -m {module}",
        description=lines[0] if lines else None,
        epilog="CAREPOOL_BENCH_POSTGRES_URL names a PostgreSQL database to use instead of "
        "starting a throwaway server.",
    )


class Stopped(SystemExit):
    """The benchmark was told to stop by a signal; ``finally`` blocks still run."""


def _raise_stopped(signum: int, _frame: FrameType | None) -> None:
    raise Stopped(128 + signum)


@contextmanager
def stopping_on_signals() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise :class:`Stopped` (as Ctrl+C raises
    ``KeyboardInterrupt``), so the servers a benchmark started are stopped on the way out."""
    previous = {sig: signal.signal(sig, _raise_stopped) for sig in STOPPING_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def ignoring_signals() -> Iterator[None]:
    """Let nothing interrupt the block: for stopping servers after being told to stop."""
    caught = (signal.SIGINT, *STOPPING_SIGNALS)
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in caught}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def deferring_signals() -> Iterator[None]:
    """Let the block finish (starting a server, say), then act on any Ctrl+C or signal to
    stop that came meanwhile, so nothing is left half-started."""
    caught: list[int] = []

    def note(signum: int, _frame: FrameType | None) -> None:
        caught.append(signum)

    previous = {sig: signal.signal(sig, note) for sig in (signal.SIGINT, *STOPPING_SIGNALS)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if caught and caught[0] == signal.SIGINT:
        raise KeyboardInterrupt
    if caught:
        raise Stopped(128 + caught[0])


@contextmanager
def throwaway_postgres(name: str) -> Iterator[str]:
    """A PostgreSQL URL: ``CAREPOOL_BENCH_POSTGRES_URL``, or a server of our own, called
    ``name`` plus this process's id (so two benchmarks never share one), stopped and deleted
    however the block ends, even part way through starting."""
    given = os.environ.get("CAREPOOL_BENCH_POSTGRES_URL")
    if given:
        yield given
        return
    env = {**os.environ, "CAREPOOL_TEST_PG_NAME": f"{name}-{os.getpid()}"}
    try:
        with deferring_signals():
            started = _postgres_script("start", env)
        yield started.stdout.strip().splitlines()[-1]
    finally:
        with ignoring_signals():
            _postgres_script("stop", env, check=False)


def _postgres_script(
    command: str, env: dict[str, str], *, check: bool = True
) -> subprocess.CompletedProcess[str]:
    # Its own session: a Ctrl+C meant for the benchmark does not cut the script short.
    return subprocess.run(
        ["bash", str(POSTGRES_SCRIPT), command],
        env=env,
        check=check,
        capture_output=True,
        text=True,
        start_new_session=True,
    )


def stop_process(process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    """Stop a server the benchmark started (SIGTERM, then SIGKILL if it lingers), whatever
    else is being asked of the benchmark meanwhile."""
    with ignoring_signals():
        process.terminate()
        try:
            process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run(main: Callable[[], int]) -> int:
    """Run a benchmark's body so that a signal to stop still stops what it started."""
    with stopping_on_signals():
        return main()
