"""Synthetic plans aim from where the area's metrics would be, on the data's own scale.

Given the generator's expected quarters (as if the area carried on as before), a plan's
baseline is the average quarter and its ambitions follow the seasons, improving step by step
to the plan's change by the fourth quarter, in each metric's better direction. The demo's
plans are built that way at the scale the demo measures, so actuals and ambitions meet.
"""

from __future__ import annotations

import random
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest

from carepool.demo import service as demo
from carepool.demo.metrics import DEMO_METRICS_YEAR, DEMO_SCALE
from carepool.domain.money import Pence
from carepool.domain.plan import PlanContent
from carepool.domain.plan_rules import PlanContext, check_plan
from carepool.frameworks import load_framework
from carepool.plans import service as plans
from carepool.store.db import engine_for, unit_of_work
from carepool.synth.person_level import expected_quarters
from carepool.synth.plans import Expected, synthetic_plan

AREA = "E10000099"
CCG = "E38000001"
EXPECTED: Expected = {
    "non_elective_admissions": (1_000.0, 980.0, 1_100.0, 1_120.0),  # a winter peak
    "delayed_transfers_of_care": (100.0, 100.0, 110.0, 114.0),
    "care_home_admissions_65_plus": (12.0, 12.0, 12.6, 12.6),
    "reablement_91_days": (80.0, 80.0, 80.0, 80.0),
    "patient_experience": (None, None, None, 63.0),  # the survey asks in Q4 only
}


@pytest.fixture
def context() -> PlanContext:
    return PlanContext(
        framework=load_framework("2015-16"),
        area_code=AREA,
        area_kind="UA",
        partners={CCG: "NHS Townside CCG", AREA: "Townside (council)"},
        minimums={
            ("2015-16", "ccg_minimum", CCG): Pence(20_000_000_00),
            ("2015-16", "disabled_facilities_grant", AREA): Pence(2_200_000_00),
            ("2015-16", "social_care_capital", AREA): Pence(1_340_000_00),
        },
    )


def _ambitions(plan: PlanContent) -> dict[str, tuple[Decimal | None, tuple[Decimal | None, ...]]]:
    return {a.metric: (a.baseline, a.quarters) for a in plan.ambitions}


def test_ambitions_start_from_the_expected_quarters_and_improve_through_the_year(
    context: PlanContext,
) -> None:
    plan = synthetic_plan(context, 300_000, random.Random(1), expected=EXPECTED)
    assert check_plan(plan, context) == []
    ambitions = _ambitions(plan)
    for use in context.framework.metrics:
        if use.metric not in EXPECTED:
            continue
        baseline, quarters = ambitions[use.metric]
        levels = [Decimal(str(q)) for q in EXPECTED[use.metric] if q is not None]
        assert baseline == (sum(levels, Decimal(0)) / len(levels)).quantize(Decimal("0.1")), (
            use.metric
        )
        planned = [q for q in quarters if q is not None]
        gaps = [
            (planned[n] - Decimal(str(level))) / Decimal(str(level))
            for n, level in enumerate(EXPECTED[use.metric])
            if level is not None
        ]
        better = -1 if use.direction == "lower_is_better" else 1
        assert all(better * gap > 0 for gap in gaps), f"{use.metric} aims to improve"
        assert [better * g for g in gaps] == sorted(better * g for g in gaps), use.metric
    admissions = ambitions["non_elective_admissions"][1]
    assert admissions[3] is not None and admissions[0] is not None
    assert admissions[3] > admissions[0], "the winter quarter's ambition is higher"
    baseline, experience = ambitions["patient_experience"]
    assert baseline == Decimal(63)
    steps = [Decimal(63), *(q for q in experience if q is not None)]
    assert len(steps) == 5 and all(a < b for a, b in pairwise(steps)), (
        "quarters with nothing expected aim from the baseline, step by step"
    )


def test_areas_aim_for_more_or_less_than_the_usual_change(context: PlanContext) -> None:
    """From half the usual reduction to half as much again, and the rest of the plan is the
    same as without expected values."""
    fourths = set()
    for seed in range(40):
        plan = synthetic_plan(context, 300_000, random.Random(seed), expected=EXPECTED)
        quarters = _ambitions(plan)["non_elective_admissions"][1]
        assert quarters[3] is not None
        fourths.add(quarters[3] / Decimal(1_120) - 1)
        plain = synthetic_plan(context, 300_000, random.Random(seed))
        assert plan.model_copy(update={"ambitions": plain.ambitions}) == plain
    assert min(fourths) == pytest.approx(Decimal("-0.0525"), abs=Decimal("0.001"))
    assert max(fourths) == pytest.approx(Decimal("-0.0175"), abs=Decimal("0.002"))


def test_the_demos_plans_aim_from_the_data_the_demo_measures(demo_db_file: Path) -> None:
    """Every demo plan's emergency admissions baseline is the area's average expected
    quarter at the demo's scale: the same scale as the admissions the demo computes."""
    levels = expected_quarters(
        seed=2015, scale=DEMO_SCALE, financial_year=DEMO_METRICS_YEAR, changed=False
    )
    engine = engine_for(f"sqlite:///{demo_db_file}")
    try:
        with unit_of_work(engine) as session:
            for code, metrics in levels.items():
                plan = plans.find(session, demo.DEMO_YEARS[0], code)
                assert plan is not None
                content = plans.content_of(plans.current_version(plan))
                baseline = _ambitions(content)["non_elective_admissions"][0]
                quarters = [Decimal(f"{q:.4f}") for q in metrics["non_elective_admissions"] if q]
                assert baseline == (sum(quarters, Decimal(0)) / 4).quantize(Decimal("0.1")), code
    finally:
        engine.dispose()
