"""Plan content: totals, and comparing any two versions field by field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from carepool.domain.money import MAX_PENCE
from carepool.domain.plan import Contribution, PlanContent, Section75, compare


def test_pooled_keeps_minimum_and_additional_apart() -> None:
    plan = PlanContent(contributions=(
        Contribution(financial_year="2015-16", stream="ccg_minimum", partner_code="E38000001",
                     minimum=1000, additional=250),
    ))  # fmt: skip
    assert plan.minimum() == 1000
    assert plan.pooled() == 1250


def test_compare_lists_each_changed_field() -> None:
    old = PlanContent(narrative="first", section75=Section75(pool_manager="A"))
    new = PlanContent(narrative="second", section75=Section75(pool_manager="A", instalments=12))
    assert compare(old, new) == [
        ("narrative", "first", "second"),
        ("section75.instalments", 4, 12),
    ]
    assert compare(old, old) == []


def test_money_in_a_plan_is_whole_non_negative_pence() -> None:
    for bad in (-1, 1.5, "12", MAX_PENCE + 1, 10**308):
        with pytest.raises(ValidationError):
            Contribution(financial_year="2015-16", stream="s", partner_code="p", minimum=bad)
