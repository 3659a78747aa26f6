"""All database access for the pooling tracker: the commissioners' allocations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from carepool.store.models_pooling import CommissionerAllocationRow


@dataclass(frozen=True, slots=True)
class Stamp:
    """Where stored rows came from: the file (or the demo) and who imported it when."""

    source: str
    by: str
    at: dt.datetime
    synthetic: bool = False


def year_sources(session: Session, financial_year: str) -> set[str]:
    """The sources the year's allocations came from (one, unless nothing is stored)."""
    query = select(CommissionerAllocationRow.source).filter_by(financial_year=financial_year)
    return set(session.scalars(query.distinct()))


def replace_year(
    session: Session, financial_year: str, amounts: Mapping[str, int], stamp: Stamp
) -> int:
    """Hold these allocations for the year and no others; how many rows were replaced."""
    removed = session.execute(
        delete(CommissionerAllocationRow).where(
            CommissionerAllocationRow.financial_year == financial_year
        )
    )
    for code, pence in sorted(amounts.items()):
        session.add(
            CommissionerAllocationRow(
                financial_year=financial_year,
                commissioner_code=code,
                amount_pence=pence,
                synthetic=stamp.synthetic,
                source=stamp.source,
                imported_at=stamp.at,
                imported_by=stamp.by,
            )
        )
    session.flush()
    return int(getattr(removed, "rowcount", 0) or 0)


@dataclass(frozen=True, slots=True)
class YearAllocations:
    """A year's allocations by commissioner code, and where they came from."""

    amounts: dict[str, int]
    source: str | None
    synthetic: bool


def allocations(session: Session, financial_year: str) -> YearAllocations:
    query = select(CommissionerAllocationRow).filter_by(financial_year=financial_year)
    rows = list(session.scalars(query.order_by(CommissionerAllocationRow.commissioner_code)))
    return YearAllocations(
        {row.commissioner_code: row.amount_pence for row in rows},
        rows[0].source if rows else None,
        any(row.synthetic for row in rows),
    )


def years(session: Session) -> list[str]:
    """The financial years any allocations are held for, oldest first."""
    query = select(CommissionerAllocationRow.financial_year).distinct()
    return sorted(session.scalars(query))
