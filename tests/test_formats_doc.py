"""The documented person-level schemas are the ones the code declares."""

from __future__ import annotations

from pathlib import Path

from carepool.domain.person_level import RECORD_KINDS
from carepool.payments.routes import CSV_COLUMNS
from carepool.payments.schemas import (
    ExplanationOut,
    PaymentOut,
    PaymentTotals,
    PublishedExplanationOut,
    StatusOut,
)
from carepool.pooling.files.ccg_allocations import FINANCIAL_YEAR, REQUIRED_COLUMNS
from carepool.pooling.schemas import (
    AreaOut,
    PoolingStatusOut,
    ScopeOut,
    TotalsOut,
    WithoutFiguresOut,
)
from carepool.publication.schemas import PublishedOut
from carepool.publication.service.tables import TABLES

FORMATS = Path(__file__).resolve().parent.parent / "docs" / "formats.md"


def test_every_record_kind_and_column_is_documented_with_its_allowed_values() -> None:
    rows = {
        line.split("`")[1]: line
        for line in FORMATS.read_text(encoding="utf-8").splitlines()
        if line.startswith("| `")
    }
    for kind in RECORD_KINDS:
        assert kind.name in rows, f"{kind.name} is not in docs/formats.md"
        for column in kind.columns:
            described = f"`{column.name}` ({column.type.value}"
            if column.allowed:
                described += ": " + ", ".join(column.allowed)
            assert described in rows[kind.name], f"{kind.name}.{column.name} differs in the docs"


def _section(title: str) -> str:
    text = FORMATS.read_text(encoding="utf-8")
    start = text.index(title)
    following = text.find("\n## ", start + 1)
    following_sub = text.find("\n### ", start + 1)
    ends = [i for i in (following, following_sub) if i != -1]
    return text[start : min(ends) if ends else len(text)]


def test_the_payment_json_and_csv_are_documented_key_by_key() -> None:
    status = _section("### `carepool payments status --json`")
    explain = _section("### `carepool payments explain AREA QUARTER --json`")
    table = _section("## The payments table")
    for key in [*StatusOut.model_fields, *PaymentOut.model_fields, *PaymentTotals.model_fields]:
        assert f"`{key}`" in status, f"payments status: {key} is not documented"
    for key in ExplanationOut.model_fields:
        assert f"`{key}`" in explain, f"payments explain: {key} is not documented"
    for key in set(PublishedExplanationOut.model_fields) - set(ExplanationOut.model_fields):
        assert f"`{key}`" in explain, f"the published explanation: {key} is not documented"
    for column in CSV_COLUMNS:
        assert f"`{column}`" in table, f"the payments CSV: {column} is not documented"


def test_every_open_data_table_and_column_is_documented() -> None:
    for table in TABLES:
        section = _section(f"### `{table.name}.csv`")
        for column in table.columns:
            assert f"| `{column.name}` | {column.type}" in section, (
                f"open data: {table.name}.{column.name} is not documented"
            )
    publish = _section("### `carepool publish OUT --json`")
    for key in PublishedOut.model_fields:
        assert f"`{key}`" in publish, f"carepool publish --json: {key} is not documented"


def test_the_pooling_json_and_allocation_table_are_documented_key_by_key() -> None:
    status = _section("### `carepool pooling status --year YEAR --json`")
    shapes = (PoolingStatusOut, AreaOut, TotalsOut, WithoutFiguresOut, ScopeOut)
    for key in {key for shape in shapes for key in shape.model_fields}:
        assert f"`{key}`" in status, f"pooling status: {key} is not documented"
    table = _section("### Commissioners' allocations: `carepool import ccg-allocations")
    for column in (*REQUIRED_COLUMNS, FINANCIAL_YEAR):
        assert f"| `{column}` |" in table, f"the allocation table: {column} is not documented"
