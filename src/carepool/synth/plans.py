"""Synthetic joint plans: realistic content for any area, with problems on request.

A good plan passes every rule of the year: the minimum pooled plus some extra, schemes that
add up to the pool, social care protected, the performance element in NHS out-of-hospital
services, the grant passed to districts in counties, ambitions for every metric and every
condition confirmed. ``flaw`` names one realistic mistake to put in, so that the demo's
rule screens have something true to show.

A plan's ambitions start from where the area's metrics would be if it carried on as before.
Given ``expected`` (each metric's value in each quarter, as
:func:`carepool.synth.person_level.expected_quarters` works them out with ``changed=False``),
the baseline is the average quarter and each quarter's ambition is that quarter's expected
value improved step by step to the plan's change by the fourth quarter, so ambitions follow
the seasons and sit on the same scale as the person-level data the demo measures. Without
it, or for a metric it does not cover, levels come from :data:`_BASELINES`.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Literal

from carepool.domain.money import split_by_weights
from carepool.domain.plan import (
    Ambition,
    Commissioner,
    ConditionConfirmation,
    ConditionStatus,
    Contribution,
    NewOrExisting,
    PlanContent,
    RiskShareKind,
    Scheme,
    Section75,
)
from carepool.domain.plan_rules import PlanContext

Flaw = Literal["none", "social_care_short", "schemes_short", "no_narrative", "grant_to_county"]

Expected = Mapping[str, Sequence[float | None]]
"""Each metric's expected value in each quarter if the area carried on as before."""

_BASELINES: dict[str, tuple[Decimal, Decimal]] = {
    # metric -> (a quarter's level, planned change per quarter). Ambitions are per quarter,
    # as carepool computes metrics: admissions per 1,000 residents a year (made a quarter's
    # count below), delayed days per 100,000 aged 18+ in a quarter, care-home admissions per
    # 100,000 aged 65+ in a quarter (about 650 a year), percentages as they are.
    "non_elective_admissions": (Decimal("23.0"), Decimal("-0.035")),
    "delayed_transfers_of_care": (Decimal("1070"), Decimal("-0.05")),
    "care_home_admissions_65_plus": (Decimal("162"), Decimal("-0.03")),
    "reablement_91_days": (Decimal("82.0"), Decimal("0.01")),
    "patient_experience": (Decimal("78.0"), Decimal("0.01")),
    "local_metric": (Decimal("120"), Decimal("-0.02")),
}


def synthetic_plan(
    context: PlanContext,
    population: int,
    rng: random.Random,
    flaw: Flaw = "none",
    expected: Expected | None = None,
) -> PlanContent:
    """A plan for the area described by ``context``, deterministic for the ``rng`` state.

    ``expected`` gives the metrics' levels to plan from (see the module's notes).
    """
    contributions = _contributions(context, rng)
    schemes = _schemes(context, contributions, rng, flaw)
    return PlanContent(
        contributions=contributions,
        schemes=schemes,
        ambitions=_ambitions(context, population, rng, expected or {}),
        conditions=tuple(
            ConditionConfirmation(
                condition=c.id,
                status=ConditionStatus.CONFIRMED,
                evidence=f"Agreed by the Health and Wellbeing Board: {c.evidence}",
            )
            for c in context.framework.national_conditions
        ),
        section75=_section75(context, contributions, rng),
        narrative="" if flaw == "no_narrative" else _NARRATIVE,
    )


def _section75(
    context: PlanContext, contributions: tuple[Contribution, ...], rng: random.Random
) -> Section75:
    """Section 75 terms with a risk-share rule and the parameters that rule needs."""
    kind = rng.choice(list(RiskShareKind))
    parameters: dict[str, object] = {}
    if kind is RiskShareKind.FIXED_PERCENTAGES:
        partners = sorted({c.partner_code for c in contributions})
        parts = split_by_weights(100, dict.fromkeys(partners, 1))
        parameters = {"percentages": {p: str(v) for p, v in parts.items()}}
    elif kind is RiskShareKind.HOST_FIRST:
        parameters = {"cap": f"£{rng.choice([250_000, 500_000, 1_000_000]):,}"}
    return Section75(
        host_partner=context.area_code,
        pool_manager=rng.choice(["A. Patel", "J. Murphy", "S. Okafor", "R. Evans", "L. Chen"]),
        risk_share=kind,
        risk_share_parameters=parameters,
        instalments=4,
        signed=context.framework.starts - dt.timedelta(days=rng.randint(5, 60)),
    )


_NARRATIVE = (
    "Our vision is for people to be supported at home for as long as possible, with health and "
    "social care teams working as one around the person. The pooled fund protects adult social "
    "care, funds seven-day discharge teams and integrated neighbourhood teams, and invests the "
    "performance element in community services that reduce emergency admissions."
)


def _contributions(context: PlanContext, rng: random.Random) -> tuple[Contribution, ...]:
    extra = Decimal(rng.choice([0, 0, 5, 10, 20, 35, 60])) / 100
    return tuple(
        Contribution(
            financial_year=year,
            stream=stream,
            partner_code=partner,
            minimum=amount,
            additional=int(amount * extra) // 100 * 100,
        )
        for (year, stream, partner), amount in sorted(context.minimums.items())
    )


def _schemes(
    context: PlanContext,
    contributions: tuple[Contribution, ...],
    rng: random.Random,
    flaw: Flaw,
) -> tuple[Scheme, ...]:
    by_stream: dict[tuple[str, str], int] = defaultdict(int)
    for c in contributions:
        by_stream[(c.financial_year, c.stream)] += c.total
    schemes: list[Scheme] = []
    for (year, stream), total in sorted(by_stream.items()):
        if flaw == "schemes_short" and not schemes:
            total -= total // 20
        for name, kind, who, spend, weight, provider in _templates(context, stream, flaw):
            schemes.append(
                Scheme(
                    ref=f"S{len(schemes) + 1}",
                    name=name,
                    scheme_type=kind,
                    commissioner=who,
                    provider=provider,
                    funding_source=stream,
                    area_of_spend=spend,
                    new_or_existing=rng.choice(list(NewOrExisting)),
                    financial_year=year,
                    planned_spend=weight,  # replaced below by the exact split
                )
            )
        _split(schemes, year, stream, total)
    return tuple(schemes)


def _split(schemes: list[Scheme], year: str, stream: str, total: int) -> None:
    """Give the stream's schemes exact amounts in proportion to their weights."""
    indexes = [
        i for i, s in enumerate(schemes) if s.financial_year == year and s.funding_source == stream
    ]
    parts = split_by_weights(total, {i: schemes[i].planned_spend for i in indexes})
    for i, amount in parts.items():
        schemes[i] = schemes[i].model_copy(update={"planned_spend": amount})


_Template = tuple[str, str, Commissioner, str, int, str]


def _templates(context: PlanContext, stream: str, flaw: Flaw) -> list[_Template]:
    framework = context.framework
    council = context.partners.get(context.area_code, "The council")
    types = framework.scheme_types
    if stream == framework.plan_rules.nhs_stream:
        social = 15 if flaw == "social_care_short" else 40
        return [
            ("Protecting adult social care", _pick(types, "Care"), Commissioner.COUNCIL,
             "Social care", social, council),
            ("Integrated neighbourhood teams", _pick(types, "Integrated"), Commissioner.NHS,
             "Community health", 35, "Community health trust"),
            ("Seven-day discharge team", _pick(types, "discharge"), Commissioner.NHS,
             "Acute", 5, "Acute hospital trust"),
            ("Mental health crisis support", _pick(types, "Prevention"), Commissioner.JOINT,
             "Mental health", 60 - social, "Mental health trust"),
        ]  # fmt: skip
    stream_info = framework.stream(stream)
    if stream_info.passes_to_districts:
        providers = list(context.districts) if flaw != "grant_to_county" else []
        return [
            (f"Adaptations: {p}", _pick(types, "Disabled"), Commissioner.COUNCIL, "Social care",
             1, p)
            for p in (providers or [council])
        ]  # fmt: skip
    return [(stream_info.name, _pick(types, "Care"), Commissioner.COUNCIL, "Social care", 1,
             council)]  # fmt: skip


def _pick(types: tuple[str, ...], word: str) -> str:
    return next((t for t in types if word.lower() in t.lower()), types[-1])


def _ambitions(
    context: PlanContext, population: int, rng: random.Random, expected: Expected
) -> tuple[Ambition, ...]:
    ambitions = []
    for use in context.framework.metrics:
        level, change = _BASELINES.get(use.metric, (Decimal(100), Decimal("-0.02")))
        draw = rng.randint(85, 115)
        modelled = expected.get(use.metric)
        if modelled is not None:
            ambitions.append(_modelled(use.metric, modelled, change, draw))
            continue
        if use.metric == "non_elective_admissions":
            level = (level * population / 1000 / 4).quantize(Decimal(1))
        wobble = Decimal(draw) / 100
        baseline = (level * wobble).quantize(Decimal("0.1"))
        quarters = tuple(
            (baseline * (1 + change * Decimal(q) / 4)).quantize(Decimal("0.1")) for q in range(1, 5)
        )
        ambitions.append(Ambition(metric=use.metric, baseline=baseline, quarters=quarters))
    return tuple(ambitions)


def _modelled(
    metric: str, quarters: Sequence[float | None], change: Decimal, draw: int
) -> Ambition:
    """Ambitions from the metric's expected quarters: some areas aim for half the usual
    change and some for half as much again (``draw`` from 85 to 115)."""
    effort = 1 + Decimal(draw - 100) / 30
    levels = [None if q is None else Decimal(f"{q:.4f}") for q in quarters]
    known = [q for q in levels if q is not None]
    baseline = sum(known, Decimal(0)) / len(known)
    planned = tuple(
        ((baseline if q is None else q) * (1 + change * effort * n / 4)).quantize(Decimal("0.1"))
        for n, q in enumerate(levels, start=1)
    )
    first, second, third, fourth = planned
    return Ambition(
        metric=metric,
        baseline=baseline.quantize(Decimal("0.1")),
        quarters=(first, second, third, fourth),
    )
