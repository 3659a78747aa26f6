"""``carepool metrics import-statistics`` as a user runs it: JSON out, clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from xls_workbooks import dtoc_sheets, write_xls

DTOC_FILE = "nhse_dtoc_england_monthly_2010_2020.xls"


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


def ok_json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_importing_the_published_workbook_twice(
    engine: Engine, shared_data: Path, tmp_path: Path
) -> None:
    first = ok_json(
        carepool("metrics", "import-statistics", shared_data / DTOC_FILE, "--json", cwd=tmp_path)
    )
    again = carepool("metrics", "import-statistics", shared_data / DTOC_FILE, cwd=tmp_path)

    assert {k: first[k] for k in ("kind", "vintage", "rows", "created")} == {
        "kind": "dtoc", "vintage": "nhse_dtoc_england_monthly_2010_2020", "rows": 1_955,
        "created": True,
    }  # fmt: skip
    assert len(first["sha256"]) == 64
    assert again.returncode == 0
    said = " ".join(again.stderr.split())
    assert said == (
        f"{DTOC_FILE} was already imported as vintage 'nhse_dtoc_england_monthly_2010_2020'; "
        "nothing changed"
    )


def test_a_bad_workbook_is_refused_with_its_cell_and_no_traceback(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    sheets = dtoc_sheets()
    sheets["Delayed Days by responsible org"][17][4] = "lots"
    bad = write_xls(tmp_path / "dtoc.xls", sheets)

    result = carepool("metrics", "import-statistics", bad, "--kind", "dtoc", cwd=tmp_path)

    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "Error: dtoc.xls: 1 problem found, nothing was imported" in result.stderr
    assert (
        "dtoc.xls, column 'Social Care', cell 'Delayed Days by responsible org'!E18: this cell "
        "holds the text 'lots', not a number of days"
    ) in result.stderr


def test_a_file_of_no_known_kind_is_refused(
    sqlite_engine: Engine, shared_data: Path, tmp_path: Path
) -> None:
    result = carepool(
        "metrics", "import-statistics", shared_data / "uk_local_authorities.csv", cwd=tmp_path
    )

    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "say which with --kind (asc_outcomes or dtoc)" in " ".join(result.stderr.split())
