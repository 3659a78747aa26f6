"""All database access for plans: the plan, its versions, its timeline and its conditions.

A plan's ``lock_version`` is checked by SQLAlchemy on every write, so two people saving the
same plan at once cannot both succeed; :func:`carepool.store.db.flush` turns that into a
conflict the person can act on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from carepool.store.models import PlanConditionRow
from carepool.store.models import PlanEventRow as PlanEventRow
from carepool.store.models import PlanRow as PlanRow
from carepool.store.models import PlanVersionRow as PlanVersionRow

__all__ = [
    "PlanConditionRow",
    "PlanEventRow",
    "PlanRow",
    "PlanVersionRow",
    "add_conditions",
    "add_plan",
    "find",
    "new_event",
    "new_version",
    "year_plans",
]


def find(session: Session, year: str, area_code: str) -> PlanRow | None:
    """The area's plan for the year with its versions, timeline and conditions loaded."""
    query = (
        select(PlanRow)
        .filter_by(year=year, area_code=area_code)
        .options(
            selectinload(PlanRow.versions),
            selectinload(PlanRow.events),
            selectinload(PlanRow.conditions),
        )
    )
    return session.scalars(query).first()


def version_contents(session: Session, year: str) -> dict[tuple[str, int], object]:
    """Every stored version's content of the year's plans, by area and version number, in
    one query (a national payment run reads 151 plans' ambitions at once)."""
    rows = session.execute(
        select(PlanRow.area_code, PlanVersionRow.number, PlanVersionRow.content)
        .join(PlanVersionRow, PlanVersionRow.plan_id == PlanRow.id)
        .where(PlanRow.year == year)
    )
    return {(area, number): content for area, number, content in rows}


def year_plans(session: Session, year: str) -> list[PlanRow]:
    """Every plan of the year with its versions and conditions (not its timeline)."""
    query = (
        select(PlanRow)
        .filter_by(year=year)
        .options(selectinload(PlanRow.versions), selectinload(PlanRow.conditions))
    )
    return list(session.scalars(query))


def new_version(
    number: int, content: dict[str, Any], pooled_pence: int, created_by: str, at: dt.datetime
) -> PlanVersionRow:
    """An unfrozen version of a plan's content, to append to its versions."""
    return PlanVersionRow(
        number=number,
        content=content,
        frozen=False,
        pooled_pence=pooled_pence,
        created_by=created_by,
        created_at=at,
        updated_at=at,
    )


def new_event(
    *,
    version: int,
    round: int,
    action: str,
    from_status: str | None,
    to_status: str,
    actor: str,
    role: str,
    partner: str | None,
    at: dt.datetime,
    comment: str,
) -> PlanEventRow:
    """A step on a plan's timeline, to append to its events."""
    return PlanEventRow(
        version=version,
        round=round,
        action=action,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        role=role,
        partner=partner,
        at=at,
        comment=comment,
    )


def add_plan(
    session: Session,
    *,
    year: str,
    area_code: str,
    status: str,
    at: dt.datetime,
    first_version: PlanVersionRow,
    first_event: PlanEventRow,
) -> PlanRow:
    """Store a new plan in its first round with its first version and event."""
    plan = PlanRow(
        year=year, area_code=area_code, status=status, round=1, created_at=at, updated_at=at
    )
    plan.versions = [first_version]
    plan.events = [first_event]
    session.add(plan)
    session.flush()
    return plan


def add_conditions(plan: PlanRow, texts: Iterable[str]) -> None:
    """Conditions the assurer set on the plan, each to be marked met later."""
    plan.conditions.extend(PlanConditionRow(text=t) for t in texts)
