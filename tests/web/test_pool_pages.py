"""The pool pages: valid HTML for everyone who may see them, nothing for anyone else.

A finance officer runs their own pool here, the national team reads every pool, the Health
and Wellbeing Board's signatory reads and signs the area's returns, and the public sees no
part of any pool. Spend uploads are all or nothing, with every problem located; a file sent
twice posts nothing the second time.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import openpyxl
import pytest
from sqlalchemy import Engine
from test_pages_html import check_page, parse

from carepool.accounts import service as accounts
from carepool.audit import repository as audit
from carepool.domain.metric import Measure, round_half_even
from carepool.domain.metric_catalogue import definition
from carepool.domain.metric_value import Grain, MetricValue
from carepool.domain.roles import SYSTEM
from carepool.metrics.service.actuals import quarter_actuals
from carepool.metrics.service.results import save_results
from carepool.pools.repository import ledger as repo
from carepool.pools.service import ledger, returns
from carepool.store.db import unit_of_work
from carepool.web.forms import SHOWN
from damaged_files import MB, write_bomb, write_tall_workbook

if TYPE_CHECKING:
    from pool_fixtures import PoolWorld, SpendWriter

pytest_plugins = ("pool_fixtures",)  # pool_world, pool_engine, fresh_pool_engine, spend_file

YEAR = "2015-16"
ClientFor = Callable[..., Any]
CsrfOf = Callable[[str], str]

POOL_PAGES = (
    "",
    "?quarter=2015-16-Q2",
    "/ledger",
    "/ledger?page=2",
    "/spend",
    "/receipts",
    "/periods",
    "/returns/2015-16-Q2",
    "/returns/2015-16-Q4",
)


def _base(area: str) -> str:
    return f"/pools/{YEAR}/{area}"


def _entry_count(engine: Engine, area: str) -> int:
    with unit_of_work(engine) as session:
        return repo.entry_count(session, ledger.pool_for(session, YEAR, area, SYSTEM).id)


def _first_entry(client: Any, base: str) -> str:
    found = re.search(r"/entries/(\d+)", client.get(f"{base}/ledger").text)
    assert found
    return f"{base}/entries/{found.group(1)}"


# --------------------------------------------------------------------------------------------
# Every page parses


@pytest.mark.parametrize("username", ["finance", "national", "analyst"])
def test_every_pool_page_is_valid_html(
    username: str, pool_engine: Engine, pool_world: PoolWorld, client_for: ClientFor
) -> None:
    client = client_for(pool_engine, username)
    base = _base(pool_world.own)
    for path in (f"/pools/{YEAR}", *(base + suffix for suffix in POOL_PAGES)):
        response = client.get(path)
        assert response.status_code == 200, f"{path} as {username}: {response.status_code}"
        check_page(response.text, f"{path} as {username}")
    entry = _first_entry(client, base)
    check_page(client.get(entry).text, entry)


def test_a_settled_pool_explains_its_settlement(
    pool_engine: Engine, pool_world: PoolWorld, client_for: ClientFor
) -> None:
    client = client_for(pool_engine, "national")
    page = client.get(_base(pool_world.other))
    assert page.status_code == 200
    check_page(page.text, "settled pool")
    assert "ended in an" in page.text and "shared by the agreed risk share" in page.text
    periods = client.get(f"{_base(pool_world.other)}/periods").text
    assert "settled" in periods and 'id="settle"' not in periods


def test_the_hwb_signatory_sees_the_return_but_not_the_books(
    pool_engine: Engine, pool_world: PoolWorld, client_for: ClientFor
) -> None:
    client = client_for(pool_engine, pool_world.hwb)
    page = client.get(f"{_base(pool_world.own)}/returns/2015-16-Q2")
    assert page.status_code == 200
    check_page(page.text, "return as the board's signatory")
    assert "Save the narrative" not in page.text
    for suffix in ("", "/ledger", "/spend"):
        refused = client.get(_base(pool_world.own) + suffix)
        assert refused.status_code == 403
        check_page(refused.text, f"refused {suffix}")
    listing = client.get(f"/pools/{YEAR}")
    assert listing.status_code == 200 and not re.search(r"£\d", listing.text)
    check_page(listing.text, "list as the board's signatory")


# --------------------------------------------------------------------------------------------
# Who sees what


def test_the_public_sees_no_pool(
    pool_engine: Engine, pool_world: PoolWorld, client_for: ClientFor
) -> None:
    client = client_for(pool_engine)
    base = _base(pool_world.own)
    for path in (
        f"/pools/{YEAR}",
        *(base + s for s in POOL_PAGES),
        f"{base}/returns/2015-16-Q2.xlsx",
    ):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/sign-in?next=")
        assert response.text == ""
    for path in (f"/api/v1/pools/{YEAR}", f"/api/v1/pools/{YEAR}/{pool_world.own}"):
        assert client.get(path).status_code == 401


def test_finance_of_one_area_sees_nothing_of_another_areas_pool(
    pool_engine: Engine, pool_world: PoolWorld, client_for: ClientFor
) -> None:
    client = client_for(pool_engine, "finance")
    other = _base(pool_world.other)
    for suffix in (*POOL_PAGES, "/returns/2015-16-Q2.xlsx", "/returns/2015-16-Q2.json"):
        response = client.get(other + suffix)
        assert response.status_code == 403, suffix
        assert pool_world.other_name not in response.text
        assert not re.search(r"£\d", response.text), f"{suffix}: a refusal shows an amount"
    entry = _first_entry(client_for(pool_engine, "national"), other)
    assert client.get(entry).status_code == 403
    missing = client.get(_base(pool_world.no_pool))
    hidden = client.get(other)
    assert missing.status_code == hidden.status_code == 403, "existence is not told"

    listing = client.get(f"/pools/{YEAR}").text
    assert pool_world.own_name in listing and pool_world.other_name not in listing


def test_finance_cannot_change_another_pool_or_sign_its_own_return(
    fresh_pool_engine: Engine, pool_world: PoolWorld, client_for: ClientFor, csrf_of: CsrfOf
) -> None:
    client = client_for(fresh_pool_engine, "finance")
    token = csrf_of(client.get(_base(pool_world.own)).text)
    before = _entry_count(fresh_pool_engine, pool_world.other)
    other = _base(pool_world.other)
    for suffix, data in (
        ("/periods", {"period": "2015-16 Q4"}),
        ("/settle", {"financial_year": YEAR}),
        ("/receipts", {"contribution": "x|y", "amount": "1", "reference": "r"}),
    ):
        response = client.post(other + suffix, data={"csrf_token": token, **data})
        assert response.status_code == 403, suffix
    assert _entry_count(fresh_pool_engine, pool_world.other) == before
    signing = client.post(
        f"{_base(pool_world.own)}/returns/2015-16-Q2/decision",
        data={"csrf_token": token, "decision": "sign_off"},
    )
    assert signing.status_code == 403


def test_national_readers_see_every_pool_but_change_none(
    pool_engine: Engine, pool_world: PoolWorld, client_for: ClientFor, csrf_of: CsrfOf
) -> None:
    client = client_for(pool_engine, "analyst")
    listing = client.get(f"/pools/{YEAR}").text
    with unit_of_work(pool_engine) as session:
        pools = len(repo.all_pools(session, YEAR))
    assert f"Every pool ({pools})" in listing
    assert pool_world.own_name in listing and pool_world.other_name in listing
    spend = client.get(f"{_base(pool_world.own)}/spend").text
    assert "Upload and post" not in spend
    token = csrf_of(spend)
    refused = client.post(f"{_base(pool_world.own)}/periods", data={"csrf_token": token})
    assert refused.status_code == 403


def test_local_people_without_a_pool_role_are_refused_the_list(
    pool_engine: Engine, client_for: ClientFor
) -> None:
    response = client_for(pool_engine, "area").get(f"/pools/{YEAR}")
    assert response.status_code == 403
    check_page(response.text, "list refused")


# --------------------------------------------------------------------------------------------
# Spend uploads


def _upload(client: Any, base: str, token: str, path: Path) -> Any:
    with path.open("rb") as handle:
        return client.post(
            f"{base}/spend",
            data={"csrf_token": token},
            files={"spend_file": (path.name, handle, "text/csv")},
            follow_redirects=False,
        )


def test_a_bad_spend_file_lists_every_problem_and_posts_nothing(
    fresh_pool_engine: Engine,
    pool_world: PoolWorld,
    client_for: ClientFor,
    csrf_of: CsrfOf,
    spend_file: SpendWriter,
) -> None:
    client = client_for(fresh_pool_engine, "finance")
    base = _base(pool_world.own)
    token = csrf_of(client.get(f"{base}/spend").text)
    scheme = pool_world.schemes[0]
    bad = spend_file(
        "march-spend.csv",
        [
            ("2016-03-10", scheme, "Care Ltd", "1,000.00", "M-1"),
            ("2016-03-11", "S99", "Care Ltd", "20.00", "M-2"),
            ("2016-03-11", scheme, "Care Ltd", "12.345", "M-3"),
            ("2015-05-11", scheme, "Care Ltd", "10.00", "M-4"),
            ("2016-03-12", scheme, "Care Ltd", "10.00", "M-1"),
        ],
    )
    before = _entry_count(fresh_pool_engine, pool_world.own)
    response = _upload(client, base, token, bad)
    assert response.status_code == 422
    check_page(response.text, "spend upload with problems")
    summary = response.text[response.text.index('id="error-list"') :]
    for expected in (
        "march-spend.csv, row 3, column &#39;scheme&#39;: scheme &#39;S99&#39;",
        "march-spend.csv, row 4, column &#39;amount&#39;",
        "march-spend.csv, row 5, column &#39;date&#39;: 2015-05-11 falls in 2015-16 Q1",
        "march-spend.csv, row 6, column &#39;reference&#39;",
        "4 problems found, nothing was imported",
    ):
        assert expected in summary, expected
    assert 'href="#spend-file"' in summary
    assert _entry_count(fresh_pool_engine, pool_world.own) == before


def test_thousands_of_bad_rows_show_the_first_and_download_as_csv(
    fresh_pool_engine: Engine,
    pool_world: PoolWorld,
    client_for: ClientFor,
    csrf_of: CsrfOf,
    spend_file: SpendWriter,
) -> None:
    """A page of a thousand links helps nobody: the summary shows the first problems and a
    count, and every problem downloads as CSV with its row and column."""
    client = client_for(fresh_pool_engine, "finance")
    base = _base(pool_world.own)
    token = csrf_of(client.get(f"{base}/spend").text)
    rows = [("03/31/2016", "S99", "Care Ltd", "ten", f"R-{n}") for n in range(1000)]
    response = _upload(client, base, token, spend_file("bad.csv", rows))
    assert response.status_code == 422
    check_page(response.text, "spend upload with a thousand bad rows")
    tree = parse(response.text)
    listed = tree.findall(".//ul[@id='error-list']/li")
    assert len(listed) == 1 + SHOWN  # the headline, then the first problems
    report = tree.find(".//p[@id='problem-report']/a")
    assert report is not None and report.get("download") == "problems.csv"
    body = unquote(report.get("href", "").split(",", 1)[1])
    problems = list(csv.DictReader(io.StringIO(body)))
    assert len(problems) == 2000  # the date and the amount of each of 1,000 rows
    assert {p["file"] for p in problems} == {"bad.csv"}
    assert {p["column"] for p in problems} == {"date", "amount"}
    assert "day before month" in problems[0]["problem"]  # says which forms a date may take
    assert problems[0]["row"] == "2"
    summary = "".join(tree.find(".//p[@id='problem-report']").itertext())  # type: ignore[union-attr]
    assert f"{2000 - SHOWN:,} more problems" in summary


def test_a_spend_file_sent_twice_is_posted_once(
    fresh_pool_engine: Engine,
    pool_world: PoolWorld,
    client_for: ClientFor,
    csrf_of: CsrfOf,
    spend_file: SpendWriter,
) -> None:
    client = client_for(fresh_pool_engine, "finance")
    base = _base(pool_world.own)
    token = csrf_of(client.get(f"{base}/spend").text)
    scheme = pool_world.schemes[0]
    rows = [("2016-03-20", scheme, "Care Ltd", "2,500.00", "LATE-1")]
    first = spend_file("late.csv", rows)
    before = _entry_count(fresh_pool_engine, pool_world.own)

    posted = _upload(client, base, token, first)
    assert posted.status_code == 303
    assert "late.csv: 1 rows posted (£2,500.00)" in client.get(base).text
    again = _upload(client, base, token, first)
    assert again.status_code == 200
    assert "late.csv was imported before, so nothing was posted again" in again.text
    check_page(again.text, "duplicate upload")

    wider = spend_file(
        "late-2.csv", [*rows, ("2016-03-21", scheme, "Care Ltd", "100.00", "LATE-2")]
    )
    assert _upload(client, base, token, wider).status_code == 303
    assert "1 rows were already posted and were skipped" in client.get(base).text
    assert _entry_count(fresh_pool_engine, pool_world.own) == before + 2


@pytest.mark.parametrize("day", [dt.date(2015, 11, 3), dt.date(2016, 6, 1)])
def test_every_pools_position_read_at_once_is_each_pools_own(
    pool_engine: Engine, pool_world: PoolWorld, day: dt.date
) -> None:
    """The national list reads every pool's books in a few queries; it must give each pool
    exactly what the pool's own page works out: settled, settled and reopened, or neither,
    mid-year or after it."""
    with unit_of_work(pool_engine) as session:
        every = returns.positions(session, YEAR, day)
        one_by_one = tuple(returns.position(session, p, day) for p in ledger.pools(session, YEAR))
    assert len(every) > 2 and every == one_by_one
    settled = {p.pool.area_code: p.settled for p in every}
    assert settled[pool_world.other] and not settled[pool_world.own]


def _total_spend(listing: str) -> Decimal:
    found = re.search(r'id="total-spend">([^<]+)<', listing)
    assert found, "the list has no total spend"
    return Decimal(re.sub(r"[^0-9.-]", "", found.group(1)))


def test_the_national_list_is_kept_only_until_the_books_change(
    fresh_pool_engine: Engine,
    pool_world: PoolWorld,
    client_for: ClientFor,
    csrf_of: CsrfOf,
    spend_file: SpendWriter,
) -> None:
    """The list of every pool is worked out once per change to the data: asked again, it
    is the same; after a spend upload, it shows the new spend at once."""
    national = client_for(fresh_pool_engine, "national")
    before = national.get(f"/pools/{YEAR}").text
    assert _total_spend(national.get(f"/pools/{YEAR}").text) == _total_spend(before)

    finance = client_for(fresh_pool_engine, "finance")
    base = _base(pool_world.own)
    token = csrf_of(finance.get(f"{base}/spend").text)
    late = spend_file("late.csv", [("2016-03-20", pool_world.schemes[0], "Care Ltd", "2500", "L")])
    assert _upload(finance, base, token, late).status_code == 303

    after = _total_spend(national.get(f"/pools/{YEAR}").text)
    assert after - _total_spend(before) == 2500


def test_an_upload_without_a_file_or_too_large_is_refused(
    fresh_pool_engine: Engine, pool_world: PoolWorld, client_for: ClientFor, csrf_of: CsrfOf
) -> None:
    client = client_for(fresh_pool_engine, "finance")
    base = _base(pool_world.own)
    token = csrf_of(client.get(f"{base}/spend").text)
    empty = client.post(f"{base}/spend", data={"csrf_token": token}, files={"other": ("", b"")})
    assert empty.status_code == 400
    assert "Choose the spend file to upload" in empty.text
    huge = client.post(
        f"{base}/spend",
        data={"csrf_token": token},
        files={"spend_file": ("big.csv", b"x" * (5 * 1024 * 1024 + 100 * 1024), "text/csv")},
    )
    assert huge.status_code == 413


def _peak_rss_growth_mb(action: Callable[[], None]) -> float:
    """How far the process's peak resident memory rose above its size before ``action``.

    Writing 5 to ``clear_refs`` resets the kernel's peak (``VmHWM``) to the current size.
    """
    Path("/proc/self/clear_refs").write_text("5")
    before = _proc_status_kb("VmRSS")
    action()
    return (_proc_status_kb("VmHWM") - before) / 1024


def _proc_status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/self/status")


def test_a_bomb_and_a_three_million_row_workbook_are_refused_in_bounded_memory(
    fresh_pool_engine: Engine,
    pool_world: PoolWorld,
    client_for: ClientFor,
    csrf_of: CsrfOf,
    tmp_path: Path,
) -> None:
    client = client_for(fresh_pool_engine, "finance")
    base = _base(pool_world.own)
    token = csrf_of(client.get(f"{base}/spend").text)
    files = {
        "bomb.xlsx": write_bomb(tmp_path / "bomb.xlsx", 400 * MB),
        "tall.xlsx": write_tall_workbook(tmp_path / "tall.xlsx", 3_000_000),
    }
    answers: dict[str, Any] = {}

    def upload() -> None:
        for name, path in files.items():
            assert path.stat().st_size < MB
            answers[name] = _upload(client, base, token, path)

    grown = _peak_rss_growth_mb(upload)

    bomb, tall = answers["bomb.xlsx"], answers["tall.xlsx"]
    assert bomb.status_code == 422 and "xl/sharedStrings.xml" in bomb.text
    assert "not an ordinary spreadsheet" in bomb.text
    assert tall.status_code == 422 and "more than the 250,000 rows" in tall.text
    assert grown < 150, f"the test process grew by {grown:.0f} MB"


# --------------------------------------------------------------------------------------------
# Receipts, forecasts, periods and settlement


def test_a_receipt_is_checked_then_posted(
    fresh_pool_engine: Engine, pool_world: PoolWorld, client_for: ClientFor, csrf_of: CsrfOf
) -> None:
    client = client_for(fresh_pool_engine, "finance")
    base = _base(pool_world.own)
    page = client.get(f"{base}/receipts").text
    token = csrf_of(page)
    option = re.search(r'<option value="([^"|]+\|[^"]+)"', page)
    assert option
    wrong = client.post(
        f"{base}/receipts",
        data={"csrf_token": token, "contribution": option.group(1), "amount": "12.345",
              "received-day": "31", "received-month": "2", "received-year": "2016"},
    )  # fmt: skip
    assert wrong.status_code == 400
    check_page(wrong.text, "receipt with errors")
    for message in ("must be an amount", "must be a real date", "Enter the bank"):
        assert message in wrong.text
    full_width = client.post(
        f"{base}/receipts",
        data={"csrf_token": token, "contribution": option.group(1), "amount": "１２.００",
              "received-day": "１", "received-month": "6", "received-year": "2015"},
    )  # fmt: skip
    assert full_width.status_code == 400  # int() and Decimal() would read these as 12 and 1
    for message in ("must be an amount", "must be a real date"):
        assert message in full_width.text
    right = client.post(
        f"{base}/receipts",
        data={"csrf_token": token, "contribution": option.group(1), "amount": "£1,000.00",
              "received-day": "15", "received-month": "3", "received-year": "2016",
              "reference": "BACS-TEST-1"},
        follow_redirects=False,
    )  # fmt: skip
    assert right.status_code == 303
    assert "Recorded £1,000.00 from" in client.get(f"{base}/receipts").text


def test_a_forecast_overspend_needs_an_action_note(
    fresh_pool_engine: Engine, pool_world: PoolWorld, client_for: ClientFor, csrf_of: CsrfOf
) -> None:
    client = client_for(fresh_pool_engine, "finance")
    base = _base(pool_world.own)
    token = csrf_of(client.get(base).text)
    huge = "999,999,999.00"
    refused = client.post(f"{base}/forecast", data={"csrf_token": token, "forecast": huge})
    assert refused.status_code == 400
    assert "Say what the partners will do about the forecast overspend" in refused.text
    check_page(refused.text, "forecast refused")
    note = "Reablement contract renegotiated from January"
    done = client.post(
        f"{base}/forecast",
        data={"csrf_token": token, "forecast": huge, "note": note},
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = client.get(base).text
    assert note in page and "£999,999,999.00" in page


def test_closing_a_period_and_settling_the_year(
    fresh_pool_engine: Engine, pool_world: PoolWorld, client_for: ClientFor, csrf_of: CsrfOf
) -> None:
    client = client_for(fresh_pool_engine, "finance")
    base = _base(pool_world.own)
    page = client.get(f"{base}/periods").text
    assert 'id="settle"' in page
    token = csrf_of(page)
    settled = client.post(f"{base}/settle", data={"csrf_token": token, "financial_year": YEAR})
    assert f"{YEAR} settled" in settled.text
    assert 'id="settle"' not in settled.text
    twice = client.post(f"{base}/settle", data={"csrf_token": token, "financial_year": YEAR})
    assert twice.status_code == 409 and "already settled" in twice.text
    check_page(twice.text, "settling twice")
    quarter = client.post(f"{base}/periods", data={"csrf_token": token, "period": "2015-16 Q4"})
    assert quarter.status_code == 409 and "already closed, as part of 2015-16" in quarter.text
    assert "ended in an" in client.get(base).text


def test_a_settled_year_refuses_spend_until_reopened_from_the_pages(
    fresh_pool_engine: Engine,
    pool_world: PoolWorld,
    client_for: ClientFor,
    csrf_of: CsrfOf,
    spend_file: SpendWriter,
) -> None:
    client = client_for(fresh_pool_engine, "finance")
    base = _base(pool_world.own)
    token = csrf_of(client.get(f"{base}/periods").text)
    client.post(f"{base}/settle", data={"csrf_token": token, "financial_year": YEAR})
    scheme = pool_world.schemes[0]
    late = spend_file("late.csv", [("2016-03-20", scheme, "Trust", "15845.66", "LATE-1")])
    before = _entry_count(fresh_pool_engine, pool_world.own)

    refused = _upload(client, base, token, late)
    assert refused.status_code == 422
    check_page(refused.text, "spend into a settled year")
    assert "2015-16 is settled" in refused.text and "Reopen 2015-16" in refused.text
    assert _entry_count(fresh_pool_engine, pool_world.own) == before

    summary = client.get(base).text
    assert "Reopen 2015-16 on the Periods and settlement page" in summary
    periods = client.get(f"{base}/periods").text
    assert 'id="reopen-2015-16"' in periods and "Settling closed 2015-16" in periods
    check_page(periods, "settled periods page")
    blank = client.post(f"{base}/reopen", data={"csrf_token": token, "financial_year": YEAR})
    assert blank.status_code == 400 and "Say why the settled year is reopened" in blank.text
    check_page(blank.text, "reopening without a reason")
    reopened = client.post(
        f"{base}/reopen",
        data={"csrf_token": token, "financial_year": YEAR, "reason": "late March invoice"},
    )
    assert f"{YEAR} reopened" in reopened.text and 'id="settle"' in reopened.text
    assert _upload(client, base, token, late).status_code == 303
    assert _entry_count(fresh_pool_engine, pool_world.own) > before
    with unit_of_work(fresh_pool_engine) as session:
        pool = ledger.pool_for(session, YEAR, pool_world.own, SYSTEM)
        actions = [e.action for e in audit.chain(session, ledger.audit_chain(pool))]
    assert actions[-4:] == ["settle", "close_period", "reopen", "import_spend"]


# --------------------------------------------------------------------------------------------
# The quarterly return through the pages


def test_the_return_is_written_submitted_and_signed_off(
    fresh_pool_engine: Engine,
    pool_world: PoolWorld,
    client_for: ClientFor,
    csrf_of: CsrfOf,
) -> None:
    finance = client_for(fresh_pool_engine, "finance")
    url = f"{_base(pool_world.own)}/returns/2015-16-Q3"
    token = csrf_of(finance.get(url).text)
    early = finance.post(f"{url}/submit", data={"csrf_token": token})
    assert early.status_code == 400 and "write the narrative" in early.text.lower()
    saved = finance.post(f"{url}/narrative", data={"csrf_token": token, "narrative": "On track."})
    assert "The narrative has been saved" in saved.text
    lock = re.search(r'name="lock_version" value="(\d+)"', saved.text)
    assert lock
    submitted = finance.post(f"{url}/submit", data={"csrf_token": token, "lock_version": lock[1]})
    assert "the return is now submitted" in submitted.text
    assert "Save the narrative" not in submitted.text

    board = client_for(fresh_pool_engine, pool_world.hwb)
    page = board.get(url).text
    assert "Sign off for the Health and Wellbeing Board" in page
    assert "2015-16 Q3" in board.get(f"/pools/{YEAR}").text  # waiting for them
    board_token = csrf_of(page)
    blank = board.post(f"{url}/decision", data={"csrf_token": board_token, "decision": "send_back"})
    assert blank.status_code == 400 and "Say why the return is being sent back" in blank.text
    signed = board.post(
        f"{url}/decision",
        data={"csrf_token": board_token, "decision": "sign_off", "comment": "Agreed at the board"},
    )
    assert "the return is now signed off" in signed.text
    check_page(signed.text, "signed-off return")
    timeline = signed.text[signed.text.index('id="timeline"') :]
    assert timeline.index("Signed off by the Health") < timeline.index("Submitted to the Health")
    assert "Agreed at the board" in timeline

    report = finance.get(f"{url}.json").json()
    assert report["status"] == "Signed off" and report["frozen"]
    assert [e["action"] for e in report["events"]] == ["start", "submit", "sign_off"]
    assert report["events"][1]["sha256"] == report["events"][2]["sha256"] == report["sha256"]


def test_the_return_downloads_as_the_familiar_workbook(
    pool_engine: Engine, pool_world: PoolWorld, client_for: ClientFor
) -> None:
    client = client_for(pool_engine, "finance")
    url = f"{_base(pool_world.own)}/returns/2015-16-Q2"
    response = client.get(f"{url}.xlsx")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [
        "Cover", "Budget arrangements", "Conditions", "Income and expenditure", "Metrics",
        "Narrative",
    ]  # fmt: skip
    with unit_of_work(pool_engine) as session:
        pool = ledger.pool_for(session, YEAR, pool_world.own, SYSTEM)
        content = returns.build(
            session, pool, returns.quarter_of(pool, "2015-16 Q2"), actuals=quarter_actuals
        )
    sheet = book["Income and expenditure"]
    totals = [row for row in sheet.iter_rows(values_only=True) if row[0] == "Total expenditure"]
    assert totals and Decimal(str(totals[0][6])) == Decimal(content.total.actual_to_date) / 100


def _quarter_value(metric: str, area: str, numerator: int, denominator: int) -> MetricValue:
    found = definition(metric)
    scale = 100 if found.measure is Measure.PERCENTAGE else 100_000
    value = (
        Decimal(numerator)
        if found.measure is Measure.COUNT
        else round_half_even(numerator * scale, denominator, found.decimal_places)
    )
    return MetricValue(
        metric, found.version, area, "2015-16 Q2", Grain.QUARTER, numerator, denominator, value
    )


def test_the_return_shows_each_actual_beside_its_ambition_with_its_source(
    fresh_pool_engine: Engine, pool_world: PoolWorld, client_for: ClientFor
) -> None:
    """Emergency admissions under the plan's ambition meet it and delayed days over it miss
    it; the page, the JSON download and the workbook all say so, with the definition
    version and data vintage, and "no data" where nothing is stored."""
    own = pool_world.own
    with unit_of_work(fresh_pool_engine) as session:
        pool = ledger.pool_for(session, YEAR, own, SYSTEM)
        planned = {a.metric: a.quarters[1] for a in ledger.plan_content(session, pool).ambitions}
        admissions = int(planned["non_elective_admissions"] or 0) // 5 * 5 - 20
        adults = 200_000
        over = int((planned["delayed_transfers_of_care"] or 0) * adults / 100_000) + 50
        stored = [
            _quarter_value("non_elective_admissions", own, admissions, 300_000),
            _quarter_value("delayed_transfers_of_care", own, over, adults),
        ]
        save_results(session, stored, SYSTEM, engine="reference", data_vintage="web-extract")
    client = client_for(fresh_pool_engine, "finance")
    url = f"{_base(own)}/returns/2015-16-Q2"
    page: str = client.get(url).text
    check_page(page, "return with actuals")

    def row(metric: str) -> str:
        start = page.index(f'id="metric-{metric}"')
        return page[start : page.index("</tr>", start)]

    admitted = row("non-elective-admissions")
    assert f"{admissions:,}" in admitted and ">Met<" in admitted
    source = 'Definition version 1, data vintage <code class="app-code">web-extract</code>'
    assert source in admitted
    assert ">Not met<" in row("delayed-transfers-of-care")
    assert "no data" in row("reablement-91-days")

    report = client.get(f"{url}.json").json()
    lines = {m["metric"]: m for m in report["return"]["metrics"]}
    assert lines["non_elective_admissions"]["actual"] == str(admissions)
    assert lines["non_elective_admissions"]["met"] is True
    assert lines["delayed_transfers_of_care"]["met"] is False
    assert lines["delayed_transfers_of_care"]["data_vintage"] == "web-extract"
    assert lines["reablement_91_days"]["actual"] is None
    assert lines["reablement_91_days"]["actual_note"] == "no data"

    book = openpyxl.load_workbook(io.BytesIO(client.get(f"{url}.xlsx").content))
    metrics = {r[0]: r for r in book["Metrics"].iter_rows(values_only=True) if r[0]}
    name = next(m["name"] for m in lines.values() if m["metric"] == "non_elective_admissions")
    assert metrics[name][4:8] == (admissions, "Met", 1, "web-extract")


# --------------------------------------------------------------------------------------------
# The API


def test_the_api_gives_a_token_what_its_owner_sees(
    pool_engine: Engine, pool_world: PoolWorld, client_for: ClientFor
) -> None:
    with unit_of_work(pool_engine) as session:
        finance = accounts.create_token(session, "finance", "pool tests", SYSTEM)
        other = accounts.create_token(session, pool_world.other_finance, "pool tests", SYSTEM)
    client = client_for(pool_engine)
    own = f"/api/v1/pools/{YEAR}/{pool_world.own}"
    mine = client.get(own, headers={"Authorization": f"Bearer {finance}"})
    assert mine.status_code == 200
    body = mine.json()
    assert sum(b["balance_pence"] for b in body["balances"]) == 0
    assert body["budget"]["lines"][-1]["group"] == "total"
    entries = client.get(
        f"{own}/entries?per_page=5", headers={"Authorization": f"Bearer {finance}"}
    )
    assert len(entries.json()["entries"]) == 5
    assert all(
        sum(p["amount_pence"] for p in e["postings"]) == 0 for e in entries.json()["entries"]
    )
    q2 = client.get(f"{own}/returns/2015-16-Q2", headers={"Authorization": f"Bearer {finance}"})
    assert q2.json()["return"]["quarter"] == "2015-16 Q2"
    refused = client.get(own, headers={"Authorization": f"Bearer {other}"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    listed = client.get(f"/api/v1/pools/{YEAR}", headers={"Authorization": f"Bearer {other}"})
    assert [p["area_code"] for p in listed.json()["pools"]] == [pool_world.other]


# --------------------------------------------------------------------------------------------
# Every area's returns, for the national team


def test_the_national_team_sees_every_areas_returns_adding_up(
    pool_engine: Engine, pool_world: PoolWorld, client_for: ClientFor
) -> None:
    client = client_for(pool_engine, "analyst")
    url = f"/pools/{YEAR}/returns"
    assert f'href="{url}"' in client.get("/national").text
    assert f'href="{url}"' in client.get(f"/pools/{YEAR}").text
    page = client.get(url)
    assert page.status_code == 200
    check_page(page.text, "every area's returns")
    with unit_of_work(pool_engine) as session:
        shown = returns.overview(session, SYSTEM, YEAR)
        areas = len(shown.rows)
    assert areas > 100 and len(shown.quarters) == 4
    counts = {
        m[1]: int(m[2].replace(",", ""))
        for m in re.finditer(r'data-status="([^"]+)">([\d,]+)<', page.text)
    }
    assert sum(counts.values()) == areas * 4 == sum(shown.counts.values())
    assert counts["No pool"] == 4 * sum(1 for row in shown.rows if not row[0].has_pool)
    assert f"{areas} areas × 4 quarters = {areas * 4} returns" in page.text
    own_q2 = f"/pools/{YEAR}/{pool_world.own}/returns/2015-16-Q2"
    assert f'href="{own_q2}"' in page.text
    assert f"/pools/{YEAR}/{pool_world.no_pool}/returns" not in page.text


def test_the_chase_list_holds_ended_quarters_not_yet_submitted(pool_engine: Engine) -> None:
    with unit_of_work(pool_engine) as session:
        before = returns.overview(session, SYSTEM, YEAR, today=dt.date(2015, 4, 1))
        after = returns.overview(session, SYSTEM, YEAR, today=dt.date(2016, 7, 1))
    assert before.chase == []
    assert after.chase and all(c.has_pool for c in after.chase)
    assert all(c.status in ("Not started", "Draft", "Sent back") for c in after.chase)
    pooled_cells = [c for c in after.cells if c.has_pool]
    done = [c for c in pooled_cells if c.status in ("Submitted", "Signed off")]
    assert len(after.chase) == len(pooled_cells) - len(done)


def test_only_the_national_team_sees_every_areas_returns(
    pool_engine: Engine, pool_world: PoolWorld, client_for: ClientFor
) -> None:
    url = f"/pools/{YEAR}/returns"
    for username in ("finance", pool_world.hwb, "area"):
        refused = client_for(pool_engine, username).get(url)
        assert refused.status_code == 403, username
        check_page(refused.text, f"every area's returns refused to {username}")
        assert pool_world.other_name not in refused.text
    public = client_for(pool_engine).get(url, follow_redirects=False)
    assert public.status_code == 303 and public.headers["location"].startswith("/sign-in?next=")


def test_the_api_lists_every_areas_returns_for_national_tokens(
    pool_engine: Engine, pool_world: PoolWorld, client_for: ClientFor
) -> None:
    with unit_of_work(pool_engine) as session:
        national = accounts.create_token(session, "analyst", "pool tests", SYSTEM)
        finance = accounts.create_token(session, "finance", "pool tests", SYSTEM)
    client = client_for(pool_engine)
    url = f"/api/v1/pools/{YEAR}/returns"
    refused = client.get(url, headers={"Authorization": f"Bearer {finance}"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    body = client.get(url, headers={"Authorization": f"Bearer {national}"}).json()
    assert body["year"] == YEAR
    assert body["quarters"] == [f"{YEAR} Q{n}" for n in range(1, 5)]
    assert sum(body["counts"].values()) == 4 * len(body["areas"])
    own = next(a for a in body["areas"] if a["area_code"] == pool_world.own)
    assert [r["quarter"] for r in own["returns"]] == body["quarters"]
    assert own["returns"][1]["url"] == f"/api/v1/pools/{YEAR}/{pool_world.own}/returns/2015-16-Q2"
    missing = next(a for a in body["areas"] if a["area_code"] == pool_world.no_pool)
    assert {r["status"] for r in missing["returns"]} == {"No pool"}
    assert all(r["url"] is None for r in missing["returns"])
    overdue = sum(r["overdue"] for a in body["areas"] for r in a["returns"])
    assert body["overdue"] == overdue
    followed = client.get(own["returns"][1]["url"], headers={"Authorization": f"Bearer {national}"})
    assert followed.status_code == 200
