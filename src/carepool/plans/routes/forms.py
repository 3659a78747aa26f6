"""Reading the plan's edit forms: text typed by people into plan content, or field errors.

Each reader takes the posted form and the plan as stored, and gives back either the changed
part of the plan or the errors to show beside each field, never both. Money is read only by
:func:`carepool.domain.money.parse_money`; numbers for ambitions are read as exact decimals.
Nothing here touches the database: the routes decide whether to save.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from carepool.domain.errors import MoneyError
from carepool.domain.framework import Framework
from carepool.domain.money import format_money, parse_money
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
    SchemeYears,
    Section75,
    scheme_rows,
)
from carepool.web.forms import PageErrors

Form = Mapping[str, Any]
Values = dict[str, str]

ADDITIONAL_SOURCE = "additional"
RISK_SHARES = {
    RiskShareKind.PROPORTIONAL.value: "In proportion to each partner's contribution",
    RiskShareKind.OWN_COMMISSIONING.value: "Each partner bears the risk of what it commissions",
    RiskShareKind.FIXED_PERCENTAGES.value: "Fixed percentages agreed between the partners",
    RiskShareKind.HOST_FIRST.value: "The host partner bears it first",
}
INSTALMENTS = {"1": "Once a year", "2": "Twice a year", "4": "Quarterly", "12": "Monthly"}
QUARTERS = ("q1", "q2", "q3", "q4")
_NUMBER = re.compile(r"^[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$|^[0-9]+(\.[0-9]+)?$")
_MAX_DIGITS = 15


def text(form: Form, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def money_text(pence: int) -> str:
    """An amount as typed into a field beside its £ sign: ``1,234.56``."""
    return format_money(pence).removeprefix("£")


def read_money(raw: str, errors: PageErrors, field_id: str, what: str) -> int | None:
    """Blank is nothing; anything else must be money as :func:`parse_money` reads it."""
    if not raw:
        return 0
    try:
        return parse_money(raw)
    except MoneyError:
        errors.add(f"{what} must be an amount of money, like £1,234.56", field_id)
        return None


def read_decimal(raw: str, errors: PageErrors, field_id: str, what: str) -> Decimal | None:
    """A number as people type it (``1,234.5``), exactly; blank is None."""
    if not raw:
        return None
    if not _NUMBER.match(raw):
        errors.add(f"{what} must be a number, like 1234.5", field_id)
        return None
    try:
        value = Decimal(raw.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        errors.add(f"{what} must be a number, like 1234.5", field_id)
        return None
    if len(value.as_tuple().digits) > _MAX_DIGITS:
        errors.add(f"{what} has too many digits", field_id)
        return None
    return value


def decimal_text(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def changed(content: PlanContent, errors: PageErrors, **parts: object) -> PlanContent | None:
    """The plan with ``parts`` replaced, validated whole; None (with errors) if invalid."""
    try:
        return PlanContent.model_validate({**content.model_dump(), **parts})
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"])
            errors.add(f"{where}: {error['msg']}", str(error["loc"][0]))
        return None


def _model_errors(exc: ValidationError, errors: PageErrors, labels: Mapping[str, str]) -> None:
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        errors.add(f"{labels.get(name, name)}: {error['msg']}", name)


# ---------------------------------------------------------------------------------------
# Contributions


def contribution_values(content: PlanContent) -> Values:
    return {
        f"additional-{i}": money_text(c.additional) for i, c in enumerate(content.contributions, 1)
    }


def read_contributions(
    form: Form, content: PlanContent, partners: Mapping[str, str], framework: Framework
) -> tuple[Values, PageErrors, tuple[Contribution, ...]]:
    """Only ``additional`` is typed; the minimum comes from the allocation and stays."""
    values: Values = {}
    errors = PageErrors()
    rows = []
    for i, c in enumerate(content.contributions, start=1):
        name = f"additional-{i}"
        values[name] = text(form, name)
        partner = partners.get(c.partner_code, c.partner_code)
        stream = _stream_name(framework, c.stream)
        amount = read_money(values[name], errors, name, f"Additional from {partner} ({stream})")
        rows.append(c if amount is None else c.model_copy(update={"additional": amount}))
    return values, errors, tuple(rows)


def _stream_name(framework: Framework, stream: str) -> str:
    try:
        return framework.stream(stream).name
    except KeyError:
        return stream


# ---------------------------------------------------------------------------------------
# Schemes

SCHEME_FIELDS = (
    "ref",
    "name",
    "scheme_type",
    "commissioner",
    "provider",
    "district",
    "funding_source",
    "area_of_spend",
    "new_or_existing",
)
SCHEME_LABELS = {
    "ref": "Reference",
    "name": "Scheme name",
    "scheme_type": "Scheme type",
    "commissioner": "Commissioned by",
    "provider": "Provider",
    "district": "District council",
    "funding_source": "Funding source",
    "area_of_spend": "Area of spend",
    "new_or_existing": "New or existing",
    "financial_year": "Financial year",
    "planned_spend": "Planned spend",
}
_SCHEME_MISSING = {
    "ref": "Enter a reference for the scheme, such as S7",
    "name": "Enter the scheme's name",
    "scheme_type": "Choose the scheme type",
    "commissioner": "Choose who commissions the scheme",
    "provider": "Enter the provider",
    "funding_source": "Choose the funding source",
    "area_of_spend": "Choose the area of spend",
    "new_or_existing": "Say whether the scheme is new or existing",
}


def spend_field(year: str) -> str:
    """The form field of a scheme's planned spend in one financial year of the plan."""
    return f"planned_spend-{year}"


def scheme_choices(
    framework: Framework, districts: Sequence[str] = ()
) -> dict[str, list[tuple[str, str]]]:
    """The options of each chosen field, as (value, label): all from the framework, and the
    districts from the area's geography (none outside a county)."""
    return {
        "scheme_type": [(t, t) for t in framework.scheme_types],
        "commissioner": [(c.value, c.value) for c in Commissioner],
        "funding_source": [(s.id, s.name) for s in framework.streams]
        + [(ADDITIONAL_SOURCE, "Additional contributions")],
        "area_of_spend": [(a, a) for a in framework.areas_of_spend],
        "new_or_existing": [(n.value, n.value) for n in NewOrExisting],
        "district": [(d, d) for d in districts],
    }


def _passes_to_districts(framework: Framework) -> set[str]:
    return {s.id for s in framework.streams if s.passes_to_districts}


def scheme_values(
    scheme: SchemeYears | None,
    framework: Framework,
    next_ref: str,
    districts: Sequence[str] = (),
) -> Values:
    """The form's fields for a scheme entered once: its facts, and an amount for each year
    of the plan (blank where it has none)."""
    years = framework.financial_years
    if scheme is None:
        return {**{name: "" for name in SCHEME_FIELDS}, "ref": next_ref}
    dumped = scheme.scheme.model_dump(mode="json")
    values = {k: str(dumped[k]) for k in SCHEME_FIELDS if k in dumped}
    chosen = scheme.scheme.provider in districts
    passing = scheme.scheme.funding_source in _passes_to_districts(framework)
    values["district"] = scheme.scheme.provider if chosen and passing else ""
    if values["district"]:
        values["provider"] = ""
    for year in years:
        amount = scheme.spend.get(year)
        values[spend_field(year)] = "" if amount is None else money_text(amount)
    return values


def next_scheme_ref(schemes: Sequence[Scheme]) -> str:
    used = {s.ref for s in schemes}
    number = len(used) + 1
    while f"S{number}" in used:
        number += 1
    return f"S{number}"


def read_scheme(
    form: Form, framework: Framework, districts: Sequence[str] = ()
) -> tuple[Values, PageErrors, tuple[Scheme, ...]]:
    """A scheme entered once, as its stored rows: one per year given an amount.

    In a county, a scheme funded from a grant that passes to the districts names the
    district that receives it from the list (the area's districts), not in free text.
    """
    years = framework.financial_years
    names = (*SCHEME_FIELDS, *(spend_field(y) for y in years))
    values = {name: text(form, name) for name in names}
    errors = PageErrors()
    _check_choices(values, errors, scheme_choices(framework, districts))
    provider = _provider(values, errors, framework, districts)
    spend = _spend_by_year(values, errors, years)
    if errors or provider is None:
        return values, errors, ()
    facts = {k: values[k] for k in SCHEME_FIELDS if k != "district"}
    first = {**facts, "provider": provider, "financial_year": years[0], "planned_spend": 0}
    try:
        scheme = Scheme.model_validate(first)
    except ValidationError as exc:
        _model_errors(exc, errors, SCHEME_LABELS)
        return values, errors, ()
    return values, errors, scheme_rows(scheme, spend)


def _check_choices(
    values: Values, errors: PageErrors, choices: Mapping[str, Sequence[tuple[str, str]]]
) -> None:
    for name in SCHEME_FIELDS:
        if not values[name]:
            if name in _SCHEME_MISSING and name != "provider":
                errors.add(_SCHEME_MISSING[name], name)
        elif name in choices and name != "district" and values[name] not in dict(choices[name]):
            errors.add(f"Choose the {SCHEME_LABELS[name].lower()} from the list", name)


def _provider(
    values: Values, errors: PageErrors, framework: Framework, districts: Sequence[str]
) -> str | None:
    """Who provides the scheme: the district chosen, for a grant the county passes to its
    districts; otherwise the provider typed."""
    passing = values["funding_source"] in _passes_to_districts(framework)
    if districts and passing:
        if values["district"] not in districts:
            errors.add(
                "Choose the district council that receives the grant, one of "
                + ", ".join(districts),
                "district",
            )
            return None
        return values["district"]
    if values["district"]:
        errors.add(
            "Choose a district council only for a grant the county passes to its districts",
            "district",
        )
        return None
    if not values["provider"]:
        errors.add(_SCHEME_MISSING["provider"], "provider")
        return None
    return values["provider"]


def _spend_by_year(values: Values, errors: PageErrors, years: Sequence[str]) -> dict[str, int]:
    """The amount typed for each year; a blank year has no row. At least one is needed."""
    spend: dict[str, int] = {}
    for year in years:
        name = spend_field(year)
        if values[name]:
            amount = read_money(values[name], errors, name, f"Planned spend in {year}")
            if amount is not None:
                spend[year] = amount
    if not any(values[spend_field(y)] for y in years):
        errors.add(
            "Enter the planned spend" + (" in at least one year" if len(years) > 1 else ""),
            spend_field(years[0]),
        )
    return spend


# ---------------------------------------------------------------------------------------
# Metrics


def ambitions_in_order(content: PlanContent, framework: Framework) -> list[Ambition]:
    """One ambition per metric of the year, in the framework's order, then any others."""
    by_metric = {a.metric: a for a in content.ambitions}
    known = [by_metric.get(m.metric, Ambition(metric=m.metric)) for m in framework.metrics]
    others = [a for a in content.ambitions if a.metric not in {m.metric for m in framework.metrics}]
    return known + others


def metric_values(content: PlanContent, framework: Framework) -> Values:
    values: Values = {}
    for ambition in ambitions_in_order(content, framework):
        values[f"{ambition.metric}-baseline"] = decimal_text(ambition.baseline)
        for name, quarter in zip(QUARTERS, ambition.quarters, strict=True):
            values[f"{ambition.metric}-{name}"] = decimal_text(quarter)
    return values


def read_metrics(
    form: Form, content: PlanContent, framework: Framework
) -> tuple[Values, PageErrors, tuple[Ambition, ...]]:
    values: Values = {}
    errors = PageErrors()
    labels = {m.metric: m.label for m in framework.metrics}
    ambitions = []
    for ambition in ambitions_in_order(content, framework):
        metric = ambition.metric
        label = labels.get(metric, metric)
        numbers: list[Decimal | None] = []
        for name, what in (("baseline", "baseline"), *((q, f"Q{q[1]} plan") for q in QUARTERS)):
            field_id = f"{metric}-{name}"
            values[field_id] = text(form, field_id)
            numbers.append(read_decimal(values[field_id], errors, field_id, f"{label} {what}"))
        baseline, q1, q2, q3, q4 = numbers
        ambitions.append(Ambition(metric=metric, baseline=baseline, quarters=(q1, q2, q3, q4)))
    return values, errors, tuple(ambitions)


# ---------------------------------------------------------------------------------------
# National conditions


def confirmations_in_order(
    content: PlanContent, framework: Framework
) -> list[ConditionConfirmation]:
    by_id = {c.condition: c for c in content.conditions}
    return [
        by_id.get(c.id, ConditionConfirmation(condition=c.id))
        for c in framework.national_conditions
    ]


def condition_values(content: PlanContent, framework: Framework) -> Values:
    values: Values = {}
    for given in confirmations_in_order(content, framework):
        values[f"{given.condition}-status"] = given.status.value if given.status else ""
        values[f"{given.condition}-evidence"] = given.evidence
    return values


def read_conditions(
    form: Form, content: PlanContent, framework: Framework
) -> tuple[Values, PageErrors, tuple[ConditionConfirmation, ...]]:
    values: Values = {}
    errors = PageErrors()
    statuses = {s.value: s for s in ConditionStatus}
    titles = {c.id: c.title for c in framework.national_conditions}
    confirmations = []
    for given in confirmations_in_order(content, framework):
        status_id, evidence_id = f"{given.condition}-status", f"{given.condition}-evidence"
        values[status_id] = text(form, status_id)
        values[evidence_id] = text(form, evidence_id)
        status = statuses.get(values[status_id])
        if values[status_id] and status is None:
            errors.add(f"{titles[given.condition]}: choose one of the answers", status_id)
        if len(values[evidence_id]) > 4000:
            errors.add(
                f"{titles[given.condition]}: the evidence must be 4,000 characters or fewer",
                evidence_id,
            )
        confirmations.append(
            ConditionConfirmation(
                condition=given.condition, status=status, evidence=values[evidence_id][:4000]
            )
        )
    return values, errors, tuple(confirmations)


# ---------------------------------------------------------------------------------------
# Section 75


def section75_values(terms: Section75) -> Values:
    signed = terms.signed
    return {
        "host_partner": terms.host_partner,
        "pool_manager": terms.pool_manager,
        "risk_share": terms.risk_share.value if terms.risk_share else "",
        "instalments": str(terms.instalments),
        "signed-day": str(signed.day) if signed else "",
        "signed-month": str(signed.month) if signed else "",
        "signed-year": str(signed.year) if signed else "",
    }


def read_section75(
    form: Form, terms: Section75, partners: Mapping[str, str]
) -> tuple[Values, PageErrors, Section75 | None]:
    values = {name: text(form, name) for name in section75_values(terms)}
    errors = PageErrors()
    if values["host_partner"] and values["host_partner"] not in partners:
        errors.add("Choose the host partner from the list", "host_partner")
    if len(values["pool_manager"]) > 200:
        errors.add("The pool manager's name must be 200 characters or fewer", "pool_manager")
    if values["risk_share"] and values["risk_share"] not in RISK_SHARES:
        errors.add("Choose how overspends and underspends are shared", "risk_share")
    if values["instalments"] not in INSTALMENTS:
        errors.add("Choose how often partners pay into the pool", "instalments")
    signed = read_date(values, "signed", "The date the agreement was signed", errors)
    if errors:
        return values, errors, None
    updated = terms.model_copy(
        update={
            "host_partner": values["host_partner"],
            "pool_manager": values["pool_manager"],
            "risk_share": RiskShareKind(values["risk_share"]) if values["risk_share"] else None,
            "instalments": int(values["instalments"]),
            "signed": signed,
        }
    )
    return values, errors, Section75.model_validate(updated.model_dump())


def read_date(values: Values, name: str, what: str, errors: PageErrors) -> dt.date | None:
    """A GOV.UK date input: all blank is no date; otherwise a real date, every part given."""
    parts = {p: values[f"{name}-{p}"] for p in ("day", "month", "year")}
    if not any(parts.values()):
        return None
    missing = [p for p, v in parts.items() if not v]
    if missing:
        errors.add(f"{what} must include a {' and '.join(missing)}", f"{name}-{missing[0]}")
        return None
    if not all(v.isascii() and v.isdigit() for v in parts.values()) or len(parts["year"]) != 4:
        errors.add(f"{what} must be a real date, like 27 3 2015", f"{name}-day")
        return None
    try:
        return dt.date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    except ValueError:
        errors.add(f"{what} must be a real date, like 27 3 2015", f"{name}-day")
        return None
