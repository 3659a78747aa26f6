"""``carepool ledger`` as a pool manager runs it: JSON out, clear errors, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from ledger_helpers import Area, WriteSpend


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


def test_a_pools_year_from_the_command_line(
    sqlite_area: Area, write_spend: WriteSpend, tmp_path: Path
) -> None:
    # The command line is the same on every engine; the services below it run on both.
    code = sqlite_area.code
    opened = ok_json(carepool("ledger", "open", "--all", "--json", cwd=tmp_path))
    assert [p["area_code"] for p in opened["pools"]] == [code]

    spend = write_spend(
        "spend.csv",
        [
            ("2015-05-01", "S1", "Council", "£1,000.00", "A1"),
            ("2015-08-01", "S2", "Trust", "250.50", "A2"),
        ],
    )
    posted = ok_json(carepool("ledger", "import", code, spend, "--json", cwd=tmp_path))
    assert (posted["posted"], posted["total_pence"]) == (2, 125_050)
    again = ok_json(carepool("ledger", "import", code, spend, "--json", cwd=tmp_path))
    assert again["already_imported"] is True and again["posted"] == 0

    bad = write_spend("bad.csv", [("2015-05-01", "S1", "Council", "a lot", "A3")])
    refused = carepool("ledger", "import", code, bad, cwd=tmp_path)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "bad.csv, row 2, column 'amount': 'a lot' is not an amount of money" in refused.stderr

    assert carepool("ledger", "close", code, "2015-16 Q1", cwd=tmp_path).returncode == 0
    balances = ok_json(
        carepool("ledger", "balances", code, "--on", "2015-06-30", "--json", cwd=tmp_path)
    )
    by_account = {b["account"]: b["balance_pence"] for b in balances["balances"]}
    assert by_account["Expenses:Scheme:S1"] == 100_000 and sum(by_account.values()) == 0

    settled = ok_json(carepool("ledger", "settle", code, "--json", cwd=tmp_path))
    assert settled["outcome"] == "underspend"
    assert sum(s["amount_pence"] for s in settled["shares"]) == settled["variance_pence"]

    book = tmp_path / "pool.beancount"
    assert (
        carepool("ledger", "export", code, book, "--format", "beancount", cwd=tmp_path).returncode
        == 0
    )
    checked = subprocess.run(
        [Path(sys.executable).with_name("bean-check"), book],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout
    refused_export = carepool("ledger", "export", code, book, "--format", "xml", cwd=tmp_path)
    assert refused_export.returncode == 1 and "unknown export format 'xml'" in refused_export.stderr
    assert not list(tmp_path.glob(".*.partial"))
    assert "balance Expenses:Scheme:S1" in book.read_text(encoding="utf-8")  # left whole

    proof = ok_json(carepool("ledger", "check", "--json", cwd=tmp_path))
    assert proof["ok"] is True
    [pool] = proof["pools"]
    assert {"area_code", "balanced", "entries", "consistent"} <= set(pool)
    assert pool["area_code"] == code and pool["entries"] > 2

    missing = carepool("ledger", "balances", "E99999999", cwd=tmp_path)
    assert missing.returncode == 1 and "has no pooled budget" in missing.stderr


def test_an_amount_too_large_to_hold_is_refused_by_name(
    sqlite_area: Area, write_spend: WriteSpend, tmp_path: Path
) -> None:
    from openpyxl import Workbook

    code = sqlite_area.code
    ok_json(carepool("ledger", "open", "--all", "--json", cwd=tmp_path))
    before = ok_json(carepool("ledger", "check", "--json", cwd=tmp_path))

    nines = write_spend("nines.csv", [("2015-05-01", "S1", "Council", "9" * 30, "A1")])
    refused = carepool("ledger", "import", code, nines, cwd=tmp_path)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "nines.csv, row 2, column 'amount'" in refused.stderr
    assert "is more than carepool accepts (£1,000,000,000,000)" in refused.stderr

    plain = write_spend("plain.csv", [("2015-05-01", "S1", "Council", "9999999999999.99", "A1")])
    refused = carepool("ledger", "import", code, plain, cwd=tmp_path)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "is more than carepool accepts" in refused.stderr

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["date", "scheme", "provider", "amount", "reference"])
    sheet.append(["2015-05-01", "S1", "Council", 1e308, "A2"])
    book.save(tmp_path / "huge.xlsx")
    refused = carepool("ledger", "import", code, tmp_path / "huge.xlsx", cwd=tmp_path)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "huge.xlsx" in refused.stderr and "is more than carepool accepts" in refused.stderr

    assert ok_json(carepool("ledger", "check", "--json", cwd=tmp_path)) == before


def test_a_plan_workbook_contribution_too_large_is_refused_by_cell(
    sqlite_area: Area, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    book = tmp_path / "plan.xlsx"
    exported = carepool("plans", "export", sqlite_area.code, book, cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    before = ok_json(carepool("plans", "status", "--json", cwd=tmp_path))
    workbook = load_workbook(book)
    workbook["Contributions"]["G4"] = 1e20
    workbook.save(book)
    refused = carepool("plans", "import", book, cwd=tmp_path)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    message = " ".join(refused.stderr.split())
    assert "Contributions!G4" in message
    assert "£100,000,000,000,000,000,000 is more than carepool accepts" in message
    assert ok_json(carepool("plans", "status", "--json", cwd=tmp_path)) == before


def test_a_settled_year_refuses_spend_until_reopened_from_the_command_line(
    sqlite_area: Area, write_spend: WriteSpend, tmp_path: Path
) -> None:
    code = sqlite_area.code
    ok_json(carepool("ledger", "open", code, "--json", cwd=tmp_path))
    ok_json(carepool("ledger", "settle", code, "--json", cwd=tmp_path))
    late = write_spend("late.csv", [("2016-03-20", "S1", "Trust", "15,845.66", "LATE-1")])
    before = ok_json(carepool("ledger", "balances", code, "--json", cwd=tmp_path))

    refused = carepool("ledger", "import", code, late, cwd=tmp_path)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    said = " ".join(refused.stderr.split())
    assert "2015-16 is settled" in said
    assert f"carepool ledger reopen {code} --year 2015-16 --financial-year 2015-16" in said
    assert "late.csv, row 2, column 'date'" in said
    assert ok_json(carepool("ledger", "balances", code, "--json", cwd=tmp_path)) == before

    unsaid = carepool("ledger", "reopen", code, "--reason", " ", cwd=tmp_path)
    assert unsaid.returncode == 1 and "a reason is required" in unsaid.stderr
    reopened = ok_json(
        carepool("ledger", "reopen", code, "--reason", "late invoices", "--json", cwd=tmp_path)
    )
    assert reopened["financial_year"] == "2015-16" and reopened["reason"] == "late invoices"
    assert len(reopened["reversal_entry_ids"]) == len(reopened["reversed_entry_ids"]) > 0
    posted = ok_json(carepool("ledger", "import", code, late, "--json", cwd=tmp_path))
    assert (posted["posted"], posted["total_pence"]) == (1, 1_584_566)
    again = ok_json(carepool("ledger", "settle", code, "--json", cwd=tmp_path))
    assert again["financial_year"] == "2015-16"
