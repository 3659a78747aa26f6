"""Malformed files made from a valid one: each mutation is named, and the same every run.

A ``Seed`` is a valid import file as a table of text cells; a mutation turns it into the bytes
of a damaged or hostile file and the name to give it. Random choices (which bytes to flip)
come from a generator seeded with the mutation's name and the seed's own name, so a failing
case is reproduced by running its test again.
"""

from __future__ import annotations

import csv
import functools
import io
import random
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import openpyxl

from damaged_files import DAMAGES, rewritten_parts, write_bomb

FORMULA = "=cmd|' /C calc'!A0"
NUMBER = re.compile(r"-?\d[\d,]*(\.\d+)?")
HUGE_CELL = 40_000
BOMB_BYTES = 200 * 1024 * 1024  # packs to about half a megabyte


@dataclass(frozen=True, slots=True)
class Seed:
    """A valid file as rows of text; ``workbook`` is set when the original is an .xlsx file."""

    name: str
    rows: tuple[tuple[str, ...], ...]
    workbook: bytes | None = None

    @property
    def stem(self) -> str:
        return Path(self.name).stem

    def csv_bytes(self, rows: list[list[str]] | None = None, encoding: str = "utf-8") -> bytes:
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(rows or self.rows)
        return out.getvalue().encode(encoding)

    def xlsx_bytes(self, rows: list[list[str]] | None = None) -> bytes:
        book = openpyxl.Workbook()
        sheet = book.active
        assert sheet is not None
        for row in rows or self.rows:
            sheet.append(list(row))
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()

    def native(self) -> bytes:
        """The seed in its own format."""
        return self.workbook if self.workbook is not None else self.csv_bytes()

    def as_workbook(self) -> bytes:
        """The seed as an .xlsx workbook: its own, or its rows written as one."""
        return self.workbook if self.workbook is not None else self.xlsx_bytes()

    @property
    def suffix(self) -> str:
        return ".xlsx" if self.workbook is not None else ".csv"


Made = tuple[str, bytes]
"""A malformed file: its name and its bytes."""
Mutation = Callable[[Seed], Made]


def _rng(seed: Seed, label: str) -> random.Random:
    return random.Random(f"{seed.name}:{label}")


def _own(seed: Seed, data: bytes) -> Made:
    return seed.stem + seed.suffix, data


def _edited(seed: Seed, edit: Callable[[list[list[str]]], None]) -> Made:
    """The seed's rows changed by ``edit``, written in the seed's own format."""
    rows = [list(row) for row in seed.rows]
    edit(rows)
    if seed.workbook is not None:
        return _own(seed, seed.xlsx_bytes(rows))
    return _own(seed, seed.csv_bytes(rows))


def _first_data(rows: list[list[str]], numeric: bool) -> tuple[int, list[int]]:
    """The first row after the header with cells holding numbers (or, if not ``numeric``,
    text), and those cells' columns; a file may open with title rows of empty cells."""
    for index, row in enumerate(rows[1:], start=1):
        found = [i for i, c in enumerate(row) if c and bool(NUMBER.fullmatch(c)) == numeric]
        if found:
            return index, found
    return 1, []


def _set_cells(numeric: bool, value: Callable[[str], str]) -> Mutation:
    """Up to three cells of the first data row that hold numbers, or text (a workbook's first
    cells a person may edit), replaced by ``value`` of what they held."""

    def mutate(seed: Seed) -> Made:
        if seed.workbook is not None:
            return _own(seed, _edited_workbook(seed.workbook, numeric, value))

        def edit(rows: list[list[str]]) -> None:
            index, columns = _first_data(rows, numeric)
            for column in columns[:3]:
                rows[index][column] = value(rows[index][column])

        return _edited(seed, edit)

    return mutate


PLACEHOLDER = "\ue000"
"""Stands for NUL while openpyxl writes a cell (it refuses NUL), then becomes a raw NUL."""


def _edited_workbook(data: bytes, numeric: bool, value: Callable[[str], str]) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(data))
    editable = (
        cell
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None and not cell.protection.locked
    )
    chosen = [c for c in editable if isinstance(c.value, int | float) == numeric][:3]
    for cell in chosen:
        cell.value = value(str(cell.value)).replace("\x00", PLACEHOLDER)
    out = io.BytesIO()
    book.save(out)
    nul = PLACEHOLDER.encode()
    return rewritten_parts(out.getvalue(), lambda name, content: content.replace(nul, b"\x00"))


def _cut(share: float) -> Mutation:
    return lambda seed: _own(seed, seed.native()[: int(len(seed.native()) * share)])


def _flip(count: int) -> Mutation:
    def mutate(seed: Seed) -> Made:
        rng, data = _rng(seed, f"flip{count}"), bytearray(seed.native())
        for _ in range(count):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        return _own(seed, bytes(data))

    return mutate


def _latin1(seed: Seed) -> Made:
    rows = [list(row) for row in seed.rows]
    index, columns = _first_data(rows, numeric=False)
    rows[index][columns[0]] += " Café"
    return seed.stem + ".csv", seed.csv_bytes(rows, "latin-1")


def _invalid_utf8(seed: Seed) -> Made:
    data = seed.csv_bytes()
    middle = data.index(b"\n") + 1
    return seed.stem + ".csv", data[:middle] + b"\xc3\x28\xff" + data[middle:]


@functools.cache
def _bomb_bytes() -> bytes:
    """The bomb, made once per process: deflating 200 MB takes a second or two."""
    with tempfile.TemporaryDirectory() as folder:
        return write_bomb(Path(folder) / "bomb", BOMB_BYTES).read_bytes()


def _bomb(suffix: str) -> Mutation:
    return lambda seed: (seed.stem + suffix, _bomb_bytes())


def _full_width(text: str) -> str:
    return text.translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})


def _ragged(extra: bool) -> Mutation:
    def edit(rows: list[list[str]]) -> None:
        rows[1] = [*rows[1], "surplus"] if extra else rows[1][:-1]

    return lambda seed: _edited(seed, edit)


def _damaged(damage: Callable[[bytes], bytes]) -> Mutation:
    """One of the shared workbook damages, applied to the seed as a workbook."""
    return lambda seed: (seed.stem + ".xlsx", damage(seed.as_workbook()))


def _header_only(seed: Seed) -> Made:
    rows = [list(seed.rows[0])]
    data = seed.xlsx_bytes(rows) if seed.workbook is not None else seed.csv_bytes(rows)
    return _own(seed, data)


MUTATIONS: dict[str, Mutation] = {
    "as given": lambda seed: _own(seed, seed.native()),
    "cut at a third": _cut(1 / 3),
    "cut mid-way": _cut(1 / 2),
    "cut in the last line": _cut(0.995),
    "1 bit flipped": _flip(1),
    "16 bits flipped": _flip(16),
    "256 bits flipped": _flip(256),
    "Latin-1": _latin1,
    "UTF-16": lambda seed: (seed.stem + ".csv", seed.csv_bytes(encoding="utf-16")),
    "invalid UTF-8": _invalid_utf8,
    "UTF-8 with BOM": lambda seed: (seed.stem + ".csv", seed.csv_bytes(encoding="utf-8-sig")),
    "NUL in a cell": _set_cells(False, lambda text: text + "\x00"),
    "empty": lambda seed: _own(seed, b""),
    "blank lines": lambda seed: _own(seed, b"\r\n\n \n"),
    "header only": _header_only,
    "40,000-character cell": _set_cells(False, lambda text: "x" * HUGE_CELL),
    "30 nines": _set_cells(True, lambda text: "9" * 30),
    "1e308": _set_cells(True, lambda text: "1e308"),
    "-1e308": _set_cells(True, lambda text: "-1e308"),
    "NaN": _set_cells(True, lambda text: "NaN"),
    "Infinity": _set_cells(True, lambda text: "Infinity"),
    "full-width digits": _set_cells(True, _full_width),
    "formula =cmd": _set_cells(False, lambda text: FORMULA),
    "formula @SUM": _set_cells(False, lambda text: "@SUM(1+1)*cmd|' /C calc'!A0"),
    "formula in a number": _set_cells(True, lambda text: "+1+1"),
    "ragged short row": _ragged(extra=False),
    "ragged long row": _ragged(extra=True),
    "unclosed quote": _set_cells(False, lambda text: '"' + text),
    "xlsx named .csv": lambda seed: (seed.stem + ".csv", seed.as_workbook()),
    "csv named .xlsx": lambda seed: (seed.stem + ".xlsx", seed.csv_bytes()),
    "old .xls bytes": lambda seed: (seed.stem + ".xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" * 64),
    "bomb named .xlsx": _bomb(".xlsx"),
    "bomb named .csv": _bomb(".csv"),
    **{f"workbook {label}": _damaged(damage) for label, damage in DAMAGES.items()},
}
