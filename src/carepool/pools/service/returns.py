"""Quarterly returns: built from the books, written up by the pool manager, signed by the board.

A return is never typed in. Until it is submitted, every view builds its figures afresh from
the ledger, the plan the pool was opened from, the conditions the assurer recorded and the
stored metric values (read through an :class:`ActualsReader` the application passes in);
only the narrative is stored. Submitting freezes the figures (with their SHA-256) on the
return, so the Health and Wellbeing Board signs exactly what was submitted even if a late
invoice moves the ledger, or a new data vintage the metrics, afterwards — and the page then
says that the figures have moved since. Every step is an event on the return and in the
audit log, in the same unit of work.

This module also gathers the pool figures the return shares with the pool pages: each
contribution instalment with what was paid against it, and the year-end settlement.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from sqlalchemy.orm import Session

from carepool.audit import repository as audit
from carepool.audit import service as audit_service
from carepool.domain.errors import CarepoolError, Conflict, Forbidden, NotFound
from carepool.domain.ledger import Accounts, EntryKind, Light, root_total
from carepool.domain.periods import PeriodError, Quarter, parse_quarter, quarters_of
from carepool.domain.quarterly_return import (
    EDITABLE,
    RETURN_WORKFLOW,
    ApprovalCondition,
    ExpenditureLine,
    Instalment,
    MetricActual,
    PoolTerms,
    QuarterlyReturn,
    ReturnAction,
    ReturnFacts,
    ReturnStatus,
    SignOffFacts,
    SpendFigures,
    build_return,
    expenditure_line,
    regrouped,
    scope,
)
from carepool.domain.roles import Principal, Role
from carepool.frameworks import load_framework
from carepool.geography.service import year_geography
from carepool.plans import service as plans
from carepool.pools.files.return_workbook import Cover, Step, write_return_workbook
from carepool.pools.repository import ledger as repo
from carepool.pools.repository import returns as returns_store
from carepool.pools.repository.ledger import ForecastRow, PoolRow, SpendImportRow, StoredEntry
from carepool.pools.repository.returns import ReturnEventRow as ReturnEventRow
from carepool.pools.repository.returns import ReturnRow as ReturnRow
from carepool.pools.service import ledger
from carepool.pools.service import reports as ledger_reports
from carepool.pools.service.reports import BudgetLine, BudgetReport
from carepool.pools.service.settlement import financial_years
from carepool.store.db import flush

MAX_NARRATIVE = 20000


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --------------------------------------------------------------------------------------------
# Who may read a return


def may_read(viewer: Principal, area_code: str) -> bool:
    """Those who read the pool's books, and the area's signatories, who sign its returns."""
    return ledger.may_read(viewer, area_code) or any(
        g.role is Role.AREA_SIGNATORY and g.area_code == area_code for g in viewer.grants
    )


def pool_of(session: Session, year: str, area_code: str, viewer: Principal) -> PoolRow:
    """The pool whose returns the viewer asked for, if they may see them (403 before 404, so
    a refusal never says whether the pool exists)."""
    if not may_read(viewer, area_code):
        raise Forbidden(
            f"only {area_code}'s pool finance officers, its signatories and the national "
            "team can see its quarterly returns"
        )
    pool = repo.find_pool(session, year, area_code)
    if pool is None:
        raise NotFound(f"{area_code} has no pooled budget for {year}, so it has no returns")
    return pool


def quarter_of(pool: PoolRow, text: str) -> Quarter:
    """A quarter of one of the pool's financial years, from ``2015-16 Q2`` or ``2015-16-Q2``.

    Text that names no quarter at all (``2015-17 Q2``) is, like a quarter of another year, not
    one of the pool's: a 404, whichever way the address was written.
    """
    try:
        quarter = parse_quarter(text)
    except PeriodError as exc:
        raise NotFound(
            f"{exc.message}; pool {ledger.pool_label(pool)} has no such quarter"
        ) from exc
    if quarter.financial_year not in financial_years(pool):
        raise NotFound(
            f"{quarter.label} is not a quarter of pool {ledger.pool_label(pool)}, which runs "
            f"for {', '.join(financial_years(pool))}"
        )
    return quarter


def pool_quarters(pool: PoolRow) -> list[Quarter]:
    return quarters_of(financial_years(pool))


def current_quarter(pool: PoolRow, today: dt.date | None = None) -> Quarter:
    """The quarter holding today, or the pool's last quarter once its year is over."""
    day = today or dt.date.today()
    every = pool_quarters(pool)
    return next((q for q in every if q.period.contains(day)), every[-1 if day > pool.ends else 0])


# --------------------------------------------------------------------------------------------
# Figures the return shares with the pool pages


def instalments(session: Session, pool: PoolRow) -> list[Instalment]:
    """Every contribution instalment still standing, with each payment made against it.

    A payment is a receipt sharing the instalment's correlation key; a reversed receipt
    counts as a negative payment, and a reversed instalment is no longer due.
    """
    undone = repo.reversed_ids(session, pool.id)
    dues = [
        s
        for s in repo.entries(session, pool.id, kind=EntryKind.CONTRIBUTION_DUE)
        if s.id not in undone
    ]
    receipts = repo.entries(session, pool.id, kind=EntryKind.RECEIPT)
    receipt_ids = {s.id for s in receipts}
    reversals = [
        s
        for s in repo.entries(session, pool.id, kind=EntryKind.REVERSAL)
        if s.entry.reverses in receipt_ids
    ]
    paid: dict[str, list[StoredEntry]] = defaultdict(list)
    for stored in (*receipts, *reversals):
        paid[stored.entry.correlation].append(stored)
    return [_instalment(pool, stored, paid.get(stored.entry.correlation, [])) for stored in dues]


def _credited(stored: StoredEntry, account: str) -> int:
    """What an entry took off what a partner owes on ``account`` (its receivable)."""
    return -sum(p.amount for p in stored.entry.postings if p.account == account)


def _instalment(pool: PoolRow, stored: StoredEntry, paid: Sequence[StoredEntry]) -> Instalment:
    source = stored.entry.source
    partner = str(source.get("partner", ""))
    stream = str(source.get("stream", ""))
    owed = Accounts.receivable(partner, stream)
    payments = [(p.entry.date, _credited(p, owed)) for p in paid]
    return Instalment(
        partner=partner,
        partner_name=str((pool.partners or {}).get(partner, partner)),
        stream=stream,
        financial_year=str(source.get("financial_year", "")),
        number=int(str(source.get("instalment", 1))),
        of=int(str(source.get("instalments", 1))),
        due_date=stored.entry.date,
        due=stored.entry.postings[0].amount,
        payments=tuple(sorted(a for a in payments if a[1])),
        entry_id=stored.id,
    )


@dataclass(frozen=True, slots=True)
class Share:
    partner: str
    name: str
    amount: int  # positive: the partner pays the pool; negative: the pool refunds it
    explanation: str
    entry_id: int


@dataclass(frozen=True, slots=True)
class SettlementView:
    """A financial year's settlement as posted: the variance, the rule and each share."""

    financial_year: str
    variance: int
    rule: str
    parameters: dict[str, Any]
    shares: tuple[Share, ...]

    @property
    def outcome(self) -> str:
        return "overspend" if self.variance > 0 else "underspend"


def settlements(session: Session, pool: PoolRow) -> list[SettlementView]:
    """Each settled financial year (settlements since reversed are left out)."""
    undone = repo.reversed_ids(session, pool.id)
    by_year: dict[str, list[StoredEntry]] = defaultdict(list)
    for stored in repo.entries(session, pool.id, kind=EntryKind.SETTLEMENT):
        if stored.id not in undone:
            by_year[str(stored.entry.source.get("financial_year", ""))].append(stored)
    views = []
    for year, entries in sorted(by_year.items()):
        first = entries[0].entry.source
        shares = tuple(_share(pool, stored) for stored in entries)
        parameters = first.get("parameters")
        views.append(
            SettlementView(
                financial_year=year,
                variance=int(str(first.get("variance_pence", 0))),
                rule=str(first.get("rule", "")),
                parameters=dict(parameters) if isinstance(parameters, dict) else {},
                shares=shares,
            )
        )
    return views


def _share(pool: PoolRow, stored: StoredEntry) -> Share:
    source = stored.entry.source
    partner = str(source.get("partner", ""))
    return Share(
        partner=partner,
        name=str((pool.partners or {}).get(partner, partner)),
        amount=int(str(source.get("share_pence", 0))),
        explanation=str(source.get("explanation", "")),
        entry_id=stored.id,
    )


def spend_figures(report: BudgetReport) -> list[SpendFigures]:
    """The ledger report's lines as the return's builder reads them."""
    return [
        SpendFigures(
            group=line.group,
            key=line.key,
            label=line.label,
            budget=line.budget,
            budget_by_quarter=_four(line.budget_by_quarter),
            actual_by_quarter=_four(line.actual_by_quarter),
            forecast=line.forecast,
            forecast_basis=line.forecast_basis,
            light=line.light,
        )
        for line in report.lines
    ]


def _four(values: Sequence[int]) -> tuple[int, int, int, int]:
    first, second, third, fourth = values
    return first, second, third, fourth


def report_for(session: Session, pool: PoolRow, quarter: Quarter) -> BudgetReport:
    """Budget against actual as at the quarter's end (or today, for the quarter under way)."""
    as_at = min(quarter.period.end, max(dt.date.today(), quarter.period.start))
    return ledger_reports.budget_vs_actual(
        session, pool, as_at=as_at, financial_year=quarter.financial_year
    )


def budget_lines(session: Session, pool: PoolRow, quarter: Quarter) -> list[ExpenditureLine]:
    """Budget against actual for the quarter and the year to its end, as the return shows it."""
    plan = ledger.plan_content(session, pool)
    figures = regrouped(spend_figures(report_for(session, pool, quarter)), plan, quarter)
    return [expenditure_line(f, quarter) for f in figures]


@dataclass(frozen=True, slots=True)
class PoolPosition:
    """One pool at a glance, for the national list: money in, money out, where it is heading."""

    pool: PoolRow
    due: int
    received: int
    spend: int
    budget: int
    forecast: int
    variance: int
    light: Light
    settled: bool


def position(session: Session, pool: PoolRow, today: dt.date | None = None) -> PoolPosition:
    """Contributions due and received, spend and forecast, as at today (or the pool's end)."""
    day = min(today or dt.date.today(), pool.ends)
    totals = repo.posting_totals(session, pool.id, until=day)
    year = current_quarter(pool, day).financial_year
    total = ledger_reports.budget_total(session, pool, year)
    return _position(pool, totals, total, settled=bool(settlements(session, pool)))


def _position(
    pool: PoolRow, totals: Mapping[str, int], total: BudgetLine, *, settled: bool
) -> PoolPosition:
    due = -root_total(totals, "Income", "Contribution")
    owed = sum(
        amount
        for account, amount in totals.items()
        if account.startswith(RECEIVABLE) and not account.endswith(":RiskShare")
    )
    return PoolPosition(
        pool=pool,
        due=due,
        received=due - owed,
        spend=root_total(totals, "Expenses", "Scheme"),
        budget=total.budget,
        forecast=total.forecast,
        variance=total.variance,
        light=total.light,
        settled=settled,
    )


RECEIVABLE = "Assets:Receivable:"


def positions(
    session: Session, year: str, today: dt.date | None = None
) -> tuple[PoolPosition, ...]:
    """Every pool of the year's :func:`position`, reused until the data change
    (:func:`carepool.audit.service.until_changed`) or the day does.

    The national list shows all of them: worked out afresh, each of 151 pools would read its
    ledger, plan and forecasts again on every request, though nothing changed in between.
    """
    day = today or dt.date.today()

    def work() -> tuple[PoolPosition, ...]:
        return tuple(_read_positions(session, ledger.pools(session, year), day))

    return audit_service.until_changed(session, "pool positions", (year, day), work)


def _read_positions(
    session: Session, pools: Sequence[PoolRow], today: dt.date
) -> Iterable[PoolPosition]:
    """Every pool's :func:`position`, its books read for all the pools that share a day and
    financial year at once: a handful of queries, not several for each of 151 pools."""
    ledger.read_plan_contents(session, pools)
    settled = repo.settled_pools(session, [p.id for p in pools])
    by_day: dict[tuple[dt.date, str], list[PoolRow]] = defaultdict(list)
    for pool in pools:
        day = min(today, pool.ends)
        by_day[(day, current_quarter(pool, day).financial_year)].append(pool)
    found: dict[int, PoolPosition] = {}
    for (day, year), group in by_day.items():
        totals = repo.posting_totals_of(session, [p.id for p in group], day)
        books = ledger_reports.year_books(session, group, year, None)
        for pool in group:
            total = ledger_reports.budget_total_from(session, pool, year, books[pool.id])
            found[pool.id] = _position(pool, totals[pool.id], total, settled=pool.id in settled)
    return [found[p.id] for p in pools]


def latest_forecast(session: Session, pool: PoolRow) -> ForecastRow | None:
    """The pool manager's latest whole-pool forecast, with its action note."""
    whole = [row for row in repo.forecasts(session, pool.id) if row.scheme is None]
    return whole[-1] if whole else None


@dataclass(frozen=True, slots=True)
class EntryPage:
    entries: list[StoredEntry]
    page: int
    pages: int
    total: int


def entry_page(session: Session, pool: PoolRow, page: int, per_page: int = 50) -> EntryPage:
    """One page of the pool's entries, newest first, each with its postings."""
    total = repo.entry_count(session, pool.id)
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    ids = repo.newest_entry_ids(session, pool.id, (page - 1) * per_page, per_page)
    found = [repo.get_entry(session, pool.id, entry_id) for entry_id in ids]
    return EntryPage([s for s in found if s is not None], page, pages, total)


@dataclass(frozen=True, slots=True)
class EntryDetail:
    """An entry and where it came from: its import, its correlation siblings, its reversal."""

    stored: StoredEntry
    siblings: list[StoredEntry]
    reversed_by: int | None
    spend_import: SpendImportRow | None


def entry_detail(session: Session, pool: PoolRow, entry_id: int) -> EntryDetail:
    stored = repo.get_entry(session, pool.id, entry_id)
    if stored is None:
        raise NotFound(f"pool {ledger.pool_label(pool)} has no entry {entry_id}")
    siblings = [
        s
        for s in repo.entries(session, pool.id, correlation=stored.entry.correlation)
        if s.id != entry_id
    ]
    reversed_by = repo.reversal_of(session, pool.id, entry_id)
    import_id = stored.entry.source.get("import_id")
    batch = repo.get_import(session, pool.id, import_id) if isinstance(import_id, int) else None
    return EntryDetail(stored, siblings, reversed_by, batch)


# --------------------------------------------------------------------------------------------
# Building a return


class ActualsReader(Protocol):
    """Reads an area's stored metric values for a quarter, by metric.

    The values belong to the metrics capability, which the pools may not import (the two
    are independent), so whoever puts the application together passes a reader in:
    ``web.app`` keeps :func:`carepool.metrics.service.actuals.quarter_actuals` on the app's
    state, and the return's routes hand it to :func:`view` and :func:`act`.
    """

    def __call__(
        self, session: Session, area_code: str, quarter: Quarter, metrics: Sequence[str]
    ) -> Mapping[str, MetricActual]: ...


def build(
    session: Session,
    pool: PoolRow,
    quarter: Quarter,
    narrative: str = "",
    *,
    actuals: ActualsReader,
) -> QuarterlyReturn:
    """The return for the quarter, every figure from what carepool holds now."""
    framework = load_framework(pool.year)
    plan = plans.find(session, pool.year, pool.area_code)
    approval = tuple(
        ApprovalCondition(
            text=c.text, met=c.met_at is not None, met_on=c.met_at.date() if c.met_at else None
        )
        for c in (plan.conditions if plan else [])
    )
    facts = ReturnFacts(
        pool=ledger.pool_label(pool),
        year=pool.year,
        area_code=pool.area_code,
        area_name=year_geography(session, pool.year).area(pool.area_code).name,
        quarter=quarter,
        built_at=_now(),
        terms=terms_of(pool),
        plan=ledger.plan_content(session, pool),
        national_conditions=framework.national_conditions,
        metrics=framework.metrics,
        approval_conditions=approval,
        spend=spend_figures(report_for(session, pool, quarter)),
        instalments=instalments(session, pool),
        stream_names={s.id: s.name for s in framework.streams},
        narrative=narrative,
        actuals=actuals(session, pool.area_code, quarter, [m.metric for m in framework.metrics]),
    )
    return build_return(facts)


def terms_of(pool: PoolRow) -> PoolTerms:
    """The agreement's terms as the pool copied them from its plan."""
    return PoolTerms(
        host_partner=pool.host_partner,
        pool_manager=pool.pool_manager,
        risk_share=pool.risk_share_kind,
        risk_share_parameters=dict(pool.risk_share_parameters or {}),
        instalments=pool.instalments,
        plan_version=pool.plan_version,
        partners=dict(pool.partners or {}),
    )


def digest(content: QuarterlyReturn) -> str:
    """SHA-256 of the return's figures and narrative (not when it was built)."""
    shape = {**content.figures(), "narrative": content.narrative}
    text = json.dumps(shape, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------
# Stored returns


def find(session: Session, pool: PoolRow, quarter: Quarter) -> ReturnRow | None:
    return returns_store.find(session, pool.id, quarter.label)


def returns_of(session: Session, pool: PoolRow) -> dict[str, ReturnRow]:
    """The pool's stored returns by quarter label."""
    rows = returns_store.pool_returns(session, pool.id)
    return {row.quarter: row for row in rows}


def awaiting_sign_off(session: Session, viewer: Principal, year: str) -> list[tuple[str, str]]:
    """(area code, quarter label) of submitted returns the viewer signs off for the board."""
    areas = {
        g.area_code
        for g in viewer.grants
        if g.role is Role.AREA_SIGNATORY and g.area_code and g.partner_code == "HWB"
    }
    if not areas:
        return []
    return returns_store.returns_in_status(session, year, areas, ReturnStatus.SUBMITTED.value)


# --------------------------------------------------------------------------------------------
# Every area's returns, for the national team


NO_POOL = "No pool"
"""An area without a pooled budget (its plan is not approved) has no returns to write."""
NOT_STARTED = "Not started"
"""A pool's quarter with no stored return: nobody has written a word of it yet."""
STATUS_ORDER = (
    NO_POOL,
    NOT_STARTED,
    ReturnStatus.DRAFT.value,
    ReturnStatus.SENT_BACK.value,
    ReturnStatus.SUBMITTED.value,
    ReturnStatus.SIGNED_OFF.value,
)
"""Every status an area's quarter can be at, furthest from done first."""
UNSUBMITTED = frozenset({NOT_STARTED, *(s.value for s in EDITABLE)})


@dataclass(frozen=True, slots=True)
class ReturnCell:
    """One area's return for one quarter as the national overview shows it."""

    area_code: str
    area_name: str
    region: str
    quarter: Quarter
    status: str
    overdue: bool  # the quarter has ended and the return is still not submitted

    @property
    def has_pool(self) -> bool:
        return self.status != NO_POOL


@dataclass(frozen=True, slots=True)
class ReturnsOverview:
    """Every area × quarter of a programme year, with counts by status and whom to chase.

    The framework sets no deadline for quarterly returns, so a return is chased once its
    quarter has ended: it cannot be submitted earlier, and nothing later is written down.
    """

    year: str
    quarters: tuple[Quarter, ...]
    rows: tuple[tuple[ReturnCell, ...], ...]  # one per area, one cell per quarter
    as_at: dt.date

    @property
    def cells(self) -> list[ReturnCell]:
        return [cell for row in self.rows for cell in row]

    @property
    def counts(self) -> dict[str, int]:
        """How many area-quarters are at each status, every status listed (zero or not)."""
        found = {status: 0 for status in STATUS_ORDER}
        for cell in self.cells:
            found[cell.status] += 1
        return found

    @property
    def chase(self) -> list[ReturnCell]:
        """Returns whose quarter has ended and which are still not submitted, oldest first."""
        late = [cell for cell in self.cells if cell.overdue]
        return sorted(late, key=lambda c: (c.quarter.period.start, c.area_name))


def overview(
    session: Session, viewer: Principal, year: str, today: dt.date | None = None
) -> ReturnsOverview:
    """Every area's quarterly returns for the programme year, for the national team."""
    if not viewer.is_national:
        raise Forbidden("only the national team sees every area's quarterly returns")
    day = today or dt.date.today()
    geo = year_geography(session, year)
    quarters = tuple(quarters_of(geo.framework.financial_years))
    pooled = {pool.area_code for pool in ledger.pools(session, year)}
    stored = returns_store.year_statuses(session, year)

    def cell(area_code: str, area_name: str, region: str, quarter: Quarter) -> ReturnCell:
        if area_code not in pooled:
            status = NO_POOL
        else:
            status = stored.get((area_code, quarter.label), NOT_STARTED)
        ended = quarter.period.end < day
        return ReturnCell(
            area_code, area_name, region, quarter, status, ended and status in UNSUBMITTED
        )

    areas = sorted(geo.areas, key=lambda a: a.name)
    rows = tuple(tuple(cell(a.code, a.name, a.region, q) for q in quarters) for a in areas)
    return ReturnsOverview(year, quarters, rows, day)


@dataclass(frozen=True, slots=True)
class ReturnView:
    """A return as a page shows it: the stored row (if any), the figures to show, and, once
    frozen, whether the books have moved since."""

    pool: PoolRow
    quarter: Quarter
    row: ReturnRow | None
    content: QuarterlyReturn
    moved_since: bool

    @property
    def status(self) -> ReturnStatus:
        return ReturnStatus(self.row.status) if self.row else ReturnStatus.DRAFT

    @property
    def frozen(self) -> bool:
        return self.status not in EDITABLE

    @property
    def events(self) -> list[ReturnEventRow]:
        return list(self.row.events) if self.row else []

    @property
    def lock_version(self) -> int | None:
        return self.row.lock_version if self.row else None


def view(
    session: Session, pool: PoolRow, quarter: Quarter, *, actuals: ActualsReader
) -> ReturnView:
    """The return to show: live figures while editable, the submitted ones once frozen."""
    row = find(session, pool, quarter)
    narrative = row.narrative if row else ""
    live = build(session, pool, quarter, narrative, actuals=actuals)
    if row is None or ReturnStatus(row.status) in EDITABLE or row.content is None:
        return ReturnView(pool, quarter, row, live, False)
    stored = QuarterlyReturn.model_validate(row.content)
    return ReturnView(pool, quarter, row, stored, stored.figures() != live.figures())


def _start(session: Session, pool: PoolRow, quarter: Quarter, actor: Principal) -> ReturnRow:
    return returns_store.add_return(
        session,
        pool_id=pool.id,
        quarter=quarter.label,
        status=ReturnStatus.DRAFT.value,
        created_by=actor.username,
        at=_now(),
        first_event=_event(ReturnAction.START, None, ReturnStatus.DRAFT, actor, Role.POOL_FINANCE),
    )


def _event(
    action: ReturnAction,
    before: ReturnStatus | None,
    after: ReturnStatus,
    actor: Principal,
    role: Role,
    comment: str = "",
    sha256: str | None = None,
) -> ReturnEventRow:
    return returns_store.new_event(
        action=action.value,
        from_status=before.value if before else None,
        to_status=after.value,
        actor=actor.username,
        role=role.value,
        at=_now(),
        comment=comment,
        content_sha256=sha256,
    )


def _check_lock(row: ReturnRow | None, expected: int | None) -> None:
    if expected is not None and (row is None or row.lock_version != expected):
        raise Conflict(
            "the return has changed since you opened it; look at it again before you carry on"
        )


def _flush(session: Session) -> None:
    flush(session, conflict="someone else changed this return at the same moment; look at it again")


def save_narrative(
    session: Session,
    pool: PoolRow,
    quarter: Quarter,
    text: str,
    actor: Principal,
    expected_lock: int | None = None,
) -> ReturnRow:
    """Store the narrative (starting the return if need be); only before submission."""
    if not actor.has_area(Role.POOL_FINANCE, pool.area_code):
        raise Forbidden(f"only {pool.area_code}'s pool finance officers write its returns")
    narrative = text.strip()
    if len(narrative) > MAX_NARRATIVE:
        raise CarepoolError(
            f"the narrative is {len(narrative):,} characters; at most {MAX_NARRATIVE:,} fit"
        )
    row = find(session, pool, quarter)
    _check_lock(row, expected_lock)
    if row is None:
        row = _start(session, pool, quarter, actor)
    if ReturnStatus(row.status) not in EDITABLE:
        raise Conflict(f"the return is {row.status.lower()}; its narrative can no longer change")
    before = row.narrative
    row.narrative, row.updated_at = narrative, _now()
    _flush(session)
    audit.record(
        session,
        chain=ledger.audit_chain(pool),
        actor=actor.username,
        action="edit_narrative",
        entity="pool_return",
        entity_id=_label(pool, quarter),
        before={"characters": len(before)},
        after={"characters": len(narrative)},
    )
    return row


def act(
    session: Session,
    pool: PoolRow,
    quarter: Quarter,
    action: ReturnAction,
    actor: Principal,
    comment: str = "",
    expected_lock: int | None = None,
    *,
    actuals: ActualsReader,
) -> ReturnRow:
    """Take one sign-off step after checking it is legal, allowed and complete."""
    row = find(session, pool, quarter)
    _check_lock(row, expected_lock)
    status = ReturnStatus(row.status) if row else ReturnStatus.DRAFT
    facts = SignOffFacts(quarter, dt.date.today(), row.narrative if row else "", comment)
    move = RETURN_WORKFLOW.apply(status, action, actor, scope(pool.area_code), facts)
    if row is None:
        row = _start(session, pool, quarter, actor)
    if action is ReturnAction.SUBMIT:
        _freeze(session, pool, quarter, row, actuals)
    row.events.append(
        _event(action, status, move.target, actor, move.role, comment.strip(), row.content_sha256)
    )
    row.status, row.updated_at = move.target.value, _now()
    _flush(session)
    audit.record(
        session,
        chain=ledger.audit_chain(pool),
        actor=actor.username,
        action=f"return_{action.value}",
        entity="pool_return",
        entity_id=_label(pool, quarter),
        before={"status": status.value},
        after={
            "status": move.target.value,
            "comment": comment.strip(),
            "sha256": row.content_sha256,
        },
    )
    return row


def _freeze(
    session: Session, pool: PoolRow, quarter: Quarter, row: ReturnRow, actuals: ActualsReader
) -> None:
    """Keep the figures as submitted, with their digest, for the board to sign."""
    content = build(session, pool, quarter, row.narrative, actuals=actuals)
    row.content = content.as_dict()
    row.content_sha256 = digest(content)


def _label(pool: PoolRow, quarter: Quarter) -> str:
    return f"{ledger.pool_label(pool)}/{quarter.label}"


# --------------------------------------------------------------------------------------------
# The JSON shape


def timeline_of(events: Iterable[ReturnEventRow]) -> list[ReturnEventRow]:
    """Newest first, as the GOV.UK timeline reads."""
    return list(events)[::-1]


def write_workbook(shown: ReturnView, target: BinaryIO | Path) -> None:
    """The return as the familiar Excel workbook, with its sign-off steps on the cover."""
    steps = [
        Step(ReturnAction(e.action).label, e.actor, _utc(e.at), e.comment) for e in shown.events
    ]
    sha256 = shown.row.content_sha256 if shown.frozen and shown.row else None
    write_return_workbook(target, shown.content, Cover(shown.status.value, sha256, steps))


def _utc(moment: dt.datetime) -> dt.datetime:
    """SQLite gives times back without their zone; every stored time is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
