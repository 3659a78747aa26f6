"""All database access for payment runs, their lines and their timelines.

A run is never edited except to move its status, and each move is an event row on the run;
its lines are written once, when it is drafted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from carepool.domain.money import Pence
from carepool.domain.payment import PaymentLine, PaymentStatus, RunStatus
from carepool.store.models import AmbitionRevisionRow as AmbitionRevisionRow
from carepool.store.models import PaymentEventRow, PaymentLineRow
from carepool.store.models import PaymentRunRow as PaymentRunRow

__all__ = [
    "AmbitionRevisionRow",
    "LineSource",
    "PaymentRunRow",
    "StatusChange",
    "add_run",
    "append_event",
    "area_lines",
    "line_of",
    "runs",
    "source_of",
]


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One move on a run's timeline, as the event row records it."""

    before: RunStatus | None
    after: RunStatus
    actor: str
    at: dt.datetime
    comment: str


@dataclass(frozen=True, slots=True)
class LineSource:
    """Where a line's inputs came from, beside the line itself: the plan version, the
    approved revision of its ambition (if one replaced the plan's), the metric definition."""

    plan_version: int
    metric_definition_version: int | None
    ambition_revision_id: int | None = None


def runs(session: Session, year: str, quarter: str | None = None) -> list[PaymentRunRow]:
    """The year's runs (of one quarter, if given), by quarter and version, lines loaded."""
    query = select(PaymentRunRow).filter_by(year=year)
    if quarter is not None:
        query = query.filter_by(quarter=quarter)
    query = query.options(selectinload(PaymentRunRow.lines), selectinload(PaymentRunRow.events))
    return list(session.scalars(query.order_by(PaymentRunRow.quarter, PaymentRunRow.version)))


def find_run(session: Session, run_id: int) -> PaymentRunRow | None:
    return session.get(PaymentRunRow, run_id)


def area_lines(session: Session, year: str, area_code: str) -> list[PaymentLineRow]:
    """Every line of an area in the year's runs, by quarter and version."""
    query = (
        select(PaymentLineRow)
        .join(PaymentRunRow)
        .where(PaymentRunRow.year == year, PaymentLineRow.area_code == area_code)
        .order_by(PaymentRunRow.quarter, PaymentRunRow.version)
    )
    return list(session.scalars(query))


def add_run(
    session: Session,
    *,
    run: PaymentRunRow,
    lines: Sequence[tuple[PaymentLine, LineSource]],
    created: StatusChange,
) -> PaymentRunRow:
    """Store a new run with its lines and its first event."""
    run.status = created.after.value
    run.lines = [_line_row(line, source) for line, source in lines]
    append_event(run, created)
    session.add(run)
    session.flush()
    return run


def _line_row(line: PaymentLine, source: LineSource) -> PaymentLineRow:
    return PaymentLineRow(
        area_code=line.area_code,
        baseline=str(line.baseline),
        plan=str(line.plan),
        actual=None if line.actual is None else str(line.actual),
        plan_version=source.plan_version,
        ambition_revision_id=source.ambition_revision_id,
        metric_definition_version=source.metric_definition_version,
        unit_cost_pence=line.unit_cost_pence,
        pot_pence=line.pot_pence,
        earned_pence=line.earned_pence,
        released_pence=line.released_pence,
        retained_pence=line.retained_pence,
        status=line.status.value,
        working=line.working,
    )


def line_of(row: PaymentLineRow, quarter: str) -> PaymentLine:
    """A stored line as the domain's line."""
    return PaymentLine(
        area_code=row.area_code,
        quarter=quarter,
        baseline=Decimal(row.baseline),
        plan=Decimal(row.plan),
        actual=None if row.actual is None else Decimal(row.actual),
        unit_cost_pence=Pence(row.unit_cost_pence),
        pot_pence=Pence(row.pot_pence),
        earned_pence=Pence(row.earned_pence),
        released_pence=Pence(row.released_pence),
        retained_pence=Pence(row.retained_pence),
        status=PaymentStatus(row.status),
        working=row.working,
    )


def source_of(row: PaymentLineRow) -> LineSource:
    return LineSource(row.plan_version, row.metric_definition_version, row.ambition_revision_id)


def append_event(run: PaymentRunRow, change: StatusChange) -> None:
    run.events.append(
        PaymentEventRow(
            from_status=change.before.value if change.before else None,
            to_status=change.after.value,
            actor=change.actor,
            at=change.at,
            comment=change.comment,
        )
    )


def revisions(
    session: Session, year: str, area_code: str | None = None
) -> list[AmbitionRevisionRow]:
    """The year's ambition revisions (of one area, if given), oldest first."""
    query = select(AmbitionRevisionRow).filter_by(year=year)
    if area_code is not None:
        query = query.filter_by(area_code=area_code)
    return list(session.scalars(query.order_by(AmbitionRevisionRow.id)))


def find_revision(session: Session, revision_id: int) -> AmbitionRevisionRow | None:
    return session.get(AmbitionRevisionRow, revision_id)


def add_revision(session: Session, revision: AmbitionRevisionRow) -> AmbitionRevisionRow:
    session.add(revision)
    session.flush()
    return revision
