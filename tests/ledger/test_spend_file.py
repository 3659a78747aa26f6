"""Reading spend files: CSV or XLSX, every row located, nothing guessed.

Two readers must agree: the column-wise one that posts a clean file quickly, and the
row-by-row one that names every problem. Hypothesis writes the files.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from unittest import mock

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carepool.domain.errors import ImportRejected
from carepool.domain.ledger import SpendColumns
from carepool.domain.money import MAX_PENCE, parse_money
from carepool.domain.periods import Period
from carepool.pools.files import spend as spend_module
from carepool.pools.files.spend import (
    NotClean,
    PoolFacts,
    SpendFile,
    as_columns,
    check_against,
    clean_blocks,
    read_spend,
    refuse_if_any,
)

YEAR = Period("2015-16", dt.date(2015, 4, 1), dt.date(2016, 3, 31))


def test_a_workbook_reads_like_a_csv(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["date", "scheme", "provider", "amount", "reference"])
    sheet.append([dt.datetime(2015, 5, 1), "S1", "Council", 1234.5, "A1"])
    sheet.append(["02/06/2015", "S2", "Trust", "£10.00", 77])
    sheet.append([dt.datetime(2015, 7, 1), "S2", "Trust", "=1+1", "A3"])
    path = tmp_path / "spend.xlsx"
    book.save(path)

    spend = read_spend(path)

    assert [(x.row, x.date, x.scheme, x.amount, x.reference) for x in spend.lines] == [
        (2, dt.date(2015, 5, 1), "S1", 123_450, "A1"),
        (3, dt.date(2015, 6, 2), "S2", 1_000, "77"),
    ]
    [problem] = spend.log.problems
    assert (problem.row, problem.column) == (4, "amount")
    assert "holds a formula" in problem.message


def test_pool_checks_name_the_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text(
        "date,scheme,provider,amount,reference\n2015-04-10,S1,P,1.00,A\n2016-04-10,S9,P,1.00,B\n",
        encoding="utf-8",
    )
    spend = read_spend(path)
    check_against(spend, PoolFacts(frozenset({"S1"}), YEAR, (YEAR,)))
    with pytest.raises(ImportRejected) as caught:
        refuse_if_any(spend)
    assert [(p.row, p.column) for p in caught.value.problems] == [
        (2, "date"),  # the year is closed
        (3, "scheme"),
        (3, "date"),  # outside the year
    ]


# --------------------------------------------------------------------------------------------
# The column-wise reader against the row-by-row one
#
# The fast reader may hand any file back (NotClean), but whatever it accepts the row-by-row
# reader must accept too, with the very same rows: numbers, dates, schemes, providers,
# amounts in pence and references.

CLOSED = Period("2015-16 Q4", dt.date(2016, 1, 1), dt.date(2016, 3, 31))
FACTS = PoolFacts(frozenset({"S1", "S2", "S-3"}), YEAR, (CLOSED,))

good_day = st.dates(dt.date(2015, 4, 1), dt.date(2015, 12, 31))
any_day = st.dates(dt.date(2015, 1, 1), dt.date(2016, 6, 30))


@st.composite
def day_text(draw: st.DrawFn, days: st.SearchStrategy[dt.date]) -> str:
    day = draw(days)
    written = draw(st.sampled_from([day.isoformat(), day.strftime("%d/%m/%Y")]))
    return draw(st.sampled_from(["{}", " {}", "{} "])).format(written)


plain_amount = st.builds(
    "{}.{:02d}".format, st.integers(0, MAX_PENCE // 100 - 1), st.integers(0, 99)
).filter(lambda text: text.strip("0.") != "")
written_amount = st.one_of(
    plain_amount,
    st.integers(1, 10**9).map(lambda p: f"£{p // 100:,}.{p % 100:02d}"),
    st.integers(1, 10**6).map(str),
    st.integers(1, 10**6).map(lambda p: f" {p}.5 "),
)
text_cell = st.text(
    st.characters(codec="utf-8", exclude_characters="\x00\r"), min_size=1, max_size=12
).filter(str.strip)


@st.composite
def clean_file(draw: st.DrawFn) -> tuple[bytes, int]:
    """A spend file every reader must accept, written the ways real files are."""
    count = draw(st.integers(0, 40))
    rows = [
        [
            draw(day_text(good_day)),
            draw(st.sampled_from(["S1", "S2", " S-3 "])),
            draw(text_cell),
            draw(st.one_of(plain_amount, plain_amount, written_amount)),
            f"R{index}",
        ]
        for index in range(count)
    ]
    return _file(draw, rows), draw(st.sampled_from([32, 200, 100_000]))


BAD_CELLS = {
    0: st.one_of(day_text(any_day), st.sampled_from(["", "2015-02-30", "31/31/2015", "x"])),
    1: st.sampled_from(["", "S9", "s1"]),
    2: st.sampled_from(["", "  ", "p" * 201]),
    3: st.sampled_from(["", "0", "0.00", "-1.00", "1.234", "£1,23.00", "ten", "(5.00)"]),
    4: st.sampled_from(["", "R0", "r" * 101]),
}


@st.composite
def doubtful_file(draw: st.DrawFn) -> tuple[bytes, int]:
    """A spend file with some cells that may be wrong (or may, by chance, still be fine)."""
    data, block = draw(clean_file())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))[1:]
    rows = [row[:5] for row in rows if row]
    for _ in range(draw(st.integers(1, 3))):
        if rows:
            row = draw(st.integers(0, len(rows) - 1))
            column = draw(st.integers(0, 4))
            rows[row][column] = draw(BAD_CELLS[column])
    if draw(st.booleans()):
        rows.append(
            draw(st.sampled_from([["a"], ["", "", ""], [*rows[0], "extra"] if rows else []]))
        )
    return _file(draw, rows), block


def _file(draw: st.DrawFn, rows: list[list[str]]) -> bytes:
    header = ["date", "scheme", "provider", "amount", "reference"]
    if draw(st.booleans()):  # an extra column the reader must keep out of the way
        header.insert(draw(st.integers(0, 5)), "note")
        at = header.index("note")
        rows = [[*row[:at], draw(st.sampled_from(["", "n", 'a "b"'])), *row[at:]] for row in rows]
    for _ in range(draw(st.integers(0, 2))):  # blank lines, as spreadsheets leave them
        rows.insert(draw(st.integers(0, len(rows))), draw(st.sampled_from([[], [""] * 5])))
    out = io.StringIO()
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    quote_all = draw(st.booleans())
    quoting = csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
    writer = csv.writer(out, quoting=quoting, lineterminator=ending)
    writer.writerow(header)
    writer.writerows(rows)
    # Without its line break a last row is complete only if a closing quote shows it is.
    cut = quote_all and draw(st.booleans())
    text = out.getvalue().removesuffix(ending) if cut else out.getvalue()
    return (b"\xef\xbb\xbf" if draw(st.booleans()) else b"") + text.encode("utf-8")


def _both(folder: Path, data: bytes, block: int) -> tuple[SpendColumns | None, SpendFile]:
    """What each reader makes of the same bytes (``None``: the fast reader handed it back)."""
    path = folder / "spend.csv"
    path.write_bytes(data)
    careful = read_spend(path)
    check_against(careful, FACTS)
    with mock.patch.object(spend_module, "BLOCK_CHARS", block):
        try:
            blocks = list(clean_blocks(path, FACTS))
        except NotClean:
            return None, careful
    return _joined(blocks), careful


def _joined(blocks: list[SpendColumns]) -> SpendColumns:
    return SpendColumns(
        *([value for block in blocks for value in getattr(block, name)] for name in COLUMNS)
    )


COLUMNS = ("rows", "days", "schemes", "providers", "amounts", "references")


def _same(fast: SpendColumns, careful: SpendFile) -> None:
    expected = as_columns(careful.lines)
    for name in COLUMNS:
        assert list(getattr(fast, name)) == list(getattr(expected, name)), name


@settings(max_examples=300, deadline=None)
@given(case=clean_file())
def test_the_column_reader_reads_a_clean_file_as_the_row_reader_does(
    case: tuple[bytes, int], tmp_path_factory: pytest.TempPathFactory
) -> None:
    data, block = case
    fast, careful = _both(tmp_path_factory.mktemp("clean"), data, block)
    assert careful.log.problems == ()
    assert fast is not None, "a clean file must take the fast path"
    _same(fast, careful)


@settings(max_examples=300, deadline=None)
@given(case=doubtful_file())
def test_the_column_reader_never_accepts_what_the_row_reader_refuses(
    case: tuple[bytes, int], tmp_path_factory: pytest.TempPathFactory
) -> None:
    data, block = case
    fast, careful = _both(tmp_path_factory.mktemp("doubtful"), data, block)
    if fast is not None:
        assert careful.log.problems == ()
        _same(fast, careful)


@given(amounts=st.lists(plain_amount, min_size=1, max_size=50))
def test_plain_amounts_read_as_the_money_parser_reads_them(
    amounts: list[str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    rows = [("2015-05-01", "S1", "P", amount, f"R{i}") for i, amount in enumerate(amounts)]
    path = tmp_path_factory.mktemp("amounts") / "spend.csv"
    path.write_text(
        "date,scheme,provider,amount,reference\n" + "".join(",".join(r) + "\n" for r in rows),
        encoding="utf-8",
    )
    [block] = clean_blocks(path, FACTS)
    assert list(block.amounts) == [parse_money(amount) for amount in amounts]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        pytest.param("spend.xlsx", b"PK\x03\x04rest", id="workbook"),
        pytest.param("spend.csv", b"\xff\xfed\x00a\x00", id="utf-16"),
        pytest.param("spend.csv", b"date,scheme\n\xe9\n", id="not-utf-8"),
        pytest.param("spend.csv", b"date,scheme,provider,amount,reference\nx\x00", id="nul"),
        pytest.param("spend.csv", b"", id="empty"),
        pytest.param("spend.csv", b"date,date,scheme,provider,amount,reference\n", id="header"),
        pytest.param("spend.csv", b'date,"scheme\n2015', id="open-quote"),
        pytest.param("spend.csv", b"date,scheme,provider,amount,reference\r2015", id="old-mac"),
    ],
)
def test_files_only_the_row_reader_can_explain_are_handed_back(
    tmp_path: Path, name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(NotClean):
        list(clean_blocks(path, FACTS))


def test_a_file_cut_mid_row_is_refused_not_posted_with_a_cut_reference(tmp_path: Path) -> None:
    """Cut inside its last reference, the file still has five fields on every row."""
    path = tmp_path / "spend.csv"
    whole = "date,scheme,provider,amount,reference\n2015-05-01,S1,P,1.00,INV-00122\n"
    path.write_text(whole + "2015-05-02,S1,P,2.00,INV-001", encoding="utf-8")

    with pytest.raises(NotClean):
        list(clean_blocks(path, FACTS))
    spend = read_spend(path)
    assert [line.reference for line in spend.lines] == ["INV-00122"]
    [problem] = spend.log.problems
    assert (problem.file, problem.row, problem.column) == ("spend.csv", 3, "reference")
    assert problem.message.startswith("the file ends in the middle of this row")

    path.write_text(whole + '2015-05-02,S1,P,2.00,"INV-00123"', encoding="utf-8")
    [block] = clean_blocks(path, FACTS)  # the closing quote shows the row is whole
    assert list(block.references) == ["INV-00122", "INV-00123"]


def test_a_fault_in_a_later_block_hands_the_file_back_after_earlier_blocks(
    tmp_path: Path,
) -> None:
    rows = "".join(f"2015-05-01,S1,P,1.00,R{i}\n" for i in range(50))
    path = tmp_path / "spend.csv"
    path.write_text(
        "date,scheme,provider,amount,reference\n" + rows + "2015-05-01,S1,P,1.00,R3\n",
        encoding="utf-8",
    )
    blocks: list[SpendColumns] = []
    with mock.patch.object(spend_module, "BLOCK_CHARS", 100), pytest.raises(NotClean):
        blocks.extend(clean_blocks(path, FACTS))  # R3 again, far from the first R3
    assert len(blocks) > 1


def test_line_breaks_inside_quoted_cells_are_kept_as_the_row_reader_keeps_them(
    tmp_path: Path,
) -> None:
    path = tmp_path / "spend.csv"
    path.write_bytes(
        b"date,scheme,provider,amount,reference\r\n"
        b'2015-05-01,S1,"Care\r\nat home",1.00,R1\r\n'
        b'2015-05-02,S2,"Meals\non wheels",2.00,R2\r\n'
    )
    [block] = clean_blocks(path, FACTS)
    assert list(block.providers) == ["Care\r\nat home", "Meals\non wheels"]
    assert list(block.rows) == [2, 3]
    assert as_columns(read_spend(path).lines).providers == list(block.providers)


def test_a_plain_amount_beyond_the_limit_is_not_read_as_clean(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    path = tmp_path_factory.mktemp("amounts") / "spend.csv"
    path.write_text(
        "date,scheme,provider,amount,reference\n2015-05-01,S1,P,1000000000000.01,R1\n",
        encoding="utf-8",
    )
    with pytest.raises(NotClean):
        list(clean_blocks(path, FACTS))


def test_a_file_past_the_row_limit_is_left_to_the_careful_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spend_module, "MAX_CSV_ROWS", 3)
    monkeypatch.setattr("carepool.io.tabular.MAX_CSV_ROWS", 3)
    path = tmp_path / "spend.csv"
    rows = "".join(f"01/05/2015,S1,Council,1.00,A{n}\n" for n in range(5))
    path.write_text("date,scheme,provider,amount,reference\n" + rows, encoding="utf-8")
    with pytest.raises(NotClean):
        list(clean_blocks(path, FACTS))
    with pytest.raises(ImportRejected, match="more than the 3 rows"):
        read_spend(path)
