"""The substitution rule, worked by hand: real terms, own-funded spend, the flag and its
tolerance, the basis check, the comparison group and council name matching."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carepool.domain.substitution import (
    Basis,
    CouncilYear,
    check_council,
    council_name_key,
    is_substitution,
    median_change,
    name_index,
    real_terms,
    same_kind_group,
)

DEFLATORS = {"2014-15": Decimal("80"), "2015-16": Decimal("100"), "2016-17": Decimal("125")}


def _year(
    year: str, gross: int, nhs: int, joint: int = 0, basis: Basis = Basis.ASC_FR
) -> CouncilYear:
    return CouncilYear("E06000001", year, basis, gross, nhs, joint)


def test_real_terms_restates_cash_in_the_price_year_exactly() -> None:
    # £80 of 2014-15 money is £100 in 2015-16 prices when the deflator goes 80 -> 100.
    assert real_terms(8_000, "2014-15", DEFLATORS, "2015-16") == 10_000
    # 125 -> 100: £1.25 becomes £1.00; 1p becomes 0.8p, rounded half to even to 1p.
    assert real_terms(125, "2016-17", DEFLATORS, "2015-16") == 100
    assert real_terms(1, "2016-17", DEFLATORS, "2015-16") == 1
    # 2.5p rounds half to even: 2p.
    assert real_terms(2, "2014-15", DEFLATORS, "2015-16") == 2  # 2.5 -> 2
    with pytest.raises(KeyError, match="2019-20"):
        real_terms(1, "2019-20", DEFLATORS, "2015-16")


@given(st.integers(min_value=0, max_value=10**14))
def test_real_terms_in_the_price_year_is_the_cash(cash: int) -> None:
    assert real_terms(cash, "2015-16", DEFLATORS, "2015-16") == cash


def test_own_funded_is_gross_current_expenditure_less_nhs_and_joint_income() -> None:
    year = _year("2014-15", gross=1_000, nhs=150, joint=50)
    assert year.nhs_money == 200
    assert year.own_funded == 800
    assert _year("2014-15", 1_000, 150, None).own_funded is None  # type: ignore[arg-type]
    bridging = CouncilYear("E06000001", "2015-16", Basis.BRIDGING, bridging_expenditure=1_000)
    assert bridging.own_funded is None


def test_a_fall_beyond_the_tolerance_while_nhs_money_rises_is_flagged() -> None:
    # Baseline 2014-15: own-funded 800 cash = 1,000 real; NHS money 200 cash = 250 real.
    # 2015-16 (price year): own-funded 900 real (-10%), NHS money 300 real (+50): flagged.
    base, later = _year("2014-15", 1_000, 200), _year("2015-16", 1_200, 300)
    first, second = check_council([later, base], DEFLATORS)
    assert (first.own_funded_real, first.nhs_money_real) == (1_000, 250)
    assert not first.comparable and not first.flagged  # the baseline is not compared
    assert second.own_funded_real == 900
    assert second.own_change == Fraction(-1, 10)
    assert second.nhs_money_change == 50
    assert second.comparable and second.flagged


def test_a_fall_within_the_tolerance_is_not_flagged() -> None:
    # Own-funded 1,000 real -> 991 real is a 0.9% fall: inside the 1% tolerance.
    base, later = _year("2014-15", 1_000, 200), _year("2015-16", 1_291, 300)
    assert not check_council([base, later], DEFLATORS)[1].flagged
    # 1,000 -> 989 real (-1.1%) is beyond it.
    assert check_council([base, _year("2015-16", 1_289, 300)], DEFLATORS)[1].flagged


def test_no_flag_when_nhs_money_did_not_rise_in_real_terms() -> None:
    # NHS money 200 cash in 2014-15 is 250 real; 250 cash in 2015-16 is no rise.
    base, later = _year("2014-15", 1_000, 200), _year("2015-16", 1_000, 250)
    result = check_council([base, later], DEFLATORS)[1]
    assert result.nhs_money_change == 0 and result.own_change is not None
    assert result.own_change < 0 and not result.flagged


def test_a_cash_rise_that_is_a_real_fall_is_flagged() -> None:
    # Own-funded 800 -> 1,000 cash looks like growth, but 2016-17 prices are 25% higher:
    # 1,000 real -> 800 real, a 20% fall, while NHS money rose from 250 to 400 real.
    base, later = _year("2014-15", 1_000, 200), _year("2016-17", 1_500, 500)
    result = check_council([base, later], DEFLATORS)[1]
    assert result.own_funded_real == 800 and result.flagged


def test_a_year_on_another_basis_is_shown_but_never_compared() -> None:
    base = _year("2014-15", 1_000, 200)
    bridging = CouncilYear(
        "E06000001", "2015-16", Basis.BRIDGING, bcf_income=500, bridging_expenditure=10
    )
    result = check_council([base, bridging], DEFLATORS)[1]
    assert result.own_funded_real is None
    assert not result.comparable and not result.flagged and result.own_change is None


def test_without_a_baseline_nothing_is_compared() -> None:
    results = check_council([_year("2015-16", 1_000, 100)], DEFLATORS)
    assert not results[0].comparable and not results[0].flagged


def test_the_flag_rule_itself() -> None:
    assert is_substitution(Fraction(-2, 100), 1, Decimal("0.01"))
    assert not is_substitution(Fraction(-1, 100), 1, Decimal("0.01"))  # exactly 1%: not beyond
    assert not is_substitution(Fraction(-2, 100), 0, Decimal("0.01"))
    assert not is_substitution(None, 1, Decimal("0.01"))


def test_median_change_and_the_same_kind_group() -> None:
    assert median_change([]) is None
    assert median_change([Fraction(3), Fraction(1), Fraction(2)]) == 2
    assert median_change([Fraction(1), Fraction(4)]) == Fraction(5, 2)
    kinds = {"A": "CTY", "B": "CTY", "C": "UA", "L": "LBO", "CL": "CC"}
    assert same_kind_group("A", kinds) == ["B"]
    assert same_kind_group("CL", kinds) == ["L"]  # the City with the London boroughs


@pytest.mark.parametrize(
    ("published", "register"),
    [
        ("Stockton on Tees", "Stockton-on-Tees"),
        ("Durham", "County Durham"),
        ("Kingston upon Hull", "Kingston upon Hull, City of"),
        ("Buckinghamshire", "Buckinghamshire County"),
        ("St Helens", "St. Helens"),
        ("Telford and the Wrekin", "Telford & the Wrekin"),
        ("Isle of Wight Council", "Isle of Wight"),
    ],
)
def test_council_names_match_across_spellings(published: str, register: str) -> None:
    assert council_name_key(published) == council_name_key(register)


def test_an_ambiguous_name_is_not_guessed() -> None:
    index = name_index({"E1": "Newtown", "E2": "Newtown County", "E3": "Oldbury"})
    assert index["newtown"] is None
    assert index["oldbury"] == "E3"
