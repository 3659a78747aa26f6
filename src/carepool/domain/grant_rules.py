"""Year-level rules beside the payment design: grant conditions, year-end reconciliation and the
discharge fund, each implemented once and parameterised from the framework file.

A framework's ``[[rules]]`` name a :class:`~carepool.domain.framework.RuleKind` with its
parameters; :func:`apply_rule` runs it against what an area planned, pooled, spent and returned
(:class:`AreaFacts`) and says, finding by finding, whether each condition is met and why.
Nothing here reads a database: the facts come in, findings go out.

The kinds, and the policy each follows:

* ``improved_bcf_conditions`` (2017-19 and 2019-20) and ``better_care_grant_conditions``
  (2025-26) are one rule: the council grant (``stream``) is pooled in full, and the NHS
  minimum's spend on adult social care is at least last year's uplifted by
  ``uplift_percent`` — the grant may not replace NHS money.
* ``year_end_reconciliation`` (2020-21, a year without plans): every mandatory stream is spent
  in full, the NHS minimum's adult social care spend reaches the minimum the policy statement
  sets, and every national condition is confirmed.
* ``discharge_fund`` (2022-25): the discharge streams are pooled in full, and a return is
  made for every fortnight from ``first_return`` to ``last_return``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any

from carepool.domain.errors import CarepoolError
from carepool.domain.framework import NOT_YET_RUN, Framework, RuleKind, YearRule
from carepool.domain.money import Pence, format_money

FORTNIGHT = dt.timedelta(days=14)


@dataclass(frozen=True, slots=True)
class AreaFacts:
    """What one area allocated, pooled, spent and reported in a year, by stream id."""

    allocated: Mapping[str, Pence] = field(default_factory=dict)
    pooled: Mapping[str, Pence] = field(default_factory=dict)
    spent: Mapping[str, Pence] = field(default_factory=dict)
    social_care_from_nhs: Pence = field(default=Pence(0))
    """The NHS minimum's spend on adult social care (planned, or at the year end actual)."""
    social_care_from_nhs_before: Pence = field(default=Pence(0))
    """The same for the previous year: what an uplift is applied to."""
    social_care_minimum: Pence | None = None
    """The adult social care spend a year-end reconciliation requires, when set nationally."""
    conditions_confirmed: Mapping[str, bool] = field(default_factory=dict)
    returns_made: frozenset[dt.date] = frozenset()


@dataclass(frozen=True, slots=True)
class Finding:
    """One condition of a rule for one area: met or not, with the figures that decided it."""

    kind: str
    condition: str
    met: bool
    detail: str


def required_social_care(before: Pence, uplift_percent: Decimal) -> Pence:
    """Last year's NHS spend on adult social care uplifted, rounded *up* to the penny: a
    requirement is never rounded below what the policy asks."""
    uplifted = Decimal(before) * (1 + uplift_percent / 100)
    return Pence(int(uplifted.to_integral_value(rounding=ROUND_CEILING)))


def grant_conditions(
    kind: str, facts: AreaFacts, stream: str, uplift_percent: Decimal
) -> list[Finding]:
    """A council grant pooled in full, and not used to replace the NHS contribution."""
    return [
        _pooled_in_full(kind, facts, stream),
        _social_care_maintained(kind, facts, uplift_percent),
    ]


def _pooled_in_full(kind: str, facts: AreaFacts, stream: str) -> Finding:
    allocated = facts.allocated.get(stream, Pence(0))
    pooled = facts.pooled.get(stream, Pence(0))
    return Finding(
        kind,
        f"{stream} pooled in full",
        pooled >= allocated,
        f"pooled {format_money(pooled)} of an allocation of {format_money(allocated)}",
    )


def _social_care_maintained(kind: str, facts: AreaFacts, uplift_percent: Decimal) -> Finding:
    required = required_social_care(facts.social_care_from_nhs_before, uplift_percent)
    return Finding(
        kind,
        "NHS contribution to adult social care maintained",
        facts.social_care_from_nhs >= required,
        f"{format_money(facts.social_care_from_nhs)} planned against "
        f"{format_money(facts.social_care_from_nhs_before)} × (1 + {uplift_percent}%) = "
        f"{format_money(required)}",
    )


def year_end_reconciliation(
    kind: str, facts: AreaFacts, streams: Sequence[str], conditions: Sequence[str]
) -> list[Finding]:
    """A year without plans is settled at its end: spend, social care, conditions."""
    findings = []
    for stream in streams:
        allocated = facts.allocated.get(stream, Pence(0))
        spent = facts.spent.get(stream, Pence(0))
        findings.append(
            Finding(
                kind,
                f"{stream} spent in full",
                spent >= allocated,
                f"spent {format_money(spent)} of {format_money(allocated)}"
                + (
                    f"; {format_money(Pence(allocated - spent))} unspent"
                    if spent < allocated
                    else ""
                ),
            )
        )
    if facts.social_care_minimum is not None:
        findings.append(
            Finding(
                kind,
                "adult social care spend from the NHS minimum",
                facts.social_care_from_nhs >= facts.social_care_minimum,
                f"spent {format_money(facts.social_care_from_nhs)} against a minimum of "
                f"{format_money(facts.social_care_minimum)}",
            )
        )
    unconfirmed = [c for c in conditions if not facts.conditions_confirmed.get(c, False)]
    findings.append(
        Finding(
            kind,
            "national conditions confirmed",
            not unconfirmed,
            "all confirmed" if not unconfirmed else f"not confirmed: {', '.join(unconfirmed)}",
        )
    )
    return findings


def returns_due(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every fortnightly return date from ``first`` to ``last`` inclusive."""
    if last < first:
        raise CarepoolError(f"the last return ({last}) is before the first ({first})")
    due, day = [], first
    while day <= last:
        due.append(day)
        day += FORTNIGHT
    return due


def discharge_fund(
    kind: str, facts: AreaFacts, streams: Sequence[str], first: dt.date, last: dt.date
) -> list[Finding]:
    """The discharge money pooled in full, and every fortnightly return made."""
    findings = [_pooled_in_full(kind, facts, stream) for stream in streams]
    due = returns_due(first, last)
    missing = [day for day in due if day not in facts.returns_made]
    findings.append(
        Finding(
            kind,
            "fortnightly returns made",
            not missing,
            f"{len(due) - len(missing)} of {len(due)} returns made"
            + (f"; missing {', '.join(d.isoformat() for d in missing)}" if missing else ""),
        )
    )
    return findings


def _decimal(value: object) -> Decimal:
    return Decimal(str(value))


def _date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _streams(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


_Apply = Callable[[YearRule, Framework, AreaFacts], list[Finding]]


def _grant(rule: YearRule, _framework: Framework, facts: AreaFacts) -> list[Finding]:
    p = rule.parameters
    return grant_conditions(rule.kind.value, facts, str(p["stream"]), _decimal(p["uplift_percent"]))


def _year_end(rule: YearRule, framework: Framework, facts: AreaFacts) -> list[Finding]:
    streams = [s.id for s in framework.streams]
    conditions = [c.id for c in framework.national_conditions]
    return year_end_reconciliation(rule.kind.value, facts, streams, conditions)


def _discharge(rule: YearRule, _framework: Framework, facts: AreaFacts) -> list[Finding]:
    p: Mapping[str, Any] = rule.parameters
    return discharge_fund(
        rule.kind.value,
        facts,
        _streams(p["streams"]),
        _date(p["first_return"]),
        _date(p["last_return"]),
    )


RULES: dict[RuleKind, _Apply] = {
    RuleKind.IMPROVED_BCF_CONDITIONS: _grant,
    RuleKind.BETTER_CARE_GRANT_CONDITIONS: _grant,
    RuleKind.YEAR_END_RECONCILIATION: _year_end,
    RuleKind.DISCHARGE_FUND: _discharge,
}
"""Each rule kind carepool applies; every other :class:`RuleKind` is in ``NOT_YET_RUN``."""


def apply_rule(rule: YearRule, framework: Framework, facts: AreaFacts) -> list[Finding]:
    """The findings of one of the framework's rules for one area; a clear error, naming the
    rule kind, for a kind carepool recognises but cannot yet apply."""
    apply = RULES.get(rule.kind)
    if apply is None or rule.kind in NOT_YET_RUN:
        raise CarepoolError(
            f"{framework.year}: rule kind {rule.kind.value!r} is not yet applied by carepool"
        )
    return apply(rule, framework, facts)


def apply_rules(framework: Framework, facts: AreaFacts) -> list[Finding]:
    """Every rule of the year that carepool can apply, for one area."""
    return [f for rule in _runnable(framework.rules) for f in apply_rule(rule, framework, facts)]


def _runnable(rules: Iterable[YearRule]) -> list[YearRule]:
    return [rule for rule in rules if rule.kind not in NOT_YET_RUN]
