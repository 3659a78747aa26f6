"""``carepool budgets`` as a coordinator runs it: JSON out, clear errors, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from budget_files import NHS_NUMBERS, TRANSACTION_HEADER, WriteFile, budgets_csv


def carepool(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a child process against the test's database (set by the fixtures)."""
    env = {
        **os.environ,
        "COLUMNS": "200",
        "NO_COLOR": "1",
        "CAREPOOL_PSEUDONYM_KEY": "a pseudonym key for the command line test, 32+ bytes",
    }
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


def test_budgets_from_the_command_line(
    sqlite_areas: list[str], write_file: WriteFile, tmp_path: Path
) -> None:
    area, other = sqlite_areas
    budgets = write_file("budgets.csv", budgets_csv(area, other))
    set_up = ok_json(carepool("budgets", "import", budgets, "--json", cwd=tmp_path))
    assert set_up["budgets"] == 4

    listed = carepool("budgets", "list", area, cwd=tmp_path)
    assert listed.returncode == 0 and "PB-2" in listed.stdout
    assert not any(number in listed.stdout + listed.stderr for number in NHS_NUMBERS)

    lines = f"{TRANSACTION_HEADER}\nPB-1,2015-04-30,provider_invoice,nhs,800.00,INV-1\n"
    lines += "PB-2,2015-05-20,direct_payment_return,council,100.00,DP-1"
    spend = write_file("t.csv", lines)
    posted = ok_json(carepool("budgets", "import-transactions", spend, "--json", cwd=tmp_path))
    assert (posted["rows"], posted["spend_pence"], posted["entries"]) == (2, 90_000, 2)
    again = carepool("budgets", "import-transactions", spend, cwd=tmp_path)
    assert again.returncode == 1 and "Traceback" not in again.stderr
    assert "already imported" in again.stderr

    report = ok_json(
        carepool("budgets", "report", "--year", "2015-16", "--quarter", "1", "--json", cwd=tmp_path)
    )
    assert report["live_at_quarter_end"] == 3 and report["active_in_year"] == 3
    assert report["by_type"] == {"notional": 1, "third_party": 1, "direct_payment": 1}
    assert report["spend_pence"] == 90_000
    assert report["ledger_agrees"] is True
    assert report["published"]["live_at_quarter_end"] is None  # 3 is too few to publish

    one = ok_json(
        carepool(
            "budgets", "report", "-y", "2015-16", "-q", "1", "--area", other, "--json", cwd=tmp_path
        )
    )
    assert one["live_at_quarter_end"] == 0 and one["council_direct_payments"]["people"] == 1
