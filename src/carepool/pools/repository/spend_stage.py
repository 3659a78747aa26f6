"""How a spend file's rows reach the ledger: a block at a time, in a few statements each.

On PostgreSQL a block's entries (simple entries, each carrying its two legs) are made in
Python, without a connection, so a reading thread can make the next block's while the
server stores this one's, and are copied straight into the ledger (``COPY``).

A *stage* is a temporary table holding one block of checked rows (``COPY`` on PostgreSQL,
one prepared ``INSERT`` on SQLite). SQLite posts every block through it: one
``INSERT … SELECT`` writes the block's entries, so the database, not Python, does the
per-row work. Both engines use it when a block holds a reference the pool posted before:
one join finds those rows, the same ones are taken off, and the rest are posted. It is
temporary to the connection and dropped at the end, so nothing of it outlives the import.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, DateTime, bindparam, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from carepool.domain.ledger import Accounts, SpendColumns
from carepool.store.models import LedgerEntryRow

_STAGE = "spend_stage"
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _is_postgresql(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def _stage_name(connection: Connection) -> str:
    return f"pg_temp.{_STAGE}" if _is_postgresql(connection) else f"temp.{_STAGE}"


def open_spend_stage(session: Session) -> None:
    """An empty stage for this unit of work's spend rows (any earlier one is dropped).

    On PostgreSQL each staged row takes its entry id from the entries' own sequence as it is
    copied in, so rows staged by two imports at once can never be given the same id. SQLite
    has one writer at a time, so there the ids are counted on from the highest when posted.
    """
    connection = session.connection()
    drop_spend_stage(session)
    if _is_postgresql(connection):
        sequence = connection.scalar(text("SELECT pg_get_serial_sequence('ledger_entry', 'id')"))
        default = "nextval('{}'::regclass)".format(str(sequence).replace("'", "''"))
        connection.exec_driver_sql(
            f"CREATE TEMPORARY TABLE {_STAGE} (entry_id bigint NOT NULL DEFAULT {default}, "
            "row_number integer NOT NULL, date date NOT NULL, scheme text NOT NULL, "
            "provider text NOT NULL, amount bigint NOT NULL, reference text NOT NULL) "
            "ON COMMIT DROP"
        )
    else:
        connection.exec_driver_sql(
            f"CREATE TEMPORARY TABLE {_STAGE} (row_number INTEGER PRIMARY KEY, "
            "date TEXT NOT NULL, scheme TEXT NOT NULL, provider TEXT NOT NULL, "
            "amount INTEGER NOT NULL, reference TEXT NOT NULL)"
        )


def drop_spend_stage(session: Session) -> None:
    """Drop the stage, so the unit of work can carry on (or import again) after an import."""
    session.connection().exec_driver_sql(
        f"DROP TABLE IF EXISTS {_stage_name(session.connection())}"
    )


def clear_spend_stage(session: Session) -> None:
    """Empty the stage for the next block (the rows on it are posted or skipped)."""
    connection = session.connection()
    if _is_postgresql(connection):
        connection.exec_driver_sql(f"TRUNCATE {_STAGE}")
    else:
        connection.exec_driver_sql(f"DELETE FROM temp.{_STAGE}")


def stage_spend(session: Session, block: SpendColumns) -> None:
    """Add a block of checked spend rows to the stage in one round trip."""
    if not len(block):
        return
    connection = session.connection()
    driver = connection.connection.driver_connection
    assert driver is not None
    columns = (
        block.rows,
        block.days,
        block.schemes,
        block.providers,
        block.amounts,
        block.references,
    )
    if not _is_postgresql(connection):
        cursor = driver.cursor()
        try:
            cursor.executemany(
                f"INSERT INTO temp.{_STAGE} VALUES (?, ?, ?, ?, ?, ?)", zip(*columns, strict=True)
            )
        finally:
            cursor.close()
        return
    names = "row_number, date, scheme, provider, amount, reference"
    with driver.cursor() as cursor, cursor.copy(f"COPY {_STAGE} ({names}) FROM STDIN") as copy:
        copy.write(_copy_text(columns))


def _copy_text(columns: Sequence[Sequence[Any]]) -> str:
    """Rows in ``COPY``'s text format, made a column at a time (no Python work per row)."""
    texts = [
        _copy_escaped(values) if isinstance(values[0], str) else list(map(str, values))
        for values in columns
    ]
    return "\n".join(map("\t".join, zip(*texts, strict=True))) + "\n"


def _copy_escaped(values: Sequence[str]) -> Sequence[str]:
    joined = "".join(values)
    if any(special in joined for special in "\\\t\n\r"):
        return [value.translate(_COPY_ESCAPES) for value in values]
    return values


@dataclass(frozen=True, slots=True)
class StagedRepeats:
    """Staged rows whose reference the pool has already posted."""

    same: dict[str, int]  # pence per scheme of the rows posted before with the same details
    rows: int  # how many such rows
    changed: int  # rows posted before with a different date, scheme or amount


def staged_repeats(session: Session, pool_id: int, scheme_refs: Sequence[str]) -> StagedRepeats:
    """Compare the stage with the pool's posted references: one probe of the index per row.

    SQLite is told to read the stage first (``CROSS JOIN``), so the probe goes through the
    posted references' unique index rather than scanning every row the pool ever posted.
    """
    connection = session.connection()
    if _is_postgresql(connection):
        connection.exec_driver_sql(f"ANALYZE {_STAGE}")
    refs = sorted(scheme_refs)
    accounts = _case(refs, [Accounts.scheme(ref) for ref in refs], "account")
    query = text(
        f"SELECT s.scheme, s.amount, "
        f"CASE WHEN e.date = s.date AND e.leg_account = {accounts.sql} "
        "AND e.leg_pence = s.amount THEN 1 ELSE 0 END "
        f"FROM {_stage_name(connection)} AS s CROSS JOIN ledger_entry AS e "
        "WHERE e.pool_id = :pool_id AND e.reference = s.reference AND e.reference IS NOT NULL"
    )
    same: dict[str, int] = defaultdict(int)
    rows = changed = 0
    parameters = {"pool_id": pool_id, **accounts.parameters}
    for scheme, amount, identical in connection.execute(query, parameters):
        rows += 1
        if identical:
            same[scheme] += int(amount)
        else:
            changed += 1
    return StagedRepeats(dict(same), rows, changed)


def unstage_posted(session: Session, pool_id: int) -> None:
    """Take the rows whose reference the pool has already posted off the stage."""
    connection = session.connection()
    stage = _stage_name(connection)
    connection.execute(
        text(
            f"DELETE FROM {stage} WHERE EXISTS (SELECT 1 FROM ledger_entry AS e "
            f"WHERE e.pool_id = :pool_id AND e.reference = {stage}.reference "
            "AND e.reference IS NOT NULL)"
        ),
        {"pool_id": pool_id},
    )


@dataclass(frozen=True, slots=True)
class SpendBatch:
    """What every entry of one spend import shares: pool, import, schemes, who and when.

    An entry's source names its import and row; the import's own row holds the file's
    name and SHA-256, once, rather than a million copies of them.

    ``id_base`` is SQLite's: a row's entry id is ``id_base`` plus its row number. (On
    PostgreSQL ids come from the entries' own sequence.)
    """

    pool_id: int
    import_id: int
    scheme_names: Mapping[str, str]  # scheme ref -> name, for the narration
    actor: str
    at: dt.datetime
    id_base: int = 0


def entry_id_base(session: Session) -> int:
    """On SQLite, the highest entry id, to count new ids on from; 0 on PostgreSQL.

    Called once the import holds SQLite's write lock (it has written its import row), so no
    other writer can take an id in between.
    """
    if _is_postgresql(session.connection()):
        return 0
    return int(session.connection().scalar(select(func.max(LedgerEntryRow.id))) or 0)


def post_staged_spend(session: Session, batch: SpendBatch) -> None:
    """Post every staged row as a simple ``spend`` entry, carrying its reference.

    Each row's entry says where it came from (its import and row) and carries the row's
    reference, by which it is also correlated; its legs debit the scheme (memo: the provider) and
    credit the bank (memo: the reference). The caller moves the running balances, from
    totals it already has, and keeps the pool locked throughout.
    """
    connection = session.connection()
    stage = _stage_name(connection)
    entry_id = "s.entry_id" if _is_postgresql(connection) else ":base + s.row_number"
    # The source as JSON text ({"import_id": …, "row": …}): on PostgreSQL a concatenation is
    # a fraction of what json_build_object costs per row, and only numbers go into it.
    source = (
        "CAST(CAST(:source_head AS TEXT) || s.row_number || '}' AS JSON)"
        if _is_postgresql(connection)
        else "json_object('import_id', CAST(:import_id AS INTEGER), 'row', s.row_number)"
    )
    refs = sorted(batch.scheme_names)
    names = _case(refs, [batch.scheme_names[ref] for ref in refs], "name")
    accounts = _case(refs, [Accounts.scheme(ref) for ref in refs], "account")
    parameters: dict[str, Any] = {
        "pool_id": batch.pool_id,
        "import_id": batch.import_id,
        "source_head": f'{{"import_id": {int(batch.import_id)}, "row": ',
        "actor": batch.actor,
        "at": batch.at,
        "bank": Accounts.BANK,
        **names.parameters,
        **accounts.parameters,
    }
    if not _is_postgresql(connection):
        parameters["base"] = batch.id_base
    statement = (
        "INSERT INTO ledger_entry (id, pool_id, date, kind, narration, correlation, source, "
        "reverses_id, reference, created_by, created_at, leg_account, leg_pence, leg_memo, "
        "contra_account, contra_memo) "
        f"SELECT {entry_id}, :pool_id, s.date, 'spend', "
        f"substr(s.scheme || ' ' || {names.sql} || ': ' || s.provider, 1, 500), "
        f"'spend:' || s.reference, {source}, NULL, s.reference, :actor, :at, "
        f"{accounts.sql}, s.amount, s.provider, :bank, s.reference "
        f"FROM {stage} AS s"
    )
    stamped = text(statement).bindparams(bindparam("at", type_=DateTime(timezone=True)))
    connection.execute(stamped, parameters)


_ENTRY_COLUMNS = (
    "pool_id, date, kind, narration, correlation, source, reference, created_by, created_at, "
    "leg_account, leg_pence, leg_memo, contra_account, contra_memo"
)


def entry_copy_text(batch: SpendBatch, block: SpendColumns) -> str:
    """The block's spend entries in ``COPY``'s text format, every column worked out here.

    The same entries :func:`post_staged_spend` writes from the stage, made without a
    connection, so that a reading thread can make the next block's while the database
    writes this one's, and the database only stores them.
    """
    count = len(block)
    names = {ref: f"{ref} {name}: " for ref, name in batch.scheme_names.items()}
    narrations = list(map(str.__add__, map(names.__getitem__, block.schemes), block.providers))
    if max(map(len, narrations), default=0) > 500:
        narrations = [narration[:500] for narration in narrations]
    accounts = {ref: Accounts.scheme(ref) for ref in batch.scheme_names}
    source = f'{{{{"import_id": {int(batch.import_id)}, "row": {{}}}}}}'
    columns: list[Sequence[str]] = [
        [str(int(batch.pool_id))] * count,
        block.days,
        ["spend"] * count,
        _copy_escaped(narrations),
        _copy_escaped(list(map("spend:".__add__, block.references))),
        list(map(source.format, block.rows)),
        _copy_escaped(block.references),
        [batch.actor.translate(_COPY_ESCAPES)] * count,
        [batch.at.isoformat()] * count,
        _copy_escaped(list(map(accounts.__getitem__, block.schemes))),
        list(map(str, block.amounts)),
        _copy_escaped(block.providers),
        [Accounts.BANK] * count,
        _copy_escaped(block.references),
    ]
    return "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"


def copy_spend_entries(session: Session, copy_text: str) -> None:
    """Write entries made by :func:`entry_copy_text` straight into the ledger (PostgreSQL)."""
    connection = session.connection()
    driver = connection.connection.driver_connection
    assert driver is not None
    statement = f"COPY ledger_entry ({_ENTRY_COLUMNS}) FROM STDIN"
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            copy.write(copy_text)
    except connection.dialect.loaded_dbapi.IntegrityError as error:
        raise IntegrityError(statement, None, error) from error  # as SQLAlchemy would say it


@dataclass(frozen=True, slots=True)
class BlockLoad:
    """A block of checked spend rows, made as ready to post as it can be without a connection.

    Made by :func:`block_load` in the reading thread. On PostgreSQL that is the block's
    entries as ``COPY`` text, written straight into the ledger; SQLite posts through the
    stage, where its prepared ``INSERT`` is as quick.
    """

    block: SpendColumns
    totals: dict[str, int]  # pence per scheme
    entries: str | None  # PostgreSQL: the entries in COPY's text format


def block_load(dialect: str, batch: SpendBatch, block: SpendColumns) -> BlockLoad:
    """The block made ready to post in a database of the named dialect (no connection used)."""
    entries = entry_copy_text(batch, block) if dialect == "postgresql" and len(block) else None
    return BlockLoad(block, block.totals(), entries)


def try_post_block(session: Session, batch: SpendBatch, load: BlockLoad) -> bool:
    """Post a block inside a savepoint; ``False`` (and nothing posted) if the database
    refuses it, as the references' unique index does for a row the pool posted before."""
    try:
        with session.begin_nested():
            post_block(session, batch, load)
    except IntegrityError:
        return False
    return True


def post_block(session: Session, batch: SpendBatch, load: BlockLoad) -> None:
    """Post every row of the block as a simple ``spend`` entry.

    Raises :class:`~sqlalchemy.exc.IntegrityError` if the pool posted one of the block's
    references before (their unique index says so, at no extra cost for new rows); the
    caller runs this in a savepoint, so the block leaves nothing behind, and compares the
    block with what was posted (:func:`staged_repeats`).
    """
    if load.entries is not None:
        copy_spend_entries(session, load.entries)
        return
    stage_spend(session, load.block)
    post_staged_spend(session, batch)
    clear_spend_stage(session)


@dataclass(frozen=True, slots=True)
class _Case:
    sql: str
    parameters: dict[str, str]


def _case(refs: Sequence[str], values: Sequence[str], prefix: str) -> _Case:
    """``CASE s.scheme WHEN … THEN … END``: a value per scheme, all as bound parameters."""
    if not refs:
        return _Case("''", {})
    parameters: dict[str, str] = {}
    whens = []
    for index, (ref, value) in enumerate(zip(refs, values, strict=True)):
        parameters[f"{prefix}_ref_{index}"] = ref
        parameters[f"{prefix}_{index}"] = value
        whens.append(f"WHEN :{prefix}_ref_{index} THEN CAST(:{prefix}_{index} AS TEXT)")
    return _Case(f"(CASE s.scheme {' '.join(whens)} END)", parameters)
