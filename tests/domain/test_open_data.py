"""The key checks carepool makes before it publishes, and the 360Giving amounts and codes."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carepool.domain.errors import CarepoolError
from carepool.domain.grants import geo_code_type, pounds
from carepool.domain.open_data import Column, Reference, Resource, key_problems, table_schema, text

CODE = Column("code", "string", "A code.")
NAME = Column("name", "string", "A name.")
PARENT = Column("parent", "string", "The parent's code.", required=False)


def table(name: str, rows: list[tuple[object, ...]], *refs: Reference) -> Resource:
    return Resource(
        name=name,
        title=name,
        description=name,
        columns=(CODE, NAME, PARENT),
        primary_key=("code",),
        rows=tuple(rows),  # type: ignore[arg-type]
        foreign_keys=refs,
    )


TO_PARENTS = Reference(("parent",), "parents", ("code",))


def test_sound_keys_pass() -> None:
    parents = table("parents", [("P1", "One", None)])
    children = table("children", [("C1", "A", "P1"), ("C2", "B", None)], TO_PARENTS)
    assert key_problems([parents, children]) == []


def test_an_empty_primary_key_is_refused_with_its_row() -> None:
    problems = key_problems([table("parents", [("P1", "One", None), (None, "Two", None)])])
    assert [(p.file, p.row, p.message) for p in problems] == [
        ("parents.csv", 3, "the primary key is empty")
    ]


def test_a_repeated_primary_key_names_the_first_row() -> None:
    problems = key_problems([table("parents", [("P1", "One", None), ("P1", "Two", None)])])
    assert [(p.row, p.message) for p in problems] == [(3, "the primary key P1 repeats row 2")]


def test_a_foreign_key_to_nothing_is_refused() -> None:
    parents = table("parents", [("P1", "One", None)])
    children = table("children", [("C1", "A", "P9")], TO_PARENTS)
    (problem,) = key_problems([parents, children])
    assert (problem.file, problem.row, problem.key) == ("children.csv", 2, "parent")
    assert "P9 is not a row of parents.csv" in problem.message


def test_an_empty_required_cell_is_refused() -> None:
    (problem,) = key_problems([table("parents", [("P1", None, None)])])
    assert (problem.column, problem.message) == ("name", "a required cell is empty")


def test_a_table_schema_declares_types_and_keys() -> None:
    schema = table("children", [], TO_PARENTS)
    described = table_schema(schema)
    assert described["primaryKey"] == ["code"]
    assert described["foreignKeys"] == [
        {"fields": ["parent"], "reference": {"resource": "parents", "fields": ["code"]}}
    ]
    assert described["fields"][0] == {  # type: ignore[index]
        "name": "code",
        "type": "string",
        "description": "A code.",
        "constraints": {"required": True},
    }


def test_cells_are_written_plainly() -> None:
    assert [text(None), text(True), text(dt.date(2015, 4, 1)), text(12)] == [
        "",
        "true",
        "2015-04-01",
        "12",
    ]


@given(st.integers(min_value=0, max_value=10**14))
def test_pounds_read_back_as_exactly_the_pence(pence: int) -> None:
    assert round(pounds(pence) * 100) == pence
    assert f"{pounds(pence):.2f}".replace(".", "").lstrip("0") == (str(pence).zfill(3)).lstrip("0")


def test_geo_code_types_come_from_the_code_list() -> None:
    assert [geo_code_type(c) for c in ("E06000052", "E10000002", "E08000001", "E09000001")] == [
        "UA",
        "CTY",
        "MD",
        "LONB",
    ]
    with pytest.raises(CarepoolError):
        geo_code_type("W06000001")
