"""Open data: the tables carepool publishes, their schemas, and the checks made before export.

A published table (:class:`Resource`) carries its own description: each column's type and
meaning, its primary key and the other tables its foreign keys point into. From that one
description come the CSV header, the Frictionless table schema in ``datapackage.json``, the
glossary on the open data page and the key checks below, so none of them can disagree.

Keys are checked here, before anything is written, rather than left to a validator: the
Frictionless tools let a row with an empty primary key through, and checking foreign keys
across a large package is slow there. :func:`key_problems` refuses an empty or repeated
primary key and a foreign key that points at nothing, naming each row as a spreadsheet
numbers it (the header is row 1).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from carepool.domain.errors import Problem

ColumnType = Literal["string", "integer", "number", "date", "datetime", "boolean"]
Cell = str | int | Decimal | dt.date | bool | None

LICENCE: dict[str, str] = {
    "name": "OGL-UK-3.0",
    "title": "Open Government Licence v3.0",
    "path": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
}
"""Every published table is Crown copyright material released under the OGL v3."""

MAX_PROBLEMS = 200
"""Enough to show what is wrong without listing a whole broken table."""


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its name in the CSV header, its type, and what it means (the glossary)."""

    name: str
    type: ColumnType
    description: str
    required: bool = True


@dataclass(frozen=True, slots=True)
class Reference:
    """A foreign key: ``columns`` of this table name a row of ``resource`` by its key."""

    columns: tuple[str, ...]
    resource: str
    to: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Resource:
    """A published table: its description and its rows, each a tuple in column order."""

    name: str
    title: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    foreign_keys: tuple[Reference, ...] = ()

    @property
    def path(self) -> str:
        """The file the table is published as, inside the package."""
        return f"{self.name}.csv"

    def index(self, column: str) -> int:
        return [c.name for c in self.columns].index(column)

    def keys(self, columns: Sequence[str]) -> list[tuple[Cell, ...]]:
        """Each row's values of ``columns``, in row order."""
        at = [self.index(c) for c in columns]
        return [tuple(row[i] for i in at) for row in self.rows]


# --------------------------------------------------------------------------------------------
# Checks before export


def key_problems(resources: Sequence[Resource]) -> list[Problem]:
    """Every row whose primary key is empty or repeated, whose required cell is empty, or
    whose foreign key names no row of the table it points into (at most :data:`MAX_PROBLEMS`).

    A foreign key with an empty cell points nowhere on purpose (money a council pays has no
    commissioner) and is not checked, as the Table Schema specification says.
    """
    by_name = {r.name: r for r in resources}
    problems: list[Problem] = []
    for resource in resources:
        problems += _shape_problems(resource)
        problems += _required_problems(resource)
        problems += _primary_key_problems(resource)
        for reference in resource.foreign_keys:
            problems += _reference_problems(resource, reference, by_name)
    return problems[:MAX_PROBLEMS]


def _shape_problems(resource: Resource) -> list[Problem]:
    width = len(resource.columns)
    return [
        Problem(f"the row has {len(row)} cells, not {width}", file=resource.path, row=number)
        for number, row in _numbered(resource.rows)
        if len(row) != width
    ]


def _required_problems(resource: Resource) -> list[Problem]:
    problems = []
    for at, column in enumerate(resource.columns):
        if column.required and column.name not in resource.primary_key:
            problems += [
                Problem("a required cell is empty", file=resource.path, row=n, column=column.name)
                for n, row in _numbered(resource.rows)
                if at < len(row) and row[at] is None
            ]
    return problems


def _primary_key_problems(resource: Resource) -> list[Problem]:
    seen: dict[tuple[Cell, ...], int] = {}
    problems = []
    key_name = ", ".join(resource.primary_key)
    for number, key in _numbered(resource.keys(resource.primary_key)):
        if any(part is None for part in key):
            problems.append(
                Problem("the primary key is empty", file=resource.path, row=number, key=key_name)
            )
        elif key in seen:
            problems.append(
                Problem(
                    f"the primary key {_shown(key)} repeats row {seen[key]}",
                    file=resource.path,
                    row=number,
                    key=key_name,
                )
            )
        else:
            seen[key] = number
    return problems


def _reference_problems(
    resource: Resource, reference: Reference, by_name: dict[str, Resource]
) -> list[Problem]:
    target = by_name.get(reference.resource)
    if target is None:
        return [Problem(f"the foreign key points into {reference.resource!r}, not published")]
    known = set(target.keys(reference.to))
    return [
        Problem(
            f"{_shown(key)} is not a row of {target.path}",
            file=resource.path,
            row=number,
            key=", ".join(reference.columns),
        )
        for number, key in _numbered(resource.keys(reference.columns))
        if None not in key and key not in known
    ]


def _numbered(rows: Iterable[tuple[Cell, ...]]) -> Iterable[tuple[int, tuple[Cell, ...]]]:
    """Rows numbered as a spreadsheet shows the CSV: the header is row 1."""
    return enumerate(rows, start=2)


def _shown(key: tuple[Cell, ...]) -> str:
    return " / ".join(text(part) for part in key)


# --------------------------------------------------------------------------------------------
# Writing cells and describing tables


def text(cell: Cell) -> str:
    """A cell as the CSV writes it: empty for nothing, ISO dates, exact decimals."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, dt.datetime):
        return cell.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(cell, dt.date):
        return cell.isoformat()
    return str(cell)


def table_schema(resource: Resource) -> dict[str, object]:
    """The Frictionless table schema: types, required cells, primary and foreign keys."""
    schema: dict[str, object] = {
        "fields": [_field(column) for column in resource.columns],
        "primaryKey": list(resource.primary_key),
        "missingValues": [""],
    }
    if resource.foreign_keys:
        schema["foreignKeys"] = [
            {
                "fields": list(ref.columns),
                "reference": {"resource": ref.resource, "fields": list(ref.to)},
            }
            for ref in resource.foreign_keys
        ]
    return schema


def _field(column: Column) -> dict[str, object]:
    field: dict[str, object] = {
        "name": column.name,
        "type": column.type,
        "description": column.description,
    }
    if column.required:
        field["constraints"] = {"required": True}
    return field


def package_descriptor(
    resources: Sequence[Resource], *, created: dt.datetime, hashes: dict[str, str]
) -> dict[str, object]:
    """``datapackage.json``: the package, its licence and one tabular resource per table.

    ``hashes`` gives each file's SHA-256, so a reader can tell a copy is whole.
    """
    return {
        "profile": "tabular-data-package",
        "name": "carepool-better-care-fund",
        "title": "Better Care Fund: allocations, plans, pooled spend, metrics and payments",
        "description": (
            "What the Better Care Fund's public pages show, as tables: published allocations, "
            "approved plans and their schemes, pooled spend by scheme for closed quarters, "
            "metric values under publication control, paid payments and where each "
            "quarterly return stands."
        ),
        "licenses": [LICENCE],
        "created": text(created),
        "resources": [_resource(r, hashes.get(r.path)) for r in resources],
    }


def _resource(resource: Resource, sha256: str | None) -> dict[str, object]:
    described: dict[str, object] = {
        "profile": "tabular-data-resource",
        "name": resource.name,
        "path": resource.path,
        "title": resource.title,
        "description": resource.description,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "licenses": [LICENCE],
        "schema": table_schema(resource),
    }
    if sha256 is not None:
        described["hash"] = f"sha256:{sha256}"
    return described
