"""All database access for personal budgets.

Budgets and their transactions are written in bulk (SQLAlchemy Core; ``COPY`` on PostgreSQL
through the ledger's :func:`~carepool.pools.repository.ledger.bulk_insert`), since a
national import is a hundred thousand budgets and millions of transactions. Reports read
sums computed by the database, never the rows one by one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    bindparam,
    case,
    func,
    insert,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session

from carepool.domain.personal_budget import (
    BudgetFacts,
    BudgetStatus,
    BudgetTerms,
    CouncilHolding,
    Eligibility,
    NhsHolding,
    TransactionKind,
)
from carepool.pools.repository.ledger import bulk_insert
from carepool.store.models_budgets import (
    BudgetStatusRow,
    BudgetTransactionImportRow,
    BudgetTransactionRow,
    PersonalBudgetRow,
    SupportPlanLineRow,
)

# The rows the service hands around.
from carepool.store.models_budgets import BudgetTransactionImportRow as TransactionImportRow
from carepool.store.models_budgets import PersonalBudgetRow as BudgetRow

__all__ = ["BudgetRow", "TransactionImportRow"]

_BUDGETS = cast(Table, PersonalBudgetRow.__table__)
_LINES = cast(Table, SupportPlanLineRow.__table__)
_STATUS = cast(Table, BudgetStatusRow.__table__)
_TRANSACTIONS = cast(Table, BudgetTransactionRow.__table__)


@dataclass(frozen=True, slots=True)
class NewBudget:
    """A checked budget ready to store, with the pool it belongs to and where it came from."""

    terms: BudgetTerms
    pool_id: int
    source: str


@dataclass(frozen=True, slots=True)
class BudgetKey:
    """What a transactions import needs to know of a budget, by its reference."""

    id: int
    reference: str
    area_code: str
    pool_id: int
    starts: dt.date
    ends: dt.date
    nhs_pence: int
    council_pence: int
    nhs_holding: str | None
    council_holding: str | None


def add_budgets(
    session: Session, budgets: Sequence[NewBudget], actor: str, at: dt.datetime
) -> list[int]:
    """Insert budgets with their support plans and first status; returns their ids in order."""
    if not budgets:
        return []
    session.flush()
    connection = session.connection()
    rows = [_budget_values(new, actor, at) for new in budgets]
    if connection.dialect.name == "postgresql":
        bulk_insert(connection, _BUDGETS, rows)
    else:
        connection.execute(insert(_BUDGETS), rows)
    ids = ids_of(session, [new.terms.reference for new in budgets])
    ordered = [ids[new.terms.reference] for new in budgets]
    lines = [
        {
            "budget_id": i,
            "line": n,
            "description": line.description[:300],
            "cost_pence": line.cost_pence,
        }
        for i, new in zip(ordered, budgets, strict=True)
        for n, line in enumerate(new.terms.support_plan, start=1)
    ]
    bulk_insert(connection, _LINES, lines)
    history = [
        {
            "budget_id": i,
            "since": new.terms.starts,
            "status": BudgetStatus.ACTIVE.value,
            "reason": "set up",
            "recorded_by": actor,
            "recorded_at": at,
        }
        for i, new in zip(ordered, budgets, strict=True)
    ]
    bulk_insert(connection, _STATUS, history)
    return ordered


def _budget_values(new: NewBudget, actor: str, at: dt.datetime) -> dict[str, Any]:
    t = new.terms
    return {
        "reference": t.reference,
        "area_code": t.area_code,
        "pool_id": new.pool_id,
        "person": t.person,
        "eligibility": t.eligibility.value,
        "starts": t.starts,
        "ends": t.ends,
        "review_due": t.review_due,
        "total_pence": t.total_pence,
        "nhs_pence": t.nhs_pence,
        "council_pence": t.council_pence,
        "nhs_holding": t.nhs_holding.value if t.nhs_holding else None,
        "council_holding": t.council_holding.value if t.council_holding else None,
        "status": BudgetStatus.ACTIVE.value,
        "spent_pence": 0,
        "source": new.source[:300],
        "created_by": actor,
        "created_at": at,
    }


_CHUNK = 2000


def ids_of(session: Session, references: Sequence[str]) -> dict[str, int]:
    """Budget ids by reference, for those that exist."""
    found: dict[str, int] = {}
    for start in range(0, len(references), _CHUNK):
        chunk = list(references[start : start + _CHUNK])
        query = select(PersonalBudgetRow.reference, PersonalBudgetRow.id).where(
            PersonalBudgetRow.reference.in_(chunk)
        )
        found.update({ref: i for ref, i in session.execute(query)})
    return found


def find(session: Session, reference: str) -> BudgetRow | None:
    return session.scalars(select(PersonalBudgetRow).filter_by(reference=reference)).first()


def area_budgets(
    session: Session, area_code: str, live_on: dt.date | None = None
) -> list[BudgetRow]:
    """The area's budgets by start date and reference (those covering ``live_on``, if given)."""
    query = select(PersonalBudgetRow).filter_by(area_code=area_code)
    if live_on is not None:
        query = query.where(PersonalBudgetRow.starts <= live_on, PersonalBudgetRow.ends >= live_on)
    return list(
        session.scalars(query.order_by(PersonalBudgetRow.starts, PersonalBudgetRow.reference))
    )


def plan_lines(session: Session, budget_id: int) -> list[tuple[str, int]]:
    query = (
        select(SupportPlanLineRow.description, SupportPlanLineRow.cost_pence)
        .filter_by(budget_id=budget_id)
        .order_by(SupportPlanLineRow.line)
    )
    return [(d, c) for d, c in session.execute(query)]


def history(session: Session, budget_id: int) -> list[BudgetStatusRow]:
    query = (
        select(BudgetStatusRow)
        .filter_by(budget_id=budget_id)
        .order_by(BudgetStatusRow.since, BudgetStatusRow.id)
    )
    return list(session.scalars(query))


def add_status(
    session: Session,
    budget: BudgetRow,
    status: BudgetStatus,
    since: dt.date,
    reason: str,
    actor: str,
    at: dt.datetime,
) -> None:
    """Append a status change and keep the budget's current status beside it."""
    session.add(
        BudgetStatusRow(
            budget_id=budget.id,
            since=since,
            status=status.value,
            reason=reason[:300],
            recorded_by=actor,
            recorded_at=at,
        )
    )
    latest = max([(row.since, row.id) for row in history(session, budget.id)] + [(since, 0)])
    if latest[0] <= since:
        budget.status = status.value
    session.flush()


def budget_keys(session: Session) -> dict[str, BudgetKey]:
    """Every budget's key facts by reference, read in one query."""
    query = select(
        PersonalBudgetRow.id,
        PersonalBudgetRow.reference,
        PersonalBudgetRow.area_code,
        PersonalBudgetRow.pool_id,
        PersonalBudgetRow.starts,
        PersonalBudgetRow.ends,
        PersonalBudgetRow.nhs_pence,
        PersonalBudgetRow.council_pence,
        PersonalBudgetRow.nhs_holding,
        PersonalBudgetRow.council_holding,
    )
    return {
        reference: BudgetKey(i, reference, area, pool, starts, ends, nhs, council, nh, ch)
        for i, reference, area, pool, starts, ends, nhs, council, nh, ch in session.execute(query)
    }


# --------------------------------------------------------------------------------------------
# Transactions


def find_import(session: Session, sha256: str) -> TransactionImportRow | None:
    return session.scalars(select(BudgetTransactionImportRow).filter_by(sha256=sha256)).first()


def add_import(
    session: Session, sha256: str, file_name: str, actor: str, at: dt.datetime
) -> TransactionImportRow:
    row = BudgetTransactionImportRow(
        sha256=sha256,
        file_name=file_name[:300],
        rows=0,
        spend_pence=0,
        recovered_pence=0,
        entries=0,
        imported_by=actor,
        imported_at=at,
    )
    session.add(row)
    session.flush()
    return row


ROW_COLUMNS = (
    "import_id",
    "budget_id",
    "row_number",
    "date",
    "kind",
    "part",
    "amount_pence",
    "reference",
)
"""The order of a transaction row's values for :func:`add_transactions`."""


def add_transactions(session: Session, rows: Sequence[tuple[object, ...]]) -> None:
    """Insert a block of transaction rows, given in ``ROW_COLUMNS`` order.

    Millions of rows go in here, so they skip SQLAlchemy's per-row work: PostgreSQL takes
    them by ``COPY``, SQLite by one ``executemany`` of plain tuples, dates written as the
    ISO text SQLAlchemy's ``Date`` keeps there.
    """
    if not rows:
        return
    connection = session.connection()
    names = ", ".join(ROW_COLUMNS)
    driver = connection.connection.driver_connection
    assert driver is not None
    if connection.dialect.name == "postgresql":
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY budget_transaction ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in ROW_COLUMNS)
    at = ROW_COLUMNS.index("date")
    connection.exec_driver_sql(
        f"INSERT INTO budget_transaction ({names}) VALUES ({marks})",
        [(*row[:at], cast(dt.date, row[at]).isoformat(), *row[at + 1 :]) for row in rows],
    )


def _in_area(area_code: str | None) -> ColumnElement[bool]:
    if area_code is None:
        return true()
    return PersonalBudgetRow.area_code == area_code


@dataclass(frozen=True, slots=True)
class Movement:
    """The pence of one pool's budgets' transactions on one day, of one part and kind."""

    pool_id: int
    day: dt.date
    part: str
    recovery: bool
    direct_payment: bool
    pence: int


def movements(session: Session, last: dt.date, area_code: str | None = None) -> list[Movement]:
    """Transactions up to ``last`` summed by pool, day, part, spend or recovery, and whether
    the part is paid as a direct payment: one pass over the table, whatever the report
    then needs (a quarter, the year to date, each pool's totals) summed from the few rows."""
    t = BudgetTransactionRow
    b = PersonalBudgetRow
    recovery = case((t.kind == TransactionKind.RECOVERY.value, 1), else_=0)
    direct = case(
        (and_(t.part == "nhs", b.nhs_holding == NhsHolding.DIRECT_PAYMENT.value), 1),
        (and_(t.part == "council", b.council_holding == CouncilHolding.DIRECT_PAYMENT.value), 1),
        else_=0,
    )
    query = (
        select(b.pool_id, t.date, t.part, recovery, direct, func.sum(t.amount_pence))
        .select_from(t)
        .join(b, b.id == t.budget_id)
        .where(t.date <= last, _in_area(area_code))
        .group_by(b.pool_id, t.date, t.part, recovery, direct)
    )
    return [
        Movement(pool, day, part, bool(rec), bool(dp), int(pence))
        for pool, day, part, rec, dp, pence in session.execute(query)
    ]


def allocated(session: Session, starting_by: dt.date) -> dict[int, int]:
    """Each pool's budgets' whole amounts, of those starting on or before a day."""
    b = PersonalBudgetRow
    query = (
        select(b.pool_id, func.sum(b.total_pence))
        .where(b.starts <= starting_by)
        .group_by(b.pool_id)
    )
    return {pool: int(total) for pool, total in session.execute(query)}


def budget_spend(session: Session, budget_id: int) -> dict[tuple[str, str], int]:
    """One budget's pence by (part, kind)."""
    t = BudgetTransactionRow
    query = (
        select(t.part, t.kind, func.sum(t.amount_pence))
        .where(t.budget_id == budget_id)
        .group_by(t.part, t.kind)
    )
    return {(p, k): int(total) for p, k, total in session.execute(query)}


def overspent(session: Session, area_code: str | None = None) -> list[tuple[str, int, int]]:
    """Budgets whose spend is more than the whole budget: reference, budget, spend."""
    b = PersonalBudgetRow
    query = (
        select(b.reference, b.total_pence, b.spent_pence)
        .where(b.spent_pence > b.total_pence, _in_area(area_code))
        .order_by(b.reference)
    )
    return [(r, int(total), int(spent)) for r, total, spent in session.execute(query)]


def add_spend(session: Session, spent: dict[int, int]) -> None:
    """Add each budget's new spend (pence by budget id) to its running total."""
    if not spent:
        return
    statement = (
        update(_BUDGETS)
        .where(_BUDGETS.c.id == bindparam("budget"))
        .values(spent_pence=_BUDGETS.c.spent_pence + bindparam("pence"))
    )
    session.connection().execute(
        statement, [{"budget": i, "pence": pence} for i, pence in sorted(spent.items())]
    )


def facts(
    session: Session, first: dt.date, last: dt.date, area_code: str | None = None
) -> Iterator[BudgetFacts]:
    """The facts of every budget overlapping ``first``..``last``, with its status history."""
    b = PersonalBudgetRow
    overlap = and_(b.starts <= last, b.ends >= first, _in_area(area_code))
    changes: dict[int, list[tuple[dt.date, BudgetStatus]]] = {}
    query = (
        select(BudgetStatusRow.budget_id, BudgetStatusRow.since, BudgetStatusRow.status)
        .join(b, b.id == BudgetStatusRow.budget_id)
        .where(overlap)
        .order_by(BudgetStatusRow.id)
    )
    for budget_id, since, status in session.execute(query):
        changes.setdefault(budget_id, []).append((since, BudgetStatus(status)))
    rows = session.execute(
        select(
            b.id,
            b.eligibility,
            b.starts,
            b.ends,
            b.nhs_pence,
            b.council_pence,
            b.nhs_holding,
            b.council_holding,
        ).where(overlap)
    )
    for i, eligibility, starts, ends, nhs, council, nhs_holding, council_holding in rows:
        yield BudgetFacts(
            Eligibility(eligibility),
            starts,
            ends,
            nhs,
            council,
            NhsHolding(nhs_holding) if nhs_holding else None,
            CouncilHolding(council_holding) if council_holding else None,
            tuple(changes.get(i, ())),
        )


def pool_ids_with_budgets(session: Session, area_code: str | None = None) -> list[int]:
    query = select(PersonalBudgetRow.pool_id).where(_in_area(area_code)).distinct()
    return sorted(session.scalars(query))


def finish_import(
    session: Session, row: TransactionImportRow, rows: int, spend: int, recovered: int, entries: int
) -> None:
    row.rows, row.spend_pence, row.recovered_pence, row.entries = rows, spend, recovered, entries
    session.flush()


def begin_writing(session: Session) -> None:
    """Start this unit of work's write transaction now, before a savepoint is taken.

    SQLite's driver starts a transaction only at the first write; a savepoint taken before
    then would be a transaction of its own, committed when released, outside the unit of
    work. ``BEGIN IMMEDIATE`` also queues this writer behind any other. PostgreSQL is always
    in a transaction.
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    driver = session.connection().connection.driver_connection
    if driver is not None and not driver.in_transaction:
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")
