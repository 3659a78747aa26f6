"""The publication tests read the payment world of the web tests (``payment_fixtures``): the
demo with its pools and a year of books, 2015-16 Q1 paid and Q2 only drafted, and one area
whose measured count (5) the public must never see. Its module lives beside the web tests,
so that folder is put on the import path for ``pytest_plugins = ("payment_fixtures",)``."""

from __future__ import annotations

import sys
from pathlib import Path

WEB_TESTS = str(Path(__file__).resolve().parent.parent / "web")
if WEB_TESTS not in sys.path:
    sys.path.insert(0, WEB_TESTS)
