"""What each published table is: its name, title, description, columns, keys.

Declared once here so the CSV files, ``datapackage.json``, the open data page's glossary and
the key checks all read the same words. The rows are filled in by
:mod:`carepool.publication.service.resources`.
"""

from __future__ import annotations

from dataclasses import dataclass

from carepool.domain.open_data import Column, Reference

YEAR = Column("year", "string", "Programme year the row belongs to, e.g. 2015-16 or 2017-19.")
AREA = Column(
    "area_code", "string", "ONS code of the Health and Wellbeing Board area, e.g. E06000052."
)
FINANCIAL_YEAR = Column("financial_year", "string", "Financial year, April to March: 2015-16.")
QUARTER = Column("quarter", "string", "Quarter of a financial year: 2015-16 Q2 is July-September.")
TO_AREA = Reference(("year", "area_code"), "areas", ("year", "area_code"))
TO_PLAN = Reference(("year", "area_code"), "plans", ("year", "area_code"))


@dataclass(frozen=True, slots=True)
class Table:
    """A published table's description, before its rows are read."""

    name: str
    title: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[Reference, ...] = ()


AREAS = Table(
    "areas",
    "Health and Wellbeing Board areas",
    "Each programme year's Health and Wellbeing Board areas, the councils they cover, and the "
    "360Giving organisation identifier of the council that holds the area's pooled fund.",
    (
        YEAR,
        AREA,
        Column("area_name", "string", "The area's name."),
        Column("region", "string", "The English region the area lies in.", required=False),
        Column(
            "kind",
            "string",
            "Council type: UA unitary, CTY county, MD metropolitan district, LBO London borough.",
        ),
        Column(
            "councils",
            "string",
            "ONS codes of the councils the area covers, separated by semicolons.",
        ),
        Column(
            "org_id",
            "string",
            "360Giving organisation identifier of the area's council "
            "(GB-LAE- and the council's register code).",
        ),
    ),
    ("year", "area_code"),
)

ALLOCATIONS = Table(
    "allocations",
    "Published allocations",
    "Each area's minimum allocation by funding stream and payer, from the year's latest "
    "published allocation. A county passes its Disabled Facilities Grant on to its districts.",
    (
        YEAR,
        Column("version", "integer", "Version of the year's allocation these lines come from."),
        FINANCIAL_YEAR,
        Column("stream", "string", "Funding stream id from the year's policy framework."),
        Column("stream_name", "string", "The funding stream's name."),
        AREA,
        Column(
            "payer_code",
            "string",
            "Who pays the money into the pool: the commissioner's "
            "ONS code, or the area's code for money the council pays.",
        ),
        Column("payer_type", "string", "commissioner (NHS) or council."),
        Column("amount_pence", "integer", "Minimum amount to pool, in pence."),
        Column(
            "passes_to_districts",
            "boolean",
            "Whether a county must pass this money on to its district councils.",
        ),
        Column("published_on", "date", "Date this version of the allocation was published."),
    ),
    ("year", "financial_year", "stream", "area_code", "payer_code"),
    (TO_AREA,),
)

PLANS = Table(
    "plans",
    "Approved plans",
    "Each approved joint plan: what the area pools against its minimum. Plans not yet "
    "approved are not published.",
    (
        YEAR,
        AREA,
        Column("status", "string", "The plan's status: Approved."),
        Column(
            "category", "string", "The assurance category recorded by the region.", required=False
        ),
        Column("pooled_pence", "integer", "Everything the plan pools, in pence."),
        Column("minimum_pence", "integer", "The area's published minimum, in pence."),
        Column("conditions_outstanding", "integer", "Conditions of approval not yet met."),
    ),
    ("year", "area_code"),
    (TO_AREA,),
)

SCHEMES = Table(
    "schemes",
    "Schemes of approved plans",
    "What each approved plan pays for: scheme by scheme, with its planned spend.",
    (
        YEAR,
        AREA,
        FINANCIAL_YEAR,
        Column("scheme_ref", "string", "The plan's own reference for the scheme."),
        Column("name", "string", "The scheme's name."),
        Column("scheme_type", "string", "Scheme type from the year's framework."),
        Column("commissioner", "string", "Who commissions it: Local authority, NHS or Joint."),
        Column("provider", "string", "Who provides it."),
        Column("funding_source", "string", "Funding stream id, or additional."),
        Column("area_of_spend", "string", "Area of spend from the year's framework."),
        Column("new_or_existing", "string", "New or Existing."),
        Column("planned_spend_pence", "integer", "Planned spend for the financial year, in pence."),
    ),
    ("year", "area_code", "financial_year", "scheme_ref"),
    (TO_PLAN,),
)

POOL_SPEND = Table(
    "pool_spend",
    "Pooled spend by scheme and quarter",
    "What each pooled budget spent on each scheme in each quarter, once the pool has closed "
    "the quarter. Totals from the pool's books; no personal data.",
    (
        YEAR,
        AREA,
        QUARTER,
        Column("scheme_ref", "string", "The scheme the spend was charged to."),
        Column("in_plan", "boolean", "Whether the scheme is in the approved plan's year."),
        Column(
            "budget_pence",
            "integer",
            "The scheme's planned spend for the quarter (a quarter of the year's), in pence.",
        ),
        Column("spend_pence", "integer", "Spend recorded in the quarter, in pence."),
    ),
    ("year", "area_code", "quarter", "scheme_ref"),
    (TO_PLAN,),
)

METRICS = Table(
    "metrics",
    "Metrics",
    "The metrics carepool computes from person-level data, and how each is expressed.",
    (
        Column("metric", "string", "Metric id."),
        Column("name", "string", "The metric's name."),
        Column("description", "string", "What it counts."),
        Column("measure", "string", "count, rate_per_100000 or percentage."),
        Column("direction", "string", "lower_is_better, higher_is_better or neither."),
    ),
    ("metric",),
)

METRIC_VALUES = Table(
    "metric_values",
    "Metric values",
    "Each area's metric values by month, quarter and year, under publication control: counts "
    "of 1 to 7 withheld, other counts rounded to the nearest 5, and a rate withheld when a "
    "count it comes from is withheld.",
    (
        Column("metric", "string", "Metric id."),
        Column("area_code", "string", "ONS code of the area."),
        Column("grain", "string", "month, quarter or year."),
        Column("period", "string", "The period: 2015-07, 2015-16 Q2 or 2015-16."),
        Column("value", "number", "The value as published; empty when withheld.", required=False),
        Column(
            "numerator",
            "integer",
            "The count it comes from, rounded; empty when withheld.",
            required=False,
        ),
        Column(
            "denominator",
            "integer",
            "The population or count it is over, rounded; empty "
            "when withheld or for a plain count.",
            required=False,
        ),
        Column("withheld", "boolean", "Whether the value is withheld to protect people."),
        Column("complete", "boolean", "Whether the data cover the whole period."),
        Column("definition_version", "integer", "Version of the metric's definition."),
        Column("data_vintage", "string", "The extract of person-level data it was computed from."),
    ),
    ("metric", "area_code", "grain", "period"),
    (Reference(("metric",), "metrics", ("metric",)),),
)

PAYMENTS = Table(
    "payments",
    "Paid payments for performance",
    "Each area's payment for performance in each quarter, once paid: the pot, what was earned "
    "and released to the pool, and what was retained. Measured counts are rounded.",
    (
        YEAR,
        QUARTER,
        AREA,
        Column("run", "string", "The payment run that counts for the quarter."),
        Column("final", "boolean", "Whether the run was on final rather than provisional data."),
        Column("status", "string", "The payment's outcome for the area."),
        Column("baseline", "number", "The baseline from the approved plan."),
        Column("plan", "number", "The plan's ambition for the quarter."),
        Column(
            "actual",
            "number",
            "The measured count, rounded; empty when withheld or not measured.",
            required=False,
        ),
        Column("actual_withheld", "boolean", "Whether the measured count is withheld."),
        Column("pot_pence", "integer", "The quarter's pot, in pence."),
        Column("earned_pence", "integer", "What the area earned, in pence."),
        Column("released_pence", "integer", "What was released to the pool, in pence."),
        Column("retained_pence", "integer", "What was retained, in pence."),
        Column("paid_on", "date", "Date the run was paid.", required=False),
    ),
    ("year", "quarter", "area_code"),
    (TO_AREA,),
)

RETURNS = Table(
    "return_status",
    "Quarterly return status",
    "Where each pool's quarterly return to its Health and Wellbeing Board stands, for every "
    "quarter that has ended.",
    (
        YEAR,
        AREA,
        QUARTER,
        Column("status", "string", "Not started, Draft, Submitted, Sent back or Signed off."),
        Column("updated_on", "date", "Date the return last changed.", required=False),
    ),
    ("year", "area_code", "quarter"),
    (TO_PLAN,),
)

TABLES = (AREAS, ALLOCATIONS, PLANS, SCHEMES, POOL_SPEND, METRICS, METRIC_VALUES, PAYMENTS, RETURNS)
"""Every published table, in the order a reader meets them (a table before those that point
into it)."""


def table(name: str) -> Table:
    """The published table called ``name``."""
    for found in TABLES:
        if found.name == name:
            return found
    raise KeyError(name)
