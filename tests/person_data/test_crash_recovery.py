"""An ingest killed part-way is put right by the next ingest, or when the vintage is read.

The swap is a staging folder written beside the data directory, then two renames (the old
data aside to ``.<dir>.<tag>.old``, the staging folder in), then the old copy deleted. These
tests kill a child process at each step, or make the state such a kill leaves, and check
what the next run finds.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from person_files import AREAS, AS_OF, KEY, Ingest, WriteRaw

from carepool.metrics.service.compute import data_vintage
from carepool.person_data import service as person_data
from carepool.person_data.files import ingest as files
from carepool.person_data.files import output


def leftovers(data_dir: Path) -> list[str]:
    return sorted(p.name for p in data_dir.parent.iterdir() if p.name.startswith("."))


def killed_ingest(source: Path, data_dir: Path, kill: str) -> None:
    """In a child process: ingest, and die abruptly (no clean-up runs) at step ``kill``."""
    if kill == "writing":
        files.write_manifest = lambda *_: os._exit(9)  # type: ignore[assignment]
    else:
        real = os.rename
        calls = []

        def rename(src: Any, dst: Any) -> None:
            calls.append(src)
            if kill == "between renames" and len(calls) == 2:
                os._exit(9)
            real(src, dst)

        output.os.rename = rename  # type: ignore[attr-defined]
        if kill == "deleting the old copy":
            output.shutil.rmtree = lambda *_, **__: os._exit(9)  # type: ignore[attr-defined]
    person_data.ingest(source, data_dir, set(AREAS), KEY, as_of=AS_OF)
    os._exit(0)


def run_killed(source: Path, data_dir: Path, kill: str) -> None:
    child = multiprocessing.get_context("fork").Process(
        target=killed_ingest, args=(source, data_dir, kill)
    )
    child.start()
    child.join(60)
    assert child.exitcode == 9


@pytest.fixture
def ingested(write_raw: WriteRaw, ingest: Ingest) -> Callable[[], str]:
    """A data directory from one ingest; returns a function giving a second one's vintage."""
    write_raw("spells.csv", "spells", [{}])
    ingest()

    def again() -> str:
        write_raw("spells.csv", "spells", [{}, {}])
        return ingest().vintage

    return again


def test_an_ingest_killed_while_writing_leaves_staging_that_the_next_ingest_removes(
    ingested: Callable[[], str], source: Path, data_dir: Path
) -> None:
    before = data_vintage(data_dir)
    run_killed(source, data_dir, "writing")
    assert [name.endswith(".staging") for name in leftovers(data_dir)] == [True]
    assert data_vintage(data_dir) == before  # reading leaves staging alone (an ingest may run)
    assert ingested() != before
    assert leftovers(data_dir) == []


def test_a_kill_between_the_renames_is_restored_when_the_vintage_is_read(
    ingested: Callable[[], str], source: Path, data_dir: Path
) -> None:
    before = data_vintage(data_dir)
    run_killed(source, data_dir, "between renames")
    assert not data_dir.exists()
    assert sorted(name.rsplit(".", 1)[1] for name in leftovers(data_dir)) == ["old", "staging"]
    assert data_vintage(data_dir) == before
    assert data_dir.is_dir()
    assert [name.endswith(".staging") for name in leftovers(data_dir)] == [True]
    ingested()
    assert leftovers(data_dir) == []


def test_a_kill_between_the_renames_is_restored_by_the_next_ingest(
    ingested: Callable[[], str], source: Path, data_dir: Path
) -> None:
    run_killed(source, data_dir, "between renames")
    after = ingested()
    assert data_vintage(data_dir) == after
    assert leftovers(data_dir) == []


def test_a_completed_swap_keeps_the_new_data_and_deletes_the_old_copy(
    ingested: Callable[[], str], source: Path, data_dir: Path, write_raw: WriteRaw
) -> None:
    before = data_vintage(data_dir)
    write_raw("spells.csv", "spells", [{}, {}, {}])
    run_killed(source, data_dir, "deleting the old copy")
    assert [name.endswith(".trash") for name in leftovers(data_dir)] == [True]
    after = data_vintage(data_dir)
    assert after != before
    assert leftovers(data_dir) == []


def test_a_clean_ingest_leaves_nothing_beside_the_data_directory(
    ingested: Callable[[], str], data_dir: Path
) -> None:
    ingested()
    assert leftovers(data_dir) == []


def test_a_completed_swap_whose_old_copy_was_never_deleted_keeps_the_new_data(
    ingested: Callable[[], str], data_dir: Path
) -> None:
    old = data_dir.with_name(".data.1234abcd.old")
    (old / "spells").mkdir(parents=True)
    (old / "manifest.json").write_text('{"vintage": "older"}', encoding="utf-8")
    after = data_vintage(data_dir)
    assert after != "older"
    assert leftovers(data_dir) == []


def test_another_data_directorys_leftovers_are_left_alone(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    others = [tmp_path / ".data.2025.1234abcd.old", tmp_path / ".data.2025.x1y2.staging"]
    mine = [tmp_path / ".data.1234abcd.old", tmp_path / ".data.x1y2.staging"]
    for folder in [*others, *mine]:
        folder.mkdir()
    (mine[0] / "manifest.json").write_text('{"vintage": "v1"}', encoding="utf-8")
    output.recover(data_dir, staging=True)
    assert (data_dir / "manifest.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["data", *(p.name for p in others)])
