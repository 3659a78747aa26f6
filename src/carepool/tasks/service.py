"""What needs each signed-in person now: their tasks, with counts, deadlines and links.

Each role's tasks are declared once, in :data:`ROLE_TASKS`: a role names the *task sources*
that concern it, and a source gathers one group of tasks (plans to sign, returns due, payment
runs to approve…) from the capabilities' services. A new role plugs in by adding its line
there; the tests refuse a role with no line. Every task links to the page where it is done,
which the role may open.

Deadlines are the framework's own (``[[deadlines]]`` in the year's file). Where the
framework sets none, as for quarterly returns, forecasts and period closes, the group says so
rather than inventing a date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy.orm import Session

from carepool.allocation import service as allocation
from carepool.budgets import service as budgets
from carepool.domain.allocation import AllocationStatus
from carepool.domain.errors import CarepoolError
from carepool.domain.framework import Framework
from carepool.domain.money import format_money
from carepool.domain.payment import RunStatus
from carepool.domain.personal_budget import BudgetStatus
from carepool.domain.plan_workflow import PlanStatus
from carepool.domain.roles import Grant, Principal, Role
from carepool.frameworks import available_years, load_framework
from carepool.geography.service import year_geography
from carepool.payments.service import runs as payment_runs
from carepool.plans import service as plans
from carepool.pools.service import ledger, returns

SHOWN = 12
"""Tasks listed under a group before the rest are left to its overview page."""

NO_RETURN_DEADLINE = (
    "The framework sets no deadline for quarterly returns: a return falls due once its "
    "quarter has ended."
)
NO_LEDGER_DEADLINE = (
    "The framework sets no deadline for forecasts or for closing a period: these are due "
    "once the quarter they cover has started (forecast) or ended (close)."
)
NO_PAYMENT_DEADLINE = "The framework sets no deadline for checking or approving a payment run."


@dataclass(frozen=True, slots=True)
class Task:
    """One thing to do, and the page where it is done."""

    title: str
    href: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class TaskGroup:
    """One kind of task: its tasks, when they are due and where to see them all."""

    key: str
    heading: str
    tasks: tuple[Task, ...]
    none_text: str
    deadlines: tuple[str, ...] = ()
    overview: Task | None = None
    count_override: int | None = None

    @property
    def count(self) -> int:
        return len(self.tasks) if self.count_override is None else self.count_override

    @property
    def shown(self) -> tuple[Task, ...]:
        return self.tasks[:SHOWN]


@dataclass
class Look:
    """What the sources read, fetched once per page: the session, the viewer and the day."""

    session: Session
    viewer: Principal
    today: dt.date
    years: Sequence[str] = field(default_factory=available_years)
    _names: dict[str, dict[str, str]] = field(default_factory=dict)

    def framework(self, year: str) -> Framework:
        return load_framework(year)

    def area_name(self, year: str, code: str) -> str:
        if year not in self._names:
            try:
                geo = year_geography(self.session, year)
            except CarepoolError:
                self._names[year] = {}
            else:
                self._names[year] = {a.code: a.name for a in geo.areas}
        return self._names[year].get(code, code)

    @cached_property
    def published(self) -> frozenset[str]:
        """The years whose allocation is published: the only ones a plan can be started for."""
        return frozenset(allocation.published_years(self.session))

    @cached_property
    def plan_rows(self) -> dict[str, list[dict[str, object]]]:
        """Every year's plans by area, as the national plan list shows them."""
        found: dict[str, list[dict[str, object]]] = {}
        for year in self.years:
            try:
                rows = plans.national_status(self.session, year)["plans"]
            except CarepoolError:  # nothing allocated or published for the year yet
                rows = []
            found[year] = list(rows)  # type: ignore[call-overload]
        return found

    @cached_property
    def pools(self) -> list[ledger.PoolRow]:
        return [pool for year in self.years for pool in ledger.pools(self.session, year)]


TaskSource = Callable[[Look, Sequence[Grant]], TaskGroup]
"""Gathers one group of tasks for a viewer from the grants that declared it."""


def _plan_deadlines(look: Look, years: Sequence[str]) -> tuple[str, ...]:
    """The frameworks' plan deadlines for the years shown, or that there are none."""
    found = []
    for year in years:
        deadlines = look.framework(year).deadlines
        found += [f"{year}: {d.name} by {_day(d.date)}" for d in deadlines]
        if not deadlines:
            found.append(f"{year}: the framework sets no deadline")
    return tuple(found)


def _day(value: dt.date) -> str:
    return f"{value.day} {value:%B %Y}"


def _areas(grants: Sequence[Grant]) -> list[str]:
    return sorted({g.area_code for g in grants if g.area_code})


# --------------------------------------------------------------------------------------------
# Plans


def plan_to_write(look: Look, grants: Sequence[Grant]) -> TaskGroup:
    """The area's plans still to start, fix and send for sign-off, and conditions to meet."""
    tasks = []
    for area in _areas(grants):
        for year in look.years:
            task = _plan_step(look, year, area)
            if task is not None:
                tasks.append(task)
    return TaskGroup(
        "plans-to-write",
        "Plans to write",
        tuple(tasks),
        "No plan is waiting for you to write or fix it.",
        _plan_deadlines(look, [year for year in look.years if year in look.published]),
    )


def _plan_step(look: Look, year: str, area: str) -> Task | None:
    name = look.area_name(year, area)
    plan = plans.find(look.session, year, area)
    base = f"/plans/{year}/{area}"
    if plan is None:
        if year not in look.published:  # no allocation yet, so nothing to start from
            return None
        return Task(f"Start the {year} plan for {name}", base, "Not started")
    if plan.status == PlanStatus.DRAFT:
        problems = len(plans.findings(look.session, plan))
        if problems:
            detail = f"{problems} problem{'s' if problems != 1 else ''} to fix"
            return Task(f"Fix the {year} plan for {name}", f"{base}/check", detail)
        return Task(f"Send the {year} plan for {name} for sign-off", base, "No problems found")
    outstanding = sum(1 for c in plan.conditions if c.met_at is None)
    if plan.status == PlanStatus.APPROVED and outstanding:
        detail = f"{outstanding} condition{'s' if outstanding != 1 else ''} still to meet"
        return Task(f"Meet the conditions of the {year} plan for {name}", base, detail)
    return None


def plans_to_sign(look: Look, grants: Sequence[Grant]) -> TaskGroup:
    """Plans awaiting local sign-off that the viewer's partner has not signed this round."""
    tasks = []
    years = set()
    for grant in grants:
        if not (grant.area_code and grant.partner_code):
            continue
        for year in look.years:
            plan = plans.find(look.session, year, grant.area_code)
            if plan is None or plan.status != PlanStatus.SIGN_OFF:
                continue
            progress = plans.progress(plan)
            partner = grant.partner_code
            if partner in progress.required_signers and partner not in progress.signed_by:
                name = look.area_name(year, grant.area_code)
                waiting = len(progress.required_signers - progress.signed_by)
                version = plans.current_version(plan).number
                detail = f"Version {version}; {waiting} signature(s) awaited in all"
                href = f"/plans/{year}/{grant.area_code}"
                tasks.append(Task(f"Sign the {year} plan for {name}", href, detail))
                years.add(year)
    return TaskGroup(
        "plans-to-sign",
        "Plans to sign",
        tuple(tasks),
        "No plan is waiting for your signature.",
        _plan_deadlines(look, sorted(years) or look.years),
    )


def _plans_at(look: Look, statuses: set[str], verb: str) -> list[Task]:
    tasks = []
    for year in look.years:
        for row in look.plan_rows[year]:
            if str(row["status"]) in statuses:
                area, name = str(row["area_code"]), str(row["area_name"])
                tasks.append(Task(f"{verb} the {year} plan for {name}", f"/plans/{year}/{area}",
                                  str(row["status"])))  # fmt: skip
    return tasks


def plans_to_assure(look: Look, grants: Sequence[Grant]) -> TaskGroup:
    """Submitted plans to take into assurance and plans in assurance to categorise."""
    statuses = {PlanStatus.SUBMITTED.value, PlanStatus.ASSURANCE.value}
    return TaskGroup(
        "plans-to-assure",
        "Plans to assure",
        tuple(_plans_at(look, statuses, "Assure")),
        "No plan is waiting for regional assurance.",
        _plan_deadlines(look, look.years),
    )


def plans_to_decide(look: Look, grants: Sequence[Grant]) -> TaskGroup:
    """Plans awaiting the national decision that the viewer's approver role has not yet
    approved (each of health and local government must)."""
    roles = {g.role for g in grants}
    tasks = []
    for task in _plans_at(look, {PlanStatus.NATIONAL.value}, "Decide on"):
        year, area = task.href.split("/")[2:4]
        plan = plans.find(look.session, year, area)
        if plan is not None and not roles <= plans.progress(plan).approved_by:
            tasks.append(task)
    return TaskGroup(
        "plans-to-decide",
        "Plans awaiting your national decision",
        tuple(tasks),
        "No plan is waiting for your decision.",
        _plan_deadlines(look, look.years),
    )


def escalations_to_resolve(look: Look, grants: Sequence[Grant]) -> TaskGroup:
    """Plans an approver escalated, which the national administrator resolves."""
    return TaskGroup(
        "escalations",
        "Escalated plans to resolve",
        tuple(_plans_at(look, {PlanStatus.ESCALATED.value}, "Resolve")),
        "No plan has been escalated.",
        _plan_deadlines(look, look.years),
    )


UNSUBMITTED_PLANS = {"Not started", PlanStatus.DRAFT.value, PlanStatus.SIGN_OFF.value}


def plans_to_chase(look: Look, grants: Sequence[Grant]) -> TaskGroup:
    """For the national team: each year's areas whose plan is not yet submitted."""
    tasks = []
    for year in look.years:
        late = [r for r in look.plan_rows[year] if str(r["status"]) in UNSUBMITTED_PLANS]
        if late:
            detail = f"{len(late)} of {len(look.plan_rows[year])} areas"
            tasks.append(Task(f"Chase {year} plans not yet submitted", f"/plans/{year}", detail))
    return TaskGroup(
        "plans-to-chase",
        "Plans to chase",
        tuple(tasks),
        "Every area has submitted its plan.",
        _plan_deadlines(look, look.years),
        count_override=sum(
            1 for year in look.years for r in look.plan_rows[year]
            if str(r["status"]) in UNSUBMITTED_PLANS
        ),
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# Pooled budgets


def _own_pools(look: Look, grants: Sequence[Grant]) -> list[ledger.PoolRow]:
    areas = set(_areas(grants))
    return [pool for pool in look.pools if pool.area_code in areas]


def _return_href(pool: ledger.PoolRow, slug: str) -> str:
    return f"/pools/{pool.year}/{pool.area_code}/returns/{slug}"


def returns_due(look: Look, grants: Sequence[Grant]) -> TaskGroup:
    """Quarterly returns whose quarter has ended and which are not yet submitted."""
    tasks = []
    for pool in _own_pools(look, grants):
        stored = returns.returns_of(look.session, pool)
        name = look.area_name(pool.year, pool.area_code)
        for quarter in returns.pool_quarters(pool):
            row = stored.get(quarter.label)
            status = row.status if row else returns.NOT_STARTED
            if quarter.period.end < look.today and status in returns.UNSUBMITTED:
                title = f"Submit the {quarter.label} return for {name}"
                ended = f"{status}; quarter ended {_day(quarter.period.end)}"
                tasks.append(Task(title, _return_href(pool, quarter.slug), ended))
    return TaskGroup(
        "returns-due", "Quarterly returns due", tuple(tasks),
        "No quarterly return is due.", (NO_RETURN_DEADLINE,),
    )  # fmt: skip


def forecasts_due(look: Look, grants: Sequence[Grant]) -> TaskGroup:
    """Pools still running whose latest forecast predates the current quarter."""
    tasks = []
    for pool in _own_pools(look, grants):
        if look.today > pool.ends or look.today < pool.starts:
            continue
        quarter = returns.current_quarter(pool, look.today)
        latest = returns.latest_forecast(look.session, pool)
        if latest is None or latest.as_at < quarter.period.start:
            name = look.area_name(pool.year, pool.area_code)
            last = f"last forecast {_day(latest.as_at)}" if latest else "no forecast yet"
            href = f"/pools/{pool.year}/{pool.area_code}?quarter={quarter.slug}#forecast"
            tasks.append(Task(f"Update the {quarter.label} forecast for {name}", href, last))
    return TaskGroup(
        "forecasts-due", "Forecasts to update", tuple(tasks),
        "No forecast needs updating.", (NO_LEDGER_DEADLINE,),
    )  # fmt: skip


def periods_to_close(look: Look, grants: Sequence[Grant]) -> TaskGroup:
    """Quarters that have ended and whose books are still open."""
    tasks = []
    for pool in _own_pools(look, grants):
        shut = {p.label for p in ledger.closed_periods(look.session, pool)}
        name = look.area_name(pool.year, pool.area_code)
        for quarter in returns.pool_quarters(pool):
            if quarter.period.end < look.today and quarter.label not in shut:
                href = f"/pools/{pool.year}/{pool.area_code}/periods"
                ended = f"quarter ended {_day(quarter.period.end)}"
                tasks.append(Task(f"Close {quarter.label} for {name}", href, ended))
    return TaskGroup(
        "periods-to-close", "Periods to close", tuple(tasks),
        "No ended quarter is still open.", (NO_LEDGER_DEADLINE,),
    )  # fmt: skip


def returns_to_sign_off(look: Look, grants: Sequence[Grant]) -> TaskGroup:
    """Submitted returns the board's chair signs off (or sends back)."""
    tasks = []
    for year in look.years:
        for area, label in returns.awaiting_sign_off(look.session, look.viewer, year):
            slug = label.replace(" ", "-")
            name = look.area_name(year, area)
            href = f"/pools/{year}/{area}/returns/{slug}"
            tasks.append(Task(f"Sign off the {label} return for {name}", href, "Submitted"))
    return TaskGroup(
        "returns-to-sign-off", "Quarterly returns to sign off", tuple(tasks),
        "No quarterly return is waiting for your sign-off.", (NO_RETURN_DEADLINE,),
    )  # fmt: skip


def returns_to_chase(look: Look, grants: Sequence[Grant]) -> TaskGroup:
    """For the national team: returns whose quarter has ended and are still not submitted."""
    tasks = []
    total = 0
    for year in look.years:
        if not any(pool.year == year for pool in look.pools):
            continue
        late = returns.overview(look.session, look.viewer, year, look.today).chase
        total += len(late)
        if late:
            areas = len({cell.area_code for cell in late})
            detail = f"{len(late)} returns from {areas} areas"
            tasks.append(Task(f"Chase overdue {year} returns", f"/pools/{year}/returns", detail))
    return TaskGroup(
        "returns-to-chase", "Quarterly returns to chase", tuple(tasks),
        "No quarterly return is overdue.", (NO_RETURN_DEADLINE,), count_override=total,
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# Allocations and payments


def allocations_to_approve(look: Look, grants: Sequence[Grant]) -> TaskGroup:
    """Allocation versions still in draft or approved but not yet published."""
    waiting = {AllocationStatus.DRAFT.value: "Approve", AllocationStatus.APPROVED.value: "Publish"}
    tasks = []
    for year in look.years:
        for run in allocation.runs(look.session, year):
            verb = waiting.get(str(run.status))
            if verb:
                href = f"/allocations/{year}?version={run.version}"
                tasks.append(Task(f"{verb} {year} allocation version {run.version}", href,
                                  str(run.status)))  # fmt: skip
    return TaskGroup(
        "allocations", "Allocations to approve or publish", tuple(tasks),
        "No allocation is waiting for approval or publication.",
        ("The framework sets no deadline for approving an allocation.",),
    )  # fmt: skip


def _runs_at(look: Look, status: RunStatus, verb: str) -> list[Task]:
    tasks = []
    for year in look.years:
        for run in payment_runs.runs(look.session, year):
            if run.status == status:
                title = f"{verb} the {run.quarter} payment run (version {run.version})"
                tasks.append(Task(title, f"/payments/{year}", f"{len(run.lines)} areas"))
    return tasks


def payment_runs_to_check(look: Look, grants: Sequence[Grant]) -> TaskGroup:
    """Drafted payment runs waiting for their check."""
    return TaskGroup(
        "payments-to-check", "Payment runs to check",
        tuple(_runs_at(look, RunStatus.DRAFT, "Check")),
        "No payment run is waiting to be checked.", (NO_PAYMENT_DEADLINE,),
    )  # fmt: skip


def payment_runs_to_approve(look: Look, grants: Sequence[Grant]) -> TaskGroup:
    """Checked payment runs waiting for approval."""
    return TaskGroup(
        "payments-to-approve", "Payment runs to approve",
        tuple(_runs_at(look, RunStatus.CHECKED, "Approve")),
        "No payment run is waiting for approval.", (NO_PAYMENT_DEADLINE,),
    )  # fmt: skip


REVIEW_NOTICE = dt.timedelta(days=28)
"""How far ahead a budget's review shows as a task: four weeks to arrange it with the person."""

NO_REVIEW_DEADLINE = (
    "Each budget's review date is its own, set in its support plan; the framework sets none."
)


def budgets_to_review(look: Look, grants: Sequence[Grant]) -> TaskGroup:
    """Live budgets whose review falls due within four weeks (or is overdue)."""
    horizon = look.today + REVIEW_NOTICE
    tasks = []
    for area in _areas(grants):
        live = budgets.list_budgets(look.session, area, look.viewer, live_on=look.today)
        due = [b for b in live if b.status != BudgetStatus.ENDED and b.review_due <= horizon]
        for budget in sorted(due, key=lambda b: (b.review_due, b.reference)):
            late = "overdue since" if budget.review_due < look.today else "due"
            tasks.append(
                Task(
                    f"Review budget {budget.reference}",
                    f"/budgets/{area}/people/{budget.reference}",
                    f"Review {late} {_day(budget.review_due)}",
                )
            )
    return TaskGroup(
        "budgets-to-review", "Personal budgets to review", tuple(tasks),
        "No personal budget's review falls due in the next four weeks.", (NO_REVIEW_DEADLINE,),
    )  # fmt: skip


def budgets_overspent(look: Look, grants: Sequence[Grant]) -> TaskGroup:
    """Budgets whose spend has passed the whole budget: each needs its plan looked at."""
    tasks = [
        Task(
            f"Budget {reference} is overspent",
            f"/budgets/{area}/people/{reference}",
            f"spent {format_money(spent)} of {format_money(total)}",
        )
        for area in _areas(grants)
        for reference, total, spent in budgets.overspent(look.session, look.viewer, area)
    ]
    return TaskGroup(
        "budgets-overspent", "Personal budgets overspent", tuple(tasks),
        "No personal budget has spent more than its whole.",
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# Each role's tasks, declared once

ROLE_TASKS: Mapping[Role, tuple[TaskSource, ...]] = {
    Role.NATIONAL_ADMIN: (
        allocations_to_approve, escalations_to_resolve, payment_runs_to_check,
        payment_runs_to_approve, plans_to_chase, returns_to_chase,
    ),
    Role.ASSURER: (plans_to_assure, plans_to_chase),
    Role.HEALTH_APPROVER: (plans_to_decide, payment_runs_to_approve),
    Role.LG_APPROVER: (plans_to_decide,),
    Role.ANALYST: (payment_runs_to_check, plans_to_chase, returns_to_chase),
    Role.AREA_EDITOR: (plan_to_write,),
    Role.AREA_SIGNATORY: (plans_to_sign, returns_to_sign_off),
    Role.POOL_FINANCE: (returns_due, forecasts_due, periods_to_close),
    Role.BUDGET_COORDINATOR: (budgets_to_review, budgets_overspent),
}  # fmt: skip
"""The task sources each role sees, in the order their groups are shown. A source declared by
several of a person's roles is shown once, from all those roles' grants."""


def sources_for(viewer: Principal) -> list[tuple[TaskSource, list[Grant]]]:
    """The viewer's task sources, each with the grants that declared it, in declared order."""
    chosen: dict[TaskSource, list[Grant]] = {}
    for role in Role:
        grants = sorted((g for g in viewer.grants if g.role is role), key=str)
        for source in ROLE_TASKS.get(role, ()) if grants else ():
            chosen.setdefault(source, []).extend(grants)
    return list(chosen.items())


def tasks_for(session: Session, viewer: Principal, today: dt.date | None = None) -> list[TaskGroup]:
    """Every group of tasks the viewer's roles declare, gathered now."""
    look = Look(session, viewer, today or dt.date.today())
    return [source(look, grants) for source, grants in sources_for(viewer)]
