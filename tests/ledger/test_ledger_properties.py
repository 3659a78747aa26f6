"""Invariants under any sequence of operations: books balance, nothing is posted twice.

A Hypothesis state machine imports overlapping spend files (and the same file again, and
files with a bad row), records receipts, reverses entries, closes quarters and settles, in
any order. After every step the books must balance, the running balances must equal the
postings, and each spend reference must be posted exactly once.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from ledger_helpers import YEAR, approve_plan, build_published_nation
from sqlalchemy import Engine

from carepool.domain.errors import ImportRejected
from carepool.domain.ledger import EntryKind, root_total
from carepool.domain.periods import quarters
from carepool.domain.roles import SYSTEM
from carepool.geography.service import year_geography
from carepool.pools.repository import ledger as repo
from carepool.pools.service import ledger
from carepool.pools.service import settlement as ledger_settle
from carepool.store.db import engine_for, unit_of_work

CANDIDATES = [
    (
        dt.date(2015, 4, 1) + dt.timedelta(days=9 * i),
        f"S{1 + i % 3}",
        f"{(i * 7919) % 90_000 + 1}.{i % 100:02d}",
        f"REF-{i:03d}",
    )
    for i in range(40)
]
"""Spend rows the machine draws files from: a reference always has the same details."""


@pytest.fixture(scope="module")
def pool_database(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[Path]:
    """A SQLite file holding one open pool, copied afresh for every example."""
    path = tmp_path_factory.mktemp("ledger-props") / "pool.db"
    shutil.copyfile(sqlite_template, path)
    engine = engine_for(f"sqlite:///{path}")
    try:
        build_published_nation(engine)
        with unit_of_work(engine) as session:
            code = year_geography(session, YEAR).areas[0].code
            approve_plan(session, code)
            ledger.open_pool(session, YEAR, code, SYSTEM)
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()
        engine_for.cache_clear()
    yield path


class Books(RuleBasedStateMachine):
    """The pool's books under random operations, beside a model of what must be posted."""

    template: ClassVar[Path]

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="ledger-machine-"))
        shutil.copyfile(self.template, self.folder / "pool.db")
        self.engine: Engine = engine_for(f"sqlite:///{self.folder / 'pool.db'}")
        self.posted: dict[str, int] = {}  # reference -> pence, as the model expects
        self.reversed_spend = 0
        self.closed: list[int] = []
        self.files: list[Path] = []
        self.settled = False
        self.accepted: set[tuple[tuple[dt.date, str, str, str], ...]] = set()

    def teardown(self) -> None:
        self.engine.dispose()
        engine_for.cache_clear()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _write(self, rows: list[tuple[str, ...]]) -> Path:
        path = self.folder / f"spend-{len(self.files)}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(("date", "scheme", "provider", "amount", "reference"))
            writer.writerows(rows)
        self.files.append(path)
        return path

    def _in_closed(self, day: dt.date) -> bool:
        """Settling closes the whole year."""
        return self.settled or any(quarters(YEAR)[q].contains(day) for q in self.closed)

    @rule(
        picks=st.lists(st.integers(0, len(CANDIDATES) - 1), min_size=1, max_size=8, unique=True),
        into_closed=st.booleans(),
    )
    def import_file(self, picks: list[int], into_closed: bool) -> None:
        rows = [CANDIDATES[i] for i in picks]
        if not into_closed:  # mostly files a careful pool manager would send
            rows = [row for row in rows if not self._in_closed(row[0])]
        if not rows:
            return
        path = self._write([(d.isoformat(), s, "Provider", a, r) for d, s, a, r in rows])
        if tuple(rows) in self.accepted:  # the very same file: recognised, nothing posted
            self._expect_nothing_posted(path)
            return
        refused = any(self._in_closed(d) for d, _, _, _ in rows)
        with unit_of_work(self.engine) as session:
            pool = ledger.pool_for(session, YEAR, self._area(session), SYSTEM)
            if refused:
                with pytest.raises(ImportRejected):
                    ledger.import_spend(session, pool, path, SYSTEM)
                return
            outcome = ledger.import_spend(session, pool, path, SYSTEM)
        self.accepted.add(tuple(rows))
        new = {r: a for _, _, a, r in rows if r not in self.posted}
        assert (outcome.posted, outcome.skipped) == (len(new), len(rows) - len(new))
        for reference, amount in new.items():
            pounds, pence = amount.split(".")
            self.posted[reference] = int(pounds) * 100 + int(pence)

    def _expect_nothing_posted(self, path: Path) -> None:
        with unit_of_work(self.engine) as session:
            pool = ledger.pool_for(session, YEAR, self._area(session), SYSTEM)
            before = repo.entry_count(session, pool.id)
            # a file refused before (or now in a closed quarter) stays refused
            with contextlib.suppress(ImportRejected):
                outcome = ledger.import_spend(session, pool, path, SYSTEM)
                assert outcome.posted == 0
            assert repo.entry_count(session, pool.id) == before

    @precondition(lambda self: bool(self.files))
    @rule(index=st.integers(0, 100))
    def import_the_same_file_again(self, index: int) -> None:
        self._expect_nothing_posted(self.files[index % len(self.files)])

    @rule(pick=st.integers(0, len(CANDIDATES) - 1))
    def import_a_file_with_a_bad_row(self, pick: int) -> None:
        day, scheme, amount, reference = CANDIDATES[pick]
        path = self._write(
            [
                (day.isoformat(), scheme, "P", amount, reference),
                (day.isoformat(), "S99", "P", "1.00", "NEW-BAD"),
            ]
        )
        with unit_of_work(self.engine) as session:
            pool = ledger.pool_for(session, YEAR, self._area(session), SYSTEM)
            with pytest.raises(ImportRejected):
                ledger.import_spend(session, pool, path, SYSTEM)

    @rule(pick=st.integers(0, 1000), amount=st.integers(1, 10**9), day=st.integers(0, 364))
    def receive(self, pick: int, amount: int, day: int) -> None:
        on = dt.date(2015, 4, 1) + dt.timedelta(days=day)
        with unit_of_work(self.engine) as session:
            pool = ledger.pool_for(session, YEAR, self._area(session), SYSTEM)
            dues = repo.entries(session, pool.id, kind=EntryKind.CONTRIBUTION_DUE)
            due = dues[pick % len(dues)].entry
            if self._in_closed(on):
                return
            ledger.record_receipt(
                session,
                pool,
                str(due.source["partner"]),
                str(due.source["stream"]),
                amount,
                on,
                "BACS",
                SYSTEM,
            )

    @precondition(lambda self: not self.settled)
    @rule(pick=st.integers(0, 1000))
    def reverse_a_spend(self, pick: int) -> None:
        with unit_of_work(self.engine) as session:
            pool = ledger.pool_for(session, YEAR, self._area(session), SYSTEM)
            undone = repo.reversed_ids(session, pool.id)
            spend = [
                s
                for s in repo.entries(session, pool.id, kind=EntryKind.SPEND)
                if s.id not in undone
            ]
            if not spend:
                return
            chosen = spend[pick % len(spend)]
            ledger.reverse(session, pool, chosen.id, "property test", SYSTEM)
            self.reversed_spend += chosen.entry.postings[0].amount

    @precondition(lambda self: len(self.closed) < 3 and not self.settled)
    @rule(quarter=st.integers(0, 2))
    def close_a_quarter(self, quarter: int) -> None:
        if quarter in self.closed:
            return
        with unit_of_work(self.engine) as session:
            pool = ledger.pool_for(session, YEAR, self._area(session), SYSTEM)
            ledger.close_period(session, pool, quarters(YEAR)[quarter].label, SYSTEM)
        self.closed.append(quarter)

    @precondition(lambda self: not self.settled)
    @rule()
    def settle(self) -> None:
        with unit_of_work(self.engine) as session:
            pool = ledger.pool_for(session, YEAR, self._area(session), SYSTEM)
            result = ledger_settle.settle(session, pool, SYSTEM)
            assert sum(line.amount for line in result.lines) == result.variance
        self.settled = True

    def _area(self, session: object) -> str:
        [pool] = repo.all_pools(session)  # type: ignore[arg-type]
        return pool.area_code

    @invariant()
    def books_balance_and_spend_is_posted_once(self) -> None:
        with unit_of_work(self.engine) as session:
            [check] = ledger.check(session)
            assert check.balanced and check.consistent
            pool = ledger.pool_for(session, YEAR, self._area(session), SYSTEM)
            spend = repo.entries(session, pool.id, kind=EntryKind.SPEND)
            references = [s.entry.correlation.removeprefix("spend:") for s in spend]
            assert sorted(references) == sorted(self.posted)
            expenses = root_total(ledger.balances(session, pool), "Expenses")
            assert expenses == sum(self.posted.values()) - self.reversed_spend


def test_any_sequence_of_operations_keeps_the_books_balanced_and_posts_once(
    pool_database: Path,
) -> None:
    Books.template = pool_database
    run_state_machine_as_test(
        Books,
        settings=settings(
            max_examples=40,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
