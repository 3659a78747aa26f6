"""Fixtures for the importer tests: small input files written in the test's own folder.

The real reference files come from the suite-wide ``shared_data`` fixture.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

Write = Callable[[str, str | bytes], Path]


@pytest.fixture
def write(tmp_path: Path) -> Write:
    """Write a small input file: text is written as UTF-8 exactly as given, bytes as bytes."""

    def _write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        data = content.encode("utf-8") if isinstance(content, str) else content
        path.write_bytes(data)
        return path

    return _write
