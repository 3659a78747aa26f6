"""Payment for performance: quarterly runs drafted from the stored evidence, checked and
approved by the national team, paid into the pools, and explained line by line.

A run reads three things and records where each came from: the framework's payment design
(the file's SHA-256 and the design's parameters), each area's approved plan (the version its
pool was opened from: the baseline and the quarter's ambition) and the stored metric values
(their definition version and data vintage). The arithmetic is the domain's
(:mod:`carepool.domain.payment`), so an explanation can recompute any line from the stored
inputs and show that it gives the posted pence.

Paying a run posts, for each area with a pot, two balanced entries into its pool sharing one
correlation key: the pot set aside into the performance element's own account, then released
to the pool's funds as earned, the rest back to the CCGs. A run on a revised data vintage
trues up the paid one: for each area whose payment changes, the old entries are reversed and
replacements posted under the new run's key, and the difference is shown.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from carepool.audit import repository as audit
from carepool.domain.errors import CarepoolError, Conflict, NotFound
from carepool.domain.ledger import Accounts, Entry, EntryKind, Posting
from carepool.domain.metric_value import MetricValue
from carepool.domain.money import Pence, split_by_weights
from carepool.domain.payment import (
    PAYMENT_WORKFLOW,
    PaymentLine,
    QuarterResult,
    RunAction,
    RunFacts,
    RunStatus,
    TrueUp,
    rule_for,
    true_ups,
)
from carepool.domain.plan import PlanContent
from carepool.domain.roles import Principal, Role
from carepool.domain.workflow import Scope
from carepool.frameworks import framework_sha256, load_framework
from carepool.metrics.service import results as metric_results
from carepool.payments import repository as repo
from carepool.payments.repository import LineSource, PaymentRunRow, StatusChange
from carepool.payments.service import ambitions
from carepool.payments.service.ambitions import PAYMENT_METRIC, quarter_period
from carepool.pools.service import ledger
from carepool.pools.service.ledger import PoolRow
from carepool.store.db import flush


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def run_label(run: PaymentRunRow) -> str:
    return f"{run.quarter} v{run.version}"


@dataclass(frozen=True, slots=True)
class AreaInputs:
    """One area's inputs to a quarter's payment, with where each came from."""

    pool: PoolRow
    result: QuarterResult
    source: LineSource


@dataclass(frozen=True)
class RunOutcome:
    """What drafting a run did: the run (new, or the same one again), the areas it could not
    pay for lack of a measured value, and how it changes a paid run it trues up."""

    run: PaymentRunRow
    created: bool
    missing: tuple[str, ...]
    true_ups: tuple[TrueUp, ...]


def draft(
    session: Session,
    year: str,
    number: int,
    actor: Principal,
    *,
    data_vintage: str | None = None,
    final: bool = False,
) -> RunOutcome:
    """Draft the quarter's run for every area with a pool, from the stored inputs.

    Running again on the same inputs gives back the same run and writes nothing. Areas with
    no measured value are named and get no line. A run on a data vintage other than the paid
    run's trues that run up when it is paid.
    """
    actor.require(Role.NATIONAL_ADMIN)
    period = quarter_period(year, number)
    design = load_framework(year).payment_in_force
    rule = rule_for(design.kind, design.parameters)
    vintage = data_vintage or metric_results.latest_vintage(session, PAYMENT_METRIC)
    if vintage is None:
        raise NotFound(
            f"no {PAYMENT_METRIC} values are stored: run 'carepool metrics compute' first"
        )
    inputs, missing = gather(session, year, number, period.label, vintage)
    if not inputs:
        named = ", ".join(missing[:10]) + (
            f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        )
        raise NotFound(
            f"no area can be paid for {period.label}: "
            + (
                f"no measured value for {len(missing)} areas ({named})"
                if missing
                else "no pool is open"
            )
        )
    lines = [(rule.assess(i.result), i.source) for i in inputs]
    existing = repo.runs(session, year, period.label)
    same = _same_run(existing, vintage, lines)
    paid = next((r for r in reversed(existing) if r.status == RunStatus.PAID), None)
    if paid is not None:
        _require_every_paid_area(paid, missing, vintage)
    changes = tuple(_true_ups(paid, [line for line, _ in lines])) if paid else ()
    if same is not None:
        return RunOutcome(same, False, missing, changes)
    run = repo.add_run(
        session,
        run=PaymentRunRow(
            year=year,
            quarter=period.label,
            version=(existing[-1].version + 1) if existing else 1,
            design_kind=design.kind,
            parameters=dict(design.parameters),
            framework_sha256=framework_sha256(year),
            metric=PAYMENT_METRIC,
            data_vintage=vintage,
            provisional=not final,
            trues_up_id=paid.id if paid else None,
            correlation=f"payment:{period.label}:{secrets.token_hex(6)}",
            drafted_by=actor.username,
            created_at=_now(),
        ),
        lines=lines,
        created=StatusChange(None, RunStatus.DRAFT, actor.username, _now(), "drafted"),
    )
    audit.record(
        session,
        actor=actor.username,
        action="create",
        entity="payment_run",
        entity_id=run_label(run),
        after={
            "data_vintage": vintage,
            "framework_sha256": run.framework_sha256,
            "lines": len(lines),
            "pot_pence": sum(line.pot_pence for line, _ in lines),
            "released_pence": sum(line.released_pence for line, _ in lines),
            "trues_up": run_label(paid) if paid else None,
        },
    )
    return RunOutcome(run, True, missing, changes)


def gather(
    session: Session, year: str, number: int, label: str, vintage: str
) -> tuple[list[AreaInputs], tuple[str, ...]]:
    """Each pooled area's baseline, ambition and measured value for the quarter, and the
    areas with no measured value (or one for a quarter the data only partly covers)."""
    measured = {
        v.area_code: v
        for v in metric_results.period_values(session, PAYMENT_METRIC, label, data_vintage=vintage)
    }
    inputs, missing = [], []
    pools = ledger.pools(session, year)
    found = ambitions.all_in_force(session, year, pools)
    for pool in pools:
        ambition = found[pool.area_code]
        if ambition is None:
            continue
        value = measured.get(pool.area_code)
        if value is None or not value.complete:
            missing.append(pool.area_code)
            continue
        plan = ambition.quarters[number - 1]
        baseline = ambition.baselines[number - 1]
        result = QuarterResult(pool.area_code, label, baseline, plan, _actual(value))
        source = LineSource(ambition.plan_version, value.definition_version, ambition.revision_id)
        inputs.append(AreaInputs(pool, result, source))
    return inputs, tuple(missing)


def _actual(value: MetricValue) -> Decimal:
    """The quarter's count of admissions: a count metric's value is its numerator."""
    return Decimal(value.numerator)


def _same_run(
    existing: Sequence[PaymentRunRow], vintage: str, lines: Sequence[tuple[PaymentLine, LineSource]]
) -> PaymentRunRow | None:
    """The newest run still in play, if it was drafted from exactly these inputs."""
    live = [r for r in existing if r.status != RunStatus.TRUED_UP]
    if not live:
        return None
    newest = live[-1]
    stored = {
        row.area_code: (repo.line_of(row, newest.quarter), repo.source_of(row))
        for row in newest.lines
    }
    fresh = {line.area_code: (line, source) for line, source in lines}
    return newest if newest.data_vintage == vintage and stored == fresh else None


def _require_every_paid_area(paid: PaymentRunRow, missing: Sequence[str], vintage: str) -> None:
    """A true-up replaces a paid run's lines: an area it paid must have a revised value, or
    its payment would stay in the pool while the new run said it had none."""
    unmeasured = sorted({row.area_code for row in paid.lines} & set(missing))
    if unmeasured:
        raise Conflict(
            f"{run_label(paid)} paid {', '.join(unmeasured)}, but data vintage {vintage[:12]} "
            "has no value for them: a true-up needs a measured value for every area it paid, "
            "so nothing was drafted"
        )


def _true_ups(paid: PaymentRunRow, lines: Sequence[PaymentLine]) -> list[TrueUp]:
    return true_ups(_lines(paid), lines)


def _changed_areas(previous: PaymentRunRow, run: PaymentRunRow) -> set[str]:
    """Areas whose payment a true-up changes, or which the paid run had no line for."""
    before = {row.area_code for row in previous.lines}
    new = {row.area_code for row in run.lines} - before
    return new | {t.area_code for t in _true_ups(previous, _lines(run))}


# The run's life -----------------------------------------------------------------------------


def find(session: Session, run_id: int) -> PaymentRunRow:
    run = repo.find_run(session, run_id)
    if run is None:
        raise NotFound(f"there is no payment run {run_id}")
    return run


def move(
    session: Session, run: PaymentRunRow, action: RunAction, actor: Principal, comment: str = ""
) -> PaymentRunRow:
    """Check, approve or send back a run (paying is :func:`pay`)."""
    if action in (RunAction.PAY, RunAction.TRUE_UP):
        raise CarepoolError("a run is paid with 'pay', which also posts it to the pools")
    _step(session, run, action, actor, comment)
    if action is RunAction.CHECK:
        run.checked_by = actor.username
    flush(session, conflict="this payment run")
    return run


def _step(
    session: Session, run: PaymentRunRow, action: RunAction, actor: Principal, comment: str
) -> None:
    current = RunStatus(run.status)
    facts = RunFacts(run.drafted_by, run.checked_by, actor.username, comment)
    done = PAYMENT_WORKFLOW.apply(current, action, actor, Scope(), facts)
    run.status = done.target.value
    repo.append_event(run, StatusChange(current, done.target, actor.username, _now(), comment))
    audit.record(
        session,
        actor=actor.username,
        action=action.value,
        entity="payment_run",
        entity_id=run_label(run),
        before={"status": current.value},
        after={"status": done.target.value, "comment": comment},
    )


@dataclass(frozen=True)
class PayOutcome:
    """What paying did: entries posted per area, and the run it trued up (if any)."""

    run: PaymentRunRow
    entries: dict[str, list[int]]
    trued_up: PaymentRunRow | None
    already: bool


def pay(session: Session, run: PaymentRunRow, actor: Principal) -> PayOutcome:
    """Pay an approved run: post every line into its area's pool, all or nothing.

    Paying a paid run again posts nothing. A run that trues up a paid one reverses that run's
    entries for each area whose payment changed and posts the new amounts. A pool whose year
    is settled refuses the run, naming the settlement: the payment would change what was
    shared out, and moving it on into the next year would hide that.
    """
    if run.status == RunStatus.PAID:
        return PayOutcome(run, {}, None, True)
    previous = repo.find_run(session, run.trues_up_id) if run.trues_up_id else None
    _step(session, run, RunAction.PAY, actor, "paid into the pools")
    changed = _changed_areas(previous, run) if previous else None
    nhs_stream = load_framework(run.year).plan_rules.nhs_stream
    pools = {pool.area_code: pool for pool in ledger.pools(session, run.year)}
    paying = [row for row in run.lines if changed is None or row.area_code in changed]
    missing = sorted(row.area_code for row in paying if row.area_code not in pools)
    if missing:  # pragma: no cover - lines are only made for pooled areas
        raise NotFound(f"no pool to pay into for {', '.join(missing)}")
    ledger.warm_plan_contents(session, run.year, [pools[row.area_code] for row in paying])
    closed = ledger.closed_periods_of(session, [pools[row.area_code] for row in paying])
    reversed_ids: dict[str, list[int]] = {}
    batches = []
    for row in paying:
        pool = pools[row.area_code]
        ledger.refuse_settled(session, pool, [quarter_end(run)], closed[pool.id])
        reversed_ids[row.area_code] = (
            _reverse_previous(session, pool, previous, actor) if previous else []
        )
        line = repo.line_of(row, run.quarter)
        if line.pot_pence:
            ccgs = ccg_weights(ledger.plan_content(session, pool), nhs_stream)
            day = ledger.first_open_day(quarter_end(run), closed[pool.id])
            key = line_key(run, row.area_code)
            entries = payment_entries(line, ccgs, day, key, run_label(run), run.data_vintage)
            batches.append((pool, entries))
    new_ids = ledger.post_across(session, batches, actor)
    posted = {
        row.area_code: reversed_ids[row.area_code] + new_ids.get(pools[row.area_code].id, [])
        for row in paying
    }
    ledger.record_for_pools(
        session,
        [
            (pools[row.area_code], _posting_event(run, repo.line_of(row, run.quarter), ids))
            for row in paying
            for ids in [posted[row.area_code]]
        ],
        actor=actor.username,
        action="performance_payment",
    )
    if previous is not None:
        _step(session, previous, RunAction.TRUE_UP, actor, f"trued up by {run_label(run)}")
    flush(session, conflict="this payment run")
    return PayOutcome(run, posted, previous, False)


def _lines(run: PaymentRunRow) -> list[PaymentLine]:
    return [repo.line_of(row, run.quarter) for row in run.lines]


def line_key(run: PaymentRunRow, area_code: str) -> str:
    """The correlation key every entry of one area's payment in one run shares."""
    return f"{run.correlation}:{area_code}"


def payment_entries(
    line: PaymentLine, ccgs: dict[str, int], day: dt.date, key: str, run: str, data_vintage: str
) -> list[Entry]:
    """The two entries paying one line of run ``run``: the pot set aside, then released and
    retained, sharing the correlation ``key``.

    They are dated ``day``: the quarter's last day, or the first open day after it when the
    pool has closed that period. The unearned part goes back to the area's CCGs in
    proportion to ``ccgs`` (their NHS contributions), split to the penny.
    """
    source = {
        "payment_run": run,
        "quarter": line.quarter,
        "data_vintage": data_vintage,
        "status": line.status.value,
    }
    set_aside = Entry(
        date=day,
        kind=EntryKind.PERFORMANCE,
        narration=f"Performance element for {line.quarter} set aside ({run})",
        postings=(
            Posting(Accounts.PERFORMANCE_HELD, line.pot_pence),
            Posting(Accounts.BANK, Pence(-line.pot_pence)),
        ),
        correlation=key,
        source=source,
    )
    legs = [Posting(Accounts.PERFORMANCE_HELD, Pence(-line.pot_pence))]
    if line.released_pence:
        legs.append(Posting(Accounts.BANK, line.released_pence, "earned: released to the pool"))
    for partner, share in _retained_shares(ccgs, line.retained_pence).items():
        legs.append(Posting(Accounts.performance_retained(partner), share, "not earned"))
    settle = Entry(
        date=day,
        kind=EntryKind.PERFORMANCE,
        narration=f"Performance payment for {line.quarter}: "
        f"{line.status.value.replace('_', ' ')} ({run})",
        postings=tuple(legs),
        correlation=key,
        source=source,
    )
    return [set_aside, settle]


def quarter_end(run: PaymentRunRow) -> dt.date:
    number = int(run.quarter.rsplit("Q", 1)[1])
    end: dt.date = quarter_period(run.year, number).end
    return end


def ccg_weights(content: PlanContent, nhs_stream: str) -> dict[str, int]:
    """Each CCG's NHS contribution to the pool: the weights retained money goes back by."""
    weights: dict[str, int] = {}
    for c in content.contributions:
        if c.stream == nhs_stream and c.total > 0:
            weights[c.partner_code] = weights.get(c.partner_code, 0) + c.total
    return weights


def _retained_shares(ccgs: dict[str, int], retained: int) -> dict[str, Pence]:
    if not retained:
        return {}
    if not ccgs:
        raise CarepoolError("the pool has no NHS contribution to give the unearned money back to")
    return {k: v for k, v in split_by_weights(retained, ccgs).items() if v}


def _reverse_previous(
    session: Session, pool: PoolRow, previous: PaymentRunRow, actor: Principal
) -> list[int]:
    """Reverse the paid run's entries for this area; the reversals share the old key."""
    reason = "trued up on a revised data vintage"
    ids = []
    for stored in ledger.correlated(session, pool, line_key(previous, pool.area_code)):
        if stored.entry.kind is EntryKind.PERFORMANCE:
            ids.append(ledger.reverse(session, pool, stored.id, reason, actor))
    return ids


def _posting_event(run: PaymentRunRow, line: PaymentLine, ids: list[int]) -> dict[str, object]:
    """What the pool's audit chain records of one area's payment."""
    return {
        "payment_run": run_label(run),
        "entries": ids,
        "pot_pence": line.pot_pence,
        "released_pence": line.released_pence,
        "retained_pence": line.retained_pence,
    }


def runs(session: Session, year: str, quarter_label: str | None = None) -> list[PaymentRunRow]:
    return repo.runs(session, year, quarter_label)


def run_in_play(session: Session, year: str, number: int) -> PaymentRunRow:
    """The quarter's newest run that has not been trued up: the one the next step acts on."""
    label = quarter_period(year, number).label
    found = [r for r in repo.runs(session, year, label) if r.status != RunStatus.TRUED_UP]
    if not found:
        raise NotFound(f"no payment run for {label}: draft one with 'carepool payments run'")
    return found[-1]


def current_run(session: Session, year: str, quarter_label: str) -> PaymentRunRow | None:
    """The quarter's run that counts: the newest paid one, else the newest still in play."""
    found = [r for r in repo.runs(session, year, quarter_label) if r.status != RunStatus.TRUED_UP]
    paid = [r for r in found if r.status == RunStatus.PAID]
    chosen = paid or found
    return chosen[-1] if chosen else None
