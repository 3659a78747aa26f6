"""Plan content: totals, and comparing any two versions field by field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from carepool.domain.money import MAX_PENCE
from carepool.domain.plan import (
    Commissioner,
    Contribution,
    NewOrExisting,
    PlanContent,
    Scheme,
    Section75,
    compare,
    scheme_rows,
    schemes_by_ref,
)


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


def _scheme(ref: str, year: str, spend: int, name: str = "Reablement") -> Scheme:
    return Scheme(
        ref=ref, name=name, scheme_type="Reablement", commissioner=Commissioner.JOINT,
        provider="Trust", funding_source="additional", area_of_spend="Community health",
        new_or_existing=NewOrExisting.NEW, financial_year=year, planned_spend=spend,
    )  # fmt: skip


def test_a_scheme_is_entered_once_and_stored_a_row_a_year() -> None:
    """The form gives a scheme's facts once and an amount per year; the plan keeps a row per
    year, which read back group into the scheme as entered, in first-appearance order."""
    rows = scheme_rows(_scheme("S1", "2017-18", 0), {"2017-18": 500, "2018-19": 700})
    assert [(r.ref, r.financial_year, r.planned_spend) for r in rows] == [
        ("S1", "2017-18", 500),
        ("S1", "2018-19", 700),
    ]
    other = _scheme("S2", "2018-19", 300, name="Carers")
    [s1, s2] = schemes_by_ref((rows[0], other, rows[1]))
    assert (s1.scheme.ref, s1.rows, dict(s1.spend), s1.total) == (
        "S1",
        (1, 3),
        {"2017-18": 500, "2018-19": 700},
        1200,
    )
    assert (s2.scheme.name, s2.rows, dict(s2.spend)) == ("Carers", (2,), {"2018-19": 300})


def test_a_reference_twice_in_one_year_is_shown_summed_not_hidden() -> None:
    [both] = schemes_by_ref((_scheme("S1", "2015-16", 100), _scheme("S1", "2015-16", 50)))
    assert both.rows == (1, 2) and dict(both.spend) == {"2015-16": 150}
