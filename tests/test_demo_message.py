"""What ``carepool demo`` says when it is ready: every account and the password, each line
whole however narrow the terminal, and nothing left to look up elsewhere."""

from __future__ import annotations

import io
import re
from pathlib import Path

from rich.console import Console

from carepool.cli.app import demo_ready_lines, print_unwrapped
from carepool.demo import service as demo

README = Path(__file__).resolve().parents[1] / "README.md"


def _lines() -> tuple[list[demo.DemoAccount], list[str]]:
    accounts = demo.demo_accounts("E06000001", "E38000001")
    summary = {
        "label": "synthetic nation (seed 2015)",
        "areas": 151,
        "accounts": [demo.account_line(account) for account in accounts],
    }
    return accounts, demo_ready_lines(summary)


def test_the_ready_message_lists_every_account_and_the_password() -> None:
    accounts, lines = _lines()
    text = "\n".join(lines)
    assert "README" not in text and demo.DEMO_PASSWORD in text
    assert [line.split()[0] for line in lines[2:]] == [a.username for a in accounts]
    assert "finance    Pool finance officer for E06000001" in text
    assert "national   National team administrator" in text


def test_no_line_is_broken_inside_a_sentence_on_a_narrow_terminal() -> None:
    _, lines = _lines()
    printed = io.StringIO()
    print_unwrapped(Console(file=printed, width=40, color_system=None), lines)
    assert printed.getvalue().splitlines() == lines


def test_the_readme_names_the_same_accounts() -> None:
    accounts, _ = _lines()
    table = re.findall(r"^\| `([a-z]+)` \|", README.read_text(encoding="utf-8"), re.MULTILINE)
    assert table == [a.username for a in accounts]


def test_the_readme_says_how_to_choose_the_demos_port() -> None:
    text = README.read_text(encoding="utf-8")
    assert 'make demo DEMO_ARGS="--port 8001"' in text
    assert "CAREPOOL_PORT=8001 make demo" in text
    makefile = (README.parent / "Makefile").read_text(encoding="utf-8")
    assert "$(BIN)/carepool demo $$statistics $(DEMO_ARGS)" in makefile
