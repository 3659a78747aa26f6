"""Database tables (SQLAlchemy 2 declarative models).

Reached only through the repositories and services; nothing above the store builds queries.
Money columns are ``BigInteger`` pence. Constraint names are explicit so migrations and error
messages can refer to them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


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


class AuditEventRow(Base):
    """An append-only, hash-chained record of a change (see :mod:`carepool.domain.audit`)."""

    __tablename__ = "audit_event"

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
