"""The year-level rule kinds, each with a hand-worked example in its docstring."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest

from carepool.domain.errors import CarepoolError
from carepool.domain.grant_rules import (
    AreaFacts,
    Finding,
    apply_rule,
    apply_rules,
    required_social_care,
    returns_due,
)
from carepool.domain.money import Pence
from carepool.frameworks import load_framework


def _met(findings: list[Finding], condition: str) -> bool:
    (found,) = [f for f in findings if f.condition == condition]
    return bool(found.met)


def test_improved_bcf_conditions_2019_20() -> None:
    """2019-20 iBCF conditions, uplift 1.9%.

    Area allocated £10,000,000.00 of iBCF; pools £10,000,000.00: pooled in full.
    NHS spend on adult social care last year £2,000,000.00:
        required = 2,000,000.00 × 1.019 = £2,038,000.00
    planned £2,037,999.99 → one penny short: not maintained.
    planned £2,038,000.00 → maintained.
    """
    framework = load_framework("2019-20")
    (rule,) = framework.rules
    facts = AreaFacts(
        allocated={"improved_bcf": Pence(1_000_000_000)},
        pooled={"improved_bcf": Pence(1_000_000_000)},
        social_care_from_nhs=Pence(203_799_999),
        social_care_from_nhs_before=Pence(200_000_000),
    )
    short = apply_rule(rule, framework, facts)
    assert _met(short, "improved_bcf pooled in full")
    assert not _met(short, "NHS contribution to adult social care maintained")
    assert "£2,038,000.00" in short[1].detail
    enough = replace(facts, social_care_from_nhs=Pence(203_800_000))
    assert all(f.met for f in apply_rule(rule, framework, enough))


def test_an_uplift_is_rounded_up_to_the_penny() -> None:
    """£1,234.57 × 1.039 = £1,282.718... → £1,282.72 (a requirement rounds up, never down)."""
    assert required_social_care(Pence(123_457), Decimal("3.9")) == 128_272


def test_better_care_grant_conditions_2025_26() -> None:
    """2025-26 Better Care Grant, uplift 3.9%.

    Allocated £5,000,000.00, pooled £4,900,000.00: not pooled in full (£100,000 short).
    NHS spend on adult social care: before £1,000,000.00, required 1,000,000 × 1.039 =
    £1,039,000.00, planned £1,040,000.00: maintained.
    """
    framework = load_framework("2025-26")
    facts = AreaFacts(
        allocated={"better_care_grant": Pence(500_000_000)},
        pooled={"better_care_grant": Pence(490_000_000)},
        social_care_from_nhs=Pence(104_000_000),
        social_care_from_nhs_before=Pence(100_000_000),
    )
    findings = apply_rules(framework, facts)
    assert not _met(findings, "better_care_grant pooled in full")
    assert _met(findings, "NHS contribution to adult social care maintained")
    assert "£1,039,000.00" in findings[1].detail


def test_year_end_reconciliation_2020_21() -> None:
    """2020-21: no plans; the year end settles it.

    CCG minimum £3,000,000.00 allocated, spent in full. iBCF £2,000,000.00 allocated,
    £1,950,000.00 spent: £50,000.00 unspent. DFG £500,000.00 spent in full.
    Adult social care from the NHS minimum £1,100,000.00 against a minimum of £1,000,000.00:
    met. Conditions: three confirmed, but not out_of_hospital_investment.
    """
    framework = load_framework("2020-21")
    facts = AreaFacts(
        allocated={
            "ccg_minimum": Pence(300_000_000),
            "improved_bcf": Pence(200_000_000),
            "disabled_facilities_grant": Pence(50_000_000),
        },
        spent={
            "ccg_minimum": Pence(300_000_000),
            "improved_bcf": Pence(195_000_000),
            "disabled_facilities_grant": Pence(50_000_000),
        },
        social_care_from_nhs=Pence(110_000_000),
        social_care_minimum=Pence(100_000_000),
        conditions_confirmed={
            "plans_jointly_agreed": True,
            "nhs_contribution_to_social_care": True,
            "out_of_hospital_investment": False,
        },
    )
    findings = apply_rules(framework, facts)
    assert _met(findings, "ccg_minimum spent in full")
    assert not _met(findings, "improved_bcf spent in full")
    assert "£50,000.00 unspent" in findings[1].detail
    assert _met(findings, "adult social care spend from the NHS minimum")
    conditions = findings[-1]
    assert not conditions.met and conditions.detail == "not confirmed: out_of_hospital_investment"


def test_discharge_fund_2022_23() -> None:
    """2022-23 discharge fund: returns every fortnight from 16 Dec 2022 to 31 Mar 2023.

    16 Dec, 30 Dec, 13 Jan, 27 Jan, 10 Feb, 24 Feb, 10 Mar, 24 Mar = 8 returns (7 Apr is after
    31 Mar). The area made all but 27 Jan: 7 of 8. Council part £200,000.00 pooled in full;
    ICB part £300,000.00 pooled in full.
    """
    due = returns_due(dt.date(2022, 12, 16), dt.date(2023, 3, 31))
    assert len(due) == 8 and due[-1] == dt.date(2023, 3, 24)
    framework = load_framework("2022-23")
    made = frozenset(day for day in due if day != dt.date(2023, 1, 27))
    facts = AreaFacts(
        allocated={
            "discharge_fund_council": Pence(20_000_000),
            "discharge_fund_icb": Pence(30_000_000),
        },
        pooled={
            "discharge_fund_council": Pence(20_000_000),
            "discharge_fund_icb": Pence(30_000_000),
        },
        returns_made=made,
    )
    findings = apply_rules(framework, facts)
    assert _met(findings, "discharge_fund_council pooled in full")
    assert _met(findings, "discharge_fund_icb pooled in full")
    returns = findings[-1]
    assert not returns.met
    assert returns.detail == "7 of 8 returns made; missing 2023-01-27"


def test_a_rule_kind_not_yet_applied_is_named_not_crashed_on() -> None:
    framework = load_framework("2014-15")
    (rule,) = framework.rules
    with pytest.raises(CarepoolError, match="rule kind 'transfer_to_social_care' is not yet"):
        apply_rule(rule, framework, AreaFacts())
    assert apply_rules(framework, AreaFacts()) == []  # the rest of the year still runs
