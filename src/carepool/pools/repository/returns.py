"""All database access for quarterly returns and their sign-off timelines.

A return's ``lock_version`` is checked by SQLAlchemy on every write, so a second person
moving the same return at the same moment fails instead of overwriting the first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from carepool.store.models import PoolRow
from carepool.store.models import ReturnEventRow as ReturnEventRow
from carepool.store.models import ReturnRow as ReturnRow

__all__ = [
    "ReturnEventRow",
    "ReturnRow",
    "add_return",
    "find",
    "new_event",
    "pool_returns",
    "returns_in_status",
    "year_statuses",
]


def find(session: Session, pool_id: int, quarter: str) -> ReturnRow | None:
    """The pool's return for the quarter (by label), with its timeline loaded."""
    query = (
        select(ReturnRow)
        .filter_by(pool_id=pool_id, quarter=quarter)
        .options(selectinload(ReturnRow.events))
    )
    return session.scalars(query).first()


def pool_returns(session: Session, pool_id: int) -> list[ReturnRow]:
    return list(session.scalars(select(ReturnRow).filter_by(pool_id=pool_id)))


def returns_in_status(
    session: Session, year: str, area_codes: Iterable[str], status: str
) -> list[tuple[str, str]]:
    """(area code, quarter label) of the areas' returns of the year in ``status``, in order."""
    query = (
        select(PoolRow.area_code, ReturnRow.quarter)
        .join(ReturnRow, ReturnRow.pool_id == PoolRow.id)
        .where(
            PoolRow.year == year,
            PoolRow.area_code.in_(sorted(area_codes)),
            ReturnRow.status == status,
        )
        .order_by(PoolRow.area_code, ReturnRow.quarter)
    )
    return [(str(area), str(quarter)) for area, quarter in session.execute(query)]


def year_statuses(session: Session, year: str) -> dict[tuple[str, str], str]:
    """The status of every stored return of the year's pools, by (area code, quarter label)."""
    query = (
        select(PoolRow.area_code, ReturnRow.quarter, ReturnRow.status)
        .join(ReturnRow, ReturnRow.pool_id == PoolRow.id)
        .where(PoolRow.year == year)
    )
    return {(str(a), str(q)): str(s) for a, q, s in session.execute(query)}


def new_event(
    *,
    action: str,
    from_status: str | None,
    to_status: str,
    actor: str,
    role: str,
    at: dt.datetime,
    comment: str,
    content_sha256: str | None,
) -> ReturnEventRow:
    """A step on a return's timeline, to append to its events."""
    return ReturnEventRow(
        action=action,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        role=role,
        at=at,
        comment=comment,
        content_sha256=content_sha256,
    )


def add_return(
    session: Session,
    *,
    pool_id: int,
    quarter: str,
    status: str,
    created_by: str,
    at: dt.datetime,
    first_event: ReturnEventRow,
) -> ReturnRow:
    """Store a new return with an empty narrative and its first event."""
    row = ReturnRow(
        pool_id=pool_id,
        quarter=quarter,
        status=status,
        narrative="",
        created_by=created_by,
        created_at=at,
        updated_at=at,
    )
    row.events = [first_event]
    session.add(row)
    session.flush()
    return row
