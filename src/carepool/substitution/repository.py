"""All database access for the substitution check: council finance returns and deflators."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from carepool.domain.substitution import Basis, CouncilYear
from carepool.store.models import CouncilFinanceRow, GdpDeflatorRow


@dataclass(frozen=True, slots=True)
class Stamp:
    """Where stored rows came from: the file (or the demo) and who imported it when."""

    source: str
    by: str
    at: dt.datetime
    synthetic: bool = False


def year_sources(session: Session, financial_year: str) -> set[str]:
    """The sources the year's stored rows came from (one, unless nothing is stored)."""
    query = select(CouncilFinanceRow.source).filter_by(financial_year=financial_year)
    return set(session.scalars(query.distinct()))


def replace_year(
    session: Session,
    financial_year: str,
    years: Sequence[CouncilYear],
    published: Mapping[str, tuple[str, str]],
    stamp: Stamp,
) -> int:
    """Store a year's returns in place of what was held for it; ``published`` gives each
    council's published name and DH code. Returns how many rows were replaced."""
    removed = session.execute(
        delete(CouncilFinanceRow).where(CouncilFinanceRow.financial_year == financial_year)
    )
    for year in years:
        name, dh_code = published.get(year.council_code, ("", ""))
        session.add(_row(year, name, dh_code, stamp))
    return int(getattr(removed, "rowcount", 0) or 0)


def _row(year: CouncilYear, name: str, dh_code: str, stamp: Stamp) -> CouncilFinanceRow:
    return CouncilFinanceRow(
        council_code=year.council_code,
        financial_year=year.financial_year,
        basis=year.basis.value,
        published_name=name,
        dh_code=dh_code,
        gross_current_expenditure_pence=year.gross_current_expenditure,
        nhs_income_pence=year.nhs_income,
        joint_arrangements_income_pence=year.joint_arrangements_income,
        bcf_income_pence=year.bcf_income,
        bridging_expenditure_pence=year.bridging_expenditure,
        bridging_income_pence=year.bridging_income,
        synthetic=year.synthetic or stamp.synthetic,
        source=stamp.source,
        imported_at=stamp.at,
        imported_by=stamp.by,
    )


def council_years(session: Session) -> list[CouncilYear]:
    """Every stored council year, by council then year."""
    query = select(CouncilFinanceRow).order_by(
        CouncilFinanceRow.council_code, CouncilFinanceRow.financial_year
    )
    return [_year(row) for row in session.scalars(query)]


def published_names(session: Session) -> dict[str, str]:
    """Each council's name as its latest return wrote it."""
    query = select(CouncilFinanceRow.council_code, CouncilFinanceRow.published_name).order_by(
        CouncilFinanceRow.financial_year
    )
    return {code: name for code, name in session.execute(query) if name}


def _year(row: CouncilFinanceRow) -> CouncilYear:
    return CouncilYear(
        council_code=row.council_code,
        financial_year=row.financial_year,
        basis=Basis(row.basis),
        gross_current_expenditure=row.gross_current_expenditure_pence,
        nhs_income=row.nhs_income_pence,
        joint_arrangements_income=row.joint_arrangements_income_pence,
        bcf_income=row.bcf_income_pence,
        bridging_expenditure=row.bridging_expenditure_pence,
        bridging_income=row.bridging_income_pence,
        synthetic=row.synthetic,
    )


def deflator_source(session: Session) -> str | None:
    return session.scalars(select(GdpDeflatorRow.source).limit(1)).first()


def replace_deflators(
    session: Session, index: Mapping[str, Decimal], reference_year: str, stamp: Stamp
) -> None:
    """Hold this series of deflators and no other (a new edition replaces the old whole)."""
    session.execute(delete(GdpDeflatorRow))
    for year, value in sorted(index.items()):
        session.add(
            GdpDeflatorRow(
                financial_year=year,
                index_value=str(value),
                reference_year=reference_year,
                synthetic=stamp.synthetic,
                source=stamp.source,
                imported_at=stamp.at,
                imported_by=stamp.by,
            )
        )


@dataclass(frozen=True, slots=True)
class DeflatorSeries:
    index: dict[str, Decimal]
    reference_year: str | None
    source: str | None
    synthetic: bool


def deflators(session: Session) -> DeflatorSeries:
    rows = list(session.scalars(select(GdpDeflatorRow).order_by(GdpDeflatorRow.financial_year)))
    return DeflatorSeries(
        {row.financial_year: Decimal(row.index_value) for row in rows},
        rows[0].reference_year if rows else None,
        rows[0].source if rows else None,
        any(row.synthetic for row in rows),
    )
