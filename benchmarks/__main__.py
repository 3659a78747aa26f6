"""``python -m benchmarks [NAME]``: run one benchmark, or all of them in turn."""

from __future__ import annotations

import sys
from collections.abc import Callable

from benchmarks import ledger_import, metrics, payments, plan_deadline, upload_memory

BENCHMARKS: dict[str, Callable[[], int]] = {
    "plan_deadline": plan_deadline.main,
    "ledger_import": ledger_import.main,
    "metrics": metrics.main,
    "payments": payments.main,
    "upload_memory": upload_memory.main,
}


def main(names: list[str]) -> int:
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark {unknown[0]!r}; choose from {', '.join(BENCHMARKS)}")
        return 2
    status = 0
    for name in names or list(BENCHMARKS):
        print(f"== {name}")
        status |= BENCHMARKS[name]()
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
