"""Imports refused as a user runs them: a header with no rows, a damaged workbook.

Either would once have been stored as an empty vintage or ended in a traceback; each must
exit 1 with a message naming the file and leave the database as it was.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Engine, func, select

from carepool.allocation.files import REQUIRED_COLUMNS as ALLOCATION_COLUMNS
from carepool.allocation.files import read_allocation_table
from carepool.domain.errors import ImportRejected
from carepool.geography.files.councils import COLUMNS as COUNCIL_COLUMNS
from carepool.geography.files.populations import AGE_COLUMNS, TOTAL
from carepool.geography.files.shares import COLUMNS as SHARE_COLUMNS
from carepool.metrics.files.published_outcomes import REQUIRED as OUTCOME_COLUMNS
from carepool.store.db import unit_of_work
from carepool.store.models import Vintage
from damaged_files import DAMAGES

POPULATION_COLUMNS = ("utla19_code", "utla19_name", TOTAL, *AGE_COLUMNS)

HEADER_ONLY = {
    "areas": (("import", "areas"), "councils.csv", COUNCIL_COLUMNS),
    "shares": (("import", "shares"), "shares.csv", SHARE_COLUMNS),
    "populations": (("import", "populations"), "mye_mid2019.csv", POPULATION_COLUMNS),
    "statistics": (
        ("metrics", "import-statistics", "--kind", "asc_outcomes"),
        "outcomes.csv",
        OUTCOME_COLUMNS,
    ),
}


def carepool(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a child process against the test's database (set by the fixtures)."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "carepool", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def vintages(engine: Engine) -> int:
    with unit_of_work(engine) as session:
        return session.scalar(select(func.count()).select_from(Vintage)) or 0


def said(result: subprocess.CompletedProcess[str]) -> str:
    return " ".join(result.stderr.split())


@pytest.mark.parametrize("kind", HEADER_ONLY)
def test_a_file_with_only_a_header_is_refused_and_nothing_stored(
    sqlite_engine: Engine, tmp_path: Path, kind: str
) -> None:
    command, name, columns = HEADER_ONLY[kind]
    path = tmp_path / name
    path.write_text(",".join(columns) + "\n", encoding="utf-8")
    before = vintages(sqlite_engine)

    result = carepool(*command[:2], path, *command[2:], cwd=tmp_path)

    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"Error: {name} has a header but no rows: nothing was imported" in said(result)
    assert vintages(sqlite_engine) == before


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_a_damaged_workbook_is_refused_without_a_traceback(
    sqlite_engine: Engine, tmp_path: Path, damage: object
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(COUNCIL_COLUMNS))
    for number in range(200):
        sheet.append(["X", f"Council {number}", "", "", "", "", "", "Wales", "", "UA", ""])
    valid = tmp_path / "valid.xlsx"
    book.save(valid)
    damaged = tmp_path / "councils.xlsx"
    assert callable(damage)
    damaged.write_bytes(damage(valid.read_bytes()))

    result = carepool("import", "areas", damaged, cwd=tmp_path)

    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "Error: councils.xlsx: 1 problem found, nothing was imported" in said(result)
    assert "damaged" in said(result)
    assert vintages(sqlite_engine) == 0


def test_an_allocation_table_with_only_a_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "allocation.csv"
    path.write_text(",".join(ALLOCATION_COLUMNS) + "\n", encoding="utf-8")
    with pytest.raises(ImportRejected, match=r"allocation\.csv has a header but no rows"):
        read_allocation_table(path)
