"""Geography: councils, Health and Wellbeing Board areas, NHS commissioners and populations.

Codes change (Dorset, Bournemouth and Poole in 2019; Buckinghamshire in 2020;
Northamptonshire in 2021), so every figure is tied to the vintage it came from, and moving a
figure from one vintage's codes to another's goes through the councils' code history. Where
the history cannot map a figure exactly, the area is reported as unmatched, never given a
silent zero.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction

from carepool.domain.framework import AgeBand, Geography
from carepool.domain.money import split_by_weights

SOCIAL_CARE_COUNCIL_TYPES = ("UA", "MD", "LBO", "CTY", "CC")
"""Council types with adult social services responsibilities (the CASSRs)."""

REGIONS = (
    "North East",
    "North West",
    "Yorkshire and The Humber",
    "East Midlands",
    "West Midlands",
    "East of England",
    "London",
    "South East",
    "South West",
)


@dataclass(frozen=True, slots=True)
class Council:
    """One local authority in a councils register, past or present."""

    code: str  # ONS GSS code, e.g. E06000052
    short_code: str  # register's own three-letter code, used by its code history
    name: str
    kind: str  # UA, MD, LBO, CTY, CC, NMD...
    region: str
    nation: str = "England"
    start: dt.date | None = None
    end: dt.date | None = None
    replaced_by: tuple[str, ...] = ()  # short codes of successors
    county: str = ""  # short code of a district's county

    def in_force_on(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


@dataclass(frozen=True, slots=True)
class Area:
    """A Health and Wellbeing Board area: one or more social care councils planning together."""

    code: str
    name: str
    region: str
    kind: str
    councils: tuple[str, ...]
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Commissioner:
    """An NHS commissioner (a CCG, later an ICB)."""

    code: str  # ONS code, e.g. E38000001
    ods_code: str  # NHS ODS code, e.g. 02N
    name: str


@dataclass(frozen=True, slots=True)
class CommissionerShare:
    """How much of a commissioner's population lives in a council's area.

    ``share_of_area`` is the fraction of the council's residents served by the commissioner;
    it is what splits an area's allocation between the commissioners that serve it.
    """

    commissioner_code: str
    council_code: str
    population: int
    share_of_commissioner: Fraction
    share_of_area: Fraction


@dataclass(frozen=True, slots=True)
class PopulationCount:
    """Persons of ages ``age_from``..``age_to`` (inclusive; ``None`` is open-ended) in an area."""

    geo_code: str
    geo_name: str
    age_from: int
    age_to: int | None
    persons: int


@dataclass(frozen=True, slots=True)
class CodeHistory:
    """Which councils replaced which, from a councils register.

    Works at the level of social care councils: a district that moved to a new unitary
    authority counts as its county's loss.
    """

    successors: Mapping[str, frozenset[str]]  # GSS code -> successor GSS codes
    predecessors: Mapping[str, frozenset[str]]  # GSS code -> predecessor GSS codes

    def exact_successors(self, code: str) -> frozenset[str] | None:
        """Successors that together cover ``code`` and nothing else, if there are such."""
        following = self.successors.get(code)
        if not following:
            return None
        if all(self.predecessors.get(new, frozenset()) == {code} for new in following):
            return following
        return None


def code_history(councils: Iterable[Council]) -> CodeHistory:
    by_short = {c.short_code: c for c in councils}
    successors: dict[str, set[str]] = defaultdict(set)
    predecessors: dict[str, set[str]] = defaultdict(set)
    for council in by_short.values():
        upper = by_short.get(council.county, council) if council.kind == "NMD" else council
        for short in council.replaced_by:
            new = by_short.get(short)
            if new is None or new.code == upper.code:
                continue
            successors[upper.code].add(new.code)
            predecessors[new.code].add(upper.code)
    return CodeHistory(
        successors={k: frozenset(v) for k, v in successors.items()},
        predecessors={k: frozenset(v) for k, v in predecessors.items()},
    )


def carry_shares(
    shares: Sequence[CommissionerShare], areas: Sequence[Area], history: CodeHistory
) -> list[CommissionerShare]:
    """The shares, with a council that began after their vintage served as its predecessors were.

    Commissioner shares exist only on 2015 codes; when Dorset's councils were reorganised in
    2019, the commissioners that served Bournemouth, Poole and Dorset went on serving the new
    councils. Only who serves an area (and their weights within it) is carried; the counts
    are the predecessors', so a successor's shares must not be added up as its population.
    """
    have = {s.council_code for s in shares}
    carried: list[CommissionerShare] = []
    for council in sorted({code for area in areas for code in area.councils} - have):
        for old in sorted(history.predecessors.get(council, frozenset())):
            carried.extend(
                replace(s, council_code=council) for s in shares if s.council_code == old
            )
    return [*shares, *carried]


def hwb_areas(councils: Sequence[Council], geography: Geography) -> list[Area]:
    """The year's Health and Wellbeing Board areas, from a councils register and the framework.

    Which councils count, on which date, and which share a board all come from the framework
    file, so a reorganisation is a data change, not a code change.
    """
    in_force = [
        c
        for c in councils
        if c.nation == "England"
        and c.kind in geography.council_types
        and c.in_force_on(geography.as_at)
    ]
    # Registers often end a council on the day its successor starts: the successor wins.
    starting = {c.short_code for c in in_force}
    in_force = [c for c in in_force if not starting.intersection(c.replaced_by)]
    names = {c.code: c.name for c in councils}
    regions = _regions_with_fallback(councils)
    merged_into = {code: merge for merge in geography.merges for code in merge.councils}
    areas: dict[str, Area] = {}
    for council in sorted(in_force, key=lambda c: c.code):
        merge = merged_into.get(council.code)
        if merge is None:
            areas[council.code] = Area(
                council.code,
                council.name,
                regions.get(council.code, ""),
                council.kind,
                (council.code,),
                council.start,
                council.end,
            )
        elif merge.code not in areas:
            areas[merge.code] = Area(
                merge.code,
                merge.name or " and ".join(names.get(code, code) for code in merge.councils),
                regions.get(council.code, ""),
                council.kind,
                merge.councils,
                council.start,
                council.end,
            )
    return sorted(areas.values(), key=lambda a: (a.region, a.name))


def _regions_with_fallback(councils: Sequence[Council]) -> dict[str, str]:
    """Each council's region; a former council with none recorded takes its successor's."""
    by_short = {c.short_code: c for c in councils}
    regions: dict[str, str] = {}
    for council in councils:
        region = council.region
        for short in council.replaced_by:
            if region:
                break
            successor = by_short.get(short)
            region = successor.region if successor else ""
        regions[council.code] = region
    return regions


@dataclass(frozen=True, slots=True)
class AreaPopulations:
    """Populations resolved onto a year's areas, and the areas that could not be resolved."""

    counts: Mapping[str, tuple[PopulationCount, ...]]
    unmatched: Mapping[str, str] = field(default_factory=dict)  # area code -> reason
    mapped: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # area -> source codes
    apportioned: Mapping[str, str] = field(default_factory=dict)  # area code -> how


def resolve_populations(
    areas: Sequence[Area], counts: Iterable[PopulationCount], history: CodeHistory
) -> AreaPopulations:
    """Put a population vintage's counts onto the year's areas.

    Each area's councils are looked up by code; a council missing from the vintage is mapped
    through its exact successors (Northamptonshire = North + West Northamptonshire) when the
    successors cover it and nothing else; a council missing from an older vintage takes the
    figures of the one council it replaced whole (Buckinghamshire). Anything else is
    unmatched, with the reason.
    """
    by_code: dict[str, list[PopulationCount]] = defaultdict(list)
    for count in counts:
        by_code[count.geo_code].append(count)
    resolved: dict[str, tuple[PopulationCount, ...]] = {}
    unmatched: dict[str, str] = {}
    mapped: dict[str, tuple[str, ...]] = {}
    for area in areas:
        sources: list[str] = []
        problems: list[str] = []
        for council in area.councils:
            found = _sources_for(council, by_code, history)
            if found is None:
                problems.append(council)
            else:
                sources.extend(found)
        if problems:
            unmatched[area.code] = _unmatched_reason(area, problems, history)
            continue
        rows = [c for code in sources for c in by_code[code]]
        resolved[area.code] = tuple(
            PopulationCount(area.code, area.name, r.age_from, r.age_to, r.persons) for r in rows
        )
        mapped[area.code] = tuple(sources)
    return AreaPopulations(resolved, unmatched, mapped)


def _sources_for(
    council: str, by_code: Mapping[str, list[PopulationCount]], history: CodeHistory
) -> list[str] | None:
    if council in by_code:
        return [council]
    successors = history.exact_successors(council)
    if successors and all(s in by_code for s in successors):
        return sorted(successors)
    renamed = _renamed_from(council, history)
    if renamed is not None and renamed in by_code:
        return [renamed]
    return None


def _renamed_from(council: str, history: CodeHistory) -> str | None:
    """The one council ``council`` replaced whole, if it took over exactly that council's area
    (Buckinghamshire's unitary council replaced the county and its districts in 2020), so an
    older vintage's figures for the old code are this council's."""
    before = history.predecessors.get(council, frozenset())
    if len(before) != 1:
        return None
    (old,) = before
    return old if history.successors.get(old) == frozenset({council}) else None


def _unmatched_reason(area: Area, councils: list[str], history: CodeHistory) -> str:
    reasons = []
    for council in councils:
        successors = history.successors.get(council)
        if successors:
            shared = sorted(
                {p for s in successors for p in history.predecessors.get(s, ()) if p != council}
            )
            reasons.append(
                f"{council} was replaced by {', '.join(sorted(successors))}, which also took in "
                f"{', '.join(shared) or 'other areas'}; the figures cannot be split back"
            )
        else:
            reasons.append(f"{council} is not in this vintage and has no recorded successor")
    return f"{area.name} ({area.code}): " + "; ".join(reasons)


def apportion_unmatched(
    areas: Sequence[Area],
    resolved: AreaPopulations,
    counts: Iterable[PopulationCount],
    history: CodeHistory,
    guide: Mapping[str, Sequence[PopulationCount]],
    guide_name: str,
) -> AreaPopulations:
    """Split a reorganised group's counts back onto the year's areas, by a guide's shares.

    The mid-2019 estimates have Bournemouth, Christchurch and Poole and the new Dorset, which
    together cover exactly the 2015 Bournemouth, Poole and Dorset County, but not each of
    them. ``guide`` is a coarser vintage on the year's own areas (the CCG-share populations
    in 0-17, 18-64 and 65+): each single year of age of the group is split between its areas
    in proportion to their residents in the guide band holding that age, by largest
    remainder, so the group's total at every age is kept exactly. The result is an estimate
    and is reported as one in ``apportioned``; an area whose group is not closed (its
    successors took in an area outside it) or the guide cannot cover stays unmatched.
    """
    by_code: dict[str, list[PopulationCount]] = defaultdict(list)
    for count in counts:
        by_code[count.geo_code].append(count)
    area_of = {council: area for area in areas for council in area.councils}
    found = dict(resolved.counts)
    unmatched = dict(resolved.unmatched)
    apportioned = dict(resolved.apportioned)
    for code in sorted(resolved.unmatched):
        if code not in unmatched:
            continue  # already apportioned with its group
        start = next(area for area in areas if area.code == code)
        members, successors = _group_members(start, area_of, history)
        if not members or any(m.code not in unmatched for m in members):
            continue
        if not successors or any(s not in by_code for s in successors):
            continue
        split = _split_by_guide(members, [c for s in successors for c in by_code[s]], guide)
        if split is None:
            continue
        sources = ", ".join(sorted(successors))
        for member in members:
            found[member.code] = split[member.code]
            del unmatched[member.code]
            apportioned[member.code] = (
                f"{member.name} ({member.code}): apportioned from {sources} by its share of "
                f"each broad age band in {guide_name!r}"
            )
    return AreaPopulations(found, unmatched, resolved.mapped, apportioned)


def _group_members(
    start: Area, area_of: Mapping[str, Area], history: CodeHistory
) -> tuple[list[Area], frozenset[str]]:
    """The year's areas a reorganisation mixed together, and the codes that replaced them.

    Grown to a fixed point: the successors of the areas' councils, then every predecessor of
    those successors, until nothing new joins. Empty if a predecessor is in no area.
    """
    members = {start.code: start}
    successors: set[str] = set()
    while True:
        councils = {council for area in members.values() for council in area.councils}
        following = {s for council in councils for s in history.successors.get(council, ())}
        joining = {p for s in following for p in history.predecessors.get(s, ())} - councils
        successors = following
        if not joining:
            break
        for council in joining:
            area = area_of.get(council)
            if area is None:
                return [], frozenset()
            members[area.code] = area
    return sorted(members.values(), key=lambda a: a.code), frozenset(successors)


def _split_by_guide(
    members: Sequence[Area],
    rows: Sequence[PopulationCount],
    guide: Mapping[str, Sequence[PopulationCount]],
) -> dict[str, tuple[PopulationCount, ...]] | None:
    """Each member's rows: the group's rows split by the guide band holding each row."""
    summed: dict[tuple[int, int | None], int] = defaultdict(int)
    for row in rows:
        summed[(row.age_from, row.age_to)] += row.persons
    split: dict[str, list[PopulationCount]] = {m.code: [] for m in members}
    for (age_from, age_to), persons in sorted(summed.items()):
        weights: dict[str, int] = {}
        for member in members:
            weight = _guide_persons(guide.get(member.code, ()), age_from, age_to)
            if weight is None:
                return None
            weights[member.code] = weight
        if not sum(weights.values()):
            return None
        shares = split_by_weights(persons, weights)
        for member in members:
            split[member.code].append(
                PopulationCount(member.code, member.name, age_from, age_to, shares[member.code])
            )
    return {code: tuple(found) for code, found in split.items()}


def _guide_persons(
    counts: Sequence[PopulationCount], age_from: int, age_to: int | None
) -> int | None:
    """Persons in the guide band that holds ``age_from``..``age_to``, if one band does."""
    for count in counts:
        holds = count.age_from <= age_from and (
            count.age_to is None or (age_to is not None and age_to <= count.age_to)
        )
        if holds:
            return count.persons
    return None


BROAD_BANDS: dict[AgeBand, tuple[int, int | None]] = {
    AgeBand.CHILDREN: (0, 17),
    AgeBand.WORKING_AGE: (18, 64),
    AgeBand.OLDER: (65, None),
}

FIVE_YEAR_BANDS: tuple[tuple[int, int | None], ...] = (
    *((lo, lo + 4) for lo in range(0, 90, 5)),
    (90, None),
)


def band_label(age_from: int, age_to: int | None) -> str:
    return f"{age_from}+" if age_to is None else f"{age_from}-{age_to}"


def band_total(counts: Iterable[PopulationCount], age_from: int, age_to: int | None) -> int | None:
    """Persons in a band, or ``None`` if the counts are too coarse to give it exactly."""
    total = 0
    for count in counts:
        inside = count.age_from >= age_from and (
            age_to is None or (count.age_to is not None and count.age_to <= age_to)
        )
        overlaps = (age_to is None or count.age_from <= age_to) and (
            count.age_to is None or count.age_to >= age_from
        )
        if inside:
            total += count.persons
        elif overlaps:
            return None
    return total


def population_bands(
    counts: Sequence[PopulationCount],
) -> dict[str, int]:
    """All ages, the broad bands and (where the vintage has single years) the 5-year bands."""
    result = {"all": sum(c.persons for c in counts)}
    for band, (lo, hi) in BROAD_BANDS.items():
        value = band_total(counts, lo, hi)
        if value is not None:
            result[band.value] = value
    for lo, hi in FIVE_YEAR_BANDS:
        value = band_total(counts, lo, hi)
        if value is not None:
            result[band_label(lo, hi)] = value
    return result
