"""The published allocations and payments as 360Giving grants.

Built from the very rows of the ``allocations``, ``payments`` and ``areas`` tables, so the
grants file and the data package can never disagree. Each allocation line is a grant from its
payer into the area's pooled fund; each paid payment for performance is a grant of what was
released to the pool. A zero amount is not a grant and is left out (360Giving's quality
checks flag it), as is anything without the date it was decided.

Who funds what: a commissioner's money is a grant from that clinical commissioning group,
named by its NHS ODS code (``GB-NHS-…``). Money the council pays in (the Disabled Facilities
Grant, the social care capital grant) reaches it from the Department for Communities and Local
Government, and payments for performance are released by NHS England. Those two national
funders' identifiers are fixed below (verify against the org-id register before publishing
real data). The recipient is the council that holds the area's pooled fund, named by its
local authority register code (``GB-LAE-…``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence

from carepool.domain.grants import Grant, Organisation, Place, grant_id
from carepool.domain.open_data import Cell, Resource
from carepool.domain.periods import financial_year_end, financial_year_start, period_named
from carepool.geography.service import YearGeography
from carepool.publication.service.resources import Years

COUNCIL_FUNDER = Organisation(
    "GB-GOVUK-department-for-communities-and-local-government",
    "Department for Communities and Local Government",
)
NHS_ENGLAND = Organisation("GB-NHS-X24", "NHS England")

Record = Mapping[str, Cell]


def records(resource: Resource) -> Iterator[Record]:
    """Each row of a table as a mapping from column name to cell."""
    names = [c.name for c in resource.columns]
    for row in resource.rows:
        yield dict(zip(names, row, strict=True))


class Directory:
    """Names and identifiers of the areas, councils and commissioners the grants mention."""

    def __init__(self, years: Years, areas: Resource) -> None:
        self._areas = {(str(r["year"]), str(r["area_code"])): r for r in records(areas)}
        self._geo = {g.framework.year: g for g in years.geographies}
        self._councils = {c.code: c.name for g in years.geographies for c in g.councils}

    def place(self, year: str, area_code: str) -> Place:
        return Place(area_code, str(self._areas[(year, area_code)]["area_name"]))

    def kind(self, year: str, area_code: str) -> str:
        return str(self._areas[(year, area_code)]["kind"])

    def recipient(self, year: str, area_code: str) -> Organisation:
        area = self._areas[(year, area_code)]
        lead = str(area["councils"]).split(";")[0]
        return Organisation(str(area["org_id"]), self._councils.get(lead, str(area["area_name"])))

    def funder(self, year: str, payer_code: str, payer_type: str) -> Organisation:
        if payer_type == "council":
            return COUNCIL_FUNDER
        geo: YearGeography = self._geo[year]
        commissioner = geo.commissioners[payer_code]
        return Organisation(f"GB-NHS-{commissioner.ods_code}", commissioner.name)


def allocation_grants(allocations: Resource, directory: Directory) -> Iterator[Grant]:
    for r in records(allocations):
        amount, awarded = r["amount_pence"], r["published_on"]
        if not isinstance(amount, int) or amount == 0 or not isinstance(awarded, dt.date):
            continue
        year, fy, area = str(r["year"]), str(r["financial_year"]), str(r["area_code"])
        place = directory.place(year, area)
        funder = directory.funder(year, str(r["payer_code"]), str(r["payer_type"]))
        yield Grant(
            id=grant_id("allocation", year, fy, str(r["stream"]), area, str(r["payer_code"])),
            title=f"{r['stream_name']} {fy}: {place.name}",
            description=(
                f"The minimum {r['stream_name']} that {funder.name} pools in the Better Care "
                f"Fund of the {place.name} Health and Wellbeing Board for {fy} (allocation "
                f"for {year}, version {r['version']})."
            ),
            amount_pence=amount,
            award_date=awarded,
            starts=financial_year_start(fy),
            ends=financial_year_end(fy),
            funder=funder,
            recipient=directory.recipient(year, area),
            location=place,
            programme_code=f"BCF-{year}",
            programme_title=f"Better Care Fund {year}",
            regrant=r["passes_to_districts"] is True and directory.kind(year, area) == "CTY",
        )


def payment_grants(payments: Resource, directory: Directory) -> Iterator[Grant]:
    for r in records(payments):
        released, paid_on = r["released_pence"], r["paid_on"]
        if not isinstance(released, int) or released == 0 or not isinstance(paid_on, dt.date):
            continue
        year, quarter, area = str(r["year"]), str(r["quarter"]), str(r["area_code"])
        place, period = directory.place(year, area), period_named(quarter)
        yield Grant(
            id=grant_id("payment", quarter, area),
            title=f"Payment for performance {quarter}: {place.name}",
            description=(
                f"Payment for performance released to the Better Care Fund of the "
                f"{place.name} Health and Wellbeing Board for {quarter} ({r['run']}), for "
                f"reducing non-elective admissions against the plan's ambition."
            ),
            amount_pence=released,
            award_date=paid_on,
            starts=period.start,
            ends=period.end,
            funder=NHS_ENGLAND,
            recipient=directory.recipient(year, area),
            location=place,
            programme_code=f"BCF-{year}-P4P",
            programme_title=f"Better Care Fund {year}: payment for performance",
            disbursed_pence=released,
        )


def grants(years: Years, resources: Sequence[Resource]) -> list[Grant]:
    """Every grant the published allocations and payments make, allocations first."""
    by_name = {r.name: r for r in resources}
    directory = Directory(years, by_name["areas"])
    return [
        *allocation_grants(by_name["allocations"], directory),
        *payment_grants(by_name["payments"], directory),
    ]
