"""Fixtures for the importer tests: the real reference files, and small files written here.

The real files live beside the repository in ``../shared/data`` and are never copied into it;
a test that needs them is skipped, saying why, when that folder is not there.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO_ROOT / ".." / "shared" / "data"

Write = Callable[[str, str | bytes], Path]


@pytest.fixture
def shared_data() -> Path:
    """The folder of real public reference files, or skip the test."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"the real reference data folder {SHARED_DATA.resolve()} is not present")
    return SHARED_DATA


@pytest.fixture
def write(tmp_path: Path) -> Write:
    """Write a small input file: text is written as UTF-8 exactly as given, bytes as bytes."""

    def _write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        data = content.encode("utf-8") if isinstance(content, str) else content
        path.write_bytes(data)
        return path

    return _write
