"""Engines, the unit of work and migrations.

One unit of work per request or command: services never commit, the caller's ``unit_of_work``
does, once, at the end; any error rolls everything back so nothing is half-written.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from carepool.config import database_url
from carepool.domain.errors import Conflict
from carepool.store.audited import AuditedSession


@cache
def engine_for(url: str) -> Engine:
    """One engine per database URL. SQLite gets WAL, enforced foreign keys and a larger cache."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # Up to 40 connections: as many as FastAPI's thread pool runs requests at once per process.
    return create_engine(url, pool_pre_ping=True, pool_size=20, max_overflow=20)


SQLITE_CACHE_KIB = 64 * 1024
"""Page cache per SQLite connection (the default is 2 MiB): a year of a pool's ledger has
indexes of tens of MiB, and an import probing them through a small cache reads the same
pages from the file again and again. Memory is taken only as pages are read. Temporary
tables (an import's stage) are kept in memory too, for the same reason."""


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def default_engine() -> Engine:
    return engine_for(database_url())


@contextmanager
def unit_of_work(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits once if the block succeeds and rolls back if it raises.

    The session refuses to commit a change to an audited table that recorded no audit event
    (:class:`carepool.store.audited.AuditedSession`).
    """
    factory = sessionmaker(
        engine or default_engine(), class_=AuditedSession, expire_on_commit=False
    )
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def dialect_of(session: Session) -> str:
    """``sqlite`` or ``postgresql``: the few things done differently on each ask this."""
    return session.get_bind().dialect.name


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """A savepoint: if the block raises, only what it wrote is rolled back."""
    with session.begin_nested():
        yield


def database_of(session: Session) -> str:
    """The URL of the database the session works on, for keys of caches shared across them."""
    return str(session.get_bind().engine.url)


def flush(session: Session, *, conflict: str | None = None) -> None:
    """Write the unit of work's pending changes now, so ids exist and lost updates show.

    A row with a lock version that someone else changed at the same moment fails to write;
    with ``conflict`` given, that becomes a :class:`Conflict` saying so in the caller's words.
    """
    try:
        session.flush()
    except StaleDataError as exc:
        if conflict is None:
            raise
        raise Conflict(conflict) from exc


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("carepool.store") / "migrations"))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine | None = None) -> None:
    """Bring the database schema up to date (``carepool init`` and every command that writes)."""
    target = engine or default_engine()
    command.upgrade(alembic_config(target), "head")


def is_initialised(engine: Engine | None = None) -> bool:
    return inspect(engine or default_engine()).has_table("alembic_version")


def holds_a_database(url: str) -> bool:
    """Whether ``url`` names a database that exists and was initialised, without creating
    one: opening a SQLite file that is not there would make an empty one, so a command
    that only reads when a database is there (``data generate``) asks first."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        return False
    return is_initialised(engine_for(url))
