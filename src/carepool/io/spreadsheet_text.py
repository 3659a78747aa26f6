"""CSV exports made safe for the spreadsheet that opens them.

A spreadsheet runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` as a formula (a tab or
carriage return in front can hide one), so text someone typed into an import file, such as a
provider's name or a reference, could run as ``=cmd|' /C calc'!A0`` on the desk of whoever
opens an export. Imports store such text as it was sent; the CSV downloads and exports meant
for spreadsheets write through :func:`csv_writer`, which puts an apostrophe in front of it, so
a spreadsheet shows it as text (the OWASP advice on CSV injection). Numbers, negative ones
included, are written as they are. The open data package is for programs, not spreadsheets,
and is written exactly as stored.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def safe_cell(value: object) -> object:
    """``value``, or text that would start a formula with an apostrophe in front."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


class SafeCsvWriter:
    """A ``csv.writer`` (with ``\\n`` line ends) that makes every cell safe first."""

    def __init__(self, out: TextIO) -> None:
        self._writer = csv.writer(out, lineterminator="\n")

    def writerow(self, values: Iterable[object]) -> None:
        self._writer.writerow([safe_cell(value) for value in values])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out: TextIO) -> SafeCsvWriter:
    """The writer every CSV export uses."""
    return SafeCsvWriter(out)
