"""Importer for the register of UK local authorities (mySociety's ``uk_local_authorities.csv``).

The register lists every authority past and present, in all four nations, with its ONS (GSS)
code, its dates and which authorities replaced it. All nations are kept: deciding which
councils form the year's Health and Wellbeing Board areas is the domain's job
(:func:`carepool.domain.geography.hwb_areas`), and the code history needs former councils.

Northern Ireland's 26 pre-2015 district councils have no GSS code in the register (they
ended on 2015-03-31). A council is identified by its GSS code, so those rows are skipped;
they are outside England, whose care system carepool models. An English row without a GSS
code is an error, because an English council without a code cannot be allocated money.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

from carepool.domain.geography import Council
from carepool.io.tabular import (
    ProblemLog,
    Row,
    date_field,
    optional_text,
    read_table,
    require_found,
    require_rows,
    required_text,
)

SHORT_CODE = "local-authority-code"
OFFICIAL_NAME = "official-name"
NICE_NAME = "nice-name"
GSS_CODE = "gss-code"
START = "start-date"
END = "end-date"
REPLACED_BY = "replaced-by"
NATION = "nation"
REGION = "region"
KIND = "local-authority-type"
COUNTY = "county-la"

COLUMNS = (
    SHORT_CODE, OFFICIAL_NAME, NICE_NAME, GSS_CODE, START, END, REPLACED_BY, NATION, REGION,
    KIND, COUNTY,
)  # fmt: skip

NATION_LETTERS = {"England": "E", "Wales": "W", "Scotland": "S", "Northern Ireland": "N"}
"""The first letter of a GSS code says which nation the area is in."""

_GSS = re.compile(r"^[EWSN][0-9]{8}$")
_SHORT_CODE = re.compile(r"^[A-Z]{3}$")
_COMBINED_SHORT_CODE = re.compile(r"^[A-Z]{3,4}$")
COMBINED_AUTHORITY = "COMB"
"""The register gives every council three letters and a combined authority three or four
(``LCR``, ``GMCA``)."""


def read_councils(path: Path) -> list[Council]:
    """Every council in the register with a GSS code, in file order, or ImportRejected."""
    table = read_table(path, required=COLUMNS)
    require_rows(table)
    log = table.problem_log()
    found: list[tuple[Row, Council]] = []
    for row in table.rows:
        council = _council(row, log)
        if council is not None:
            found.append((row, council))
    _check_unique(found, log, "GSS code", lambda c: c.code)
    _check_unique(found, log, "local-authority-code", lambda c: c.short_code)
    _check_references(table.rows, found, log)
    log.raise_if_any()
    require_found(table.source, found, "councils with a GSS code")
    return [council for _, council in found]


def _council(row: Row, log: ProblemLog) -> Council | None:
    before = len(log)
    nation = _nation(row, log)
    code = _gss_code(row, nation, log)
    name = optional_text(row, NICE_NAME) or required_text(row, OFFICIAL_NAME, log)
    kind = required_text(row, KIND, log)
    short_code = _short_code(row, kind, log) if code else None
    start = date_field(row, START, log, required=False)
    end = date_field(row, END, log, required=False)
    if start and end and end < start:
        log.add(f"the end date {end} is before the start date {start}", row=row.number, column=END)
    if len(log) > before or not (code and nation and short_code and name and kind):
        return None
    return Council(
        code=code,
        short_code=short_code,
        name=name,
        kind=kind,
        region=optional_text(row, REGION),
        nation=nation,
        start=start,
        end=end,
        replaced_by=_codes(optional_text(row, REPLACED_BY)),
        county=optional_text(row, COUNTY),
    )


def _nation(row: Row, log: ProblemLog) -> str | None:
    nation = required_text(row, NATION, log)
    if nation is not None and nation not in NATION_LETTERS:
        known = ", ".join(NATION_LETTERS)
        log.add(f"{nation!r} is not a UK nation ({known})", row=row.number, column=NATION)
        return None
    return nation


def _gss_code(row: Row, nation: str | None, log: ProblemLog) -> str | None:
    """The row's GSS code; ``None`` with no problem means a non-English row to skip."""
    code = optional_text(row, GSS_CODE)
    if not code:
        if nation == "England":
            log.add("an English council must have a GSS code", row=row.number, column=GSS_CODE)
        return None
    if not _GSS.match(code):
        message = f"{code!r} is not a GSS code (a letter E, W, S or N and eight digits)"
        log.add(message, row=row.number, column=GSS_CODE)
        return None
    if nation is not None and code[0] != NATION_LETTERS[nation]:
        message = f"{code} is not a code for {nation} (those start with {NATION_LETTERS[nation]})"
        log.add(message, row=row.number, column=GSS_CODE)
        return None
    return code


def _short_code(row: Row, kind: str | None, log: ProblemLog) -> str | None:
    """The register's own code, as the register writes it, since successors and counties are
    named by it and must match exactly: three capital letters (``TRF``), or three or four for
    a combined authority."""
    short = required_text(row, SHORT_CODE, log)
    if short is None:
        return None
    if kind == COMBINED_AUTHORITY:
        pattern, expected = _COMBINED_SHORT_CODE, "three or four capital letters, like GMCA"
    else:
        pattern, expected = _SHORT_CODE, "three capital letters, like TRF"
    if not pattern.match(short):
        log.add(f"{short!r} is not a register code: {expected}", row=row.number, column=SHORT_CODE)
        return None
    return short


def _codes(text: str) -> tuple[str, ...]:
    """Short codes listed in one field ("CBD,WAF"), in the order written."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _check_unique(
    found: Sequence[tuple[Row, Council]],
    log: ProblemLog,
    what: str,
    key: Callable[[Council], str],
) -> None:
    first_row: dict[str, int] = {}
    for row, council in found:
        value = key(council)
        if value in first_row:
            log.add(
                f"{what} {value} is also used by row {first_row[value]}; each must be unique",
                row=row.number,
            )
        else:
            first_row[value] = row.number


def _check_references(
    rows: Sequence[Row], found: Sequence[tuple[Row, Council]], log: ProblemLog
) -> None:
    """Successors and counties must be councils in the register (skipped rows included)."""
    known = {optional_text(row, SHORT_CODE) for row in rows}
    for row, council in found:
        for short in council.replaced_by:
            if short not in known:
                message = f"replaced by {short!r}, which is not in the register"
                log.add(message, row=row.number, column=REPLACED_BY)
        if council.county and council.county not in known:
            message = f"county {council.county!r} is not in the register"
            log.add(message, row=row.number, column=COUNTY)
