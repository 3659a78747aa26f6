"""Each risk-share rule with numbers checked by hand, and conservation for any input."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carepool.domain.errors import CarepoolError
from carepool.domain.money import split_by_weights
from carepool.domain.plan import RiskShareKind
from carepool.domain.risk_share import RiskShareInputs, settle

NAMES = {"A": "Council A", "B": "CCG B", "C": "CCG C"}


def inputs(
    variance: int, contributions: dict[str, int], own: dict[str, int] | None = None, host: str = "A"
) -> RiskShareInputs:
    return RiskShareInputs(variance, contributions, own or {}, host, NAMES)


def shares(lines: list[Any]) -> dict[str, int]:
    return {line.partner: line.amount for line in lines}


def test_proportional_shares_by_what_each_pooled_to_the_penny() -> None:
    # £100.00 overspend; A pooled a third, B two thirds: 3333.33p and 6666.67p. The spare
    # penny goes to the larger remainder (B).
    lines = settle(inputs(10_000, {"A": 100_000, "B": 200_000}), RiskShareKind.PROPORTIONAL, {})
    assert shares(lines) == {"A": 3_333, "B": 6_667}
    assert lines[0].explanation == (
        "Council A pooled £1,000.00 of £3,000.00 (33.33%), so bears that share of the "
        "£100.00 overspend"
    )


def test_own_commissioning_bears_its_own_variance_then_shares_the_rest() -> None:
    # £100.00 overspend: A overspent £40.00 on its schemes, B underspent £10.00. The other
    # £70.00 is shared 1:3 by contribution: A £17.50, B £52.50.
    lines = settle(
        inputs(10_000, {"A": 100_000, "B": 300_000}, {"A": 4_000, "B": -1_000}),
        RiskShareKind.OWN_COMMISSIONING,
        {},
    )
    assert shares(lines) == {"A": 5_750, "B": 4_250}
    assert lines[0].explanation == (
        "Council A bears the £40.00 overspend on the schemes it commissions, plus £17.50 as "
        "its share of the rest by contribution"
    )
    assert lines[1].explanation.startswith("CCG B bears the £10.00 underspend")


def test_fixed_percentages_split_an_underspend_as_agreed() -> None:
    lines = settle(
        inputs(-5_000, {"A": 1, "B": 1}),
        RiskShareKind.FIXED_PERCENTAGES,
        {"percentages": {"A": "60", "B": "40"}},
    )
    assert shares(lines) == {"A": -3_000, "B": -2_000}
    assert lines[0].explanation == "Council A bears 60% of the £50.00 underspend, as agreed"


def test_host_first_bears_up_to_its_cap_and_the_others_share_the_rest() -> None:
    # £50.00 overspend, host cap £20.00: host £20.00; the £30.00 left split 1:2 by B and C.
    lines = settle(
        inputs(5_000, {"A": 500, "B": 100, "C": 200}), RiskShareKind.HOST_FIRST, {"cap": "£20.00"}
    )
    assert shares(lines) == {"A": 2_000, "B": 1_000, "C": 2_000}
    assert lines[0].explanation == (
        "Council A, the host, bears the first £20.00 of the overspend: £20.00"
    )
    assert lines[1].explanation == (
        "CCG B bears its share, by contribution, of the £30.00 beyond the host's cap"
    )
    small = settle(inputs(-1_000, {"A": 1, "B": 1}), RiskShareKind.HOST_FIRST, {"cap": "£20"})
    assert shares(small) == {"A": -1_000}


def test_no_variance_means_nothing_to_settle() -> None:
    assert settle(inputs(0, {"A": 1}), RiskShareKind.PROPORTIONAL, {}) == []


@pytest.mark.parametrize(
    ("kind", "parameters", "message"),
    [
        (RiskShareKind.FIXED_PERCENTAGES, {}, "needs 'percentages'"),
        (RiskShareKind.FIXED_PERCENTAGES, {"percentages": {"A": "60", "B": "30"}}, "add up to 100"),
        (
            RiskShareKind.FIXED_PERCENTAGES,
            {"percentages": {"A": "50", "Z": "50"}},
            "not in the pool",
        ),
        (RiskShareKind.FIXED_PERCENTAGES, {"percentages": {"A": "x", "B": "100"}}, "numbers"),
        (
            RiskShareKind.FIXED_PERCENTAGES,
            {"percentages": {"A": float("inf"), "B": "100"}},
            "numbers",
        ),
        (RiskShareKind.HOST_FIRST, {"cap": "lots"}, "cap is not money"),
    ],
)
def test_incomplete_or_wrong_parameters_are_refused_plainly(
    kind: RiskShareKind, parameters: dict[str, Any], message: str
) -> None:
    with pytest.raises(CarepoolError, match=message):
        settle(inputs(1_000, {"A": 1, "B": 1}), kind, parameters)


partners = st.lists(st.sampled_from(["A", "B", "C", "D", "E"]), min_size=1, max_size=5, unique=True)


@st.composite
def cases(draw: st.DrawFn) -> tuple[RiskShareInputs, RiskShareKind, dict[str, Any]]:
    names = draw(partners)
    contributions = {p: draw(st.integers(1, 10**12)) for p in names}
    variance = draw(st.integers(-(10**11), 10**11))
    kind = draw(st.sampled_from(list(RiskShareKind)))
    own = {p: draw(st.integers(-(10**10), 10**10)) for p in names}
    parameters: dict[str, Any] = {}
    if kind is RiskShareKind.FIXED_PERCENTAGES:
        weights = {p: draw(st.integers(0, 100)) for p in names}
        if not any(weights.values()):
            weights[names[0]] = 1
        points = split_by_weights(10_000, weights)
        parameters = {"percentages": {p: str(Decimal(v) / 100) for p, v in points.items()}}
    elif kind is RiskShareKind.HOST_FIRST:
        parameters = {"cap": f"£{draw(st.integers(0, 10**9))}.{draw(st.integers(0, 99)):02d}"}
    host = draw(st.sampled_from([*names, "H"]))
    return RiskShareInputs(variance, contributions, own, host, {}), kind, parameters


@given(cases())
def test_every_settlement_conserves_money_exactly(
    case: tuple[RiskShareInputs, RiskShareKind, dict[str, Any]],
) -> None:
    given_inputs, kind, parameters = case
    lines = settle(given_inputs, kind, parameters)
    assert sum(line.amount for line in lines) == given_inputs.variance
    assert all(isinstance(line.amount, int) and line.explanation for line in lines)
    assert len({line.partner for line in lines}) == len(lines)
