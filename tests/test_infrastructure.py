"""Guards on the database schema, its migrations and the test fixtures themselves.

The migrations are the only way a database gets its tables, on SQLite and PostgreSQL alike;
they must build exactly what the models describe, do nothing the second time, and form one
numbered line of revisions so that two people can never add the same step twice unnoticed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import Engine, create_engine, func, insert, inspect, select

from carepool.config import database_url
from carepool.store.db import alembic_config, default_engine, migrate
from carepool.store.models import Base, compared_on

# The tables of the first migration; later ones add to these and remove none lightly.
FOUNDATION_TABLES = {
    "vintage",
    "council",
    "commissioner",
    "commissioner_share",
    "population",
    "allocation_run",
    "allocation_line",
    "allocation_event",
    "app_user",
    "api_token",
    "audit_event",
}
REVISION_FILE = re.compile(r"^(?P<number>\d{4})_(?P<slug>[a-z0-9]+(?:_[a-z0-9]+)*)\.py$")


@pytest.fixture(scope="module")
def scripts() -> Iterator[ScriptDirectory]:
    engine = create_engine("sqlite://")
    try:
        yield ScriptDirectory.from_config(alembic_config(engine))
    finally:
        engine.dispose()


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def current_heads(engine: Engine) -> tuple[str, ...]:
    with engine.connect() as connection:
        return tuple(MigrationContext.configure(connection).get_current_heads())


def schema_snapshot(engine: Engine) -> dict[str, Any]:
    """Everything the inspector can say about each table, in a comparable form."""
    inspector = inspect(engine)
    snapshot: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        snapshot[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
            ],
            "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
            "foreign_keys": sorted(
                (fk["name"] or "", tuple(fk["constrained_columns"]), fk["referred_table"])
                for fk in inspector.get_foreign_keys(table)
            ),
            "unique": sorted(
                (u["name"] or "", tuple(u["column_names"]))
                for u in inspector.get_unique_constraints(table)
            ),
            "indexes": sorted(
                (i["name"] or "", tuple(str(c) for c in i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(table)
            ),
        }
    return snapshot


def in_order(scripts: ScriptDirectory) -> list[Script]:
    """The revisions from the first to the head."""
    return list(reversed(list(scripts.walk_revisions())))


# --------------------------------------------------------------------------------------------
# Migrations on every engine


def test_migrations_build_every_table_the_models_describe(empty_engine: Engine) -> None:
    assert table_names(empty_engine) == set()

    migrate(empty_engine)

    tables = table_names(empty_engine)
    assert tables == set(Base.metadata.tables) | {"alembic_version"}
    assert FOUNDATION_TABLES.issubset(tables)


def test_migrating_leaves_the_database_at_the_single_head(
    empty_engine: Engine, scripts: ScriptDirectory
) -> None:
    migrate(empty_engine)

    assert current_heads(empty_engine) == (scripts.get_current_head(),)


def test_migrating_twice_changes_nothing(empty_engine: Engine) -> None:
    migrate(empty_engine)
    first = schema_snapshot(empty_engine)
    heads = current_heads(empty_engine)

    migrate(empty_engine)

    assert schema_snapshot(empty_engine) == first
    assert current_heads(empty_engine) == heads


def test_the_models_need_no_migration_that_has_not_been_written(engine: Engine) -> None:
    """A model changed without a migration shows up here: write one with alembic revision."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": compared_on(connection.dialect.name)}
        )
        differences = compare_metadata(context, Base.metadata)

    assert differences == []


# --------------------------------------------------------------------------------------------
# The chain of revisions


def test_revisions_form_one_line_from_a_single_base_to_a_single_head(
    scripts: ScriptDirectory,
) -> None:
    assert len(scripts.get_bases()) == 1
    assert len(scripts.get_heads()) == 1

    revisions = in_order(scripts)
    assert revisions[0].down_revision is None
    for previous, current in pairwise(revisions):
        assert current.down_revision == previous.revision, f"{current.path} branches"
    for script in revisions:
        assert not script.branch_labels, f"{script.path} has branch labels"
        assert not script.dependencies, f"{script.path} depends on another branch"


def test_revisions_are_numbered_in_order_and_named_after_their_number(
    scripts: ScriptDirectory,
) -> None:
    revisions = in_order(scripts)

    for position, script in enumerate(revisions, start=1):
        name = Path(script.path).name
        match = REVISION_FILE.match(name)
        assert match, f"{name}: revision files are named NNNN_what_it_does.py"
        assert match["number"] == script.revision, f"{name} holds revision {script.revision}"
        assert script.revision == f"{position:04d}", f"{name} is out of sequence"


def test_every_file_in_versions_is_a_revision(scripts: ScriptDirectory) -> None:
    folder = Path(scripts.versions)
    files = {path.name for path in folder.glob("*.py") if path.name != "__init__.py"}

    assert files == {Path(script.path).name for script in scripts.walk_revisions()}


# --------------------------------------------------------------------------------------------
# The fixtures: every test has a database of its own


@pytest.mark.parametrize("attempt", [1, 2])
def test_each_test_starts_with_an_empty_database_of_its_own(engine: Engine, attempt: int) -> None:
    """Empty but for the audit log's seal, which the schema is made with (revision 0013)."""
    with engine.begin() as connection:
        for table in Base.metadata.sorted_tables:
            count = connection.execute(select(func.count()).select_from(table)).scalar_one()
            assert count == (table.name == "audit_seal"), f"{table.name} is not empty"
        connection.execute(
            insert(Base.metadata.tables["app_user"]).values(
                username=f"attempt-{attempt}",
                display_name="Test",
                password_hash="-",
                grants=[],
                active=True,
            )
        )


def test_the_default_engine_is_the_test_database(engine: Engine) -> None:
    assert database_url() == engine.url.render_as_string(hide_password=False)
    assert default_engine() is engine
