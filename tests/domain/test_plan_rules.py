"""Each plan rule on its own: a good plan passes, and one realistic mistake trips one rule."""

from __future__ import annotations

import dataclasses
import random
from decimal import Decimal
from typing import Any

import pytest

from carepool.domain.money import Pence
from carepool.domain.plan import (
    Commissioner,
    ConditionStatus,
    NewOrExisting,
    PlanContent,
    Scheme,
    scheme_rows,
)
from carepool.domain.plan_rules import RULES, PlanContext, Severity, blocking, check_plan
from carepool.frameworks import load_framework
from carepool.synth.plans import synthetic_plan

AREA = "E10000099"
CCG_A, CCG_B = "E38000001", "E38000002"


@pytest.fixture
def context() -> PlanContext:
    return PlanContext(
        framework=load_framework("2015-16"),
        area_code=AREA,
        area_kind="CTY",
        partners={CCG_A: "NHS North CCG", CCG_B: "NHS South CCG", AREA: "Shire (council)"},
        minimums={
            ("2015-16", "ccg_minimum", CCG_A): Pence(20_000_000_00),
            ("2015-16", "ccg_minimum", CCG_B): Pence(14_600_000_00),
            ("2015-16", "disabled_facilities_grant", AREA): Pence(2_200_000_00),
            ("2015-16", "social_care_capital", AREA): Pence(1_340_000_00),
        },
        districts=("Northdale", "Southdale"),
    )


@pytest.fixture
def good(context: PlanContext) -> PlanContent:
    return synthetic_plan(context, 500_000, random.Random(1))


def _rules_tripped(plan: PlanContent, context: PlanContext) -> set[str]:
    return {f.rule for f in blocking(check_plan(plan, context))}


def _replace(plan: PlanContent, section: str, index: int, **changes: Any) -> PlanContent:
    items = list(getattr(plan, section))
    items[index] = items[index].model_copy(update=changes)
    return plan.model_copy(update={section: tuple(items)})


def test_a_good_plan_passes_every_rule(good: PlanContent, context: PlanContext) -> None:
    assert check_plan(good, context) == []
    assert good.pooled() >= good.minimum() == sum(context.minimums.values())


def test_every_rule_is_documented() -> None:
    assert len(RULES) >= 10
    for name, rule in RULES.items():
        assert rule.__doc__ and len(rule.__doc__) > 20, name


def test_minimum_contributions_met(good: PlanContent, context: PlanContext) -> None:
    short = _replace(good, "contributions", 0, minimum=100)
    findings = [f for f in check_plan(short, context) if f.rule == "minimum_contributions_met"]
    assert len(findings) == 1
    assert findings[0].location.section == "Contributions"
    assert "must pool at least £20,000,000.00" in findings[0].message


def test_contributions_known(good: PlanContent, context: PlanContext) -> None:
    odd = _replace(good, "contributions", 0, partner_code="E38009999")
    findings = [f for f in check_plan(odd, context) if f.rule == "contributions_known"]
    assert [(f.location.row, f.location.field) for f in findings] == [(1, "partner")]


def test_schemes_add_up_to_pool(good: PlanContent, context: PlanContext) -> None:
    less = _replace(good, "schemes", 0, planned_spend=good.schemes[0].planned_spend - 1)
    findings = [f for f in check_plan(less, context) if f.rule == "schemes_add_up_to_pool"]
    assert len(findings) == 1
    assert "£0.01 less than the" in findings[0].message


def test_schemes_use_the_framework(good: PlanContent, context: PlanContext) -> None:
    odd = _replace(good, "schemes", 1, scheme_type="Magic", ref=good.schemes[0].ref)
    findings = [f for f in check_plan(odd, context) if f.rule == "schemes_use_the_framework"]
    assert {(f.location.row, f.location.field) for f in findings} == {
        (2, "scheme_type"),
        (2, "ref"),
    }


def test_social_care_protected(context: PlanContext) -> None:
    plan = synthetic_plan(context, 500_000, random.Random(1), "social_care_short")
    assert _rules_tripped(plan, context) == {"social_care_protected"}


def test_performance_element_needs_an_admissions_ambition(
    good: PlanContent, context: PlanContext
) -> None:
    index = next(i for i, a in enumerate(good.ambitions) if a.metric == "non_elective_admissions")
    no_plan = _replace(good, "ambitions", index, quarters=(None, None, None, None))
    assert "performance_element" in _rules_tripped(no_plan, context)


def test_performance_element_money_goes_out_of_hospital(
    good: PlanContent, context: PlanContext
) -> None:
    moved = good.model_copy(
        update={
            "schemes": tuple(
                s.model_copy(update={"area_of_spend": "Acute"}) if s.commissioner == "NHS" else s
                for s in good.schemes
            )
        }
    )
    findings = [f for f in check_plan(moved, context) if f.rule == "performance_element"]
    assert len(findings) == 1
    assert "NHS-commissioned out-of-hospital services" in findings[0].message


def test_performance_element_is_not_asked_in_a_later_year(context: PlanContext) -> None:
    later = PlanContext(
        framework=load_framework("2017-19"), area_code=AREA, area_kind="CTY",
        partners=context.partners, minimums={}, districts=context.districts,
    )  # fmt: skip
    assert list(RULES["performance_element"](PlanContent(), later)) == []


def test_grant_passed_to_districts(context: PlanContext) -> None:
    plan = synthetic_plan(context, 500_000, random.Random(1), "grant_to_county")
    findings = [f for f in check_plan(plan, context) if f.rule == "grant_passed_to_districts"]
    assert len(findings) == 1 and findings[0].location.field == "provider"
    unitary = dataclasses.replace(context, area_kind="UA")
    assert "grant_passed_to_districts" not in _rules_tripped(plan, unitary)


def test_the_grant_error_names_every_district(context: PlanContext) -> None:
    """Whoever reads the error can pick a valid name from it, however many districts."""
    many = dataclasses.replace(context, districts=tuple(f"District {n}" for n in range(1, 8)))
    plan = synthetic_plan(many, 500_000, random.Random(1), "grant_to_county")
    [finding] = [f for f in check_plan(plan, many) if f.rule == "grant_passed_to_districts"]
    assert all(name in finding.message for name in many.districts)
    assert "…" not in finding.message


def test_a_scheme_may_run_in_both_years_of_a_plan(context: PlanContext) -> None:
    """One reference, one scheme: a row per year is the scheme entered once; the same
    reference twice in one year, or on rows that differ in more than year and amount, is an
    error on the later row."""
    two_years = dataclasses.replace(context, framework=load_framework("2017-19"))
    scheme = Scheme(
        ref="S1", name="Reablement", scheme_type="Reablement in a person's own home",
        commissioner=Commissioner.JOINT, provider="Trust", funding_source="additional",
        area_of_spend="Community health", new_or_existing=NewOrExisting.EXISTING,
        financial_year="2017-18", planned_spend=100,
    )  # fmt: skip
    both = scheme_rows(scheme, {"2017-18": 100, "2018-19": 150})

    def ref_findings(*rows: Scheme) -> list[tuple[int | None, str]]:
        plan = PlanContent(schemes=rows)
        found = RULES["schemes_use_the_framework"](plan, two_years)
        return [(f.location.row, f.message) for f in found if f.location.field == "ref"]

    assert ref_findings(*both) == []
    [(row, message)] = ref_findings(*both, both[1])
    assert row == 3 and "used twice in 2018-19" in message
    renamed = both[1].model_copy(update={"name": "Something else"})
    [(row, message)] = ref_findings(both[0], renamed)
    assert row == 2 and "differ in name" in message


def test_metrics_planned(good: PlanContent, context: PlanContext) -> None:
    missing = _replace(good, "ambitions", 1, baseline=None)
    gap = _replace(good, "ambitions", 2, quarters=(Decimal(1), None, Decimal(1), Decimal(1)))
    worse = _replace(good, "ambitions", 1, quarters=(Decimal(10_000),) * 4)
    assert "a baseline is required" in _messages(missing, context, "metrics_planned")
    assert "no plan for Q2" in _messages(gap, context, "metrics_planned")
    warnings = [f for f in check_plan(worse, context) if f.severity is Severity.WARNING]
    assert [f.rule for f in warnings] == ["metrics_planned"]


def test_conditions_confirmed(good: PlanContent, context: PlanContext) -> None:
    unset = _replace(good, "conditions", 0, status=None)
    unexplained = _replace(good, "conditions", 1, status=ConditionStatus.NOT_MET, evidence="")
    assert "confirm the condition or explain" in _messages(unset, context, "conditions_confirmed")
    assert "explain how and when" in _messages(unexplained, context, "conditions_confirmed")


def test_section75_agreed(good: PlanContent, context: PlanContext) -> None:
    terms = good.section75.model_copy(update={"host_partner": "", "pool_manager": "",
                                              "risk_share": None})  # fmt: skip
    plan = good.model_copy(update={"section75": terms})
    fields = {f.location.field for f in check_plan(plan, context) if f.rule == "section75_agreed"}
    assert fields == {"host_partner", "pool_manager", "risk_share"}


def test_narrative_written(context: PlanContext) -> None:
    plan = synthetic_plan(context, 500_000, random.Random(1), "no_narrative")
    assert _rules_tripped(plan, context) == {"narrative_written"}


def _messages(plan: PlanContent, context: PlanContext, rule: str) -> str:
    return " | ".join(f.message for f in check_plan(plan, context) if f.rule == rule)


def test_section75_risk_share_needs_its_parameters(good: PlanContent, context: PlanContext) -> None:
    for kind, message in (("fixed_percentages", "percentages"), ("host_first", "cap")):
        terms = good.section75.model_copy(update={"risk_share": kind, "risk_share_parameters": {}})
        plan = good.model_copy(update={"section75": terms})
        found = [
            f for f in check_plan(plan, context) if f.location.field == "risk_share_parameters"
        ]
        assert found and message in found[0].message, kind


def test_a_risk_share_parameter_the_rule_does_not_read_is_an_error(
    good: PlanContent, context: PlanContext
) -> None:
    """``host_share`` is read by no rule, so 1e308 in it was stored without a word."""
    for kind, parameters, takes in (
        ("host_first", {"cap": "£250,000", "host_share": 1e308}, "it takes only 'cap'"),
        ("proportional", {"host_share": 60}, "it takes none"),
    ):
        terms = good.section75.model_copy(
            update={"risk_share": kind, "risk_share_parameters": parameters}
        )
        plan = good.model_copy(update={"section75": terms})
        found = [
            f for f in check_plan(plan, context) if f.location.field == "risk_share_parameters"
        ]
        assert [(f.severity.value, f.message) for f in found] == [
            ("error", f"the {kind} rule has no parameter 'host_share'; {takes}")
        ]
