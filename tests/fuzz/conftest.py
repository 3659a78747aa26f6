"""The fuzz suite's world, and the recording of each case's outcome.

Each case's outcome travels with its test report (``user_properties``); the suite's root
``conftest.py`` adds them up and prints the tally, since under pytest-xdist only the root
conftest's hooks run in the controller that receives every worker's reports.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from importers import Demo, build_demo_world

TALLY_KEY = "fuzz"  # the root conftest reads reports' properties under this name


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


@pytest.fixture(scope="session")
def demo_world(demo_db_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """The demo with the seeds of the importers that need a programme in motion."""
    return build_demo_world(demo_db_file, tmp_path_factory.mktemp("fuzz-demo"))
