"""The limits on what a CSV or XLSX file may make the shared reader read."""

from __future__ import annotations

import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from carepool.domain.errors import ImportRejected
from carepool.io import limits, tabular
from carepool.io.tabular import read_table
from damaged_files import MB, write_bomb, write_tall_workbook

Write = Callable[[str, str | bytes], Path]

_MEASURE = """
import resource, sys
from pathlib import Path
from carepool.domain.errors import ImportRejected
from carepool.io.tabular import read_table
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    read_table(Path(sys.argv[1]))
except ImportRejected as exc:
    print(exc.problems[0].message)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((after - before) // 1024)
"""


def test_an_xlsx_bomb_is_refused_quickly_without_inflating_it(tmp_path: Path) -> None:
    path = write_bomb(tmp_path / "areas.xlsx", 200 * MB)
    assert path.stat().st_size < 2 * MB
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    elapsed = time.monotonic() - started
    message, grown_mb = result.stdout.strip().splitlines()
    assert "xl/sharedStrings.xml" in message
    assert f"{limits.MAX_PART_BYTES // MB} MB" in message
    assert int(grown_mb) < 100  # ru_maxrss is in kilobytes on Linux
    assert elapsed < 30


def test_a_sheet_of_millions_of_rows_and_no_dimension_is_refused_without_holding_them(
    tmp_path: Path,
) -> None:
    # openpyxl looks for a sheet's <dimension> by parsing the whole sheet when there is none;
    # carepool reads only the sheet's head for it (carepool.io.openpyxl_dimensions).
    path = write_tall_workbook(tmp_path / "spend.xlsx", 3_000_000)
    assert path.stat().st_size < MB
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    message, grown_mb = result.stdout.strip().splitlines()
    assert f"more than the {limits.MAX_SHEET_ROWS:,} rows" in message
    assert int(grown_mb) < 100  # it was over 500 MB


def test_a_part_with_an_absurd_compression_ratio_is_refused(tmp_path: Path) -> None:
    path = write_bomb(tmp_path / "shares.xlsx", 20 * MB)
    with pytest.raises(ImportRejected) as caught:
        read_table(path)
    message = caught.value.problems[0].message
    assert "xl/sharedStrings.xml" in message
    assert f"more than the {limits.MAX_COMPRESSION_RATIO}" in message
    assert caught.value.problems[0].file == "shares.xlsx"


def test_a_file_over_the_size_limit_is_refused_before_reading() -> None:
    with pytest.raises(ImportRejected, match="larger than the 256 MB"):
        limits.check_file_size(limits.MAX_FILE_BYTES + 1, "ledger.csv")


def _sheet_with_rows(path: Path, good_rows: int) -> Path:
    """A workbook whose sheet holds ``good_rows`` rows and then XML that cannot be parsed,
    so reading past the good rows would fail as damaged instead."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["code", "amount"])
    book.save(path)
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    rows = "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>E{n}</t></is></c></row>'
        for n in range(2, good_rows + 1)
    )
    sheet_xml = parts["xl/worksheets/sheet1.xml"].decode()
    head, tail = sheet_xml.split("</row>", 1)
    parts["xl/worksheets/sheet1.xml"] = (head + "</row>" + rows + "<row r=").encode()
    assert tail  # the rest of the sheet is dropped: the XML is never closed
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def test_a_sheet_past_the_row_limit_is_refused_without_reading_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tabular, "MAX_SHEET_ROWS", 100)
    path = _sheet_with_rows(tmp_path / "populations.xlsx", 5000)
    with pytest.raises(ImportRejected) as caught:
        read_table(path)
    [problem] = caught.value.problems
    assert "more than the 100 rows" in problem.message
    assert problem.row == 101


def test_a_csv_past_the_row_limit_is_refused_at_the_first_row_over(
    write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tabular, "MAX_CSV_ROWS", 3)
    path = write("ledger.csv", "code\n" + "E1\n" * 10 + '"never closed\n')
    with pytest.raises(ImportRejected) as caught:
        read_table(path)
    [problem] = caught.value.problems
    assert "more than the 3 rows" in problem.message
    assert problem.row == 4


def test_too_many_columns_are_refused(write: Write) -> None:
    width = limits.MAX_COLUMNS + 1
    path = write("wide.csv", ",".join(f"c{i}" for i in range(width)) + "\n")
    with pytest.raises(ImportRejected, match=f"more than the {limits.MAX_COLUMNS} columns"):
        read_table(path)


def test_a_cell_longer_than_excel_allows_is_refused(write: Write) -> None:
    path = write("long.csv", "code\n" + "x" * (limits.MAX_CELL_CHARS + 1) + "\n")
    with pytest.raises(ImportRejected, match="more than the 32,767"):
        read_table(path)


def test_an_ordinary_workbook_still_reads(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["code", "amount", *([None] * 300)])  # trailing empty columns are ignored
    for n in range(1, 501):
        sheet.append([f"E{n:08d}", n])
    path = tmp_path / "areas.xlsx"
    book.save(path)
    table = read_table(path, required=("code", "amount"))
    assert table.header == ("code", "amount")
    assert len(table.rows) == 500
    assert table.rows[-1]["amount"] == "500"


def test_a_workbook_claiming_an_unknown_zip_version_is_refused_not_a_crash(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    path = tmp_path / "areas.xlsx"
    book.save(path)
    data = bytearray(path.read_bytes())
    directory = data.index(b"PK\x01\x02")  # the first entry of the central directory
    data[directory + 6] = 148  # "version needed to extract": 14.8, which zipfile refuses
    path.write_bytes(bytes(data))
    with pytest.raises(ImportRejected) as caught:
        read_table(path)
    assert caught.value.problems[0].file == "areas.xlsx"
    assert "not a readable Excel .xlsx workbook" in caught.value.problems[0].message
