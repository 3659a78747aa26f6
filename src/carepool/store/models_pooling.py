"""The pooling tracker's tables: the commissioners' allocations, the NHS side of the money in
scope. Declared on the one ``Base`` (and imported by :mod:`carepool.store.models`), so the
migrations and schema checks see them with every other table."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, DateTime, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from carepool.store.models import Base


class CommissionerAllocationRow(Base):
    """One clinical commissioning group's allocation for one financial year, in pence.

    A year's rows come from one imported table (or the demo, marked ``synthetic``) and are
    replaced whole when another table for the year is imported.
    """

    __tablename__ = "commissioner_allocation"
    __table_args__ = (
        UniqueConstraint(
            "financial_year", "commissioner_code", name="uq_commissioner_allocation_year"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    financial_year: Mapped[str] = mapped_column(String(7), index=True)
    commissioner_code: Mapped[str] = mapped_column(String(9))
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(300))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    imported_by: Mapped[str] = mapped_column(String(120))
