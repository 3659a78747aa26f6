"""Alembic environment: runs migrations on the engine carepool hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from carepool.store.models import Base, compared_on

engine = context.config.attributes.get("engine")
if not isinstance(engine, Engine):  # pragma: no cover - only reached by misuse
    raise RuntimeError("run migrations through carepool.store.db.migrate")

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=compared_on(connection.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()
