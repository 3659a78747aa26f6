"""The limits on what a CSV or XLSX file may make carepool read, named once here.

An .xlsx workbook is a ZIP archive of XML parts, and XML compresses very well: a 1 MB
workbook can unpack to gigabytes (a "ZIP bomb"), and a sheet can declare millions of empty
rows. Each limit is far above any real Better Care Fund file, and each refusal names the
file and the limit, so a person knows what to fix. docs/formats.md lists them.
"""

from __future__ import annotations

import io
import zipfile
from typing import NoReturn

from carepool.domain.errors import ImportRejected, Problem

MB = 1024 * 1024

MAX_FILE_BYTES = 256 * MB
"""A CSV or XLSX file larger than this is refused before it is read (a spend file of two
million rows is about 150 MB)."""

MAX_UNPACKED_BYTES = 200 * MB
"""The parts of an .xlsx workbook together may unpack to no more than this."""

MAX_PART_BYTES = 150 * MB
"""Any one part of a workbook (a sheet, the shared strings) may unpack to no more than this."""

MAX_COMPRESSION_RATIO = 200
"""A part larger than :data:`RATIO_FLOOR_BYTES` may unpack to at most this many times its
packed size; real spreadsheet XML packs about ten to one, a bomb thousands to one."""

RATIO_FLOOR_BYTES = 1 * MB
"""Parts smaller than this are never refused for their ratio: they cannot cost much."""

MAX_CSV_ROWS = 2_000_000
"""Rows read from a CSV file, counting the header and blank rows. Spend files run to
millions of rows, and CSV is the format for them."""

MAX_SHEET_ROWS = 250_000
"""Rows read from a workbook's sheet, counting the header and blank rows. Reading a sheet
costs far more per row than CSV, so a sheet past this is refused as soon as it is reached."""

MAX_COLUMNS = 200
"""Columns read from a row; a sheet may still declare more, as long as they are empty."""

MAX_CELL_CHARS = 32_767
"""Characters in one cell: Excel's own limit, so no genuine spreadsheet cell is longer."""


def _mb(size: int) -> str:
    return f"{size // MB} MB"


def _reject(source: str, message: str) -> NoReturn:
    raise ImportRejected.from_problems(source, [Problem(message, file=source)])


def check_file_size(size: int, source: str, *, limit: int = MAX_FILE_BYTES) -> None:
    """Refuse a file of ``size`` bytes larger than ``limit`` before reading it."""
    if size > limit:
        _reject(source, f"the file is larger than the {_mb(limit)} carepool accepts")


def check_workbook_archive(
    data: bytes,
    source: str,
    *,
    max_unpacked: int = MAX_UNPACKED_BYTES,
    max_part: int = MAX_PART_BYTES,
    not_a_workbook: str = "the file is a ZIP archive but not an Excel .xlsx workbook",
) -> None:
    """Refuse a workbook whose ZIP parts would unpack too far, before openpyxl opens it.

    Only the ZIP directory is read: the sizes it declares are checked without inflating
    anything. A part that lies about its size is stopped by zipfile itself, which refuses
    to inflate more than the declared size.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    # zipfile raises NotImplementedError for a directory entry that claims a ZIP version it
    # does not support, which one flipped byte of a real workbook can do.
    except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError):
        _reject(source, not_a_workbook)
    total = 0
    for part in parts:
        total += part.file_size
        if part.file_size > max_part:
            _reject(
                source,
                f"the workbook part {part.filename} unpacks to more than the {_mb(max_part)} "
                "carepool accepts for one part; this is not an ordinary spreadsheet",
            )
        packed = max(part.compress_size, 1)
        if part.file_size > RATIO_FLOOR_BYTES and part.file_size > MAX_COMPRESSION_RATIO * packed:
            _reject(
                source,
                f"the workbook part {part.filename} unpacks to {part.file_size // packed:,} "
                f"times its packed size, more than the {MAX_COMPRESSION_RATIO} carepool "
                "accepts; this is a compression bomb, not an ordinary spreadsheet",
            )
    if total > max_unpacked:
        _reject(
            source,
            f"the workbook unpacks to more than the {_mb(max_unpacked)} carepool accepts",
        )
