"""The fuzz suite's world and the tally it prints at the end of the run.

Each case's outcome travels with its test report (``user_properties``), so the summary adds
up the cases of every pytest-xdist worker, which send their reports to the controller.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from importers import Demo, build_demo_world

OUTCOMES = ("tried", "refused cleanly", "accepted", "database unchanged")
TALLY_KEY = "fuzz"
_tally: Counter[str] = Counter()


@pytest.fixture
def record(request: pytest.FixtureRequest) -> Callable[..., None]:
    """Record a case's outcome on its report: ``record(refused_cleanly=…, accepted=…,
    unchanged=…)``. A refusal that is not clean counts as neither, and fails its test."""

    def add(*, refused_cleanly: bool, accepted: bool, unchanged: bool) -> None:
        counts = {
            "tried": 1,
            "refused cleanly": int(refused_cleanly),
            "accepted": int(accepted),
            "database unchanged": int(unchanged),
        }
        request.node.user_properties.append((TALLY_KEY, counts))

    return add


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Add up the outcomes reported by each case (from this process or an xdist worker)."""
    if report.when != "call":
        return
    for key, counts in report.user_properties:
        if key == TALLY_KEY:
            _tally.update(counts)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _tally["tried"]:
        return
    terminalreporter.section("fuzz: malformed import files")
    terminalreporter.write_line(", ".join(f"{name} {_tally[name]}" for name in OUTCOMES))


@pytest.fixture(scope="session")
def demo_world(demo_db_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """The demo with the seeds of the importers that need a programme in motion."""
    return build_demo_world(demo_db_file, tmp_path_factory.mktemp("fuzz-demo"))
