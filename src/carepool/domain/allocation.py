"""National allocation: dividing each funding stream between areas and commissioners, exactly.

Every level adds up to the level above to the penny: the areas' amounts to the stream's
national total, and an area's commissioner lines to the area's amount. Division is always by
largest remainder (:func:`carepool.domain.money.split_by_weights`), so no penny is created or
lost. An allocation is a versioned run that moves draft → approved → published
(:data:`ALLOCATION_WORKFLOW`); a published allocation is never edited, only varied by a new
run that records why.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from carepool.domain.errors import CarepoolError, Problem, StateTransitionError
from carepool.domain.framework import Framework, FundingStream, Payer
from carepool.domain.geography import BROAD_BANDS, Area, CommissionerShare, band_total
from carepool.domain.geography import PopulationCount as Count
from carepool.domain.money import Pence, split_by_weights
from carepool.domain.roles import Role
from carepool.domain.workflow import Guard, Transition, Workflow, step


@dataclass(frozen=True, slots=True)
class AllocationLine:
    """An amount of one stream, for one financial year, to one area from one payer.

    ``commissioner_code`` is ``None`` for money paid by the council (DFG, iBCF...).
    """

    financial_year: str
    stream: str
    area_code: str
    commissioner_code: str | None
    amount: Pence


class AllocationStatus(StrEnum):
    """The life of an allocation run; values are the labels people see."""

    DRAFT = "Draft"
    APPROVED = "Approved"
    PUBLISHED = "Published"
    SUPERSEDED = "Superseded"


class AllocationAction(StrEnum):
    APPROVE = "approve"
    PUBLISH = "publish"
    SEND_BACK = "send_back"
    SUPERSEDE = "supersede"

    @property
    def label(self) -> str:
        return _ACTION_LABELS[self]


_ACTION_LABELS = {
    AllocationAction.APPROVE: "Approved",
    AllocationAction.PUBLISH: "Published",
    AllocationAction.SEND_BACK: "Sent back to draft",
    AllocationAction.SUPERSEDE: "Superseded",
}


@dataclass(frozen=True, slots=True)
class RunFacts:
    """What the allocation guards read: this run's version and the year's newest."""

    version: int
    newest_version: int


_NEWEST: Guard[RunFacts] = Guard(
    "it is the year's newest version",
    lambda f: f.version == f.newest_version,
    lambda f: CarepoolError(
        f"version {f.version} is older than version {f.newest_version}; only the newest "
        "version of an allocation can be published"
    ),
)


def _not_open(
    current: AllocationStatus,
    row: Transition[AllocationStatus, AllocationAction, RunFacts],
    opened: Sequence[Transition[AllocationStatus, AllocationAction, RunFacts]],
) -> str:
    allowed = ", ".join(sorted(r.target.value for r in opened)) or "none (it is final)"
    return (
        f"an allocation that is {current.value} cannot become {row.target.value}; "
        f"allowed next: {allowed}"
    )


A = AllocationStatus
ALLOCATION_WORKFLOW: Workflow[AllocationStatus, AllocationAction, RunFacts] = Workflow(
    name="allocation run",
    states=AllocationStatus,
    initial=A.DRAFT,
    transitions=(
        step(AllocationAction.APPROVE, A.DRAFT, A.APPROVED, Role.NATIONAL_ADMIN),
        step(
            AllocationAction.PUBLISH,
            A.APPROVED,
            A.PUBLISHED,
            Role.NATIONAL_ADMIN,
            guards=[_NEWEST],
        ),
        step(AllocationAction.SEND_BACK, A.APPROVED, A.DRAFT, Role.NATIONAL_ADMIN),
        step(
            AllocationAction.SUPERSEDE,
            A.PUBLISHED,
            A.SUPERSEDED,
            Role.NATIONAL_ADMIN,
            who="National administrator, by publishing a later version of the year",
        ),
    ),
    not_open=_not_open,
)
"""An allocation run's life as the policy sets it out (rendered in the developer guide)."""

_ACTION_TO = {row.target: row.action for row in ALLOCATION_WORKFLOW.transitions}
"""Each status is reached by exactly one step, so a status asked for names its step."""


def action_to(target: AllocationStatus) -> AllocationAction:
    """The step that gives a run the status ``target`` (the pages and CLI ask by status)."""
    action = _ACTION_TO.get(target)
    if action is None:
        raise StateTransitionError(f"no step makes an allocation {target.value}")
    return action


def check_move(
    current: AllocationStatus, target: AllocationStatus
) -> Transition[AllocationStatus, AllocationAction, RunFacts]:
    """Refuse a status change the allocation workflow does not allow, saying why."""
    return ALLOCATION_WORKFLOW.legal(current, action_to(target))


def area_weight(counts: Sequence[Count], stream: FundingStream) -> Fraction:
    """An area's claim on a stream: its population, weighted by broad age band."""
    weight = Fraction(0)
    for band, factor in stream.basis.age_weights.items():
        lo, hi = BROAD_BANDS[band]
        persons = band_total(counts, lo, hi)
        if persons is None:
            raise CarepoolError(f"population has no exact figure for ages {band.value}")
        weight += persons * Fraction(factor)
    return weight


def allocate_by_formula(
    framework: Framework,
    areas: Sequence[Area],
    populations: Mapping[str, Sequence[Count]],
    shares: Iterable[CommissionerShare],
) -> list[AllocationLine]:
    """Allocate every stream of every financial year of ``framework`` to ``areas``.

    Areas without a population, or commissioner streams for areas no commissioner serves,
    are refused with the areas named, never allocated zero.
    """
    missing = [f"{a.name} ({a.code})" for a in areas if a.code not in populations]
    if missing:
        raise CarepoolError(
            f"{len(missing)} areas have no population, so the formula cannot be applied",
            [Problem(f"no population for {name}") for name in missing],
        )
    weights_by_area = _commissioner_weights(areas, shares)
    lines: list[AllocationLine] = []
    for stream in framework.streams:
        area_weights = {a.code: area_weight(populations[a.code], stream) for a in areas}
        for year, total in stream.totals.items():
            by_area = split_by_weights(total, area_weights)
            lines.extend(_stream_lines(year, stream, by_area, weights_by_area))
    return lines


def split_area_amounts(
    framework: Framework,
    amounts: Mapping[tuple[str, str, str], Pence],
    areas: Sequence[Area],
    shares: Iterable[CommissionerShare],
) -> list[AllocationLine]:
    """Lines from a published table of area amounts keyed (financial year, stream, area).

    Commissioner streams are split between the area's commissioners by population share.
    """
    weights_by_area = _commissioner_weights(areas, shares)
    lines: list[AllocationLine] = []
    for (year, stream_id, area_code), amount in sorted(amounts.items()):
        stream = framework.stream(stream_id)
        lines.extend(_stream_lines(year, stream, {area_code: amount}, weights_by_area))
    return lines


def _stream_lines(
    year: str,
    stream: FundingStream,
    by_area: Mapping[str, Pence],
    weights_by_area: Mapping[str, Mapping[str, int]],
) -> list[AllocationLine]:
    if stream.payer is Payer.COUNCIL:
        return [AllocationLine(year, stream.id, a, None, amount) for a, amount in by_area.items()]
    lines = []
    for area_code, amount in by_area.items():
        weights = weights_by_area.get(area_code)
        if not weights:
            raise CarepoolError(
                f"area {area_code} has no NHS commissioners recorded, so stream "
                f"{stream.id!r} cannot be split between commissioners; import the shares first"
            )
        for code, part in split_by_weights(amount, weights).items():
            lines.append(AllocationLine(year, stream.id, area_code, code, part))
    return lines


def _commissioner_weights(
    areas: Sequence[Area], shares: Iterable[CommissionerShare]
) -> dict[str, dict[str, int]]:
    """For each area, the population each commissioner serves in it (merged councils summed)."""
    area_of = {council: area.code for area in areas for council in area.councils}
    weights: dict[str, dict[str, int]] = defaultdict(dict)
    for share in sorted(shares, key=lambda s: (s.council_code, s.commissioner_code)):
        area_code = area_of.get(share.council_code)
        if area_code is None:
            continue
        served = weights[area_code]
        served[share.commissioner_code] = served.get(share.commissioner_code, 0) + share.population
    return weights


@dataclass(frozen=True, slots=True)
class StreamReconciliation:
    financial_year: str
    stream: str
    framework_total: Pence
    areas_total: Pence
    lines: int

    @property
    def difference(self) -> Pence:
        return Pence(self.areas_total - self.framework_total)


def reconcile(framework: Framework, lines: Iterable[AllocationLine]) -> list[StreamReconciliation]:
    """Each stream and year's framework total beside what the lines add up to."""
    totals: dict[tuple[str, str], int] = defaultdict(int)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for line in lines:
        totals[(line.financial_year, line.stream)] += line.amount
        counts[(line.financial_year, line.stream)] += 1
    return [
        StreamReconciliation(
            year,
            stream.id,
            Pence(total),
            Pence(totals[(year, stream.id)]),
            counts[(year, stream.id)],
        )
        for stream in framework.streams
        for year, total in stream.totals.items()
    ]


def reconciliation_problems(
    framework: Framework, lines: Sequence[AllocationLine], area_codes: Iterable[str]
) -> list[Problem]:
    """Why a set of lines is not a valid allocation of the framework (empty when it is)."""
    problems = [
        Problem(
            f"stream {r.stream} {r.financial_year}: lines add up to {r.areas_total} pence "
            f"but the framework total is {r.framework_total} pence "
            f"(difference {r.difference:+d} pence)"
        )
        for r in reconcile(framework, lines)
        if r.difference
    ]
    known = set(area_codes)
    unknown = sorted({line.area_code for line in lines} - known)
    problems.extend(
        Problem(f"area {code} is not a HWB area of {framework.year}") for code in unknown
    )
    negative = [line for line in lines if line.amount < 0]
    problems.extend(
        Problem(f"negative amount for {n.area_code} in stream {n.stream}") for n in negative
    )
    return problems


def area_totals(lines: Iterable[AllocationLine]) -> dict[str, Pence]:
    totals: dict[str, int] = defaultdict(int)
    for line in lines:
        totals[line.area_code] += line.amount
    return {code: Pence(total) for code, total in totals.items()}
