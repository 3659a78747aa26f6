"""The year-end risk share: settling a pool's over- or underspend between its partners.

The variance is what the books say (spend on schemes minus contributions due, over the
financial year); the rule is the one the Section 75 agreement names; the shares come from
:func:`carepool.domain.risk_share.settle`, which conserves money to the penny and explains
each figure. The settlement is posted as one entry per partner sharing one correlation key,
with the explanation in the entry's source, and is refused if the year is already settled
(reverse the settlement's entries to settle it again).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from carepool.domain.errors import CarepoolError, Conflict
from carepool.domain.ledger import Accounts, Entry, EntryKind, Posting, outturn_variance
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
    plan_content,
    pool_label,
    post_many,
    record_for_pool,
    require_write,
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


def settlement_key(financial_year: str) -> str:
    return f"settlement:{financial_year}"


def year_variance(session: Session, pool: PoolRow, financial_year: str) -> int:
    """The financial year's spend minus contributions so far: what settling would share."""
    period = year_period(financial_year)
    return outturn_variance(
        repo.posting_totals(session, pool.id, since=period.start, until=period.end)
    )


def settle(
    session: Session, pool: PoolRow, actor: Principal, financial_year: str | None = None
) -> Settlement:
    """Share the financial year's variance by the agreed rule and post who owes what."""
    require_write(actor, pool.area_code)
    years = financial_years(pool)
    year = financial_year or years[-1]
    if year not in years:
        raise CarepoolError(f"{year} is not a financial year of pool {pool_label(pool)}")
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
    key = settlement_key(year)
    posted = repo.entries(session, pool.id, kind=EntryKind.SETTLEMENT, correlation=key)
    undone = repo.reversed_ids(session, pool.id)
    live = [s for s in posted if s.id not in undone]
    if live:
        raise Conflict(
            f"{year} is already settled for pool {pool_label(pool)} (entries "
            f"{', '.join(str(s.id) for s in live)}); reverse those entries to settle it again"
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
