"""Database tables (SQLAlchemy 2 declarative models).

Reached only through the repositories and services; nothing above the store builds queries.
Money columns are ``BigInteger`` pence. Constraint names are explicit so migrations and error
messages can refer to them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ENFORCED_BY_TRIGGER_ON = "enforced_by_trigger_on"
"""``info`` key of a foreign key that the named engine checks with a trigger instead.

The models describe every engine's tables; where a migration replaced a key by a trigger
(on that engine only), :func:`compared_on` keeps the schema comparison from asking for it back.
"""


ONLY_ON = "only_on"
"""``info`` key of an index or constraint that exists on the named engine only.

Where the engines need different means to the same end (a unique index that leaves NULLs
out is partial on PostgreSQL, while SQLite keeps the table's original constraint), the
models hold both, each marked with its engine and created there only (``ddl_if``).
"""


def compared_on(dialect: str) -> Callable[[object, str | None, str, bool, object], bool]:
    """Alembic's ``include_object`` for one engine: leave out what is not meant to be there.

    A model key marked with :data:`ENFORCED_BY_TRIGGER_ON` for this engine, or an index or
    constraint marked :data:`ONLY_ON` another engine, is not in its database by design, so a
    comparison of models and database must not ask for it back.
    """

    def include(item: object, name: str | None, kind: str, reflected: bool, other: object) -> bool:
        if reflected:
            return True
        info = getattr(item, "info", {})
        if kind == "foreign_key_constraint" and info.get(ENFORCED_BY_TRIGGER_ON) == dialect:
            return False
        return bool(info.get(ONLY_ON, dialect) == dialect)

    return include


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Vintage(Base):
    """One imported reference file. The same file imported twice is recognised by its hash."""

    __tablename__ = "vintage"
    __table_args__ = (
        UniqueConstraint("kind", "sha256", name="uq_vintage_kind_sha256"),
        UniqueConstraint("kind", "name", name="uq_vintage_kind_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # councils | populations | shares
    name: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    synthetic: Mapped[bool] = mapped_column(default=False)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    imported_by: Mapped[str] = mapped_column(String(120))


class CouncilRow(Base):
    __tablename__ = "council"
    __table_args__ = (UniqueConstraint("vintage_id", "code", name="uq_council_vintage_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vintage_id: Mapped[int] = mapped_column(ForeignKey("vintage.id"), index=True)
    code: Mapped[str] = mapped_column(String(9))
    short_code: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(8))
    region: Mapped[str] = mapped_column(String(60))
    nation: Mapped[str] = mapped_column(String(40))
    start: Mapped[dt.date | None] = mapped_column(Date)
    end: Mapped[dt.date | None] = mapped_column(Date)
    replaced_by: Mapped[str] = mapped_column(String(60), default="")
    county: Mapped[str] = mapped_column(String(8), default="")


class CommissionerRow(Base):
    __tablename__ = "commissioner"
    __table_args__ = (UniqueConstraint("vintage_id", "code", name="uq_commissioner_vintage_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vintage_id: Mapped[int] = mapped_column(ForeignKey("vintage.id"), index=True)
    code: Mapped[str] = mapped_column(String(9))
    ods_code: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(200))


class ShareRow(Base):
    __tablename__ = "commissioner_share"
    __table_args__ = (
        UniqueConstraint(
            "vintage_id", "commissioner_code", "council_code", name="uq_share_vintage_pair"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vintage_id: Mapped[int] = mapped_column(ForeignKey("vintage.id"), index=True)
    commissioner_code: Mapped[str] = mapped_column(String(9))
    council_code: Mapped[str] = mapped_column(String(9))
    population: Mapped[int] = mapped_column(BigInteger)
    share_of_commissioner: Mapped[str] = mapped_column(String(60))  # exact fraction "n/d"
    share_of_area: Mapped[str] = mapped_column(String(60))


class PopulationRow(Base):
    __tablename__ = "population"
    __table_args__ = (
        UniqueConstraint("vintage_id", "geo_code", "age_from", name="uq_population_cell"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vintage_id: Mapped[int] = mapped_column(ForeignKey("vintage.id"), index=True)
    geo_code: Mapped[str] = mapped_column(String(9))
    geo_name: Mapped[str] = mapped_column(String(200))
    age_from: Mapped[int] = mapped_column(Integer)
    age_to: Mapped[int | None] = mapped_column(Integer)
    persons: Mapped[int] = mapped_column(BigInteger)


class AllocationRun(Base):
    """One version of a year's national allocation, with the inputs it was made from."""

    __tablename__ = "allocation_run"
    __table_args__ = (UniqueConstraint("year", "version", name="uq_allocation_run_year_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[str] = mapped_column(String(10))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    method: Mapped[str] = mapped_column(String(20))  # formula | imported
    source: Mapped[str] = mapped_column(String(300))
    councils_vintage_id: Mapped[int] = mapped_column(ForeignKey("vintage.id"))
    shares_vintage_id: Mapped[int | None] = mapped_column(ForeignKey("vintage.id"))
    population_vintage_id: Mapped[int | None] = mapped_column(ForeignKey("vintage.id"))
    total_pence: Mapped[int] = mapped_column(BigInteger)
    varies_id: Mapped[int | None] = mapped_column(ForeignKey("allocation_run.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    lines: Mapped[list[AllocationLineRow]] = relationship(
        back_populates="run", order_by="AllocationLineRow.id", cascade="all, delete-orphan"
    )
    events: Mapped[list[AllocationEventRow]] = relationship(
        back_populates="run", order_by="AllocationEventRow.id", cascade="all, delete-orphan"
    )


class AllocationLineRow(Base):
    __tablename__ = "allocation_line"
    __table_args__ = (Index("ix_allocation_line_run_area", "run_id", "area_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("allocation_run.id"))
    financial_year: Mapped[str] = mapped_column(String(7))
    stream: Mapped[str] = mapped_column(String(60))
    area_code: Mapped[str] = mapped_column(String(9))
    commissioner_code: Mapped[str | None] = mapped_column(String(9))
    amount_pence: Mapped[int] = mapped_column(BigInteger)

    run: Mapped[AllocationRun] = relationship(back_populates="lines")


class AllocationEventRow(Base):
    """A status change of an allocation run: the timeline people see."""

    __tablename__ = "allocation_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("allocation_run.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(120))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str] = mapped_column(Text, default="")

    run: Mapped[AllocationRun] = relationship(back_populates="events")


class UserRow(Base):
    """A local account. ``grants`` are role grants such as ``area_editor:E06000052``."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    grants: Mapped[list[Any]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)


class ApiTokenRow(Base):
    """A machine token; only its SHA-256 is stored, the token itself is shown once."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class WebSessionRow(Base):
    """A signed-in browser session; only the SHA-256 of its random id is stored.

    The session cookie names the id; a session is honoured only while its row exists and is
    not revoked, so signing out (or a password change or deactivation) ends it everywhere.
    """

    __tablename__ = "web_session"

    id_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(120), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AuditEventRow(Base):
    """An append-only, hash-chained record of a change (see :mod:`carepool.domain.audit`)."""

    __tablename__ = "audit_event"

    chain: Mapped[str] = mapped_column(String(120), primary_key=True)
    sequence: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str] = mapped_column(String(120))
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)
    previous_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHeadRow(Base):
    """A chain's head under the audit key, written with each event (see ``KeyedHead``)."""

    __tablename__ = "audit_head"

    chain: Mapped[str] = mapped_column(String(120), primary_key=True)
    sequence: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    keyed_from: Mapped[int] = mapped_column(Integer)
    mac: Mapped[str] = mapped_column(String(64))


class AuditSealRow(Base):
    """The one row counting the chains under the audit key, so removing one shows (``Seal``)."""

    __tablename__ = "audit_seal"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    chains: Mapped[int] = mapped_column(Integer)
    key_id: Mapped[str] = mapped_column(String(16))
    mac: Mapped[str] = mapped_column(String(64))


class AuditCheckpointRow(Base):
    """A chain's head as ``carepool audit checkpoint`` saw it, so removing newer events shows."""

    __tablename__ = "audit_checkpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    taken_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    chain: Mapped[str] = mapped_column(String(120), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class PlanRow(Base):
    """An area's joint plan for a programme year: its status and the current version.

    ``lock_version`` makes edits optimistic: a save names the version it was based on and is
    refused if someone else saved in between, instead of silently overwriting them.
    """

    __tablename__ = "plan"
    __table_args__ = (UniqueConstraint("year", "area_code", name="uq_plan_year_area"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[str] = mapped_column(String(10))
    area_code: Mapped[str] = mapped_column(String(9), index=True)
    status: Mapped[str] = mapped_column(String(40))
    round: Mapped[int] = mapped_column(Integer, default=1)
    category: Mapped[str | None] = mapped_column(String(60))
    key_lines_of_enquiry: Mapped[str] = mapped_column(Text, default="")
    lock_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __mapper_args__ = {"version_id_col": lock_version}  # noqa: RUF012

    versions: Mapped[list[PlanVersionRow]] = relationship(
        back_populates="plan", order_by="PlanVersionRow.number", cascade="all, delete-orphan"
    )
    events: Mapped[list[PlanEventRow]] = relationship(
        back_populates="plan", order_by="PlanEventRow.id", cascade="all, delete-orphan"
    )
    conditions: Mapped[list[PlanConditionRow]] = relationship(
        back_populates="plan", order_by="PlanConditionRow.id", cascade="all, delete-orphan"
    )


class PlanVersionRow(Base):
    """One version of a plan's content; frozen once sent for sign-off, never edited after."""

    __tablename__ = "plan_version"
    __table_args__ = (UniqueConstraint("plan_id", "number", name="uq_plan_version_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"))
    number: Mapped[int] = mapped_column(Integer)
    content: Mapped[Any] = mapped_column(JSON)
    frozen: Mapped[bool] = mapped_column(default=False)
    pooled_pence: Mapped[int] = mapped_column(BigInteger, default=0)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    plan: Mapped[PlanRow] = relationship(back_populates="versions")


class PlanEventRow(Base):
    """A step in a plan's life (who, in which role, when, why): the timeline."""

    __tablename__ = "plan_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    round: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(40))
    to_status: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(60))
    partner: Mapped[str | None] = mapped_column(String(20))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str] = mapped_column(Text, default="")

    plan: Mapped[PlanRow] = relationship(back_populates="events")


class PlanConditionRow(Base):
    """A condition of approval set by the assurer, later marked met."""

    __tablename__ = "plan_condition"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    met_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    met_by: Mapped[str | None] = mapped_column(String(120))

    plan: Mapped[PlanRow] = relationship(back_populates="conditions")


# --------------------------------------------------------------------------------------------
# The Section 75 pooled budget ledger (see :mod:`carepool.domain.ledger`)


class PoolRow(Base):
    """An area's Section 75 pooled budget for a programme year, opened from its approved plan.

    The agreement's terms are copied from the plan version it was opened from
    (``plan_version``) so later plan versions cannot silently change an open pool's books.
    """

    __tablename__ = "pool"
    __table_args__ = (UniqueConstraint("year", "area_code", name="uq_pool_year_area"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[str] = mapped_column(String(10))
    area_code: Mapped[str] = mapped_column(String(9), index=True)
    host_partner: Mapped[str] = mapped_column(String(20))
    pool_manager: Mapped[str] = mapped_column(String(200))
    risk_share_kind: Mapped[str | None] = mapped_column(String(40))
    risk_share_parameters: Mapped[Any] = mapped_column(JSON, default=dict)
    instalments: Mapped[int] = mapped_column(Integer)
    partners: Mapped[Any] = mapped_column(JSON, default=dict)  # code -> name, for explanations
    starts: Mapped[dt.date] = mapped_column(Date)
    ends: Mapped[dt.date] = mapped_column(Date)
    plan_version: Mapped[int] = mapped_column(Integer)
    opened_by: Mapped[str] = mapped_column(String(120))
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class LedgerEntryRow(Base):
    """A journal entry: append-only; a mistake is put right by a reversing entry.

    ``reverses_id`` is unique so that no entry can be reversed twice. ``reference`` is set on
    entries posted from a spend file's rows, and unique within the pool, so the same row
    imported again is recognised and never posted twice.

    A *simple* entry (two legs, one the other's opposite: a spend row, a receipt, most
    reversals) keeps both legs on its own row: ``leg_account``, ``leg_pence`` and ``leg_memo``
    are its first leg, ``contra_account`` and ``contra_memo`` the second, which carries
    ``-leg_pence``. It has no posting rows, so a spend row costs one row rather than three;
    it cannot be unbalanced, because its second amount is not stored. A *compound* entry
    (more legs, such as a contribution schedule or a settlement) leaves those columns empty
    and has its legs in ``ledger_posting``. Readers see both through one query of legs.

    On PostgreSQL the pool and the reversed entry are checked once per statement by a
    trigger rather than once per row by foreign keys (migrations 0007 and 0008): a year's
    spend file is a million rows, and the per-row checks were over a third of the time it
    took to post them. There ``reverses_id``'s unique index is partial, leaving out the
    entries that reverse nothing (every spend row), which it would otherwise index too.
    """

    __tablename__ = "ledger_entry"
    __table_args__ = (
        Index("ix_ledger_entry_pool_date", "pool_id", "date"),
        Index("ix_ledger_entry_pool_correlation", "pool_id", "correlation"),
        UniqueConstraint(
            "reverses_id", name="uq_ledger_entry_reverses_id", info={ONLY_ON: "sqlite"}
        ).ddl_if(dialect="sqlite"),
        Index(
            "uq_ledger_entry_reversal",
            "reverses_id",
            unique=True,
            postgresql_where=text("reverses_id IS NOT NULL"),
            info={ONLY_ON: "postgresql"},
        ).ddl_if(dialect="postgresql"),
        Index(
            "uq_ledger_entry_pool_reference",
            "pool_id",
            "reference",
            unique=True,
            sqlite_where=text("reference IS NOT NULL"),
            postgresql_where=text("reference IS NOT NULL"),
        ),
        ForeignKeyConstraint(
            ["pool_id"],
            ["pool.id"],
            name="fk_ledger_entry_pool_id_pool",
            info={ENFORCED_BY_TRIGGER_ON: "postgresql"},
        ),
        ForeignKeyConstraint(
            ["reverses_id"],
            ["ledger_entry.id"],
            name="fk_ledger_entry_reverses_id_ledger_entry",
            info={ENFORCED_BY_TRIGGER_ON: "postgresql"},
        ),
        CheckConstraint(
            "(leg_account IS NULL AND leg_pence IS NULL AND leg_memo IS NULL "
            "AND contra_account IS NULL AND contra_memo IS NULL) OR "
            "(leg_account IS NOT NULL AND leg_pence IS NOT NULL AND leg_memo IS NOT NULL "
            "AND contra_account IS NOT NULL AND contra_memo IS NOT NULL)",
            name="simple_legs",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pool_id: Mapped[int] = mapped_column(Integer)
    date: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(30))
    narration: Mapped[str] = mapped_column(String(500))
    correlation: Mapped[str] = mapped_column(String(200))
    source: Mapped[Any] = mapped_column(JSON, default=dict)
    reverses_id: Mapped[int | None] = mapped_column(Integer)
    reference: Mapped[str | None] = mapped_column(String(100))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    leg_account: Mapped[str | None] = mapped_column(String(200))
    leg_pence: Mapped[int | None] = mapped_column(BigInteger)
    leg_memo: Mapped[str | None] = mapped_column(String(300))
    contra_account: Mapped[str | None] = mapped_column(String(200))
    contra_memo: Mapped[str | None] = mapped_column(String(300))


class LedgerPostingRow(Base):
    """One leg of a compound entry: debit positive, credit negative, in whole pence.

    Keyed by its entry and its place in it, so a posting costs one index entry (SQLite keeps
    the rows in that key's order, with no separate row id), and an entry's legs are read in
    the order they were written.
    """

    __tablename__ = "ledger_posting"
    __table_args__ = ({"sqlite_with_rowid": False},)

    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entry.id"), primary_key=True)
    line: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    account: Mapped[str] = mapped_column(String(200))
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    memo: Mapped[str] = mapped_column(String(300), default="")


class AccountBalanceRow(Base):
    """Each account's running balance, updated in the same transaction as every posting.

    Balance queries read this table instead of re-summing postings; ``carepool ledger check``
    proves the two agree.
    """

    __tablename__ = "account_balance"
    __table_args__ = (
        UniqueConstraint("pool_id", "account", name="uq_account_balance_pool_account"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("pool.id"))
    account: Mapped[str] = mapped_column(String(200))
    balance_pence: Mapped[int] = mapped_column(BigInteger)


class ClosedPeriodRow(Base):
    """A period of a pool's books that is closed: nothing more may be dated in it."""

    __tablename__ = "closed_period"
    __table_args__ = (UniqueConstraint("pool_id", "label", name="uq_closed_period_pool_label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("pool.id"))
    label: Mapped[str] = mapped_column(String(20))
    starts: Mapped[dt.date] = mapped_column(Date)
    ends: Mapped[dt.date] = mapped_column(Date)
    closed_by: Mapped[str] = mapped_column(String(120))
    closed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class SpendImportRow(Base):
    """One spend file posted to a pool; the same file (by SHA-256) is never posted twice."""

    __tablename__ = "spend_import"
    __table_args__ = (UniqueConstraint("pool_id", "sha256", name="uq_spend_import_pool_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("pool.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(300))
    rows: Mapped[int] = mapped_column(Integer)
    posted: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    imported_by: Mapped[str] = mapped_column(String(120))


class ForecastRow(Base):
    """The pool manager's forecast of the year's outturn spend (whole pool or one scheme)."""

    __tablename__ = "pool_forecast"

    id: Mapped[int] = mapped_column(primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("pool.id"), index=True)
    scheme: Mapped[str | None] = mapped_column(String(20))
    as_at: Mapped[dt.date] = mapped_column(Date)
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str] = mapped_column(String(120))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


# --------------------------------------------------------------------------------------------
# Quarterly returns (see :mod:`carepool.domain.quarterly_return`)


class ReturnRow(Base):
    """A pool's quarterly return to its Health and Wellbeing Board.

    ``content`` holds the figures exactly as last submitted (null until then), so what the
    board signs off never moves when the ledger does; before submission the figures are built
    afresh from the ledger on every view. ``lock_version`` refuses a step taken on a page
    older than the return.
    """

    __tablename__ = "pool_return"
    __table_args__ = (UniqueConstraint("pool_id", "quarter", name="uq_pool_return_quarter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("pool.id"), index=True)
    quarter: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    narrative: Mapped[str] = mapped_column(Text, default="")
    content: Mapped[Any] = mapped_column(JSON, nullable=True)
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    lock_version: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __mapper_args__ = {"version_id_col": lock_version}  # noqa: RUF012

    events: Mapped[list[ReturnEventRow]] = relationship(
        back_populates="pool_return", order_by="ReturnEventRow.id", cascade="all, delete-orphan"
    )


class ReturnEventRow(Base):
    """A step in a return's sign-off (who, in which role, when, why): the timeline.

    ``content_sha256`` is the digest of the figures submitted or signed off, so the record
    shows the board signed exactly what was submitted.
    """

    __tablename__ = "pool_return_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("pool_return.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(60))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str] = mapped_column(Text, default="")
    content_sha256: Mapped[str | None] = mapped_column(String(64))

    pool_return: Mapped[ReturnRow] = relationship(back_populates="events")


class MetricValueRow(Base):
    """A metric's value for an area and period, as computed from one data vintage."""

    __tablename__ = "metric_value"
    __table_args__ = (
        UniqueConstraint(
            "metric",
            "definition_version",
            "area_code",
            "period",
            "data_vintage",
            name="uq_metric_value_cell",
        ),
        Index("ix_metric_value_series", "metric", "area_code", "grain"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    metric: Mapped[str] = mapped_column(String(60))
    definition_version: Mapped[int] = mapped_column(Integer)
    area_code: Mapped[str] = mapped_column(String(9))
    period: Mapped[str] = mapped_column(String(12))
    grain: Mapped[str] = mapped_column(String(10))
    numerator: Mapped[int] = mapped_column(BigInteger)
    denominator: Mapped[int | None] = mapped_column(BigInteger)
    value: Mapped[str] = mapped_column(String(40))  # exact decimal text
    # False when the data cover only some of the period's months (a year from April alone)
    complete: Mapped[bool] = mapped_column(default=True)
    engine: Mapped[str] = mapped_column(String(20))
    data_vintage: Mapped[str] = mapped_column(String(120))
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class PublishedStatisticRow(Base):
    """One figure from an official publication, kept exactly as published."""

    __tablename__ = "published_statistic"
    __table_args__ = (
        UniqueConstraint(
            "vintage_id",
            "measure_code",
            "geography_code",
            "period",
            name="uq_published_statistic_cell",
        ),
        Index("ix_published_statistic_series", "measure_code", "geography_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vintage_id: Mapped[int] = mapped_column(ForeignKey("vintage.id"))
    source: Mapped[str] = mapped_column(String(20))  # the vintage's kind
    measure_code: Mapped[str] = mapped_column(String(40))
    measure_label: Mapped[str] = mapped_column(String(200))
    geography_code: Mapped[str] = mapped_column(String(9))
    geography_name: Mapped[str] = mapped_column(String(200))
    period: Mapped[str] = mapped_column(String(12))
    grain: Mapped[str] = mapped_column(String(10))
    value: Mapped[str] = mapped_column(String(40))  # exact decimal text
    unit: Mapped[str] = mapped_column(String(60))


class PaymentRunRow(Base):
    """One payment-for-performance run: a year's quarter, every area, from stated inputs.

    A run records the framework file (its hash), the design and its parameters, and the data
    vintage of the metric values it read, so that every line can be recomputed and explained.
    A paid run is never edited; a revised data vintage gives a new run that ``trues_up`` it.
    """

    __tablename__ = "payment_run"
    __table_args__ = (
        UniqueConstraint("year", "quarter", "version", name="uq_payment_run_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[str] = mapped_column(String(10))
    quarter: Mapped[str] = mapped_column(String(12))  # "2015-16 Q1"
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    design_kind: Mapped[str] = mapped_column(String(40))
    parameters: Mapped[Any] = mapped_column(JSON)
    framework_sha256: Mapped[str] = mapped_column(String(64))
    metric: Mapped[str] = mapped_column(String(60))
    data_vintage: Mapped[str] = mapped_column(String(120))
    provisional: Mapped[bool] = mapped_column(default=True)
    trues_up_id: Mapped[int | None] = mapped_column(ForeignKey("payment_run.id"))
    correlation: Mapped[str] = mapped_column(String(80))
    drafted_by: Mapped[str] = mapped_column(String(120))
    checked_by: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    lines: Mapped[list[PaymentLineRow]] = relationship(
        back_populates="run", order_by="PaymentLineRow.area_code", cascade="all, delete-orphan"
    )
    events: Mapped[list[PaymentEventRow]] = relationship(
        back_populates="run", order_by="PaymentEventRow.id", cascade="all, delete-orphan"
    )


class PaymentLineRow(Base):
    """One area's payment in a run, with the inputs it was worked out from."""

    __tablename__ = "payment_line"
    __table_args__ = (UniqueConstraint("run_id", "area_code", name="uq_payment_line_area"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("payment_run.id"))
    area_code: Mapped[str] = mapped_column(String(9), index=True)
    baseline: Mapped[str] = mapped_column(String(40))  # exact decimal text
    plan: Mapped[str] = mapped_column(String(40))
    actual: Mapped[str | None] = mapped_column(String(40))
    plan_version: Mapped[int] = mapped_column(Integer)
    ambition_revision_id: Mapped[int | None] = mapped_column(ForeignKey("ambition_revision.id"))
    metric_definition_version: Mapped[int | None] = mapped_column(Integer)
    unit_cost_pence: Mapped[int] = mapped_column(BigInteger)
    pot_pence: Mapped[int] = mapped_column(BigInteger)
    earned_pence: Mapped[int] = mapped_column(BigInteger)
    released_pence: Mapped[int] = mapped_column(BigInteger)
    retained_pence: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20))
    working: Mapped[str] = mapped_column(Text)

    run: Mapped[PaymentRunRow] = relationship(back_populates="lines")


class PaymentEventRow(Base):
    """A status change of a payment run: its timeline."""

    __tablename__ = "payment_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("payment_run.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(120))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str] = mapped_column(Text, default="")

    run: Mapped[PaymentRunRow] = relationship(back_populates="events")


class AmbitionRevisionRow(Base):
    """A payment ambition revised after the plan's approval: proposed, then approved by both
    national approvers (``approvals``: role -> who and when) or rejected. Kept, never
    edited but for its status, so the history of an area's ambition is always there."""

    __tablename__ = "ambition_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[str] = mapped_column(String(10))
    area_code: Mapped[str] = mapped_column(String(9), index=True)
    metric: Mapped[str] = mapped_column(String(60))
    plan_version: Mapped[int] = mapped_column(Integer)
    baselines: Mapped[Any] = mapped_column(JSON)  # four exact decimal texts, one a quarter
    quarters: Mapped[Any] = mapped_column(JSON)  # four exact decimal texts
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    approvals: Mapped[Any] = mapped_column(JSON, default=dict)
    proposed_by: Mapped[str] = mapped_column(String(120))
    proposed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


# --------------------------------------------------------------------------------------------
# The substitution check (see :mod:`carepool.domain.substitution`)


class CouncilFinanceRow(Base):
    """One council's adult social care finance return for one year, in cash pence.

    Figures are as published (``None`` where the return has ``:`` or left a voluntary item
    blank); ``basis`` says which return they come from, since only figures on one basis are
    compared. ``synthetic`` marks the demo's invented years.
    """

    __tablename__ = "council_finance"
    __table_args__ = (
        UniqueConstraint("council_code", "financial_year", name="uq_council_finance_year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    council_code: Mapped[str] = mapped_column(String(9))
    financial_year: Mapped[str] = mapped_column(String(7), index=True)
    basis: Mapped[str] = mapped_column(String(20))
    published_name: Mapped[str] = mapped_column(String(200))
    dh_code: Mapped[str] = mapped_column(String(10))
    gross_current_expenditure_pence: Mapped[int | None] = mapped_column(BigInteger)
    nhs_income_pence: Mapped[int | None] = mapped_column(BigInteger)
    joint_arrangements_income_pence: Mapped[int | None] = mapped_column(BigInteger)
    bcf_income_pence: Mapped[int | None] = mapped_column(BigInteger)
    bridging_expenditure_pence: Mapped[int | None] = mapped_column(BigInteger)
    bridging_income_pence: Mapped[int | None] = mapped_column(BigInteger)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(300))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    imported_by: Mapped[str] = mapped_column(String(120))


class GdpDeflatorRow(Base):
    """HM Treasury's GDP deflator for one financial year, as the exact published decimal."""

    __tablename__ = "gdp_deflator"

    financial_year: Mapped[str] = mapped_column(String(7), primary_key=True)
    index_value: Mapped[str] = mapped_column(String(20))
    reference_year: Mapped[str] = mapped_column(String(7))
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(300))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    imported_by: Mapped[str] = mapped_column(String(120))


# Tables of other capabilities, declared on the same Base in modules of their own, imported
# here so that whoever imports the models sees every table.
from carepool.store import models_budgets as models_budgets  # noqa: E402
