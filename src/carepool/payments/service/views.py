"""What the payment pages, their downloads and the API show, and to whom.

The rules are decided here, once, so that a page, its CSV and the API can never disagree:

- **Who sees which payments.** National roles see each quarter's current run whatever its
  status. An area's own people (its plan editors, signatories and pool finance officers) see
  their own area's payments in every status, so that they can question a figure before it is
  paid. Everyone else, the public and other areas' people, sees only payments that have been
  paid: paying a run is what publishes it. A payment not yet paid is, to them, a payment that
  does not exist, with the same words.
- **Who sees exact counts.** The measured count of admissions comes from person-level data.
  National roles see it exactly, and so do an area's own people for their own area (the
  payment is theirs to check to the penny). Everyone else sees it through
  :mod:`carepool.domain.disclosure`: 1 to 7 withheld, other counts rounded to the nearest 5.
  Money is always shown exactly: it is public spending. The baseline and the plan come from
  the approved plan and are shown as the plan states them.
- **What the public explanation leaves out.** Ledger entry ids, audit chain positions and
  hashes, and who took each step (staff usernames). It keeps the framework file's hash, the
  formula with the numbers filled in (the count as published) and the recomputation.
- **Which step each person may take now.** :func:`offers` asks the payment workflow, with
  the run's facts, so a button is shown exactly when pressing it would work; where a guard
  stands in the way (four eyes), the refusal is given instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from carepool.audit import service as audit
from carepool.domain.disclosure import SUPPRESSED_SYMBOL, Cell, publish_count
from carepool.domain.errors import CarepoolError, Conflict, NotFound
from carepool.domain.geography import Area
from carepool.domain.payment import (
    PAYMENT_WORKFLOW,
    RULE_KINDS,
    PaymentLine,
    RunAction,
    RunFacts,
    RunStatus,
    rule_for,
)
from carepool.domain.periods import Period
from carepool.domain.roles import Principal, Role
from carepool.domain.workflow import Scope
from carepool.frameworks import load_framework
from carepool.geography.service import year_geography
from carepool.metrics.service import results as metric_results
from carepool.payments import repository as repo
from carepool.payments.repository import PaymentRunRow
from carepool.payments.service import explain as explanations
from carepool.payments.service import status as standing
from carepool.payments.service.ambitions import PAYMENT_METRIC, quarter_period
from carepool.payments.service.explain import Explanation, Step
from carepool.payments.service.runs import run_in_play, run_label
from carepool.pools.service import ledger

QUARTERS = ("Q1", "Q2", "Q3", "Q4")
"""How a quarter of the year's payments is named in addresses, forms and the API."""

STEPS = (RunAction.CHECK, RunAction.APPROVE, RunAction.PAY, RunAction.SEND_BACK)
"""The steps a person takes on a run (a true-up happens by paying a revised run)."""

_REASON_ON_THE_FORM = "a reason is asked for on the form"
"""The comment :func:`offers` checks a send-back with: the form asks for the real one, and the
service checks that when the step is taken."""


def quarter_number(text: str) -> int:
    """``Q1``..``Q4`` as 1..4; anything else is not one of the year's payment quarters."""
    if text not in QUARTERS:
        raise NotFound(f"{text!r} is not a quarter: use Q1, Q2, Q3 or Q4")
    return QUARTERS.index(text) + 1


def sees_area(viewer: Principal, area_code: str) -> bool:
    """Whether the viewer sees the area's payments in every status, exactly (national roles
    and the area's own people)."""
    return viewer.can_see_area(area_code)


# --------------------------------------------------------------------------------------------
# The year's design and runs


@dataclass(frozen=True, slots=True)
class Design:
    """The payment design in force for a year, and whether carepool can run it."""

    kind: str
    note: str
    payable: bool


def design(year: str) -> Design:
    found = load_framework(year).payment_in_force
    return Design(found.kind, found.note, found.kind in RULE_KINDS)


@dataclass(frozen=True)
class QuarterRuns:
    """A quarter, every run drafted for it (oldest first), and how many areas have a measured
    value for it in the latest data vintage (a run can be drafted only from those)."""

    number: int
    period: Period
    runs: tuple[PaymentRunRow, ...]
    measured: int

    @property
    def slug(self) -> str:
        return QUARTERS[self.number - 1]

    @property
    def label(self) -> str:
        return self.period.label

    @property
    def in_play(self) -> PaymentRunRow | None:
        """The newest run not trued up: the one the next step acts on."""
        live = [r for r in self.runs if r.status != RunStatus.TRUED_UP]
        return live[-1] if live else None

    @property
    def current(self) -> PaymentRunRow | None:
        """The run that counts: the newest paid one, else the one in play."""
        paid = [r for r in self.runs if r.status == RunStatus.PAID]
        return paid[-1] if paid else self.in_play


def quarters(session: Session, year: str) -> list[QuarterRuns]:
    """The year's four payment quarters with their runs, for showing: kept until the data
    change, as a quarter's runs hold every area's line (the runs are read with their lines
    and events, so a kept run needs no session; the steps read runs afresh)."""
    return list(
        audit.until_changed(session, "payment quarters", year, lambda: _quarters(session, year))
    )


def _quarters(session: Session, year: str) -> tuple[QuarterRuns, ...]:
    stored = repo.runs(session, year)
    measured = _measured(session, year)
    found = []
    for number in range(1, 5):
        period = quarter_period(year, number)
        runs = tuple(r for r in stored if r.quarter == period.label)
        found.append(QuarterRuns(number, period, runs, measured[number - 1]))
    return tuple(found)


def _measured(session: Session, year: str) -> tuple[int, ...]:
    """How many areas have a stored value of the payment metric in each quarter of the year."""
    return tuple(
        len(metric_results.period_values(session, PAYMENT_METRIC, quarter_period(year, n).label))
        for n in range(1, 5)
    )


@dataclass(frozen=True, slots=True)
class Offer:
    """A step the viewer holds a role for: allowed now, or refused with the reason."""

    action: RunAction
    allowed: bool
    reason: str = ""


def offers(run: PaymentRunRow, viewer: Principal) -> list[Offer]:
    """The steps open from the run's status that the viewer holds a role for, each checked
    against the run's guards (four eyes) as taking it now would be."""
    status = RunStatus(run.status)
    facts = RunFacts(run.drafted_by, run.checked_by, viewer.username, _REASON_ON_THE_FORM)
    found = []
    for action in PAYMENT_WORKFLOW.open_actions(status):
        if action not in STEPS or not PAYMENT_WORKFLOW.may(status, action, viewer, Scope()):
            continue
        try:
            PAYMENT_WORKFLOW.check(status, action, viewer, Scope(), facts)
        except CarepoolError as refusal:
            found.append(Offer(action, False, refusal.message))
        else:
            found.append(Offer(action, True))
    return found


def may_draft(viewer: Principal, quarter: QuarterRuns) -> bool:
    """A national administrator drafts a quarter's run once some area's admissions for it are
    stored: when none is in play, again from newer data while it is a draft, and as a revised
    run once it is paid (which trues the paid one up). A checked or approved run is sent back
    first."""
    in_play = quarter.in_play
    return (
        viewer.has(Role.NATIONAL_ADMIN)
        and quarter.measured > 0
        and (in_play is None or in_play.status in (RunStatus.DRAFT, RunStatus.PAID))
    )


def run_to_act_on(session: Session, year: str, number: int, version: int | None) -> PaymentRunRow:
    """The quarter's run in play; if the page showed another version, a conflict, so that
    nobody approves or pays a run they have not seen."""
    run = run_in_play(session, year, number)
    if version is not None and run.version != version:
        raise Conflict(
            f"you acted on version {version}, but {run_label(run)} ({run.status.lower()}) is "
            "now the run in play; look at it again before you act on it"
        )
    return run


# --------------------------------------------------------------------------------------------
# Payments as a viewer may see them


@dataclass(frozen=True, slots=True)
class PaymentRow:
    """One area's payment for one quarter, as the viewer may see it.

    ``actual`` is the measured count as shown: exact, or rounded for publication; ``None``
    when withheld or not measured (``withheld`` tells the two apart).
    """

    area_code: str
    area_name: str
    region: str
    line: PaymentLine
    run: str
    run_status: str
    final: bool
    actual: Decimal | None
    withheld: bool
    exact: bool

    @property
    def slug(self) -> str:
        return self.line.quarter.rsplit(" ", 1)[1]

    @property
    def actual_shown(self) -> str:
        if self.withheld:
            return SUPPRESSED_SYMBOL
        return "" if self.actual is None else f"{self.actual:,}"

    @property
    def paid(self) -> bool:
        return self.run_status == RunStatus.PAID


def published_count(actual: Decimal | None) -> Cell | None:
    """A measured count as the public may see it; ``None`` when nothing was measured."""
    if actual is None:
        return None
    return publish_count(int(actual.to_integral_value()))


def _row(areas: dict[str, Area], found: standing.StatusRow, exact: bool) -> PaymentRow:
    line = found.line
    area = areas.get(line.area_code)
    actual, withheld = line.actual, False
    if not exact:
        cell = published_count(line.actual)
        actual = None if cell is None or cell.value is None else Decimal(cell.value)
        withheld = cell is not None and cell.value is None
    return PaymentRow(
        area_code=line.area_code,
        area_name=area.name if area else line.area_code,
        region=(area.region or "") if area else "",
        line=line,
        run=found.run,
        run_status=found.run_status,
        final=found.final,
        actual=actual,
        withheld=withheld,
        exact=exact,
    )


def year_rows(session: Session, year: str, viewer: Principal) -> list[PaymentRow]:
    """Every area's payment in each quarter with a run: all of them, exactly, for national
    roles; the paid ones, counts under publication control, for everyone else. By area
    name, then quarter."""
    exact = viewer.is_national

    def work() -> tuple[PaymentRow, ...]:
        areas = {a.code: a for a in year_geography(session, year).areas}
        rows = [
            _row(areas, found, exact)
            for found in standing.status(session, year)
            if exact or found.run_status == RunStatus.PAID
        ]
        return tuple(sorted(rows, key=lambda r: (r.area_name, r.area_code, r.line.quarter)))

    # Every area's standing in every quarter, the same for everyone of a kind until a run
    # or a value changes.
    return list(audit.until_changed(session, "payment rows", (year, exact), work))


def area_rows(session: Session, year: str, area_code: str, viewer: Principal) -> list[PaymentRow]:
    """The area's payment in each quarter with a run, as :func:`year_rows` but with every
    status and exact counts for the area's own people."""
    geo = year_geography(session, year)
    areas = {area_code: geo.area(area_code)}  # an unknown area is not found, whoever asks
    full = sees_area(viewer, area_code)
    return [
        _row(areas, found, full)
        for found in standing.status(session, year)
        if found.line.area_code == area_code and (full or found.run_status == RunStatus.PAID)
    ]


def has_pool(session: Session, year: str, area_code: str) -> bool:
    return any(pool.area_code == area_code for pool in ledger.pools(session, year))


def may_read_books(viewer: Principal, area_code: str) -> bool:
    """Whether the viewer reads the area's pool, where the payment's entries are posted."""
    return ledger.may_read(viewer, area_code)


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """The area's line in one of the year's runs, paid, trued up or still being made."""

    run: str
    run_status: str
    final: bool
    line: PaymentLine


def area_history(session: Session, year: str, area_code: str) -> list[HistoryRow]:
    """Every run that had a line for the area, by quarter and version (for its own people
    and the national team: a true-up shows here as a trued-up run and its replacement)."""
    found = []
    for row in repo.area_lines(session, year, area_code):
        run = row.run
        line = repo.line_of(row, run.quarter)
        found.append(HistoryRow(run_label(run), run.status, not run.provisional, line))
    return found


# --------------------------------------------------------------------------------------------
# Why this amount, for each viewer


@dataclass(frozen=True)
class PublishedExplanation:
    """An explanation as the public may read it: the paid amounts exactly, the count under
    publication control, and no ledger ids, audit hashes or staff names."""

    found: Explanation
    actual: Cell | None
    population: Cell | None
    working: str
    plan_steps: tuple[Step, ...]
    run_steps: tuple[Step, ...]
    posted_on: tuple[dt.date, ...]


def explanation(
    session: Session, year: str, area_code: str, number: int, viewer: Principal
) -> Explanation | PublishedExplanation:
    """The area's payment for quarter ``number`` explained: the whole chain for national roles
    and the area's own people; for everyone else the published explanation of a paid payment,
    and otherwise not found."""
    year_geography(session, year).area(area_code)
    if sees_area(viewer, area_code):
        return explanations.explain(session, year, area_code, number)
    label = quarter_period(year, number).label
    unpublished = NotFound(
        f"no payment to {area_code} for {label} has been published: a payment is published "
        "once it has been paid"
    )
    try:
        found = explanations.explain(session, year, area_code, number)
    except NotFound:
        raise unpublished from None
    if found.run_status != RunStatus.PAID:
        raise unpublished
    return published(found)


def published(found: Explanation) -> PublishedExplanation:
    rule = rule_for(found.design_kind, found.parameters)
    actual = published_count(found.line.actual)
    shown = "" if actual is None else actual.shown
    return PublishedExplanation(
        found=found,
        actual=actual,
        population=None if found.population is None else publish_count(found.population),
        working=rule.published_working(found.line, shown.replace(",", "")),
        plan_steps=_anonymous(found.plan_steps),
        run_steps=_anonymous(found.run_steps),
        posted_on=tuple(sorted({e.date for e in found.ledger_entries})),
    )


def _anonymous(steps: Sequence[Step]) -> tuple[Step, ...]:
    """Steps with what happened and when, but not who did it."""
    return tuple(Step(s.action, "", s.at) for s in steps)
