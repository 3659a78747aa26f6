"""What the pool's books say: budget against actual, and forecasts.

Budget monitoring follows the way pool managers report quarterly: each scheme's budget (from
the plan the pool was opened from, spread evenly over the quarters) beside what was spent,
quarter by quarter and year to date, and a forecast outturn: the pool manager's latest
forecast if there is one, otherwise the run rate (spend so far ÷ months elapsed × 12). A
traffic light says how far the forecast is from budget.

Whether NHS money replaced councils' own spending is answered from the councils' published
finance returns, not from a pool's books: see :mod:`carepool.substitution`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from sqlalchemy.orm import Session

from carepool.domain.errors import CarepoolError
from carepool.domain.ledger import Accounts, Light, run_rate, traffic_light
from carepool.domain.money import split_by_weights
from carepool.domain.periods import (
    Period,
    Quarter,
    months,
    months_elapsed,
    quarters,
    quarters_of,
    year_period,
)
from carepool.domain.plan import Scheme
from carepool.domain.roles import Principal
from carepool.pools.repository import ledger as repo
from carepool.pools.repository.ledger import ForecastRow, PoolRow
from carepool.pools.service.ledger import (
    plan_content,
    pool_label,
    record_for_pool,
    require_write,
)
from carepool.pools.service.settlement import financial_years


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
    found = _year_figures(session, pool, year, as_at)
    by_ref = {s.ref: s for s in found.schemes}
    lines = [
        _line("scheme", ref, _scheme_label(by_ref.get(ref), ref), f, found.elapsed)
        for ref, f in found.figures.items()
    ]
    lines += _grouped("area_of_spend", found, by_ref, lambda s: s.area_of_spend)
    lines += _grouped("funding_stream", found, by_ref, lambda s: s.funding_source)
    lines.append(_total_line(found))
    return BudgetReport(pool_label(pool), year, found.day, tuple(lines))


def budget_total(session: Session, pool: PoolRow, financial_year: str) -> BudgetLine:
    """The whole pool's line of :func:`budget_vs_actual` alone, for lists of every pool:
    the same figures without working out a line for each scheme and grouping."""
    return _total_line(_year_figures(session, pool, financial_year, None))


@dataclass(frozen=True, slots=True)
class YearBooks:
    """What a year's budget against actual reads from a pool's books as at a day: its scheme
    accounts' movements in each quarter, split at the day ((account, quarter index, dated on
    or before the day, amount)), and its forecasts, oldest first."""

    day: dt.date
    movements: Sequence[tuple[str, int, bool, int]]
    forecasts: Sequence[ForecastRow]


SCHEME_PREFIX = Accounts.scheme("X")[: -len("X")]


def year_books(
    session: Session, pools: Sequence[PoolRow], financial_year: str, as_at: dt.date | None
) -> dict[int, YearBooks]:
    """Each pool's :class:`YearBooks` for the year, by pool id: two queries however many
    pools (the lists of every pool read them all at once)."""
    day = as_at or min(dt.date.today(), year_period(financial_year).end)
    ids = [p.id for p in pools]
    spans = quarters(financial_year)
    moved = repo.quarter_movements_of(session, ids, SCHEME_PREFIX, spans, day)
    given = repo.forecasts_of(session, ids)
    return {i: YearBooks(day, moved[i], given[i]) for i in ids}


def budget_total_from(
    session: Session, pool: PoolRow, financial_year: str, books: YearBooks
) -> BudgetLine:
    """:func:`budget_total` from books already read."""
    return _total_line(_figures_from(session, pool, financial_year, books))


@dataclass(frozen=True, slots=True)
class _YearFigures:
    schemes: list[Scheme]
    figures: dict[str, _Figures]
    latest: dict[str | None, int]
    elapsed: Fraction
    day: dt.date


def _year_figures(
    session: Session, pool: PoolRow, year: str, as_at: dt.date | None
) -> _YearFigures:
    return _figures_from(session, pool, year, year_books(session, [pool], year, as_at)[pool.id])


def _figures_from(session: Session, pool: PoolRow, year: str, books: YearBooks) -> _YearFigures:
    period = year_period(year)
    elapsed = months_elapsed(year, books.day)
    schemes = [s for s in plan_content(session, pool).schemes if s.financial_year == year]
    spent = _spend_by_scheme(books.movements)
    latest = _latest_forecasts(books.forecasts, period.start, books.day)
    figures = _with_budgets(schemes, spent)
    for ref, f in figures.items():
        _forecast(f, latest.get(ref), elapsed)
    return _YearFigures(schemes, figures, latest, elapsed, books.day)


def _total_line(found: _YearFigures) -> BudgetLine:
    total = _Figures()
    for f in found.figures.values():
        total.add(f)
    if None in found.latest:
        total.forecast, total.forecast_given = found.latest[None], True
    return _line("total", "total", "Whole pool", total, found.elapsed)


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


def _spend_by_scheme(movements: Iterable[tuple[str, int, bool, int]]) -> dict[str, _Figures]:
    figures: dict[str, _Figures] = defaultdict(_Figures)
    for account, index, to_date, amount in movements:
        f = figures[account[len(SCHEME_PREFIX) :]]
        f.by_quarter[index] += amount
        if to_date:
            f.to_date += amount
    return dict(figures)


def _latest_forecasts(
    forecasts: Iterable[ForecastRow], since: dt.date, until: dt.date
) -> dict[str | None, int]:
    """The latest forecast for each scheme (and for the whole pool, keyed ``None``)."""
    latest: dict[str | None, int] = {}
    for row in forecasts:
        if since <= row.as_at <= until:
            latest[row.scheme] = row.amount_pence
    return latest


def _grouped(
    group: str,
    found: _YearFigures,
    by_ref: Mapping[str, Scheme],
    key: Callable[[Scheme], str],
) -> list[BudgetLine]:
    sums: dict[str, _Figures] = {}
    for ref, f in found.figures.items():
        scheme = by_ref.get(ref)
        name = key(scheme) if scheme else "Not in plan"
        sums.setdefault(name, _Figures()).add(f)
    return [_line(group, name, name, f, found.elapsed) for name, f in sorted(sums.items())]


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
# What the public sees of a pool's spend


@dataclass(frozen=True, slots=True)
class PublicSpend:
    """A scheme's actual spend in one quarter whose books are closed."""

    quarter: str
    key: str
    label: str
    actual: int


def closed_quarters(pool: PoolRow, closed: Sequence[Period]) -> list[Quarter]:
    """The pool's quarters whose every month lies in a period the pool has closed (a quarter,
    a year, or each of its months): the quarters whose spend is final, and so public."""
    return [
        q
        for q in quarters_of(financial_years(pool))
        if all(
            any(p.start <= m.start and m.end <= p.end for p in closed)
            for m in months(q.financial_year)
            if q.period.contains(m.start)
        )
    ]


def public_spend(session: Session, pool: PoolRow) -> list[PublicSpend]:
    """Each scheme's spend by quarter, for quarters whose books the finance officer closed.

    Spend is public only once its quarter is closed: until then a posting may be corrected,
    and the public would see figures move. Only scheme totals are shown, never entries, so
    nothing about a person or a supplier's invoice is published.
    """
    shut = closed_quarters(pool, repo.closed_periods(session, pool.id))
    shown: list[PublicSpend] = []
    for year in sorted({q.financial_year for q in shut}):
        report = budget_vs_actual(session, pool, financial_year=year)
        shown.extend(
            PublicSpend(q.label, line.key, line.label, line.actual_by_quarter[q.index])
            for q in shut
            if q.financial_year == year
            for line in report.lines
            if line.group == "scheme"
        )
    return shown
