"""Money: one parser, one formatter, and division that never loses or invents a penny."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carepool.domain.errors import MoneyError
from carepool.domain.money import (
    MAX_PENCE,
    format_millions,
    format_money,
    parse_money,
    pence,
    pounds_to_pence,
    split_by_weights,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("£1,234.56", 123456),
        ("1234.56", 123456),
        ("1234", 123400),
        ("£3,800,000,000", 380_000_000_000),
        (" £0.5 ", 50),
        ("1,234.5", 123450),
        ("£ 12.00", 1200),
    ],
)
def test_parse_money_reads_what_people_write(text: str, expected: int) -> None:
    assert parse_money(text) == expected


@pytest.mark.parametrize(
    "text", ["", "abc", "12.345", "1,23.00", "£", "1.2.3", "12,34", "1e6", "--5", "-£-5", "£--5"]
)
def test_parse_money_refuses_what_is_not_money(text: str) -> None:
    with pytest.raises(MoneyError, match="not an amount"):
        parse_money(text)


@pytest.mark.parametrize("text", ["１２３", "£１,２３４.５６", "١٢٣", "12.３4", "१२३"])
def test_digits_other_than_0_to_9_are_refused_not_read(text: str) -> None:
    """Python's int() reads full-width １２３ as 123; carepool refuses it instead."""
    with pytest.raises(MoneyError) as refused:
        parse_money(text)
    assert refused.value.message == (
        f"{text!r} is not an amount of money: only the digits 0-9 are accepted"
    )
    with pytest.raises(MoneyError, match="only the digits 0-9 are accepted"):
        pounds_to_pence(text)


def test_negative_money_is_refused_unless_allowed() -> None:
    with pytest.raises(MoneyError, match="negative"):
        parse_money("-£5.00")
    assert parse_money("-£5.00", allow_negative=True) == -500
    assert parse_money("(£5.00)", allow_negative=True) == -500
    assert parse_money("£-5.00", allow_negative=True) == -500


def test_pence_refuses_floats_and_bools() -> None:
    with pytest.raises(MoneyError):
        pence(1.5)  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        pence(True)


def test_pounds_to_pence_refuses_fractions_of_a_penny() -> None:
    assert pounds_to_pence("12.34") == 1234
    with pytest.raises(MoneyError, match="fraction of a penny"):
        pounds_to_pence("0.001")
    for text in ("Infinity", "NaN", "1e2"):
        with pytest.raises(MoneyError, match="not a number of pounds"):
            pounds_to_pence(text)


def test_formatting() -> None:
    assert format_money(123456) == "£1,234.56"
    assert format_money(-5) == "-£0.05"
    assert format_money(150, pence_shown=False) == "£2"
    assert format_millions(381_400_000_000) == "£3,814.0m"


@given(st.integers(min_value=-MAX_PENCE, max_value=MAX_PENCE))
def test_format_then_parse_round_trips(amount: int) -> None:
    assert parse_money(format_money(amount), allow_negative=True) == amount


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("9" * 30, "£" + f"{int('9' * 30):,}.00"),
        ("1000000000000.01", "£1,000,000,000,000.01"),
        ("-£2,000,000,000,000", "-£2,000,000,000,000.00"),
    ],
)
def test_an_amount_beyond_the_limit_is_refused_with_both_named(text: str, shown: str) -> None:
    with pytest.raises(MoneyError) as refused:
        parse_money(text, allow_negative=True)
    assert refused.value.message == f"{shown} is more than carepool accepts (£1,000,000,000,000)"
    assert parse_money("£1,000,000,000,000") == MAX_PENCE < 2**63


@pytest.mark.parametrize("value", ["1" * 25, "-1000000000000.01", "1e20", "Infinity", "NaN"])
def test_pounds_beyond_the_limit_or_not_finite_are_refused(value: str) -> None:
    with pytest.raises(MoneyError, match=r"more than carepool accepts|not a number of pounds"):
        pounds_to_pence(value)


weights = st.dictionaries(
    st.text(min_size=1, max_size=4),
    st.integers(min_value=0, max_value=10**9) | st.fractions(min_value=0, max_value=10**6),
    min_size=1,
    max_size=60,
).filter(lambda w: any(v > 0 for v in w.values()))


@given(total=st.integers(min_value=-(10**14), max_value=10**14), weights=weights)
def test_split_parts_always_sum_to_the_whole(total: int, weights: dict[str, Fraction]) -> None:
    parts = split_by_weights(total, weights)
    assert sum(parts.values()) == total
    assert all(isinstance(p, int) and not isinstance(p, bool) for p in parts.values())
    assert set(parts) == set(weights)


@given(total=st.integers(min_value=0, max_value=10**12), weights=weights)
def test_each_part_is_within_a_penny_of_its_exact_share(
    total: int, weights: dict[str, Fraction]
) -> None:
    parts = split_by_weights(total, weights)
    weight_sum = sum(Fraction(v) for v in weights.values())
    for key, part in parts.items():
        exact = total * Fraction(weights[key]) / weight_sum
        assert abs(part - exact) < 1
        if weights[key] == 0:
            assert part == 0


def test_split_refuses_nonsense() -> None:
    with pytest.raises(MoneyError, match="nobody"):
        split_by_weights(100, {})
    with pytest.raises(MoneyError, match="zero"):
        split_by_weights(100, {"a": 0})
    with pytest.raises(MoneyError, match="negative"):
        split_by_weights(100, {"a": -1, "b": 2})


def test_largest_remainder_breaks_ties_by_order() -> None:
    assert split_by_weights(100, {"a": 1, "b": 1, "c": 1}) == {"a": 34, "b": 33, "c": 33}
