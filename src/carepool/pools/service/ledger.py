"""The Section 75 pooled budget: opening a pool and keeping its books.

A pool is opened from the area's *approved* plan, and its contribution schedule is posted
at once (what each partner owes, instalment by instalment), so the books show from day one
what is due and later what was paid. Spend arrives as files from the host's finance system;
an import is all or nothing, and a file or row seen before is recognised, never posted
twice. Entries are never edited: a mistake is reversed. Every change is an audit event in
the same unit of work. Reports (budget against actual, forecasts, the substitution check)
are in :mod:`carepool.pools.service.reports`; the year-end risk share is in
:mod:`carepool.pools.service.settlement`.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.orm import Session

from carepool.audit import repository as audit
from carepool.domain.audit import pool_chain
from carepool.domain.errors import (
    CarepoolError,
    Conflict,
    Forbidden,
    ImportRejected,
    NotFound,
    Problem,
)
from carepool.domain.ledger import (
    Accounts,
    Entry,
    EntryKind,
    LedgerError,
    Posting,
    require_postable,
    reversal,
)
from carepool.domain.money import Pence, format_money, split_by_weights
from carepool.domain.periods import (
    Period,
    instalment_dates,
    period_named,
    programme_financial_years,
)
from carepool.domain.plan import PlanContent
from carepool.domain.plan_workflow import PlanStatus
from carepool.domain.roles import Principal, Role
from carepool.frameworks import load_framework
from carepool.geography.service import YearGeography, year_geography
from carepool.io.read_ahead import read_ahead
from carepool.io.tabular import file_sha256
from carepool.plans import service as plans
from carepool.pools.files.beancount_export import (
    LedgerBook,
    write_balances_csv,
    write_beancount,
    write_postings_csv,
)
from carepool.pools.files.spend import (
    NotClean,
    PoolFacts,
    Posted,
    SpendLine,
    as_columns,
    check_against,
    check_repeats,
    clean_blocks,
    read_spend,
    refuse_if_any,
)
from carepool.pools.repository import ledger as repo
from carepool.pools.repository import spend_stage as stage
from carepool.pools.repository.ledger import PoolRow as PoolRow
from carepool.pools.repository.ledger import SpendImportRow as SpendImportRow
from carepool.pools.repository.spend_stage import StagedRepeats
from carepool.store.db import dialect_of, savepoint


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def pool_label(pool: PoolRow) -> str:
    return f"{pool.year}/{pool.area_code}"


def audit_chain(pool: PoolRow) -> str:
    """The pool's own audit chain, so its writers never wait for another pool's."""
    return pool_chain(pool_label(pool))


def record_for_pool(
    session: Session,
    pool: PoolRow,
    *,
    actor: str,
    action: str,
    before: object = None,
    after: object = None,
) -> None:
    """Record an event about the pool itself (opened, period closed, settled…) on its chain."""
    audit.record(
        session,
        chain=audit_chain(pool),
        actor=actor,
        action=action,
        entity="pool",
        entity_id=pool_label(pool),
        before=before,
        after=after,
    )


def record_for_pools(
    session: Session,
    events: Sequence[tuple[PoolRow, object]],
    *,
    actor: str,
    action: str,
) -> None:
    """:func:`record_for_pool` for many pools at once (``after`` per pool), each on its chain."""
    audit.record_many(
        session,
        [
            audit.Pending(actor, action, "pool", pool_label(pool), None, after, audit_chain(pool))
            for pool, after in events
        ],
    )


# --------------------------------------------------------------------------------------------
# Who may do what


def may_read(viewer: Principal, area_code: str) -> bool:
    """The area's pool finance officers and the national team read a pool's books."""
    return viewer.has_area(Role.POOL_FINANCE, area_code) or viewer.is_national


def require_write(actor: Principal, area_code: str) -> None:
    """Only the area's pool finance officers (or the national team on their behalf, as
    :data:`~carepool.domain.roles.NATIONAL_POWERS` allows) change its books."""
    if not actor.may_act_as(Role.POOL_FINANCE, area_code):
        raise Forbidden(f"only {area_code}'s pool finance officers can change its pooled budget")


NATIONAL_CHANGE = "national_change"
"""The action of the audit event that marks a change made by the national team for an area."""


@dataclass(frozen=True, slots=True)
class NationalChange:
    """A change to an area's pool made by the national team on the area's behalf."""

    actor: str
    at: str
    what: str


def mark_national_change(session: Session, pool: PoolRow, actor: Principal, what: str) -> None:
    """Record, on the pool's own audit chain, that the national team (not the area's finance
    officers) made a change, so the pool's history shows it as such. Nothing for the area's
    own people."""
    if actor.acts_for_area(Role.POOL_FINANCE, pool.area_code):
        after = {"what": what, "by": "the national team"}
        record_for_pool(session, pool, actor=actor.username, action=NATIONAL_CHANGE, after=after)


def national_changes(session: Session, pool: PoolRow) -> list[NationalChange]:
    """The changes the national team made to the pool for the area, newest first."""
    found = audit.about(session, "pool", pool_label(pool), audit_chain(pool), NATIONAL_CHANGE)
    return [NationalChange(e.actor, e.at, str((e.after or {}).get("what", ""))) for e in found][
        ::-1
    ]


def pools(session: Session, year: str | None = None) -> list[PoolRow]:
    """Every pool (of one year, if given), by year and area code, whoever may read them."""
    return repo.all_pools(session, year)


def imports(session: Session, pool: PoolRow) -> list[SpendImportRow]:
    """The pool's spend files, in the order they were imported."""
    return repo.imports(session, pool.id)


def closed_periods(session: Session, pool: PoolRow) -> list[Period]:
    return repo.closed_periods(session, pool.id)


def pool_for(session: Session, year: str, area_code: str, viewer: Principal) -> PoolRow:
    """The pool the viewer asked for, if they may see it."""
    if not may_read(viewer, area_code):
        raise Forbidden(
            f"only {area_code}'s pool finance officers and the national team "
            "can see its pooled budget"
        )
    pool = repo.find_pool(session, year, area_code)
    if pool is None:
        raise NotFound(
            f"{area_code} has no pooled budget for {year}; open it from the approved plan "
            f"with 'carepool ledger open {area_code} --year {year}'"
        )
    return pool


# --------------------------------------------------------------------------------------------
# Opening a pool from its approved plan


def open_pool(
    session: Session,
    year: str,
    area_code: str,
    actor: Principal,
    *,
    geo: YearGeography | None = None,
) -> PoolRow:
    """Open the area's pool from its approved plan and post the contribution schedule.

    Opening twice returns the pool already open: the schedule is posted once.
    """
    require_write(actor, area_code)
    existing = repo.find_pool(session, year, area_code)
    if existing is not None:
        return existing
    plan = plans.find(session, year, area_code)
    if plan is None or plan.status != PlanStatus.APPROVED:
        status = "not started" if plan is None else plan.status
        raise Conflict(
            f"{area_code}'s {year} plan is {status}: a pooled budget opens only "
            "from an approved plan"
        )
    version = plans.current_version(plan)
    content = plans.content_of(version)
    pool = _new_pool(session, year, area_code, content, version.number, actor, geo)
    schedule = contribution_schedule(content, pool, version.number)
    repo.add_entries(session, pool.id, schedule, actor.username, _now())
    record_for_pool(
        session,
        pool,
        actor=actor.username,
        action="open",
        after={
            "plan_version": version.number,
            "pooled_pence": content.pooled(),
            "entries": len(schedule),
            "host_partner": pool.host_partner,
            "risk_share": pool.risk_share_kind,
        },
    )
    return pool


def approved_areas(session: Session, year: str) -> list[str]:
    """Areas whose plan for the year is approved, so a pool can be opened for each."""
    return repo.approved_plan_areas(session, year, PlanStatus.APPROVED.value)


def _new_pool(
    session: Session,
    year: str,
    area_code: str,
    content: PlanContent,
    version: int,
    actor: Principal,
    geo: YearGeography | None,
) -> PoolRow:
    framework = load_framework(year)
    terms = content.section75
    names = _partner_names(geo or year_geography(session, year), area_code, content)
    return repo.add_pool(
        session,
        year=year,
        area_code=area_code,
        host_partner=terms.host_partner or area_code,
        pool_manager=terms.pool_manager,
        risk_share_kind=terms.risk_share.value if terms.risk_share else None,
        risk_share_parameters=dict(terms.risk_share_parameters),
        instalments=terms.instalments,
        partners=names,
        starts=framework.starts,
        ends=framework.ends,
        plan_version=version,
        opened_by=actor.username,
        opened_at=_now(),
    )


def _partner_names(geo: YearGeography, area_code: str, content: PlanContent) -> dict[str, str]:
    area = geo.area(area_code)
    names = {}
    for code in sorted({c.partner_code for c in content.contributions}):
        if code == area_code:
            names[code] = f"{area.name} (council)"
        elif code in geo.commissioners:
            names[code] = geo.commissioners[code].name
        else:
            names[code] = code
    return names


def contribution_schedule(content: PlanContent, pool: PoolRow, version: int) -> list[Entry]:
    """What each partner owes the pool, by stream and instalment, split to the penny.

    Each instalment is its own entry with its own correlation key, which the receipt that
    pays it shares, so what is still owed on any instalment can be traced.
    """
    entries = []
    for c in content.contributions:
        if c.total <= 0:
            continue
        dates = instalment_dates(c.financial_year, pool.instalments)
        parts = split_by_weights(c.total, dict.fromkeys(range(len(dates)), 1))
        name = pool.partners.get(c.partner_code, c.partner_code)
        for index, day in enumerate(dates):
            amount = parts[index]
            entries.append(
                Entry(
                    date=day,
                    kind=EntryKind.CONTRIBUTION_DUE,
                    narration=f"{name}: {c.stream} contribution due, instalment {index + 1} "
                    f"of {len(dates)}",
                    postings=(
                        Posting(Accounts.receivable(c.partner_code, c.stream), amount),
                        Posting(Accounts.contribution(c.partner_code, c.stream), Pence(-amount)),
                    ),
                    correlation=due_key(c.partner_code, c.stream, day),
                    source={
                        "plan": pool_label(pool),
                        "plan_version": version,
                        "partner": c.partner_code,
                        "stream": c.stream,
                        "financial_year": c.financial_year,
                        "instalment": index + 1,
                        "instalments": len(dates),
                        "minimum_pence": c.minimum,
                        "additional_pence": c.additional,
                    },
                )
            )
    return entries


def due_key(partner: str, stream: str, day: dt.date) -> str:
    return f"due:{partner}:{stream}:{day.isoformat()}"


def plan_content(session: Session, pool: PoolRow) -> PlanContent:
    """The plan version the pool was opened from (later versions do not change its books).

    That version was frozen when it went for sign-off, so it is read once per unit of work.
    """
    cache: dict[tuple[int, int], PlanContent] = session.info.setdefault(_PLAN_CACHE, {})
    key = (pool.id, pool.plan_version)
    if key not in cache:
        plan = plans.find(session, pool.year, pool.area_code)
        if plan is None:  # pragma: no cover - a pool is only opened from a stored plan
            raise NotFound(f"the plan behind pool {pool_label(pool)} is missing")
        version = next(v for v in plan.versions if v.number == pool.plan_version)
        cache[key] = plans.content_of(version)
    return cache[key]


_PLAN_CACHE = "carepool.pool_plan"


def read_plan_contents(session: Session, pools: Sequence[PoolRow]) -> None:
    """Read the plan versions behind many pools in one query, into the cache
    :func:`plan_content` reads, so a list of every pool does not read 151 plans one by one."""
    cache: dict[tuple[int, int], PlanContent] = session.info.setdefault(_PLAN_CACHE, {})
    for year in sorted({p.year for p in pools}):
        wanted = {(p.area_code, p.plan_version): p for p in pools if p.year == year}
        for key, content in plans.year_contents(session, year, wanted).items():
            cache[(wanted[key].id, key[1])] = content


def warm_plan_contents(session: Session, year: str, pools: Sequence[PoolRow]) -> None:
    """Read the plan versions behind many pools in one query, for :func:`plan_content`."""
    cache: dict[tuple[int, int], PlanContent] = session.info.setdefault(_PLAN_CACHE, {})
    wanted = [pool for pool in pools if (pool.id, pool.plan_version) not in cache]
    if not wanted:
        return
    contents = plans.year_contents(session, year, {(p.area_code, p.plan_version) for p in wanted})
    for pool in wanted:
        found = contents.get((pool.area_code, pool.plan_version))
        if found is not None:
            cache[(pool.id, pool.plan_version)] = found


# --------------------------------------------------------------------------------------------
# Settled years


def settlement_key(financial_year: str) -> str:
    """The correlation key the year's settlement entries (and their reversals) share."""
    return f"settlement:{financial_year}"


def live_settlement(session: Session, pool: PoolRow, financial_year: str) -> list[repo.StoredEntry]:
    """The year's settlement entries not since reversed: empty when the year is not settled."""
    key = settlement_key(financial_year)
    posted = repo.entries(session, pool.id, kind=EntryKind.SETTLEMENT, correlation=key)
    if not posted:
        return []
    undone = repo.reversed_ids(session, pool.id)
    return [stored for stored in posted if stored.id not in undone]


def how_to_reopen(pool: PoolRow, financial_year: str) -> str:
    """What a refusal tells someone who needs to post into a settled year."""
    return (
        f"To post into {financial_year}, reopen it first: a pool finance officer or a "
        f"national administrator presses 'Reopen {financial_year}' on the pool's Periods and "
        f"settlement page, or runs 'carepool ledger reopen {pool.area_code} --year "
        f'{pool.year} --financial-year {financial_year} --reason "why"\'. Reopening is '
        "recorded in the audit log and reverses the settlement; settle the year again once "
        "its books are complete"
    )


SETTLED_ROWS_SHOWN = 100
"""How many refused rows a settled-year refusal names; the message counts them all."""


def refuse_settled(
    session: Session,
    pool: PoolRow,
    days: Sequence[dt.date],
    closed: Sequence[Period],
    where: Callable[[int], Problem] | None = None,
) -> None:
    """Refuse anything dated in a settled year, naming the settlement and how to reopen it.

    The settlement shared out the year's variance, so a later entry in that year would leave
    the shares wrong while the pool still says it is settled. Settling closes the year, so
    the settlement is looked up only when a day falls in a closed financial year. ``where``,
    if given, locates the day at an index (a file's row), so each refused one is named and
    the file is refused as an import is (:class:`ImportRejected`); entries are a
    :class:`Conflict` with the books as they stand.
    """
    years = set(programme_financial_years(pool.year))
    for period in (p for p in closed if p.label in years):
        hits = [index for index, day in enumerate(days) if period.contains(day)]
        live = live_settlement(session, pool, period.label) if hits else []
        if live:
            ids = ", ".join(str(stored.id) for stored in live)
            message = (
                f"{period.label} is settled for pool {pool_label(pool)} (settlement entries "
                f"{ids}), so its books are closed: {len(hits):,} of the dates given fall in it, "
                f"the first {days[hits[0]].isoformat()}. {how_to_reopen(pool, period.label)}"
            )
            if where is None:
                raise Conflict(message)
            raise ImportRejected(
                message,
                [
                    replace(where(i), message=f"{days[i].isoformat()} falls in {period.label}")
                    for i in hits[:SETTLED_ROWS_SHOWN]
                ],
            )


# --------------------------------------------------------------------------------------------
# Posting


def pool_problems(pool: PoolRow, entry: Entry) -> list[str]:
    """Pool-level reasons to refuse an entry, beyond the ledger's own rules."""
    if entry.date < pool.starts:
        return [f"{entry.date.isoformat()} is before the pool opens on {pool.starts.isoformat()}"]
    return []


def post_many(
    session: Session, pool: PoolRow, entries: Sequence[Entry], actor: Principal
) -> list[int]:
    """Post entries all or none, after checking each against the rules and closed periods."""
    require_write(actor, pool.area_code)
    repo.lock_pool(session, pool)
    closed = repo.closed_periods(session, pool.id)
    refuse_settled(session, pool, [entry.date for entry in entries], closed)
    for entry in entries:
        require_postable(entry, closed)
        problems = pool_problems(pool, entry)
        if problems:
            raise LedgerError(f"entry {entry.narration!r} refused: {problems[0]}")
    return repo.add_entries(session, pool.id, entries, actor.username, _now())


def post_across(
    session: Session, batches: Sequence[tuple[PoolRow, Sequence[Entry]]], actor: Principal
) -> dict[int, list[int]]:
    """:func:`post_many` for several pools at once, all or none: one lock statement, one read
    of closed periods and the same few bulk inserts whatever the number of pools. The ids
    by pool id; the caller records each pool's audit event."""
    for pool, _ in batches:
        require_write(actor, pool.area_code)
    pools_ = [pool for pool, _ in batches]
    repo.lock_pools(session, pools_)
    closed = repo.closed_periods_of(session, [pool.id for pool in pools_])
    for pool, entries in batches:
        refuse_settled(session, pool, [entry.date for entry in entries], closed[pool.id])
        for entry in entries:
            require_postable(entry, closed[pool.id])
            problems = pool_problems(pool, entry)
            if problems:
                raise LedgerError(f"entry {entry.narration!r} refused: {problems[0]}")
    found = [(pool.id, entries) for pool, entries in batches]
    return repo.add_entries_across(session, found, actor.username, _now())


def performance_retained(balance: Mapping[str, int]) -> int:
    """The performance element not earned so far: back with the CCGs, so a shortfall for the
    pool's schemes, met as the Section 75 agreement's risk share says."""
    prefix = Accounts.PERFORMANCE_RETAINED + ":"
    return sum(amount for name, amount in balance.items() if name.startswith(prefix))


def closed_periods_of(session: Session, pools_: Sequence[PoolRow]) -> dict[int, list[Period]]:
    """Each pool's closed periods, read in one query."""
    return repo.closed_periods_of(session, [pool.id for pool in pools_])


def post(session: Session, pool: PoolRow, entry: Entry, actor: Principal) -> int:
    """Post one balanced entry; refused whole if it breaks any rule."""
    [entry_id] = post_many(session, pool, [entry], actor)
    audit.record(
        session,
        chain=audit_chain(pool),
        actor=actor.username,
        action="post",
        entity="ledger_entry",
        entity_id=f"{pool_label(pool)}/{entry_id}",
        after=_entry_summary(entry),
    )
    return entry_id


def _entry_summary(entry: Entry) -> dict[str, Any]:
    return {
        "date": entry.date.isoformat(),
        "kind": entry.kind.value,
        "narration": entry.narration,
        "correlation": entry.correlation,
        "postings": [[p.account, p.amount] for p in entry.postings],
        "reverses": entry.reverses,
    }


def record_receipt(
    session: Session,
    pool: PoolRow,
    partner: str,
    stream: str,
    amount: int,
    on: dt.date,
    reference: str,
    actor: Principal,
) -> int:
    """Money received from a partner, set against its earliest instalment still owed."""
    if amount <= 0:
        raise LedgerError(
            f"a receipt must be more than £0.00, not {format_money(amount)}; "
            "to undo a receipt, reverse its entry"
        )
    if not reference.strip():
        raise CarepoolError("a receipt needs the bank or finance-system reference")
    account = Accounts.receivable(partner, stream)
    owed = repo.correlation_totals(session, pool.id, account)
    dues = sorted(key for key in owed if key.startswith("due:"))
    if not dues:
        raise NotFound(f"{partner} pays no {stream!r} contribution into pool {pool_label(pool)}")
    correlation = next((key for key in dues if owed[key] > 0), dues[-1])
    entry = receipt_entry(pool, partner, stream, amount, on, reference, correlation)
    return post(session, pool, entry, actor)


def receipt_entry(
    pool: PoolRow,
    partner: str,
    stream: str,
    amount: int,
    on: dt.date,
    reference: str,
    correlation: str,
) -> Entry:
    """Money into the bank from a partner, off what it owes, tied to the instalment paid."""
    name = pool.partners.get(partner, partner)
    return Entry(
        date=on,
        kind=EntryKind.RECEIPT,
        narration=f"Receipt from {name}: {stream} contribution",
        postings=(
            Posting(Accounts.BANK, Pence(amount), reference.strip()),
            Posting(Accounts.receivable(partner, stream), Pence(-amount)),
        ),
        correlation=correlation,
        source={"reference": reference.strip(), "partner": partner, "stream": stream},
    )


def correlated(session: Session, pool: PoolRow, correlation: str) -> list[repo.StoredEntry]:
    """The pool's entries sharing a correlation key (the postings of one payment line, say),
    with their ids, in date order."""
    return repo.entries(session, pool.id, correlation=correlation)


def first_open_day(day: dt.date, closed: Sequence[Period]) -> dt.date:
    """``day``, or the first day after the closed periods it falls in."""
    moved = True
    while moved:
        moved = False
        for period in closed:
            if period.contains(day):
                day, moved = period.end + dt.timedelta(days=1), True
    return day


def reverse(
    session: Session,
    pool: PoolRow,
    entry_id: int,
    reason: str,
    actor: Principal,
    on: dt.date | None = None,
) -> int:
    """Cancel an entry with an equal and opposite one that points back at it.

    Dated ``on``, or the original's date if that period is open, else the first open day
    after it: closed books stay closed. An entry of a settled year is not moved on into the
    next: it is refused until the year is reopened, since the settlement shared it out.
    """
    if not reason.strip():
        raise CarepoolError("say why the entry is reversed (a reason is required)")
    stored = repo.get_entry(session, pool.id, entry_id)
    if stored is None:
        raise NotFound(f"pool {pool_label(pool)} has no entry {entry_id}")
    if stored.entry.kind is EntryKind.REVERSAL:
        raise Conflict(f"entry {entry_id} is itself a reversal; post the original afresh instead")
    if entry_id in repo.reversed_ids(session, pool.id):
        raise Conflict(f"entry {entry_id} has already been reversed")
    closed = repo.closed_periods(session, pool.id)
    refuse_settled(session, pool, [stored.entry.date], closed)
    day = on or first_open_day(stored.entry.date, closed)
    return post(session, pool, reversal(stored.entry, entry_id, day, reason.strip()), actor)


# --------------------------------------------------------------------------------------------
# Spend imports


@dataclass(frozen=True, slots=True)
class SpendOutcome:
    """What a spend import did. ``already`` is True when this very file was posted before."""

    file_name: str
    sha256: str
    rows: int
    posted: int
    skipped: int
    total_pence: int
    already: bool

    def as_dict(self) -> dict[str, object]:
        """The ``import_spend`` audit event's ``after`` payload, hashed into the pool's audit
        chain, so its shape stays as it is. ``--json`` prints
        :class:`~carepool.pools.schemas.SpendImport`, the same keys today; the service sits
        below the schemas and cannot use it."""
        return {
            "file": self.file_name,
            "sha256": self.sha256,
            "rows": self.rows,
            "posted": self.posted,
            "skipped": self.skipped,
            "total_pence": self.total_pence,
            "already_imported": self.already,
        }


def span(pool: PoolRow) -> Period:
    return Period(pool.year, pool.starts, pool.ends)


def import_spend(session: Session, pool: PoolRow, path: Path, actor: Principal) -> SpendOutcome:
    """Post a spend file, all or nothing; files and rows seen before are not posted again.

    The file is posted a block at a time, each by a few set-based statements (see
    :mod:`carepool.pools.repository.spend_stage`), inside a savepoint, so a file refused part way
    through leaves the books as they were. The running balances are moved once per account.
    One audit event records the import, naming the file by its SHA-256, which covers every
    row.
    """
    require_write(actor, pool.area_code)
    digest = file_sha256(path)
    seen = repo.find_import(session, pool.id, digest)
    if seen is None:
        repo.lock_pool(session, pool)  # from here on, one importer at a time per pool
        seen = repo.find_import(session, pool.id, digest)  # someone may have just posted it
    if seen is not None:
        return SpendOutcome(path.name, digest, seen.rows, 0, seen.rows, 0, True)
    try:
        outcome = _import_new(session, pool, path, digest, actor)
    except CarepoolError:
        stage.drop_spend_stage(session)  # refused: the caller's unit of work may carry on
        raise
    stage.drop_spend_stage(session)
    record_for_pool(
        session,
        pool,
        actor=actor.username,
        action="import_spend",
        after=outcome.as_dict(),
    )
    return outcome


@dataclass(frozen=True, slots=True)
class _Staged:
    """A spend file's clean rows, how many of them are new, and the new ones' pence per scheme."""

    rows: int
    posted: int
    totals: dict[str, int]


def _import_new(
    session: Session, pool: PoolRow, path: Path, digest: str, actor: Principal
) -> SpendOutcome:
    """Post the file's new rows, or refuse it with every problem it has.

    A plain CSV file is posted column by column as it is read. Anything the fast reader
    does not vouch for (a workbook, any problem, a reference posted before with other
    details) undoes what it posted and is read again row by row, which reports every problem
    with its row and column.
    """
    facts = PoolFacts(
        frozenset(s.ref for s in plan_content(session, pool).schemes),
        span(pool),
        tuple(repo.closed_periods(session, pool.id)),
    )
    stage.open_spend_stage(session)
    try:
        with savepoint(session):  # NotClean rolls the fast way's posts back
            return _post_clean(session, pool, path, digest, facts, actor)
    except NotClean:
        stage.open_spend_stage(session)  # start again, without what the fast reader staged
    staged = _stage_row_by_row(session, pool, path, facts)
    batch = _open_import(session, pool, path.name, digest, actor)
    if staged.posted:
        stage.post_staged_spend(session, batch)
    return _close_import(session, pool, batch, staged)


def _post_clean(
    session: Session, pool: PoolRow, path: Path, digest: str, facts: PoolFacts, actor: Principal
) -> SpendOutcome:
    """The fast way: each block of checked columns is posted as it is read.

    On PostgreSQL the next block is read, and made ready to post, while the database posts
    this one (:func:`read_ahead`).
    """
    batch = _open_import(session, pool, path.name, digest, actor)
    schemes = sorted(facts.schemes)
    rows = skipped = 0
    totals: dict[str, int] = dict.fromkeys(schemes, 0)
    dialect = dialect_of(session)
    loads = (stage.block_load(dialect, batch, block) for block in clean_blocks(path, facts))
    # PostgreSQL posts in its own process, so reading ahead keeps both busy. SQLite posts in
    # this one, row by row under Python's lock, and a reading thread would only take turns.
    with closing(read_ahead(loads) if dialect == "postgresql" else loads) as blocks:
        for load in blocks:
            repeats = _post_block(session, batch, load, schemes)
            rows, skipped = rows + len(load.block), skipped + repeats.rows
            for scheme, pence in load.totals.items():
                totals[scheme] += pence - repeats.same.get(scheme, 0)
    staged = _Staged(rows, rows - skipped, {k: v for k, v in totals.items() if v})
    return _close_import(session, pool, batch, staged)


def _post_block(
    session: Session, batch: stage.SpendBatch, load: stage.BlockLoad, schemes: Sequence[str]
) -> StagedRepeats:
    """Post a block; rows the pool posted before are skipped if they are the same.

    A row posted before with other details is a problem the row-by-row reader states
    (:class:`NotClean`). Whether any reference was posted before is left to the references'
    unique index, which every row's entry goes through anyway: a block of new rows (the
    usual case) costs no look-up of its own. Only a block the index refuses is staged,
    compared with the posted rows, and posted without its repeats.
    """
    if stage.try_post_block(session, batch, load):
        return StagedRepeats({}, 0, 0)
    # a reference posted before, or a fault that posting again will raise
    stage.stage_spend(session, load.block)
    repeats = stage.staged_repeats(session, batch.pool_id, schemes)
    if repeats.changed:
        raise NotClean
    stage.unstage_posted(session, batch.pool_id)
    stage.post_staged_spend(session, batch)
    stage.clear_spend_stage(session)
    return repeats


def _stage_row_by_row(session: Session, pool: PoolRow, path: Path, facts: PoolFacts) -> _Staged:
    """The careful way: every row read and checked on its own, every problem located."""
    spend = read_spend(path)
    days = [line.date for line in spend.lines]

    def row_of(index: int) -> Problem:
        return Problem("", spend.source, spend.lines[index].row, "date")

    refuse_settled(session, pool, days, facts.closed, row_of)
    check_against(spend, facts)
    fresh = check_repeats(spend, _posted(session, pool, spend.lines))
    refuse_if_any(spend)
    block = as_columns(fresh)
    stage.stage_spend(session, block)
    return _Staged(len(spend.lines), len(fresh), block.totals())


def _open_import(
    session: Session, pool: PoolRow, file_name: str, digest: str, actor: Principal
) -> stage.SpendBatch:
    """Record the import (its counts are filled in when it is done) and name its entries."""
    row = repo.add_import(session, pool.id, digest, file_name[:300], actor.username, _now())
    names = {s.ref: s.name for s in plan_content(session, pool).schemes}
    base = stage.entry_id_base(session)  # the import's row is written: SQLite is ours
    return stage.SpendBatch(pool.id, row.id, names, actor.username, _now(), base)


def _close_import(
    session: Session, pool: PoolRow, batch: stage.SpendBatch, staged: _Staged
) -> SpendOutcome:
    """Fill in the import's counts and move each account's running balance once."""
    row = repo.finish_import(session, batch.import_id, staged.rows, staged.posted)
    total = sum(staged.totals.values())
    if total:
        deltas = {Accounts.scheme(ref): pence for ref, pence in staged.totals.items()}
        deltas[Accounts.BANK] = -total
        repo.move_balances(session, pool.id, deltas)
    return SpendOutcome(
        row.file_name, row.sha256, row.rows, row.posted, row.skipped, total, already=False
    )


def _posted(session: Session, pool: PoolRow, lines: Sequence[SpendLine]) -> dict[str, Posted]:
    found = repo.spend_lines_for(session, pool.id, (line.reference for line in lines))
    schemes = {Accounts.scheme(s.ref): s.ref for s in plan_content(session, pool).schemes}
    return {
        ref: Posted(
            row.spend_date,
            schemes.get(row.account, row.account),
            row.amount_pence,
            row.file_name,
            row.row_number,
        )
        for ref, row in found.items()
    }


# --------------------------------------------------------------------------------------------
# Periods, balances and the consistency check


def close_period(session: Session, pool: PoolRow, label: str, actor: Principal) -> Period:
    """Close a month, quarter or the year: nothing more may be dated in it."""
    require_write(actor, pool.area_code)
    period = period_named(label.strip())
    whole = span(pool)
    if period.start < whole.start or period.end > whole.end:
        raise CarepoolError(f"{period.label} is not within the pool's year {whole.label}")
    repo.lock_pool(session, pool)
    for shut in repo.closed_periods(session, pool.id):
        if shut.label == period.label:
            raise Conflict(f"{period.label} is already closed")
        if shut.contains(period.start) and shut.contains(period.end):
            raise Conflict(f"{period.label} is already closed, as part of {shut.label}")
    return _close(session, pool, period, actor)


def close_settled_year(
    session: Session, pool: PoolRow, financial_year: str, actor: Principal
) -> None:
    """Close the year just settled (if it is not closed already), recorded as closed by the
    settlement, so nothing more is dated in books whose variance has been shared out."""
    if all(p.label != financial_year for p in repo.closed_periods(session, pool.id)):
        _close(session, pool, period_named(financial_year), actor, because="settled")


def _close(
    session: Session, pool: PoolRow, period: Period, actor: Principal, because: str = ""
) -> Period:
    repo.add_closed_period(session, pool.id, period, actor.username, _now())
    after = {
        "period": period.label,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
    }
    record_for_pool(
        session,
        pool,
        actor=actor.username,
        action="close_period",
        after={**after, "because": because} if because else after,
    )
    return period


def reopen_settled_year(session: Session, pool: PoolRow, financial_year: str) -> bool:
    """Take away the settled year's close (the caller records the reopening): whether it was
    closed. Its quarters and months closed on their own stay closed."""
    return repo.remove_closed_period(session, pool.id, financial_year)


def balances(session: Session, pool: PoolRow, on: dt.date | None = None) -> dict[str, Pence]:
    """Each account's balance now (from the running balances), or at the end of ``on``."""
    if on is None:
        return repo.balances(session, pool.id)
    return repo.posting_totals(session, pool.id, until=on)


def movements(
    session: Session, pools_: Sequence[PoolRow], since: dt.date, until: dt.date
) -> dict[int, dict[str, int]]:
    """Each pool's net movement on every account over a date range, read in one query for
    a national report, by pool id."""
    return repo.movements_by_pool(session, [pool.id for pool in pools_], since, until)


@dataclass(frozen=True, slots=True)
class PoolCheck:
    """One pool's proof: its books balance and its running balances equal its postings."""

    year: str
    area_code: str
    balanced: bool
    entries: int
    consistent: bool
    differences: tuple[tuple[str, int, int], ...] = ()  # account, running, postings


def check(session: Session, year: str | None = None) -> list[PoolCheck]:
    """Prove every pool's books: balanced to zero, and incremental balances = sum of postings."""
    results = []
    for pool in repo.all_pools(session, year):
        running = {k: v for k, v in repo.balances(session, pool.id).items() if v}
        summed = {k: v for k, v in repo.posting_totals(session, pool.id).items() if v}
        differences = tuple(
            (name, running.get(name, 0), summed.get(name, 0))
            for name in sorted(set(running) | set(summed))
            if running.get(name, 0) != summed.get(name, 0)
        )
        balanced = sum(running.values()) == 0 and not repo.unbalanced_entries(session, pool.id)
        results.append(
            PoolCheck(
                pool.year,
                pool.area_code,
                balanced,
                repo.entry_count(session, pool.id),
                not differences,
                differences,
            )
        )
    return results


# --------------------------------------------------------------------------------------------
# Exports


def book(session: Session, pool: PoolRow) -> LedgerBook:
    """The pool's books for an export, entries streamed from the database as they are written."""
    first, last = repo.entry_dates(session, pool.id)
    return LedgerBook(
        title=f"Section 75 pooled budget {pool.area_code} {pool.year}",
        opened=pool.starts,
        entries=repo.stream_entries(session, pool.id),
        balances=repo.balances(session, pool.id),
        accounts=repo.posted_accounts(session, pool.id),
        first=first,
        last=last,
    )


EXPORT_FORMATS = ("beancount", "csv", "balances")
_WRITERS = {"beancount": write_beancount, "csv": write_postings_csv, "balances": write_balances_csv}


def export(session: Session, pool: PoolRow, fmt: str) -> str:
    """The pool's books as Beancount text, postings CSV or balances CSV."""
    out = io.StringIO(newline="")
    export_to(session, pool, fmt, out)
    return out.getvalue()


def export_to(session: Session, pool: PoolRow, fmt: str, out: TextIO) -> None:
    """Write the pool's books to ``out`` as they are read: memory stays flat however long."""
    if fmt not in _WRITERS:
        raise CarepoolError(f"unknown export format {fmt!r}; use {', '.join(EXPORT_FORMATS)}")
    _WRITERS[fmt](book(session, pool), out)
