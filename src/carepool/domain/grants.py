"""Allocations and payments as grants in the 360Giving Data Standard (1.4).

360Giving is how UK grant-makers publish who they funded, with how much, when and where; its
tools (GrantNav, the data-quality checker) read the JSON package and the "flat" CSV. Each
grant here says who gave it (``fundingOrganization``), to whom (``recipientOrganization``,
the council that holds the area's pooled fund), for where (``beneficiaryLocation``, the
area's ONS code with the code's type), under which programme (``grantProgramme``: the Better
Care Fund year) and for when (``plannedDates``). Money a county must pass on to its districts
(the Disabled Facilities Grant) is marked with ``regrantType`` ``FRG010``, so that the same
money is not counted twice when the districts' own grants are added up.

Amounts are pounds in JSON numbers. A number is written from the exact pence and checked to
read back as exactly those pence, so no amount is ever a float's approximation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from carepool.domain.errors import CarepoolError

SCHEMA_VERSION = "1.4"
CURRENCY = "GBP"
COMMON_REGRANT = "FRG010"
"""Regrant type for a grant to one body for onward distribution to end recipients."""

PREFIX = "360G-carepool"
"""The publisher prefix every grant id starts with, so ids are unique among publishers."""

_GEO_CODE_TYPES = {"E06": "UA", "E07": "NMD", "E08": "MD", "E09": "LONB", "E10": "CTY"}
"""The 360Giving geoCodeType of an English council's ONS code, by its entity prefix."""


@dataclass(frozen=True, slots=True)
class Organisation:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Place:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Grant:
    """One grant with everything the JSON and flat files write about it."""

    id: str
    title: str
    description: str
    amount_pence: int
    award_date: dt.date
    starts: dt.date
    ends: dt.date
    funder: Organisation
    recipient: Organisation
    location: Place
    programme_code: str
    programme_title: str
    regrant: bool = False
    disbursed_pence: int | None = None


def grant_id(*parts: str) -> str:
    """A grant id: the publisher prefix and the grant's own key, joined by hyphens."""
    return "-".join([PREFIX, *(p.replace(" ", "") for p in parts)])


def geo_code_type(code: str) -> str:
    """The code list value for an area's ONS code (``E06…`` is ``UA``)."""
    try:
        return _GEO_CODE_TYPES[code[:3]]
    except KeyError:
        raise CarepoolError(f"{code} is not the code of an English council area") from None


def pounds(pence: int) -> float:
    """Pence as a JSON number of pounds, refused if the number would not read back exactly."""
    exact = Decimal(pence) / 100
    number = float(exact)
    if Decimal(repr(number)) != exact:
        raise CarepoolError(f"{pence} pence cannot be written exactly as a number of pounds")
    return number


def as_json(grant: Grant) -> dict[str, object]:
    """The grant as the 360Giving JSON schema describes it."""
    found: dict[str, object] = {
        "id": grant.id,
        "title": grant.title,
        "description": grant.description,
        "currency": CURRENCY,
        "amountAwarded": pounds(grant.amount_pence),
        "awardDate": grant.award_date.isoformat(),
        "plannedDates": [
            {"startDate": grant.starts.isoformat(), "endDate": grant.ends.isoformat()}
        ],
        "fundingOrganization": [{"id": grant.funder.id, "name": grant.funder.name}],
        "recipientOrganization": [{"id": grant.recipient.id, "name": grant.recipient.name}],
        "beneficiaryLocation": [
            {
                "name": grant.location.name,
                "geoCode": grant.location.code,
                "geoCodeType": geo_code_type(grant.location.code),
                "countryCode": "GB",
            }
        ],
        "grantProgramme": [{"code": grant.programme_code, "title": grant.programme_title}],
    }
    if grant.disbursed_pence is not None:
        found["amountDisbursed"] = pounds(grant.disbursed_pence)
    if grant.regrant:
        found["regrantType"] = COMMON_REGRANT
    return found


def package(grants: Sequence[Grant], *, issued: dt.date, licence: str) -> dict[str, object]:
    """The 360Giving JSON package: the grants with the package's own metadata."""
    return {
        "version": SCHEMA_VERSION,
        "title": "Better Care Fund allocations and payments",
        "description": "Published allocations and paid payments for performance of the "
        "Better Care Fund, as grants to the councils that hold each area's pooled fund.",
        "issued": issued.isoformat(),
        "license": licence,
        "publisher": {"name": "Better Care Fund national team"},
        "grants": [as_json(g) for g in grants],
    }


FLAT_COLUMNS = (
    "Identifier",
    "Title",
    "Description",
    "Currency",
    "Amount Awarded",
    "Amount Disbursed",
    "Award Date",
    "Planned Dates:Start Date",
    "Planned Dates:End Date",
    "Recipient Org:Identifier",
    "Recipient Org:Name",
    "Funding Org:Identifier",
    "Funding Org:Name",
    "Beneficiary Location:Name",
    "Beneficiary Location:Geographic Code",
    "Beneficiary Location:Geographic Code Type",
    "Beneficiary Location:Country Code",
    "Grant Programme:Code",
    "Grant Programme:Title",
    "For Regrant Type",
)
"""The flat file's header: each column is a schema path written with the fields' titles."""


def flat_row(grant: Grant) -> tuple[str, ...]:
    """One grant as a row of the flat CSV, in :data:`FLAT_COLUMNS` order; amounts are the
    exact pounds and pence (``1234.50``)."""
    disbursed = grant.disbursed_pence
    return (
        grant.id,
        grant.title,
        grant.description,
        CURRENCY,
        _exact_pounds(grant.amount_pence),
        "" if disbursed is None else _exact_pounds(disbursed),
        grant.award_date.isoformat(),
        grant.starts.isoformat(),
        grant.ends.isoformat(),
        grant.recipient.id,
        grant.recipient.name,
        grant.funder.id,
        grant.funder.name,
        grant.location.name,
        grant.location.code,
        geo_code_type(grant.location.code),
        "GB",
        grant.programme_code,
        grant.programme_title,
        COMMON_REGRANT if grant.regrant else "",
    )


def _exact_pounds(pence: int) -> str:
    return f"{Decimal(pence) / 100:.2f}"
