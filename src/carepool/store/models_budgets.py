"""Tables of integrated personal budgets (see :mod:`carepool.domain.personal_budget`).

Declared on the same ``Base`` as :mod:`carepool.store.models`, which imports this module at
its end, so whoever imports the models sees these tables too (migrations, ``create_all``).

A person appears only as their keyed pseudonym (64 hex characters): no column can hold an
NHS number. Money is ``BigInteger`` pence; the parts of a budget add up to its whole, which
the database checks as well as the service.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from carepool.store.models import Base


class PersonalBudgetRow(Base):
    """One person's personal budget for a span within one pooled-budget year.

    ``status`` is the latest of its :class:`BudgetStatusRow` history, kept here so lists do
    not re-read the history. ``spent_pence`` is its spend so far (recoveries are not spend),
    moved by each transactions import as the pools' running balances are, so an overspent
    budget is found without summing millions of lines; the report's sub-ledger check sums the
    lines themselves. ``source`` says where it came from (a file and row, or the
    service that set it up).
    """

    __tablename__ = "personal_budget"
    __table_args__ = (
        UniqueConstraint("reference", name="uq_personal_budget_reference"),
        CheckConstraint("nhs_pence + council_pence = total_pence", name="parts_add_up"),
        CheckConstraint("nhs_pence >= 0 AND council_pence >= 0", name="parts_not_negative"),
        CheckConstraint("ends >= starts", name="ends_after_start"),
        Index("ix_personal_budget_area_starts", "area_code", "starts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(60))
    area_code: Mapped[str] = mapped_column(String(9))
    pool_id: Mapped[int] = mapped_column(ForeignKey("pool.id"), index=True)
    person: Mapped[str] = mapped_column(String(64), index=True)
    eligibility: Mapped[str] = mapped_column(String(40))
    starts: Mapped[dt.date] = mapped_column(Date)
    ends: Mapped[dt.date] = mapped_column(Date)
    review_due: Mapped[dt.date] = mapped_column(Date)
    total_pence: Mapped[int] = mapped_column(BigInteger)
    nhs_pence: Mapped[int] = mapped_column(BigInteger)
    council_pence: Mapped[int] = mapped_column(BigInteger)
    nhs_holding: Mapped[str | None] = mapped_column(String(20))
    council_holding: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    spent_pence: Mapped[int] = mapped_column(BigInteger, default=0)
    source: Mapped[str] = mapped_column(String(300))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class SupportPlanLineRow(Base):
    """One costed line of a budget's support plan; a budget's lines add up to its whole."""

    __tablename__ = "budget_plan_line"
    __table_args__ = (UniqueConstraint("budget_id", "line", name="uq_budget_plan_line_line"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    budget_id: Mapped[int] = mapped_column(ForeignKey("personal_budget.id"))
    line: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(300))
    cost_pence: Mapped[int] = mapped_column(BigInteger)


class BudgetStatusRow(Base):
    """A change of a budget's status, from a date: append-only, so its history is kept."""

    __tablename__ = "budget_status"

    id: Mapped[int] = mapped_column(primary_key=True)
    budget_id: Mapped[int] = mapped_column(ForeignKey("personal_budget.id"), index=True)
    since: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(300))
    recorded_by: Mapped[str] = mapped_column(String(120))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class BudgetTransactionImportRow(Base):
    """One transactions file; the same file (by SHA-256) is never imported twice."""

    __tablename__ = "budget_transaction_import"
    __table_args__ = (UniqueConstraint("sha256", name="uq_budget_transaction_import_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(300))
    rows: Mapped[int] = mapped_column(Integer)
    spend_pence: Mapped[int] = mapped_column(BigInteger)
    recovered_pence: Mapped[int] = mapped_column(BigInteger)
    entries: Mapped[int] = mapped_column(Integer)
    imported_by: Mapped[str] = mapped_column(String(120))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class BudgetTransactionRow(Base):
    """One line of a transactions file against one budget's part, in whole pence above zero.

    Lines are posted to the pool's sub-ledger summed per budget, part, kind and quarter
    (``import_id`` says which file's entry carries it), so each entry is the exact sum of
    its lines.
    """

    __tablename__ = "budget_transaction"
    __table_args__ = (
        Index("ix_budget_transaction_budget_date", "budget_id", "date"),
        CheckConstraint("amount_pence > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("budget_transaction_import.id"), index=True)
    budget_id: Mapped[int] = mapped_column(ForeignKey("personal_budget.id"))
    row_number: Mapped[int] = mapped_column(Integer)
    date: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(30))
    part: Mapped[str] = mapped_column(String(10))
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str] = mapped_column(String(100))
