"""Ways an import file gets damaged or made hostile, each made in one place.

The importer tests (``tests/io``), the fuzz suite (``tests/fuzz``), the upload tests and the
upload memory benchmark all take their damaged workbooks and bombs from here, so a change to
how one is made reaches every check that relies on it.

The workbook damages take a valid ``.xlsx`` file's bytes and give damaged ones; the bombs and
the tall workbook are written to a path in chunks, so making them never holds them whole.
"""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Callable
from pathlib import Path

SHEET = "xl/worksheets/sheet1.xml"
MB = 1024 * 1024


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

    def cut(name: str, content: bytes) -> bytes:
        return content[: content.index(b"<sheetData>") + 20] if name == SHEET else content

    return rewritten_parts(data, cut)


def rewritten_parts(data: bytes, change: Callable[[str, bytes], bytes]) -> bytes:
    """The workbook with each part's bytes replaced by ``change(name, content)``."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, change(item.filename, source.read(item)))
    return out.getvalue()


def _extra_length(data: bytes, header_offset: int) -> int:
    return int.from_bytes(data[header_offset + 28 : header_offset + 30], "little")


DAMAGES: dict[str, Callable[[bytes], bytes]] = {
    "cut short": cut_short,
    "flipped bytes": flipped_sheet_bytes,
    "broken XML": broken_sheet_xml,
}


def write_bomb(path: Path, size: int) -> Path:
    """A ZIP whose shared strings unpack to ``size`` bytes of repeated text: a decompression
    bomb with an ``.xlsx`` name, about 1 MB on disk for each 400 MB it unpacks to."""
    chunk = b"<si><t>carepool</t></si>" * (MB // 24)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            written = 0
            while written < size:
                part.write(chunk)
                written += len(chunk)
    return path


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Spend" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_SPEND_COLUMNS = ("date", "scheme", "provider", "amount", "reference")
_HEADER_ROW = (
    '<row r="1">'
    + "".join(
        f'<c r="{column}1" t="inlineStr"><is><t>{name}</t></is></c>'
        for column, name in zip(
            "ABCDE", ("date", "scheme", "provider", "amount", "reference"), strict=True
        )
    )
    + "</row>"
)
_ROWS_PER_CHUNK = 50_000
_TALL_ROWS = ("<row/>", "<row><c><v>1</v></c></row>")


def write_tall_workbook(path: Path, rows: int) -> Path:
    """A valid spend workbook with a header and ``rows`` rows, each empty or holding a 1.

    Rows without numbers (``r``) are still rows to every reader. Chosen at random, they
    deflate to about two bits each, so three million fit in well under 1 MB while
    unpacking only about 40 times: past the compression-ratio check, so a reader meets
    every row rather than refusing the file as a bomb.
    """
    rng = random.Random(rows)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with archive.open(SHEET, "w", force_zip64=True) as sheet:
            sheet.write((_SHEET_HEAD + _HEADER_ROW).encode())
            for start in range(0, rows, _ROWS_PER_CHUNK):
                count = min(_ROWS_PER_CHUNK, rows - start)
                sheet.write("".join(rng.choices(_TALL_ROWS, k=count)).encode())
            sheet.write(b"</sheetData></worksheet>")
    return path
