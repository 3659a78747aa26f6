"""``python -m benchmarks [NAME ...]``: run some benchmarks, or all of them in turn.

Each benchmark's own options: ``python -m benchmarks.NAME --help``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from benchmarks import (
    budgets,
    ledger_import,
    metrics,
    national_pages,
    payments,
    plan_deadline,
    publish,
    scorecard,
    upload_memory,
)

BENCHMARKS: dict[str, Callable[[list[str]], int]] = {
    "plan_deadline": plan_deadline.main,
    "ledger_import": ledger_import.main,
    "metrics": metrics.main,
    "national_pages": national_pages.main,
    "payments": payments.main,
    "publish": publish.main,
    "scorecard": scorecard.main,
    "upload_memory": upload_memory.main,
    "budgets": budgets.main,
}


def main(argv: list[str]) -> int:
    parsing = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run carepool's benchmarks with their default options, one after another.",
        epilog="Each benchmark's own options: python -m benchmarks.NAME --help",
    )
    parsing.add_argument("names", nargs="*", metavar="NAME", help=", ".join(BENCHMARKS))
    names = parsing.parse_args(argv).names or list(BENCHMARKS)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        parsing.error(f"unknown benchmark {unknown[0]!r}; choose from {', '.join(BENCHMARKS)}")
    status = 0
    for name in names:
        print(f"== {name}")
        status |= BENCHMARKS[name]([])
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
