"""The year-end risk share: settling a pool's over- or underspend between its partners.

The variance is what the books say (spend on schemes minus contributions due, over the
financial year); the rule is the one the Section 75 agreement names; the shares come from
:func:`carepool.domain.risk_share.settle`, which conserves money to the penny and explains
each figure. The settlement is posted as one entry per partner sharing one correlation key,
with the explanation in the entry's source, and is refused if the year is already settled.

Settling closes the year: its variance has been shared out, so nothing more may be dated in
it. A late invoice or a correction needs the year reopened (:func:`reopen`), which is
recorded with its reason and reverses the settlement; the year is then settled again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from carepool.domain.errors import CarepoolError, Conflict
from carepool.domain.ledger import (
    Accounts,
    Entry,
    EntryKind,
    Posting,
    outturn_variance,
    reversal,
)
from carepool.domain.money import Pence, format_money, split_by_weights
from carepool.domain.periods import year_period
from carepool.domain.plan import Commissioner, PlanContent, RiskShareKind
from carepool.domain.risk_share import RiskShareInputs, ShareLine, parameter_problems
from carepool.domain.risk_share import settle as share
from carepool.domain.roles import Principal
from carepool.frameworks import load_framework
from carepool.pools.repository import ledger as repo
from carepool.pools.repository.ledger import PoolRow
from carepool.pools.service.ledger import (
    close_settled_year,
    live_settlement,
    plan_content,
    pool_label,
    post_many,
    record_for_pool,
    reopen_settled_year,
    require_write,
    settlement_key,
)
from carepool.store.db import flush


@dataclass(frozen=True, slots=True)
class Settlement:
    """A year's settlement: the variance, the rule, each partner's share and the entries."""

    financial_year: str
    variance: int
    rule: str
    lines: tuple[ShareLine, ...]
    entry_ids: tuple[int, ...]

    def as_dict(self) -> dict[str, object]:
        """The ``settle`` audit event's ``after`` payload, hashed into the pool's audit chain,
        so its shape stays as it is. ``--json`` prints
        :class:`~carepool.pools.schemas.SettlementPosted`, the same keys today; the service
        sits below the schemas and cannot use it."""
        return {
            "financial_year": self.financial_year,
            "variance_pence": self.variance,
            "outcome": outcome(self.variance),
            "rule": self.rule,
            "shares": [
                {
                    "partner": line.partner,
                    "amount_pence": line.amount,
                    "explanation": line.explanation,
                }
                for line in self.lines
            ],
            "entry_ids": list(self.entry_ids),
        }


def outcome(variance: int) -> str:
    return "overspend" if variance > 0 else "underspend" if variance < 0 else "on budget"


def financial_years(pool: PoolRow) -> tuple[str, ...]:
    return tuple(load_framework(pool.year).financial_years)


def year_variance(session: Session, pool: PoolRow, financial_year: str) -> int:
    """The financial year's spend minus contributions so far: what settling would share."""
    period = year_period(financial_year)
    return outturn_variance(
        repo.posting_totals(session, pool.id, since=period.start, until=period.end)
    )


def settle(
    session: Session, pool: PoolRow, actor: Principal, financial_year: str | None = None
) -> Settlement:
    """Share the financial year's variance by the agreed rule, post who owes what and close
    the year."""
    require_write(actor, pool.area_code)
    year = _year_of(pool, financial_year)
    repo.lock_pool(session, pool)
    _refuse_second(session, pool, year)
    period = year_period(year)
    movements = repo.posting_totals(session, pool.id, since=period.start, until=period.end)
    content = plan_content(session, pool)
    inputs = _inputs(pool, content, year, movements)
    kind = RiskShareKind(pool.risk_share_kind or RiskShareKind.PROPORTIONAL)
    lines = tuple(share(inputs, kind, pool.risk_share_parameters or {}))
    entries = [_entry(pool, year, kind, inputs.variance, line) for line in lines]
    ids = tuple(post_many(session, pool, entries, actor))
    result = Settlement(year, inputs.variance, kind.value, lines, ids)
    record_for_pool(
        session,
        pool,
        actor=actor.username,
        action="settle",
        after=result.as_dict(),
    )
    close_settled_year(session, pool, year, actor)
    return result


def _year_of(pool: PoolRow, financial_year: str | None) -> str:
    """The financial year asked for (default the pool's last), if it is one of the pool's."""
    years = financial_years(pool)
    year = financial_year or years[-1]
    if year not in years:
        raise CarepoolError(f"{year} is not a financial year of pool {pool_label(pool)}")
    return year


@dataclass(frozen=True, slots=True)
class Reopening:
    """A settled year reopened: why, the settlement entries reversed and their reversals."""

    financial_year: str
    reason: str
    reversed_ids: tuple[int, ...]
    reversal_ids: tuple[int, ...]

    def as_dict(self) -> dict[str, object]:
        """The ``reopen`` audit event's ``after`` payload, hashed into the pool's audit chain,
        so its shape stays as it is (``--json`` prints
        :class:`~carepool.pools.schemas.SettlementReopened`)."""
        return {
            "financial_year": self.financial_year,
            "reason": self.reason,
            "reversed_entry_ids": list(self.reversed_ids),
            "reversal_entry_ids": list(self.reversal_ids),
        }


def reopen(
    session: Session,
    pool: PoolRow,
    actor: Principal,
    reason: str,
    financial_year: str | None = None,
) -> Reopening:
    """Reopen a settled year so it can take entries again: its close is taken away and each
    settlement entry reversed on its own date, in the year it settled, all in one audited
    step. The year is then unsettled, and settling it again shares the books as they stand.
    """
    require_write(actor, pool.area_code)
    if not reason.strip():
        raise CarepoolError("say why the settled year is reopened (a reason is required)")
    year = _year_of(pool, financial_year)
    repo.lock_pool(session, pool)
    live = live_settlement(session, pool, year)
    if not live:
        raise Conflict(
            f"{year} is not settled for pool {pool_label(pool)}: there is nothing to reopen"
        )
    reopen_settled_year(session, pool, year)
    why = f"{year} reopened: {reason.strip()}"
    undo = [reversal(s.entry, s.id, s.entry.date, why) for s in live]
    ids = tuple(post_many(session, pool, undo, actor))
    result = Reopening(year, reason.strip(), tuple(s.id for s in live), ids)
    record_for_pool(session, pool, actor=actor.username, action="reopen", after=result.as_dict())
    return result


def vary_risk_share(
    session: Session,
    pool: PoolRow,
    kind: RiskShareKind,
    parameters: Mapping[str, Any],
    reason: str,
    actor: Principal,
) -> PoolRow:
    """Record a variation of the agreement's risk share (Section 75 agreements say how they
    vary), e.g. to complete percentages the signed plan left out; audited with both terms.

    Parameters the rule could not settle with (an unknown key, a cap that is not money) are
    refused and nothing is stored, as a plan holding them would carry an error."""
    require_write(actor, pool.area_code)
    if not reason.strip():
        raise CarepoolError("say why the risk share is varied (a reason is required)")
    partners = {c.partner_code: c.total for c in plan_content(session, pool).contributions}
    problems = parameter_problems(kind, parameters, partners)
    if problems:
        raise CarepoolError(f"the risk share cannot be varied: {'; '.join(problems)}")
    before = {"rule": pool.risk_share_kind, "parameters": pool.risk_share_parameters}
    pool.risk_share_kind, pool.risk_share_parameters = kind.value, dict(parameters)
    flush(session)
    record_for_pool(
        session,
        pool,
        actor=actor.username,
        action="vary_risk_share",
        before=before,
        after={"rule": kind.value, "parameters": dict(parameters), "reason": reason},
    )
    return pool


def _refuse_second(session: Session, pool: PoolRow, year: str) -> None:
    live = live_settlement(session, pool, year)
    if live:
        raise Conflict(
            f"{year} is already settled for pool {pool_label(pool)} (entries "
            f"{', '.join(str(s.id) for s in live)}); reopen the year to settle it again"
        )


def _inputs(
    pool: PoolRow, content: PlanContent, year: str, movements: Mapping[str, int]
) -> RiskShareInputs:
    contributions: dict[str, int] = defaultdict(int)
    for c in content.contributions:
        if c.financial_year == year:
            contributions[c.partner_code] -= movements.get(
                Accounts.contribution(c.partner_code, c.stream), 0
            )
    pooled = {p: amount for p, amount in contributions.items() if amount > 0}
    return RiskShareInputs(
        variance=outturn_variance(movements),
        contributions=pooled,
        own_variance=own_variance(content, year, movements, pooled, pool.area_code),
        host=pool.host_partner,
        names=dict(pool.partners or {}),
    )


def own_variance(
    content: PlanContent,
    year: str,
    movements: Mapping[str, int],
    contributions: Mapping[str, int],
    council: str,
) -> dict[str, int]:
    """Each partner's over- or underspend on the schemes it commissions.

    A council-commissioned scheme's variance is the council's (the partner whose code is the
    area's); an NHS-commissioned one is shared by the NHS partners in proportion to what they
    pooled; a joint one by every partner in proportion to what it pooled.
    """
    own: dict[str, int] = defaultdict(int)
    if not contributions:
        return {}
    nhs = {p: c for p, c in contributions.items() if p != council} or dict(contributions)
    for scheme in content.schemes:
        if scheme.financial_year != year:
            continue
        variance = movements.get(Accounts.scheme(scheme.ref), 0) - scheme.planned_spend
        if not variance:
            continue
        if scheme.commissioner is Commissioner.COUNCIL and council in contributions:
            own[council] += variance
            continue
        weights = nhs if scheme.commissioner is Commissioner.NHS else dict(contributions)
        for partner, part in split_by_weights(variance, weights).items():
            own[partner] += part
    return dict(own)


def _entry(pool: PoolRow, year: str, kind: RiskShareKind, variance: int, line: ShareLine) -> Entry:
    """Overspend: the partner owes the pool; underspend: the pool owes the partner a refund."""
    name = pool.partners.get(line.partner, line.partner)
    amount = abs(line.amount)
    if line.amount > 0:
        postings = (
            Posting(Accounts.risk_share_due(line.partner), Pence(amount)),
            Posting(Accounts.risk_share(line.partner), Pence(-amount)),
        )
        narration = f"Risk share {year}: {name} pays {format_money(amount)} towards the overspend"
    else:
        postings = (
            Posting(Accounts.risk_share(line.partner), Pence(amount)),
            Posting(Accounts.refund_due(line.partner), Pence(-amount)),
        )
        narration = (
            f"Risk share {year}: {name} is refunded {format_money(amount)} of the underspend"
        )
    return Entry(
        date=year_period(year).end,
        kind=EntryKind.SETTLEMENT,
        narration=narration,
        postings=postings,
        correlation=settlement_key(year),
        source={
            "financial_year": year,
            "rule": kind.value,
            "variance_pence": variance,
            "partner": line.partner,
            "share_pence": line.amount,
            "explanation": line.explanation,
            "parameters": pool.risk_share_parameters,
        },
    )
