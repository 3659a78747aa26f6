"""Writing small old-style Excel (.xls) workbooks for the importer tests.

carepool only reads .xls (NHS England published the delayed-transfers series that way), and
nothing in its dependencies writes one, so the tests build their own: BIFF8 records (text,
number, error and true/false cells) in a minimal OLE2 compound file with one ``Workbook``
stream, the structure Excel itself saves. :func:`dtoc_sheets` lays out the three sheets the
importer reads in the published workbook's shape, with a few months of the real figures,
for the bad-input tests to spoil one cell at a time.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

_SECTOR = 512
_END_OF_CHAIN, _FAT_SECTOR, _FREE, _NO_STREAM = 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF, 0xFFFFFFFF
_MIN_STREAM = 4096  # smaller streams would have to go in the mini stream
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True, slots=True)
class Error:
    """An error cell, such as #N/A (0x2A) or #DIV/0! (0x07)."""

    code: int = 0x2A


Value = str | int | float | bool | Error | None


def write_xls(path: Path, sheets: Mapping[str, Sequence[Sequence[Value]]]) -> Path:
    """Write sheets of rows (row 1 first, column A first) as an .xls workbook."""
    path.write_bytes(_compound_file(_workbook_stream(sheets)))
    return path


# --------------------------------------------------------------------------------------------
# BIFF8 records


def _record(kind: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def _bof(substream: int) -> bytes:
    return _record(0x0809, struct.pack("<HHHHII", 0x0600, substream, 0x0DBB, 0x07CC, 0, 6))


def _unicode(text: str, length_bytes: int) -> bytes:
    size = "<B" if length_bytes == 1 else "<H"
    return struct.pack(size, len(text)) + b"\x01" + text.encode("utf-16-le")


def _cell(row: int, column: int, value: Value) -> bytes:
    where = struct.pack("<HHH", row, column, 0)
    if value is None:
        return b""
    if isinstance(value, Error):
        return _record(0x0205, where + struct.pack("<BB", value.code, 1))
    if isinstance(value, bool):
        return _record(0x0205, where + struct.pack("<BB", int(value), 0))
    if isinstance(value, str):
        return _record(0x0204, where + _unicode(value, 2))
    return _record(0x0203, where + struct.pack("<d", float(value)))


def _sheet(rows: Sequence[Sequence[Value]]) -> bytes:
    cells = b"".join(
        _cell(r, c, value) for r, row in enumerate(rows) for c, value in enumerate(row)
    )
    return _bof(0x0010) + cells + _record(0x000A)


def _workbook_stream(sheets: Mapping[str, Sequence[Sequence[Value]]]) -> bytes:
    head = _bof(0x0005) + _record(0x0042, struct.pack("<H", 1200))  # UTF-16 code page
    xf = _record(0x00E0, struct.pack("<HHHBBBBIiH", 0, 0, 0, 0x20, 0, 0, 0, 0, 0, 0x20C0))
    bodies = [_sheet(rows) for rows in sheets.values()]
    sizes = [len(_record(0x0085, b"\x00" * 6 + _unicode(name, 1))) for name in sheets]
    offset = len(head) + len(xf) + sum(sizes) + len(_record(0x000A))
    bound = b""
    for name, body in zip(sheets, bodies, strict=True):
        bound += _record(0x0085, struct.pack("<IBB", offset, 0, 0) + _unicode(name, 1))
        offset += len(body)
    return head + xf + bound + _record(0x000A) + b"".join(bodies)


# --------------------------------------------------------------------------------------------
# The OLE2 compound file around it


def _compound_file(stream: bytes) -> bytes:
    stream = stream.ljust(max(len(stream), _MIN_STREAM), b"\x00")
    sectors = -(-len(stream) // _SECTOR)
    if sectors > _SECTOR // 4 - 2:
        raise ValueError("test workbooks are limited to one FAT sector (about 63 KB)")
    fat = [_FAT_SECTOR, _END_OF_CHAIN, *range(3, sectors + 2), _END_OF_CHAIN]
    fat += [_FREE] * (_SECTOR // 4 - len(fat))
    header = (
        _OLE2_MAGIC
        + b"\x00" * 16
        + struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 9, 6)
        + b"\x00" * 6
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, _MIN_STREAM, _END_OF_CHAIN, 0, _END_OF_CHAIN, 0)
        + struct.pack("<109I", 0, *([_FREE] * 108))
    )
    directory = (
        _entry("Root Entry", 5, child=1, start=_END_OF_CHAIN, size=0)
        + _entry("Workbook", 2, child=_NO_STREAM, start=2, size=len(stream))
        + _entry("", 0, child=_NO_STREAM, start=0, size=0) * 2
    )
    body = stream.ljust(sectors * _SECTOR, b"\x00")
    return header + struct.pack(f"<{_SECTOR // 4}I", *fat) + directory + body


def _entry(name: str, kind: int, *, child: int, start: int, size: int) -> bytes:
    encoded = (name + "\x00").encode("utf-16-le") if name else b""
    return (
        encoded.ljust(64, b"\x00")
        + struct.pack("<HBB", len(encoded), kind, 1)
        + struct.pack("<III", _NO_STREAM, _NO_STREAM, child)
        + b"\x00" * 16
        + struct.pack("<IQQ", 0, 0, 0)
        + struct.pack("<IQ", start, size)
    )


# --------------------------------------------------------------------------------------------
# The published workbook's shape

TITLE_ROWS: list[list[Value]] = [
    [],
    [None, "Title:", "Delayed Transfer of Care, NHS Organisations, England"],
    [None, "Summary:", "Number of Delayed Days during the reporting period"],
    [],
    [None, "Period:", "August 2010 - November 2010"],
    [None, "Source:", "NHS England and NHS Improvement Data Collection - MSitDT"],
    [],
    [],
    [],
    [],
    [],
    [],
    [None, "Provider Level Data"],
]
NOTES: list[list[Value]] = [
    [],
    [None, "Notes:"],
    [None, "1. Prior to August 2010, the number of delayed days was collected weekly."],
]
MONTHS = [("2010-11", "August"), ("2010-11", "September"), ("2010-11", "October"),
          ("2010-11", "November")]  # fmt: skip
BY_TYPE = [(55332, 54586), (60316, 55539), (58362, 54884), (59184, 53907)]
BY_ORGANISATION = [(64255, 38324, 7339), (69468, 38074, 8313), (66127, 38412, 8707),
                   (68234, 37030, 7827)]  # fmt: skip
REASONS = ["A) Awaiting completion of assessment", "B) Awaiting public funding", "O) Other"]
BY_REASON = [(20730, 89188, 0), (22288, 93567, 0), (21253, 91993, 0), (20023, 93068, 0)]


def dtoc_sheets() -> dict[str, list[list[Value]]]:
    """The three sheets the importer reads, laid out as published: rows 17 to 20 are data.

    Columns: B year, C month, then the figures (D onwards); row 15 is the header.
    """
    by_type: list[list[Value]] = [
        *TITLE_ROWS,
        [None, None, None, "Delayed Days", None, None, None, "DTOC Beds"],
        [None, "Year", "Period", "Acute", "Non-Acute", "Total", None, "Acute", "Non-Acute",
         "Total"],
        [],
    ]  # fmt: skip
    for (year, month), (acute, non_acute) in zip(MONTHS, BY_TYPE, strict=True):
        total = acute + non_acute
        by_type.append([None, year, month, acute, non_acute, total, None, acute / 31,
                        non_acute / 31, total / 31])  # fmt: skip
    by_organisation: list[list[Value]] = [
        *TITLE_ROWS,
        [None, None, None, "Delayed Days"],
        [None, "Year", "Period", "NHS", "Social Care", "Both", "Total"],
        [],
    ]
    for (year, month), parts in zip(MONTHS, BY_ORGANISATION, strict=True):
        by_organisation.append([None, year, month, *parts, sum(parts)])
    by_reason: list[list[Value]] = [
        *TITLE_ROWS,
        [],
        [None, "Year", "Period", *REASONS, "Total"],
        [],
    ]
    for (year, month), parts in zip(MONTHS, BY_REASON, strict=True):
        by_reason.append([None, year, month, *parts, sum(parts)])
    return {
        "Delayed Days by type": by_type + NOTES,
        "Delayed Days by responsible org": by_organisation + NOTES,
        "Delayed Days by reason": by_reason + NOTES,
        "Delayed Days": [[None, "Year", "Period Name"]],
    }
