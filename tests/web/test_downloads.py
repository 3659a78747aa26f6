"""The CSV and Excel downloads add up to the allocation to the penny, with no float in sight."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine

from carepool.allocation import service as allocation
from carepool.allocation.routes.national import DOWNLOAD_COLUMNS, XLSX_MONEY_FORMAT, pounds
from carepool.demo.service import DEMO_YEARS
from carepool.frameworks import load_framework
from carepool.store.db import unit_of_work

ClientFor = Callable[..., Any]
EXACT_POUNDS = re.compile(r"^\d+\.\d{2}$")


def _lines(engine: Engine, year: str, version: int) -> int:
    with unit_of_work(engine) as session:
        return len(allocation.run_by_version(session, year, version).lines)


@pytest.mark.parametrize("year", DEMO_YEARS)  # the years the demo publishes
def test_the_csv_adds_up_to_the_framework_total_exactly(
    year: str, varied_engine: Engine, client_for: ClientFor
) -> None:
    response = client_for(varied_engine).get(f"/allocations/{year}.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert f"carepool-allocation-{year}-v1-synthetic.csv" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert tuple(rows[0]) == DOWNLOAD_COLUMNS
    assert len(rows) == _lines(varied_engine, year, 1)
    assert all(EXACT_POUNDS.match(row["amount"]) for row in rows), "amounts are exact pounds"
    total = sum(Decimal(row["amount"]) for row in rows)
    assert total == pounds(load_framework(year).minimum_total)
    assert {row["financial_year"] for row in rows} == set(load_framework(year).financial_years)
    assert all(row["area_name"] and row["region"] for row in rows)
    commissioner_rows = [row for row in rows if row["commissioner_code"]]
    assert commissioner_rows and all(row["commissioner_name"] for row in commissioner_rows)


def _stored_numbers(workbook: bytes, column: str, sheet: int = 1) -> list[str]:
    """The text stored for every number cell in a column, exactly as written in the file."""
    xml = zipfile.ZipFile(io.BytesIO(workbook)).read(f"xl/worksheets/sheet{sheet}.xml").decode()
    return re.findall(rf'<c r="{column}\d+"[^>]*t="n"[^>]*><v>([^<]+)</v>', xml)


@pytest.mark.parametrize("year", DEMO_YEARS)  # the years the demo publishes
def test_the_workbook_holds_exact_amounts_formatted_as_money(
    year: str, varied_engine: Engine, client_for: ClientFor
) -> None:
    response = client_for(varied_engine).get(f"/allocations/{year}.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Allocation", "About"]
    sheet = book["Allocation"]
    header = [cell.value for cell in sheet[1]]
    assert tuple(header) == DOWNLOAD_COLUMNS
    amounts = [row[7] for row in sheet.iter_rows(min_row=2)]
    assert len(amounts) == _lines(varied_engine, year, 1)
    assert all(cell.number_format == XLSX_MONEY_FORMAT for cell in amounts)

    stored = _stored_numbers(response.content, "H")
    assert len(stored) == len(amounts)
    assert all(EXACT_POUNDS.match(text) for text in stored), "no float noise is stored"
    framework_total = pounds(load_framework(year).minimum_total)
    assert sum(Decimal(text) for text in stored) == framework_total
    assert sum(Decimal(repr(cell.value)) for cell in amounts) == framework_total
    about = {row[0].value: row[1] for row in book["About"].iter_rows()}
    assert about["Programme year"].value == year and about["Synthetic data"].value == "yes"
    assert about["Total (pounds)"].number_format == XLSX_MONEY_FORMAT
    assert _stored_numbers(response.content, "B", sheet=2)[-1] == str(framework_total)


def test_the_public_download_is_the_published_version(
    varied_engine: Engine, client_for: ClientFor, variation: tuple[str, str]
) -> None:
    moved_from, _ = variation
    rows = list(
        csv.DictReader(io.StringIO(client_for(varied_engine).get("/allocations/2015-16.csv").text))
    )
    area_total = sum(Decimal(r["amount"]) for r in rows if r["area_code"] == moved_from)
    with unit_of_work(varied_engine) as session:
        published = allocation.view(session, allocation.run_by_version(session, "2015-16", 1))
        draft = allocation.view(session, allocation.run_by_version(session, "2015-16", 2))
        assert area_total == pounds(published.area_total(moved_from))
        assert area_total != pounds(draft.area_total(moved_from))


def test_a_national_user_can_download_the_draft(
    varied_engine: Engine, client_for: ClientFor
) -> None:
    client = client_for(varied_engine, "analyst")
    response = client.get("/allocations/2015-16.csv?version=2")
    assert response.status_code == 200
    assert "v2" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert sum(Decimal(r["amount"]) for r in rows) == pounds(
        load_framework("2015-16").minimum_total
    )


def test_pounds_are_exact() -> None:
    assert pounds(123_456) == Decimal("1234.56")
    assert str(pounds(5)) == "0.05"
    assert str(pounds(381_400_000_000)) == "3814000000.00"
