"""The checks a plan must pass: a registry of small, named, documented rules.

Each rule reads the plan with what carepool already knows about the area (its allocation,
its partners, its districts) and returns findings. An *error* blocks sending the plan for
sign-off; a *warning* informs and must stay rare enough to be read. Every finding says where
it is (section, row and field) so the web page, the API and the Excel upload can all point
at the place to fix. The rules' parameters come from the year's framework.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from carepool.domain.direction import Direction
from carepool.domain.framework import Framework
from carepool.domain.money import Pence, format_money, parse_money
from carepool.domain.plan import (
    SCHEME_YEAR_FIELDS,
    Commissioner,
    ConditionStatus,
    PlanContent,
    Scheme,
)
from carepool.domain.risk_share import parameter_problems


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Location:
    section: str
    row: int | None = None  # 1-based row within the section
    field: str | None = None

    def __str__(self) -> str:
        parts = [self.section]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.field:
            parts.append(self.field)
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    severity: Severity
    location: Location
    message: str


@dataclass(frozen=True, slots=True)
class PlanContext:
    """What the rules know about the area beyond the plan itself."""

    framework: Framework
    area_code: str
    area_kind: str
    partners: Mapping[str, str]  # partner code -> name (commissioners, the council)
    minimums: Mapping[tuple[str, str, str], Pence]  # (year, stream, partner) -> minimum
    districts: tuple[str, ...] = ()  # district council names, for county areas
    baselines: Mapping[str, Decimal] = field(default_factory=dict)


Rule = Callable[[PlanContent, PlanContext], Iterable[Finding]]
RULES: dict[str, Rule] = {}


def rule(function: Rule) -> Rule:
    """Register a rule under its function name."""
    RULES[function.__name__] = function
    return function


def check_plan(plan: PlanContent, context: PlanContext) -> list[Finding]:
    """Every finding of every rule, errors first, in a stable order."""
    findings = [f for check in RULES.values() for f in check(plan, context)]
    order = {Severity.ERROR: 0, Severity.WARNING: 1}
    return sorted(findings, key=lambda f: order[f.severity])


def blocking(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity is Severity.ERROR]


def _error(
    name: str, section: str, message: str, row: int | None = None, field_: str | None = None
) -> Finding:
    return Finding(name, Severity.ERROR, Location(section, row, field_), message)


def _warning(
    name: str, section: str, message: str, row: int | None = None, field_: str | None = None
) -> Finding:
    return Finding(name, Severity.WARNING, Location(section, row, field_), message)


@rule
def minimum_contributions_met(plan: PlanContent, context: PlanContext) -> Iterable[Finding]:
    """Each partner pools at least its published minimum for each stream and year."""
    given: dict[tuple[str, str, str], int] = defaultdict(int)
    for c in plan.contributions:
        given[(c.financial_year, c.stream, c.partner_code)] += c.minimum
    for (year, stream, partner), minimum in sorted(context.minimums.items()):
        if given.get((year, stream, partner), 0) < minimum:
            name = context.partners.get(partner, partner)
            yield _error(
                "minimum_contributions_met",
                "Contributions",
                f"{name} must pool at least {format_money(minimum)} from {stream} in {year}; "
                f"the plan has {format_money(given.get((year, stream, partner), 0))}",
                field_=f"{stream} {year} {partner}",
            )


@rule
def contributions_known(plan: PlanContent, context: PlanContext) -> Iterable[Finding]:
    """Contributions name streams of the year and partners of the area."""
    streams = {s.id for s in context.framework.streams}
    for row, c in enumerate(plan.contributions, start=1):
        if c.stream not in streams:
            yield _error(
                "contributions_known",
                "Contributions",
                f"{c.stream!r} is not a funding stream of {context.framework.year}",
                row,
                "stream",
            )
        if c.partner_code not in context.partners:
            yield _error(
                "contributions_known",
                "Contributions",
                f"{c.partner_code!r} is not a partner of this area",
                row,
                "partner",
            )
        if c.financial_year not in context.framework.financial_years:
            yield _error(
                "contributions_known",
                "Contributions",
                f"{c.financial_year} is not a year of this plan",
                row,
                "financial_year",
            )


@rule
def schemes_add_up_to_pool(plan: PlanContent, context: PlanContext) -> Iterable[Finding]:
    """Planned spend on schemes equals the money pooled, year by year: nothing unplanned."""
    for year in context.framework.financial_years:
        pooled = sum(c.total for c in plan.contributions if c.financial_year == year)
        planned = sum(s.planned_spend for s in plan.schemes if s.financial_year == year)
        if pooled != planned:
            gap = planned - pooled
            word = "more than" if gap > 0 else "less than"
            yield _error(
                "schemes_add_up_to_pool",
                "Schemes",
                f"schemes for {year} plan {format_money(planned)}, {format_money(abs(gap))} "
                f"{word} the {format_money(pooled)} pooled",
                field_="planned_spend",
            )


@rule
def schemes_use_the_framework(plan: PlanContent, context: PlanContext) -> Iterable[Finding]:
    """Scheme types, areas of spend, funding sources and years come from the framework."""
    framework = context.framework
    sources = {s.id for s in framework.streams} | {"additional"}
    first: dict[str, Scheme] = {}
    years: set[tuple[str, str]] = set()
    for row, s in enumerate(plan.schemes, start=1):
        checks = (
            ("scheme_type", s.scheme_type in framework.scheme_types, "is not a scheme type"),
            (
                "area_of_spend",
                s.area_of_spend in framework.areas_of_spend,
                "is not an area of spend",
            ),
            ("funding_source", s.funding_source in sources, "is not a funding source"),
            (
                "financial_year",
                s.financial_year in framework.financial_years,
                "is not a year of this plan",
            ),
        )
        for name, ok, message in checks:
            if not ok:
                value = getattr(s, name)
                yield _error(
                    "schemes_use_the_framework", "Schemes", f"{value!r} {message}", row, name
                )
        yield from _same_scheme(s, row, first.setdefault(s.ref, s), years)


def _same_scheme(
    s: Scheme, row: int, first: Scheme, years: set[tuple[str, str]]
) -> Iterable[Finding]:
    """A reference names one scheme: its rows are one per year, alike in all but the year
    and the amount (a scheme running both years of a plan is entered once, with both)."""
    if (s.ref, s.financial_year) in years:
        yield _error(
            "schemes_use_the_framework",
            "Schemes",
            f"scheme reference {s.ref!r} is used twice in {s.financial_year}",
            row,
            "ref",
        )
    years.add((s.ref, s.financial_year))
    differ = [
        name
        for name in Scheme.model_fields
        if name not in SCHEME_YEAR_FIELDS and getattr(s, name) != getattr(first, name)
    ]
    if differ:
        yield _error(
            "schemes_use_the_framework",
            "Schemes",
            f"scheme reference {s.ref!r} is used for two schemes: its {first.financial_year} "
            f"and {s.financial_year} rows differ in {', '.join(differ)}",
            row,
            "ref",
        )


@rule
def social_care_protected(plan: PlanContent, context: PlanContext) -> Iterable[Finding]:
    """NHS money spent on adult social care is at least the framework's share of the minimum."""
    share = context.framework.plan_rules.social_care_share
    if share is None:
        return
    for year in context.framework.financial_years:
        nhs_minimum = sum(
            amount
            for (y, stream, _), amount in context.minimums.items()
            if y == year and stream == context.framework.plan_rules.nhs_stream
        )
        required = int(Decimal(nhs_minimum) * share)
        spent = sum(
            s.planned_spend
            for s in plan.schemes
            if s.financial_year == year
            and s.area_of_spend == "Social care"
            and s.funding_source == context.framework.plan_rules.nhs_stream
        )
        if spent < required:
            yield _error(
                "social_care_protected",
                "Schemes",
                f"{year}: {format_money(spent)} of NHS money is planned for social care; "
                f"protecting social care needs at least {format_money(required)} "
                f"({share:.1%} of the NHS minimum)",
                field_="area_of_spend",
            )


@rule
def performance_element(plan: PlanContent, context: PlanContext) -> Iterable[Finding]:
    """2015-16: an emergency admissions ambition, and the rest of the area's share of the £1bn
    in NHS-commissioned out-of-hospital services."""
    design = context.framework.payment_in_force
    if design.kind != "non_elective_reduction":
        return
    nea = next((a for a in plan.ambitions if a.metric == "non_elective_admissions"), None)
    if nea is None or nea.baseline is None or None in nea.quarters:
        yield _error(
            "performance_element",
            "Metrics",
            "a non-elective admissions baseline and quarterly plan are required",
            field_="non_elective_admissions",
        )
        return
    # Each quarter's planned fall from the same quarter of the baseline year, as paid.
    baselines = [nea.quarter_baseline(n) or Decimal(0) for n in range(1, 5)]
    planned = [q for q in nea.quarters if q is not None]
    reduction = sum(
        (max(Decimal(0), b - q) for b, q in zip(baselines, planned, strict=True)), Decimal(0)
    )
    cost = parse_money(str(design.parameters["cost_per_admission"]))
    at_risk = int(reduction * cost)
    stream = context.framework.plan_rules.nhs_stream
    area_nhs = sum(v for (_, s, _), v in context.minimums.items() if s == stream)
    national = sum(context.framework.stream(stream).totals.values())
    share = design.pot * area_nhs // national if national else 0
    required = max(0, share - at_risk)
    out_of_hospital = sum(
        s.planned_spend
        for s in plan.schemes
        if s.commissioner is Commissioner.NHS and s.area_of_spend not in {"Acute", "Social care"}
    )
    if out_of_hospital < required:
        yield _error(
            "performance_element",
            "Schemes",
            f"the area's share of the performance element is {format_money(share)}; with "
            f"{format_money(at_risk)} at risk on a reduction of {reduction:,.0f} admissions, "
            f"{format_money(required)} must go to NHS-commissioned out-of-hospital services, "
            f"but the plan has {format_money(out_of_hospital)}",
            field_="commissioner",
        )


@rule
def grant_passed_to_districts(plan: PlanContent, context: PlanContext) -> Iterable[Finding]:
    """In a county, the Disabled Facilities Grant goes to the district housing authorities."""
    if context.area_kind != "CTY" or not context.districts:
        return
    passing = {s.id for s in context.framework.streams if s.passes_to_districts}
    for row, s in enumerate(plan.schemes, start=1):
        if s.funding_source in passing and s.provider not in context.districts:
            yield _error(
                "grant_passed_to_districts",
                "Schemes",
                f"{s.name}: the grant must be passed to a district council, one of "
                f"{', '.join(context.districts)}; not {s.provider!r}",
                row,
                "provider",
            )


@rule
def metrics_planned(plan: PlanContent, context: PlanContext) -> Iterable[Finding]:
    """Every metric of the year has a baseline and a planned value for each quarter."""
    by_metric = {a.metric: a for a in plan.ambitions}
    for use in context.framework.metrics:
        ambition = by_metric.get(use.metric)
        if ambition is None or ambition.baseline is None:
            yield _error(
                "metrics_planned",
                "Metrics",
                f"{use.label}: a baseline is required",
                field_=use.metric,
            )
        elif None in ambition.quarters:
            missing = [f"Q{i}" for i, q in enumerate(ambition.quarters, start=1) if q is None]
            yield _error(
                "metrics_planned",
                "Metrics",
                f"{use.label}: no plan for {', '.join(missing)}",
                field_=use.metric,
            )
        elif _worsens(ambition.baseline, ambition.quarters, use.direction):
            yield _warning(
                "metrics_planned",
                "Metrics",
                f"{use.label}: the plan is worse than the baseline",
                field_=use.metric,
            )


def _worsens(baseline: Decimal, quarters: tuple[Decimal | None, ...], direction: Direction) -> bool:
    values = [q for q in quarters if q is not None]
    mean = sum(values, Decimal(0)) / len(values)
    return mean > baseline if direction is Direction.LOWER_IS_BETTER else mean < baseline


@rule
def conditions_confirmed(plan: PlanContent, context: PlanContext) -> Iterable[Finding]:
    """Every national condition is confirmed, or explained with a plan to meet it."""
    by_id = {c.condition: c for c in plan.conditions}
    for condition in context.framework.national_conditions:
        given = by_id.get(condition.id)
        if given is None or given.status is None:
            yield _error(
                "conditions_confirmed",
                "Conditions",
                f"{condition.title}: confirm the condition or explain",
                field_=condition.id,
            )
        elif given.status is not ConditionStatus.CONFIRMED and len(given.evidence) < 20:
            yield _error(
                "conditions_confirmed",
                "Conditions",
                f"{condition.title}: explain how and when it will be met",
                field_=condition.id,
            )
        elif given.status is ConditionStatus.NOT_YET:
            yield _warning(
                "conditions_confirmed",
                "Conditions",
                f"{condition.title}: not yet met",
                field_=condition.id,
            )


@rule
def section75_agreed(plan: PlanContent, context: PlanContext) -> Iterable[Finding]:
    """The pooled budget has a host partner, a pool manager and a risk-share rule."""
    terms = plan.section75
    if terms.host_partner not in context.partners:
        yield _error(
            "section75_agreed",
            "Section 75",
            "choose the host partner from the area's partners",
            field_="host_partner",
        )
    if not terms.pool_manager:
        yield _error(
            "section75_agreed", "Section 75", "name the pool manager", field_="pool_manager"
        )
    if terms.risk_share is not None:
        partners = {c.partner_code: c.total for c in plan.contributions}
        for message in parameter_problems(terms.risk_share, terms.risk_share_parameters, partners):
            yield _error("section75_agreed", "Section 75", message, field_="risk_share_parameters")
    if terms.risk_share is None:
        yield _error(
            "section75_agreed",
            "Section 75",
            "choose how overspends are shared",
            field_="risk_share",
        )
    if terms.signed is None:
        yield _warning(
            "section75_agreed",
            "Section 75",
            "the agreement has no signed date yet",
            field_="signed",
        )


@rule
def narrative_written(plan: PlanContent, context: PlanContext) -> Iterable[Finding]:
    """A short narrative explains the plan to the board, assurers and the public."""
    if len(plan.narrative.strip()) < 100:
        yield _error(
            "narrative_written",
            "Narrative",
            "write at least a paragraph (100 characters) describing the plan",
            field_="narrative",
        )
