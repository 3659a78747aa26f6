"""Importer for CCG-to-council population shares (``derived_ccg15_to_la_population_shares``).

Each row is one CCG × council pair: how many residents of the CCG live in the council's area
(all ages, 18+ and 65+) and the share that is of each side. The shares are what split a
commissioner's minimum contribution between the areas it serves, so they are kept exact
(``Fraction(Decimal(text))``, never a float) and must add up to 1 for every CCG and every
council. The file rounds shares to six decimal places, so the sums are allowed to miss 1 by
:data:`SUM_TOLERANCE`; anything more means rows are missing or wrong.

The same rows, summed per council, also give each council's population in three broad age
bands; those are returned too, so an allocation can use the very population the shares
were computed from.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from carepool.domain.geography import Commissioner, CommissionerShare, PopulationCount
from carepool.io.tabular import (
    ProblemLog,
    Row,
    non_negative_int_field,
    proportion_field,
    read_table,
    require_rows,
    required_text,
)

CCG_CODE = "ccg15_code"
CCG_ODS_CODE = "ccg15_ods_code"
CCG_NAME = "ccg15_name"
COUNCIL_CODE = "cassr_code"
COUNCIL_NAME = "cassr_name"
ALL_AGES = "pop_mid2017_all_ages"
AGED_18_PLUS = "pop_mid2017_18plus"
AGED_65_PLUS = "pop_mid2017_65plus"
SHARE_OF_CCG = "share_of_ccg_population"
SHARE_OF_COUNCIL = "share_of_cassr_population"

COLUMNS = (
    CCG_CODE, CCG_ODS_CODE, CCG_NAME, COUNCIL_CODE, COUNCIL_NAME, ALL_AGES, AGED_18_PLUS,
    AGED_65_PLUS, SHARE_OF_CCG, SHARE_OF_COUNCIL,
)  # fmt: skip

SUM_TOLERANCE = Decimal("0.0001")
"""How far a CCG's or council's shares may add up away from 1 (the file has 6-dp rounding)."""

_CCG = re.compile(r"^E38[0-9]{6}$")
_COUNCIL = re.compile(r"^E(?:06|08|09|10)[0-9]{6}$")
_ODS = re.compile(r"^[0-9A-Z]{3,5}$")


@dataclass(frozen=True, slots=True)
class SharesFile:
    """Everything one shares file says: the commissioners, the shares and the populations."""

    commissioners: list[Commissioner]
    shares: list[CommissionerShare]
    populations: list[PopulationCount]


@dataclass(frozen=True, slots=True)
class _Line:
    """One row that read cleanly."""

    row: int
    commissioner: Commissioner
    council_code: str
    council_name: str
    all_ages: int
    aged_18_plus: int
    aged_65_plus: int
    share_of_ccg: Fraction
    share_of_council: Fraction


def read_shares(path: Path) -> SharesFile:
    """Read and check a whole shares file, or raise ImportRejected listing every problem."""
    table = read_table(path, required=COLUMNS)
    require_rows(table)
    log = table.problem_log()
    lines = [line for row in table.rows if (line := _line(row, log)) is not None]
    _check_pairs(lines, log)
    _check_names(lines, log)
    if not log.problems:
        # A bad row would make every sum it belongs to look wrong too; report it alone.
        _check_sums(lines, log)
    log.raise_if_any()
    return SharesFile(
        commissioners=sorted({line.commissioner for line in lines}, key=lambda c: c.code),
        shares=[_share(line) for line in lines],
        populations=_populations(lines),
    )


def _line(row: Row, log: ProblemLog) -> _Line | None:
    before = len(log)
    ccg = _code(row, CCG_CODE, _CCG, "a CCG code (E38 and six digits)", log)
    ods = _code(row, CCG_ODS_CODE, _ODS, "an NHS ODS code (such as 02N)", log)
    ccg_name = required_text(row, CCG_NAME, log)
    council = _code(
        row, COUNCIL_CODE, _COUNCIL, "a social care council code (E06/E08/E09/E10)", log
    )
    council_name = required_text(row, COUNCIL_NAME, log)
    people = _populations_of(row, log)
    share_of_ccg = proportion_field(row, SHARE_OF_CCG, log)
    share_of_council = proportion_field(row, SHARE_OF_COUNCIL, log)
    if len(log) > before:
        return None
    assert ccg and ods and ccg_name and council and council_name and people  # all checked above
    assert share_of_ccg is not None and share_of_council is not None
    return _Line(
        row.number, Commissioner(ccg, ods, ccg_name), council, council_name, *people,
        share_of_ccg, share_of_council,
    )  # fmt: skip


def _code(
    row: Row, column: str, pattern: re.Pattern[str], what: str, log: ProblemLog
) -> str | None:
    value = required_text(row, column, log)
    if value is not None and not pattern.match(value):
        log.add(f"{value!r} is not {what}", row=row.number, column=column)
        return None
    return value


def _populations_of(row: Row, log: ProblemLog) -> tuple[int, int, int] | None:
    """All ages, 18+ and 65+, each no bigger than the band it sits in."""
    every = non_negative_int_field(row, ALL_AGES, log)
    adults = non_negative_int_field(row, AGED_18_PLUS, log)
    older = non_negative_int_field(row, AGED_65_PLUS, log)
    if every is None or adults is None or older is None:
        return None
    if adults > every:
        message = f"{adults} people aged 18+ is more than the {every} of all ages"
        log.add(message, row=row.number, column=AGED_18_PLUS)
        return None
    if older > adults:
        message = f"{older} people aged 65+ is more than the {adults} aged 18+"
        log.add(message, row=row.number, column=AGED_65_PLUS)
        return None
    return every, adults, older


def _check_pairs(lines: Sequence[_Line], log: ProblemLog) -> None:
    first: dict[tuple[str, str], int] = {}
    for line in lines:
        pair = (line.commissioner.code, line.council_code)
        if pair in first:
            message = f"CCG {pair[0]} and council {pair[1]} are already paired in row {first[pair]}"
            log.add(message, row=line.row)
        else:
            first[pair] = line.row


def _check_names(lines: Sequence[_Line], log: ProblemLog) -> None:
    """A code must mean the same CCG (name and ODS code) or council on every row."""
    ccgs: dict[str, _Line] = {}
    councils: dict[str, _Line] = {}
    for line in lines:
        seen = ccgs.setdefault(line.commissioner.code, line)
        if seen.commissioner != line.commissioner:
            was, now = seen.commissioner, line.commissioner
            message = (
                f"CCG {now.code} is {now.name!r} ({now.ods_code}) here but "
                f"{was.name!r} ({was.ods_code}) in row {seen.row}"
            )
            log.add(message, row=line.row, column=CCG_NAME)
        known = councils.setdefault(line.council_code, line)
        if known.council_name != line.council_name:
            message = (
                f"council {line.council_code} is {line.council_name!r} here but "
                f"{known.council_name!r} in row {known.row}"
            )
            log.add(message, row=line.row, column=COUNCIL_NAME)


def _check_sums(lines: Sequence[_Line], log: ProblemLog) -> None:
    by_ccg: dict[str, Fraction] = defaultdict(Fraction)
    by_council: dict[str, Fraction] = defaultdict(Fraction)
    for line in lines:
        by_ccg[line.commissioner.code] += line.share_of_ccg
        by_council[line.council_code] += line.share_of_council
    _report_sums(by_ccg, "CCG", SHARE_OF_CCG, log)
    _report_sums(by_council, "council", SHARE_OF_COUNCIL, log)


def _report_sums(sums: Mapping[str, Fraction], who: str, column: str, log: ProblemLog) -> None:
    for code, total in sums.items():
        if abs(total - 1) > Fraction(SUM_TOLERANCE):
            shown = Decimal(total.numerator) / Decimal(total.denominator)
            log.add(
                f"the {column} values for {who} {code} add up to {shown}, not 1 "
                f"(allowed difference {SUM_TOLERANCE})",
                column=column,
            )


def _share(line: _Line) -> CommissionerShare:
    return CommissionerShare(
        commissioner_code=line.commissioner.code,
        council_code=line.council_code,
        population=line.all_ages,
        share_of_commissioner=line.share_of_ccg,
        share_of_area=line.share_of_council,
    )


def _populations(lines: Sequence[_Line]) -> list[PopulationCount]:
    """Each council's residents in bands 0-17, 18-64 and 65+, summed over its CCG rows."""
    totals: dict[str, list[int]] = {}
    names: dict[str, str] = {}
    for line in lines:
        sums = totals.setdefault(line.council_code, [0, 0, 0])
        sums[0] += line.all_ages
        sums[1] += line.aged_18_plus
        sums[2] += line.aged_65_plus
        names[line.council_code] = line.council_name
    counts: list[PopulationCount] = []
    for code in sorted(totals):
        every, adults, older = totals[code]
        counts += [
            PopulationCount(code, names[code], 0, 17, every - adults),
            PopulationCount(code, names[code], 18, 64, adults - older),
            PopulationCount(code, names[code], 65, None, older),
        ]
    return counts
