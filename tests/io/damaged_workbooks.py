"""Ways a valid .xlsx file gets damaged: cut short, bytes flipped, a part's XML broken.

Each takes a valid workbook's bytes and gives damaged ones, so a test can check every
importer that reads workbooks turns the damage into a message rather than a traceback.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

SHEET = "xl/worksheets/sheet1.xml"


def cut_short(data: bytes) -> bytes:
    """The file as a copy stopped part way leaves it: the ZIP directory at the end is gone."""
    return data[: len(data) // 2]


def flipped_sheet_bytes(data: bytes) -> bytes:
    """The first sheet's compressed bytes flipped, so inflating it fails (a zlib error)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(SHEET)
    header = 30 + len(info.filename.encode()) + _extra_length(data, info.header_offset)
    start = info.header_offset + header
    damaged = bytearray(data)
    for offset in range(start, start + info.compress_size):
        damaged[offset] ^= 0xFF
    return bytes(damaged)


def broken_sheet_xml(data: bytes) -> bytes:
    """The first sheet's XML cut off mid-element and stored again (an XML parse error)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == SHEET:
                content = content[: content.index(b"<sheetData>") + 20]
            target.writestr(item, content)
    return out.getvalue()


def _extra_length(data: bytes, header_offset: int) -> int:
    return int.from_bytes(data[header_offset + 28 : header_offset + 30], "little")


DAMAGES: dict[str, Callable[[bytes], bytes]] = {
    "cut short": cut_short,
    "flipped bytes": flipped_sheet_bytes,
    "broken XML": broken_sheet_xml,
}
