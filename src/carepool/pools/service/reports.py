"""What the pool's books say: budget against actual, forecasts, and the substitution check.

Budget monitoring follows the way pool managers report quarterly: each scheme's budget (from
the plan the pool was opened from, spread evenly over the quarters) beside what was spent,
quarter by quarter and year to date, and a forecast outturn: the pool manager's latest
forecast if there is one, otherwise the run rate (spend so far ÷ months elapsed × 12). A
traffic light says how far the forecast is from budget.

The substitution check answers the question the NAO and Public Accounts Committee asked:
did NHS money transferred to social care *replace* the council's own spend? It sets each
council's own adult social care spend beside the NHS money its plans put into social care,
against the first year (before the pool) as the baseline, and flags any year in which own
spend fell while the transfer rose.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from sqlalchemy.orm import Session

from carepool.audit import repository as audit
from carepool.domain.errors import CarepoolError
from carepool.domain.ledger import Accounts, Light, run_rate, traffic_light
from carepool.domain.money import split_by_weights
from carepool.domain.periods import Period, months_elapsed, quarters, year_period
from carepool.domain.plan import PlanContent, Scheme
from carepool.domain.plan_workflow import PlanStatus
from carepool.domain.roles import Principal, Role
from carepool.frameworks import available_years, load_framework
from carepool.io.tabular import file_sha256
from carepool.plans import service as plans
from carepool.pools.files.spend import read_council_spend
from carepool.pools.repository import ledger as repo
from carepool.pools.repository.ledger import ForecastRow, PoolRow
from carepool.pools.service.ledger import (
    plan_content,
    pool_label,
    record_for_pool,
    require_write,
)
from carepool.pools.service.settlement import financial_years
from carepool.store.db import flush


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --------------------------------------------------------------------------------------------
# Budget against actual


@dataclass(frozen=True, slots=True)
class BudgetLine:
    """One row of the budget monitoring report: a scheme, an area of spend, a stream or all."""

    group: str  # scheme | area_of_spend | funding_stream | total
    key: str
    label: str
    budget: int
    budget_by_quarter: tuple[int, ...]
    actual_by_quarter: tuple[int, ...]
    budget_to_date: int
    actual_to_date: int
    forecast: int
    forecast_basis: str
    variance: int  # forecast outturn minus budget: positive is an overspend
    light: Light


@dataclass(frozen=True, slots=True)
class BudgetReport:
    pool: str
    financial_year: str
    as_at: dt.date
    lines: tuple[BudgetLine, ...]

    def group(self, name: str) -> list[BudgetLine]:
        return [line for line in self.lines if line.group == name]

    @property
    def total(self) -> BudgetLine:
        return self.group("total")[0]


@dataclass(slots=True)
class _Figures:
    """Sums for one line while the report is being built."""

    budget: int = 0
    by_quarter: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    to_date: int = 0
    forecast: int = 0
    forecast_given: bool = False

    def add(self, other: _Figures) -> None:
        self.budget += other.budget
        self.by_quarter = [a + b for a, b in zip(self.by_quarter, other.by_quarter, strict=True)]
        self.to_date += other.to_date
        self.forecast += other.forecast
        self.forecast_given = self.forecast_given or other.forecast_given


RUN_RATE = "run rate: spend to date ÷ months elapsed × 12"


def budget_vs_actual(
    session: Session,
    pool: PoolRow,
    *,
    as_at: dt.date | None = None,
    financial_year: str | None = None,
) -> BudgetReport:
    """Each scheme, area of spend and funding stream: budget, actual, forecast, light."""
    year = financial_year or financial_years(pool)[0]
    period = year_period(year)
    day = as_at or min(dt.date.today(), period.end)
    elapsed = months_elapsed(year, day)
    schemes = [s for s in plan_content(session, pool).schemes if s.financial_year == year]
    spent = _spend_by_scheme(session, pool, year, day)
    latest = _latest_forecasts(session, pool, period.start, day)
    figures = _with_budgets(schemes, spent)
    for ref, f in figures.items():
        _forecast(f, latest.get(ref), elapsed)
    by_ref = {s.ref: s for s in schemes}
    lines = [
        _line("scheme", ref, _scheme_label(by_ref.get(ref), ref), f, elapsed)
        for ref, f in figures.items()
    ]
    lines += _grouped("area_of_spend", figures, by_ref, lambda s: s.area_of_spend, elapsed)
    lines += _grouped("funding_stream", figures, by_ref, lambda s: s.funding_source, elapsed)
    total = _Figures()
    for f in figures.values():
        total.add(f)
    if None in latest:
        total.forecast, total.forecast_given = latest[None], True
    lines.append(_line("total", "total", "Whole pool", total, elapsed))
    return BudgetReport(pool_label(pool), year, day, tuple(lines))


def _with_budgets(schemes: list[Scheme], spent: dict[str, _Figures]) -> dict[str, _Figures]:
    """Scheme figures in plan order, then spend on accounts that are not this year's schemes."""
    figures = {}
    for scheme in schemes:
        f = spent.pop(scheme.ref, _Figures())
        f.budget = scheme.planned_spend
        figures[scheme.ref] = f
    figures.update(spent)
    return figures


def _forecast(f: _Figures, given: int | None, elapsed: Fraction) -> None:
    if given is not None:
        f.forecast, f.forecast_given = given, True
    else:
        f.forecast, f.forecast_given = run_rate(f.to_date, elapsed), False


def _scheme_label(scheme: Scheme | None, ref: str) -> str:
    return f"{ref} {scheme.name}" if scheme else f"{ref} (not a scheme of this year's plan)"


def _spend_by_scheme(
    session: Session, pool: PoolRow, year: str, as_at: dt.date
) -> dict[str, _Figures]:
    period = year_period(year)
    prefix = Accounts.scheme("X")[: -len("X")]
    spans = quarters(year)
    figures: dict[str, _Figures] = defaultdict(_Figures)
    for account, day, amount in repo.account_movements(
        session, pool.id, prefix, period.start, period.end
    ):
        f = figures[account[len(prefix) :]]
        index = next(i for i, q in enumerate(spans) if q.contains(day))
        f.by_quarter[index] += amount
        if day <= as_at:
            f.to_date += amount
    return dict(figures)


def _latest_forecasts(
    session: Session, pool: PoolRow, since: dt.date, until: dt.date
) -> dict[str | None, int]:
    """The latest forecast for each scheme (and for the whole pool, keyed ``None``)."""
    latest: dict[str | None, int] = {}
    for row in repo.forecasts(session, pool.id):
        if since <= row.as_at <= until:
            latest[row.scheme] = row.amount_pence
    return latest


def _grouped(
    group: str,
    figures: Mapping[str, _Figures],
    by_ref: Mapping[str, Scheme],
    key: Callable[[Scheme], str],
    elapsed: Fraction,
) -> list[BudgetLine]:
    sums: dict[str, _Figures] = {}
    for ref, f in figures.items():
        scheme = by_ref.get(ref)
        name = key(scheme) if scheme else "Not in plan"
        sums.setdefault(name, _Figures()).add(f)
    return [_line(group, name, name, f, elapsed) for name, f in sorted(sums.items())]


def _line(group: str, key: str, label: str, f: _Figures, elapsed: Fraction) -> BudgetLine:
    by_quarter = split_by_weights(f.budget, dict.fromkeys(range(4), 1))
    to_date = _budget_to_date(f.budget, elapsed)
    basis = "the pool manager's latest forecast" if f.forecast_given else RUN_RATE
    return BudgetLine(
        group=group,
        key=key,
        label=label,
        budget=f.budget,
        budget_by_quarter=tuple(by_quarter[i] for i in range(4)),
        actual_by_quarter=tuple(f.by_quarter),
        budget_to_date=to_date,
        actual_to_date=f.to_date,
        forecast=f.forecast,
        forecast_basis=basis,
        variance=f.forecast - f.budget,
        light=traffic_light(f.budget, f.forecast),
    )


def _budget_to_date(budget: int, elapsed: Fraction) -> int:
    if not budget or elapsed <= 0:
        return 0
    return split_by_weights(budget, {"gone": elapsed, "to come": 12 - elapsed})["gone"]


def set_forecast(
    session: Session,
    pool: PoolRow,
    amount: int,
    note: str,
    actor: Principal,
    *,
    scheme: str | None = None,
    as_at: dt.date | None = None,
) -> ForecastRow:
    """Record the pool manager's forecast of the year's outturn (whole pool or one scheme)."""
    require_write(actor, pool.area_code)
    if amount < 0:
        raise CarepoolError("a forecast outturn cannot be negative")
    if scheme is not None and scheme not in {s.ref for s in plan_content(session, pool).schemes}:
        raise CarepoolError(f"scheme {scheme!r} is not in pool {pool_label(pool)}'s plan")
    row = repo.add_forecast(
        session,
        pool.id,
        scheme,
        as_at or dt.date.today(),
        amount,
        note.strip(),
        actor.username,
        _now(),
    )
    record_for_pool(
        session,
        pool,
        actor=actor.username,
        action="forecast",
        after={
            "scheme": scheme,
            "as_at": row.as_at.isoformat(),
            "amount_pence": amount,
            "note": row.note,
        },
    )
    return row


# --------------------------------------------------------------------------------------------
# Councils' own spend and the substitution check


@dataclass(frozen=True, slots=True)
class CouncilSpendOutcome:
    file_name: str
    rows: int
    created: int
    updated: int
    unchanged: int

    def as_dict(self) -> dict[str, object]:
        """The import's audit event's ``after`` payload (with the file's SHA-256 and the
        figures changed added), stored as it is. ``--json`` prints
        :class:`~carepool.pools.schemas.CouncilSpendImport`, the same keys today; the service
        sits below the schemas and cannot use it."""
        return {
            "file": self.file_name,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }


def import_council_spend(session: Session, path: Path, actor: Principal) -> CouncilSpendOutcome:
    """Store councils' own adult social care spend (``area_code, financial_year, amount``).

    A figure already held for an area and year is replaced by a different one (a revised
    return) and the change is audited with both values.
    """
    actor.require(Role.NATIONAL_ADMIN)
    source, lines = read_council_spend(path)
    digest = file_sha256(path)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    changes = []
    for line in lines:
        row = repo.find_council_spend(session, line.area_code, line.financial_year)
        if row is None:
            repo.add_council_spend(
                session,
                line.area_code,
                line.financial_year,
                line.amount,
                f"{source} ({digest[:12]})",
                actor.username,
                _now(),
            )
            counts["created"] += 1
        elif row.amount_pence != line.amount:
            changes.append([line.area_code, line.financial_year, row.amount_pence, line.amount])
            row.amount_pence, row.source = line.amount, f"{source} ({digest[:12]})"
            row.imported_at, row.imported_by = _now(), actor.username
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    flush(session)
    outcome = CouncilSpendOutcome(path.name, len(lines), **counts)
    audit.record(
        session,
        actor=actor.username,
        action="import",
        entity="council_spend",
        entity_id=path.name,
        after={**outcome.as_dict(), "sha256": digest, "changed": changes[:200]},
    )
    return outcome


@dataclass(frozen=True, slots=True)
class SubstitutionYear:
    """One financial year of the check, with changes against the baseline year."""

    financial_year: str
    own_spend: int | None
    nhs_transfer: int
    own_change: int | None
    transfer_change: int
    flagged: bool


@dataclass(frozen=True, slots=True)
class SubstitutionReport:
    area_code: str
    baseline_year: str | None
    years: tuple[SubstitutionYear, ...]

    @property
    def flagged(self) -> bool:
        return any(y.flagged for y in self.years)


def substitution(session: Session, area_code: str) -> SubstitutionReport:
    """Own adult social care spend beside NHS money put into social care, year by year.

    The first year with a figure is the baseline (normally the year before the pool). A year
    is flagged when the council's own spend is below the baseline while the NHS transfer is
    above it: the pattern of NHS money replacing council money.
    """
    own = {row.financial_year: row.amount_pence for row in repo.council_spend(session, area_code)}
    transfer = nhs_social_care_transfer(session, area_code)
    years = sorted(set(own) | set(transfer))
    if not years:
        return SubstitutionReport(area_code, None, ())
    base = years[0]
    base_own, base_transfer = own.get(base), transfer.get(base, 0)
    rows = []
    for year in years:
        spend, moved = own.get(year), transfer.get(year, 0)
        own_change = None if spend is None or base_own is None else spend - base_own
        flagged = own_change is not None and own_change < 0 and moved > base_transfer
        rows.append(
            SubstitutionYear(year, spend, moved, own_change, moved - base_transfer, flagged)
        )
    return SubstitutionReport(area_code, base, tuple(rows))


def nhs_social_care_transfer(session: Session, area_code: str) -> dict[str, int]:
    """By financial year: approved plans' NHS-funded schemes whose area of spend is social care."""
    totals: dict[str, int] = defaultdict(int)
    for year in available_years():
        plan = plans.find(session, year, area_code)
        if plan is None or plan.status != PlanStatus.APPROVED:
            continue
        stream = load_framework(year).plan_rules.nhs_stream
        content: PlanContent = plans.content_of(plans.current_version(plan))
        for scheme in _social_care_schemes(content.schemes, stream):
            totals[scheme.financial_year] += scheme.planned_spend
    return dict(totals)


def _social_care_schemes(schemes: Iterable[Scheme], stream: str) -> list[Scheme]:
    return [s for s in schemes if s.funding_source == stream and s.area_of_spend == "Social care"]


# --------------------------------------------------------------------------------------------
# What the public sees of a pool's spend


@dataclass(frozen=True, slots=True)
class PublicSpend:
    """A scheme's actual spend in one quarter whose books are closed."""

    quarter: str
    key: str
    label: str
    actual: int


def public_spend(session: Session, pool: PoolRow) -> list[PublicSpend]:
    """Each scheme's spend by quarter, for quarters whose periods the finance officer closed.

    Spend is public only once its quarter is closed: until then a posting may be corrected,
    and the public would see figures move. Only scheme totals are shown, never entries, so
    nothing about a person or a supplier's invoice is published.
    """
    closed = repo.closed_periods(session, pool.id)
    shown: list[PublicSpend] = []
    for year in financial_years(pool):
        report = budget_vs_actual(session, pool, financial_year=year)
        for number, period in enumerate(quarters(year), start=1):
            if not _covered(period.start, period.end, closed):
                continue
            shown.extend(
                PublicSpend(period.label, line.key, line.label, line.actual_by_quarter[number - 1])
                for line in report.lines
                if line.group == "scheme"
            )
    return shown


def _covered(start: dt.date, end: dt.date, closed: Iterable[Period]) -> bool:
    """Whether closed periods cover every day from ``start`` to ``end``."""
    day = start
    for period in sorted(closed, key=lambda p: p.start):
        if period.start <= day <= period.end:
            day = period.end + dt.timedelta(days=1)
        if day > end:
            return True
    return False
