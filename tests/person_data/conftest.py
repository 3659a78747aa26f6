"""Fixtures for the person-data tests: a source folder, a writer for raw files, an ingest."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from person_files import AREAS, AS_OF, KEY, Ingest, Rows, WriteRaw, csv_text

from carepool.person_data import service as person_data
from carepool.person_data.service import IngestReport


@pytest.fixture
def source(tmp_path: Path) -> Path:
    folder = tmp_path / "raw"
    folder.mkdir()
    return folder


@pytest.fixture
def write_raw(source: Path) -> WriteRaw:
    """Write a raw CSV into the source folder: ``write_raw("spells.csv", "spells", rows)``."""

    def write(name: str, kind: str, changes: Rows, columns: Sequence[str] | None = None) -> Path:
        path = source / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(csv_text(kind, changes, columns), encoding="utf-8")
        return path

    return write


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def ingest(source: Path, data_dir: Path) -> Ingest:
    """Ingest the source folder into the test's data directory with the test key and areas."""

    def run(path: Path | None = None, **options: object) -> IngestReport:
        return person_data.ingest(
            path or source,
            data_dir,
            set(AREAS),
            KEY,
            as_of=AS_OF,
            **options,  # type: ignore[arg-type]
        )

    return run


@pytest.fixture
def no_staging_left(tmp_path: Path) -> Iterator[None]:
    yield
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
