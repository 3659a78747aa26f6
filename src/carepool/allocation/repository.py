"""All database access for national allocation runs, their lines and their timelines.

A run is one version of a year's allocation; it is never edited except to move its status,
and each move is an event row on the run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from carepool.domain.allocation import AllocationLine, AllocationStatus
from carepool.domain.money import Pence
from carepool.store.models import AllocationEventRow as AllocationEventRow
from carepool.store.models import AllocationLineRow
from carepool.store.models import AllocationRun as AllocationRun

__all__ = [
    "AllocationRun",
    "StatusChange",
    "add_run",
    "append_event",
    "area_lines",
    "find_run",
    "published_years",
    "runs",
]


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One move on a run's timeline, as the event row records it."""

    before: AllocationStatus | None
    after: AllocationStatus
    actor: str
    at: dt.datetime
    comment: str


def runs(session: Session, year: str) -> list[AllocationRun]:
    """The year's runs, oldest version first."""
    query = select(AllocationRun).filter_by(year=year).order_by(AllocationRun.version)
    return list(session.scalars(query))


def find_run(session: Session, year: str, version: int) -> AllocationRun | None:
    return session.scalars(select(AllocationRun).filter_by(year=year, version=version)).first()


def published_years(session: Session) -> list[str]:
    """Years with a published allocation, in order."""
    years = session.scalars(
        select(AllocationRun.year)
        .where(AllocationRun.status == AllocationStatus.PUBLISHED)
        .distinct()
    )
    return sorted(years)


def add_run(
    session: Session,
    *,
    year: str,
    version: int,
    method: str,
    source: str,
    councils_vintage_id: int,
    shares_vintage_id: int | None,
    population_vintage_id: int | None,
    varies_id: int | None,
    reason: str,
    created_by: str,
    created_at: dt.datetime,
    lines: Sequence[AllocationLine],
    created: StatusChange,
) -> AllocationRun:
    """Store a new run with its lines and its first event, in the status that event moves to."""
    run = AllocationRun(
        year=year,
        version=version,
        status=created.after.value,
        method=method,
        source=source,
        councils_vintage_id=councils_vintage_id,
        shares_vintage_id=shares_vintage_id,
        population_vintage_id=population_vintage_id,
        total_pence=sum(line.amount for line in lines),
        varies_id=varies_id,
        reason=reason,
        created_by=created_by,
        created_at=created_at,
    )
    run.lines = [
        AllocationLineRow(
            financial_year=line.financial_year,
            stream=line.stream,
            area_code=line.area_code,
            commissioner_code=line.commissioner_code,
            amount_pence=line.amount,
        )
        for line in lines
    ]
    append_event(run, created)
    session.add(run)
    session.flush()
    return run


def append_event(run: AllocationRun, change: StatusChange) -> None:
    run.events.append(
        AllocationEventRow(
            from_status=change.before.value if change.before else None,
            to_status=change.after.value,
            actor=change.actor,
            at=change.at,
            comment=change.comment,
        )
    )


def area_lines(session: Session, run: AllocationRun, area_code: str) -> list[AllocationLine]:
    """One area's lines of a run, read by index rather than loading the whole run."""
    rows = session.scalars(
        select(AllocationLineRow)
        .filter_by(run_id=run.id, area_code=area_code)
        .order_by(AllocationLineRow.id)
    )
    return [
        AllocationLine(
            r.financial_year, r.stream, r.area_code, r.commissioner_code, Pence(r.amount_pence)
        )
        for r in rows
    ]
