"""Year-end risk share: who pays an overspend, and who gets an underspend back.

The Section 75 agreement names a rule; carepool implements each rule *kind* with its
parameters, and every settlement conserves money exactly (the partners' shares add up to the
variance to the penny) and explains every figure in plain words. A positive variance is an
overspend the partners pay into the pool; a negative one is an underspend paid back to them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from carepool.domain.errors import CarepoolError, MoneyError
from carepool.domain.money import Pence, format_money, parse_money, split_by_weights
from carepool.domain.plan import RiskShareKind


@dataclass(frozen=True, slots=True)
class ShareLine:
    partner: str
    amount: Pence  # positive: the partner pays the pool; negative: the pool pays the partner
    explanation: str


@dataclass(frozen=True, slots=True)
class RiskShareInputs:
    """What a settlement needs to know about the year."""

    variance: int  # spend minus contributions
    contributions: Mapping[str, int]  # partner -> pooled over the year
    own_variance: Mapping[str, int]  # partner -> overspend on the schemes it commissions
    host: str
    names: Mapping[str, str]


def settle(
    inputs: RiskShareInputs, kind: RiskShareKind, parameters: Mapping[str, Any]
) -> list[ShareLine]:
    """Each partner's share of the variance under the agreed rule; sums exactly to it."""
    if inputs.variance == 0:
        return []
    if not inputs.contributions:
        raise CarepoolError("the pool has no partner contributions to share the variance by")
    lines = _RULES[kind](inputs, parameters)
    if sum(line.amount for line in lines) != inputs.variance:  # pragma: no cover - guarded
        raise AssertionError("a risk-share rule lost or invented money")
    return [line for line in lines if line.amount]


def _word(variance: int) -> str:
    return "overspend" if variance > 0 else "underspend"


def _proportional(inputs: RiskShareInputs, _parameters: Mapping[str, Any]) -> list[ShareLine]:
    total = sum(inputs.contributions.values())
    parts = split_by_weights(inputs.variance, dict(inputs.contributions))
    return [
        ShareLine(partner, amount, _pro_rata_text(inputs, partner, total))
        for partner, amount in parts.items()
    ]


def _pro_rata_text(inputs: RiskShareInputs, partner: str, total: int) -> str:
    pooled = inputs.contributions[partner]
    percent = (Decimal(pooled) * 100 / Decimal(total)).quantize(Decimal("0.01"))
    return (
        f"{inputs.names.get(partner, partner)} pooled {format_money(pooled)} of "
        f"{format_money(total)} ({percent}%), so bears that share of the "
        f"{format_money(abs(inputs.variance))} {_word(inputs.variance)}"
    )


def _own_commissioning(inputs: RiskShareInputs, parameters: Mapping[str, Any]) -> list[ShareLine]:
    own = {p: inputs.own_variance.get(p, 0) for p in inputs.contributions}
    remainder = inputs.variance - sum(own.values())
    shared = (
        {
            p.partner: p.amount
            for p in _proportional(
                RiskShareInputs(remainder, inputs.contributions, {}, inputs.host, inputs.names),
                parameters,
            )
        }
        if remainder
        else {}
    )
    lines = []
    for partner, amount in own.items():
        extra = shared.get(partner, 0)
        text = (
            f"{inputs.names.get(partner, partner)} bears the {format_money(abs(amount))} "
            f"{_word(amount or 1)} on the schemes it commissions"
        )
        if extra:
            text += f", plus {format_money(extra)} as its share of the rest by contribution"
        lines.append(ShareLine(partner, Pence(amount + extra), text))
    return lines


def _fixed_percentages(inputs: RiskShareInputs, parameters: Mapping[str, Any]) -> list[ShareLine]:
    percentages = _percentages(parameters, inputs.contributions)
    parts = split_by_weights(inputs.variance, percentages)
    return [
        ShareLine(
            partner,
            amount,
            f"{inputs.names.get(partner, partner)} bears {percentages[partner]}% of the "
            f"{format_money(abs(inputs.variance))} {_word(inputs.variance)}, as agreed",
        )
        for partner, amount in parts.items()
    ]


def _percentages(parameters: Mapping[str, Any], partners: Mapping[str, int]) -> dict[str, Fraction]:
    given = parameters.get("percentages")
    if not isinstance(given, Mapping) or not given:
        raise CarepoolError("the fixed-percentages rule needs 'percentages': {partner: percent}")
    try:
        shares = {str(k): Fraction(Decimal(str(v))) for k, v in given.items()}
    except (InvalidOperation, ValueError, OverflowError) as exc:  # text, NaN, infinity
        raise CarepoolError("risk-share percentages must be numbers") from exc
    unknown = sorted(set(shares) - set(partners))
    if unknown:
        raise CarepoolError(f"risk-share percentages name partners not in the pool: {unknown}")
    if sum(shares.values()) != 100 or any(v < 0 for v in shares.values()):
        raise CarepoolError("risk-share percentages must be 0 or more and add up to 100")
    return shares


def _host_first(inputs: RiskShareInputs, parameters: Mapping[str, Any]) -> list[ShareLine]:
    try:
        cap = parse_money(str(parameters.get("cap", "£0")))
    except MoneyError as exc:
        raise CarepoolError(f"the host-first rule's cap is not money: {exc.message}") from exc
    sign = 1 if inputs.variance > 0 else -1
    host_part = sign * min(abs(inputs.variance), cap)
    rest = inputs.variance - host_part
    others = {p: c for p, c in inputs.contributions.items() if p != inputs.host} or {inputs.host: 1}
    parts = split_by_weights(rest, others) if rest else {}
    host_name = inputs.names.get(inputs.host, inputs.host)
    lines = [
        ShareLine(
            inputs.host,
            Pence(host_part + parts.pop(inputs.host, 0)),
            f"{host_name}, the host, bears the first {format_money(cap)} of the "
            f"{_word(inputs.variance)}: {format_money(abs(host_part))}",
        )
    ]
    lines += [
        ShareLine(
            partner,
            amount,
            f"{inputs.names.get(partner, partner)} bears its share, by "
            f"contribution, of the {format_money(abs(rest))} beyond the host's cap",
        )
        for partner, amount in parts.items()
    ]
    return lines


PARAMETERS: Mapping[RiskShareKind, tuple[str, ...]] = {
    RiskShareKind.PROPORTIONAL: (),
    RiskShareKind.OWN_COMMISSIONING: (),
    RiskShareKind.FIXED_PERCENTAGES: ("percentages",),
    RiskShareKind.HOST_FIRST: ("cap",),
}
"""The parameters each rule reads; any other key would be stored and never used."""


def parameter_problems(
    kind: RiskShareKind, parameters: Mapping[str, Any], partners: Mapping[str, int]
) -> list[str]:
    """Why a rule's parameters would not settle a year (empty when they would).

    A key the rule does not read is a problem too: ``{"host_share": 1e308}`` under any rule
    looks like an agreed term but changes nothing, so whoever wrote it should know.
    """
    unknown = [key for key in parameters if key not in PARAMETERS[kind]]
    if unknown:
        return [_unknown_parameters(kind, unknown)]
    try:
        if kind == RiskShareKind.FIXED_PERCENTAGES:
            _percentages(parameters, partners)
        elif kind == RiskShareKind.HOST_FIRST:
            parse_money(str(parameters.get("cap", "")))
    except MoneyError as exc:
        return [f"the host-first rule needs a cap in pounds: {exc.message}"]
    except CarepoolError as exc:
        return [exc.message]
    return []


def _unknown_parameters(kind: RiskShareKind, unknown: list[str]) -> str:
    named = ", ".join(repr(str(key)) for key in unknown)
    allowed = PARAMETERS[kind]
    takes = f"takes only {', '.join(repr(k) for k in allowed)}" if allowed else "takes none"
    return f"the {kind} rule has no parameter {named}; it {takes}"


_RULES = {
    RiskShareKind.PROPORTIONAL: _proportional,
    RiskShareKind.OWN_COMMISSIONING: _own_commissioning,
    RiskShareKind.FIXED_PERCENTAGES: _fixed_percentages,
    RiskShareKind.HOST_FIRST: _host_first,
}
