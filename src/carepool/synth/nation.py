"""A seeded synthetic nation: councils, NHS commissioners, their overlaps and populations.

Demos and tests need a whole country of areas, commissioners and people, but the repository
ships only what it generates (real reference data lives outside it, for the importers). So
this module invents one with the real thing's shape: England's 2015 social care councils by
type and region, the Cornwall/Isles of Scilly pair the frameworks merge into one Health and
Wellbeing Board, ~211 CCGs overlapping councils many-to-many, and single-year-of-age
populations that differ from place to place. The same seed always gives the same nation.

Codes cannot be mistaken for real ones: apart from E06000052 and E06000053 (needed because the
shipped frameworks merge them by code), every GSS code's serial starts at 901, beyond any real
code of its type, and CCG ODS codes use the 60-69 block, outside the 00-15 and 99 blocks the
2015 CCGs had (later merged CCGs took a few scattered codes such as 70F, so not 70-89).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import pairwise
from operator import attrgetter

from carepool.domain.geography import (
    REGIONS,
    Commissioner,
    CommissionerShare,
    Council,
    PopulationCount,
)

LARGE_UNITARY_CODE = "E06000052"
ISLANDS_CODE = "E06000053"
LABEL = (
    "SYNTHETIC DATA (seed {seed}): a fictional England-shaped nation invented by carepool. "
    "Its places, councils, CCGs and people are not real."
)

_SERIAL_START = 901
_PREFIX = {"UA": "E06", "NMD": "E07", "MD": "E08", "CC": "E09", "LBO": "E09", "CTY": "E10"}

# Councils with adult social services by region and type, as in England in 2015. The two
# South West unitaries the frameworks merge are added on top.
_LAYOUT: tuple[tuple[str, dict[str, int]], ...] = (
    ("North East", {"UA": 7, "MD": 5}),
    ("North West", {"CTY": 2, "MD": 15, "UA": 6}),
    ("Yorkshire and The Humber", {"CTY": 1, "MD": 9, "UA": 5}),
    ("East Midlands", {"CTY": 5, "UA": 4}),
    ("West Midlands", {"CTY": 3, "MD": 7, "UA": 4}),
    ("East of England", {"CTY": 5, "UA": 6}),
    ("London", {"CC": 1, "LBO": 32}),
    ("South East", {"CTY": 7, "UA": 12}),
    ("South West", {"CTY": 4, "UA": 10}),
)

# Sizes are drawn log-uniformly in these ranges, then all scaled to the national total.
_SIZES = {
    "CTY": (500_000.0, 1_400_000.0), "MD": (160_000.0, 450_000.0), "CC": (7_200.0, 8_200.0),
    "LBO": (150_000.0, 370_000.0), "UA": (100_000.0, 330_000.0),
}  # fmt: skip
_BIG = {"MD": (2, 650_000.0, 1_100_000.0), "UA": (3, 380_000.0, 520_000.0)}
_NATIONAL = (54_500_000.0, 55_100_000.0)

# How old each kind of place is, from -1.3 (young, inner London) to 1.2 (coast, islands).
_OLDER = {
    "CTY": (0.1, 0.9), "MD": (-0.6, 0.3), "LBO": (-1.3, -0.4), "CC": (-0.6, -0.4),
    "UA": (-0.5, 0.6),
}  # fmt: skip
_COASTAL_OLDER = (0.5, 1.2)

# National age structure (relative persons at each single year; 90+ last), interpolated.
_AGE_ANCHORS = (
    (0, 1.24), (17, 1.19), (18, 1.18), (22, 1.30), (30, 1.43), (45, 1.41), (55, 1.37),
    (64, 1.12), (70, 1.01), (75, 0.78), (80, 0.56), (85, 0.35), (89, 0.20),
)  # fmt: skip
_NINETY_PLUS = 0.78

_STARTS = {kind: dt.date(1974, 4, 1) for kind in ("CTY", "MD", "NMD")} | {
    kind: dt.date(1965, 4, 1) for kind in ("LBO", "CC")
}
_UA_STARTS = tuple(dt.date(year, 4, 1) for year in (1995, 1996, 1997, 1998, 2009))

# The commissioner landscape: how many CCGs, and how tangled they are with councils.
_COMMISSIONERS = 211
_SHARED = 5  # CCGs serving two whole councils: islands, City, three unitary pairs
_SPLIT = 3  # big metropolitan or unitary councils with two CCGs of their own
_MULTI_CCG_COUNCILS = 36
_MULTI_COUNCIL_CCGS = 28
_THREE_COUNCIL_CCGS = 3
_COMPASS = ("North", "South", "East", "West", "Mid", "Central", "Greater", "Outer")

_PREFIXES = (
    "Alder", "Amber", "Bexel", "Brind", "Caddle", "Cawl", "Corve", "Daver", "Elver", "Fallow",
    "Gilder", "Grend", "Hask", "Ivel", "Jessel", "Kesten", "Lathe", "Maddle", "Nithe", "Orrin",
    "Pelling", "Quen", "Ravel", "Sorrel", "Tull", "Ulver", "Vell", "Wendle", "Yarrow", "Zenn",
    "Brackel", "Chiven", "Dorrow", "Emble", "Frith", "Hollin", "Kelder", "Lunder", "Mirren",
    "Pridd", "Rusken", "Skelder", "Thrale", "Wistle",
)  # fmt: skip
_SUFFIXES = (
    "bury", "by", "caster", "combe", "dale", "den", "field", "ford", "gate", "ham", "hurst",
    "ington", "ley", "minster", "moor", "stead", "stow", "thorpe", "ton", "well", "wick",
    "worth",
)  # fmt: skip
_COASTAL_SUFFIXES = ("mouth", "port", "haven", "cliff")
_COUNTY_SUFFIXES = ("shire", "shire", "shire", "land")
_DISTRICT_FORMS = ("{}", "{}", "{}", "{} Vale", "{} Forest", "{} Heath")
_ODS_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O, which read as digits


@dataclass(frozen=True, slots=True)
class SyntheticNation:
    """A whole invented nation, ready to load or to feed the domain functions directly.

    ``populations`` covers the social care councils only (single years 0-89 and 90+), so
    summing it gives the national total without counting two-tier areas twice.
    """

    seed: int
    label: str
    councils: tuple[Council, ...]
    commissioners: tuple[Commissioner, ...]
    shares: tuple[CommissionerShare, ...]
    populations: tuple[PopulationCount, ...]


@dataclass(slots=True, eq=False)
class _Draft:
    """A council while it is being invented (compared by identity, so usable as a key)."""

    name: str
    kind: str
    region: str
    start: dt.date
    size: float = 0.0
    older: float = 0.0
    code: str = ""
    short_code: str = ""
    persons: int = 0
    parent: _Draft | None = None


@dataclass(slots=True, eq=False)
class _Ccg:
    """A commissioner while it is being invented: whose residents it serves, wholly or a slice."""

    owners: list[_Draft]
    spills: list[_Draft] = field(default_factory=list)
    name: str = ""


def build_nation(seed: int = 2015) -> SyntheticNation:
    """Invent the nation for ``seed``; the same seed always gives an equal nation."""
    rng = random.Random(seed)
    names = _Names(rng)
    councils = _draft_councils(rng, names)
    ccgs = _plan_commissioners(rng, councils)
    districts = _draft_districts(rng, names, ccgs)
    _assign_codes([*councils, *districts])
    _name_commissioners(ccgs, districts)
    commissioners, ccg_codes = _commissioners(rng, ccgs)
    councils.sort(key=lambda d: d.code)
    return SyntheticNation(
        seed=seed,
        label=LABEL.format(seed=seed),
        councils=tuple(
            _council(d) for d in sorted([*councils, *districts], key=attrgetter("code"))
        ),
        commissioners=commissioners,
        shares=_shares(rng, ccgs, ccg_codes),
        populations=tuple(row for d in councils for row in _ages(rng, d)),
    )


class _Names:
    """Invents unique place names from syllables, so no two places share a name."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._used: set[str] = set()

    def reserve(self, *names: str) -> None:
        self._used.update(names)

    def town(self, coastal: bool = False) -> str:
        return self.place(_COASTAL_SUFFIXES if coastal else _SUFFIXES)

    def place(self, endings: Sequence[str]) -> str:
        return self._unique(lambda: _join(self._rng.choice(_PREFIXES), self._rng.choice(endings)))

    def district(self) -> str:
        form = self._rng.choice(_DISTRICT_FORMS)
        return form.format(self.town())

    def _unique(self, make: Callable[[], str]) -> str:
        for _ in range(10_000):
            name = make()
            if name not in self._used:
                self._used.add(name)
                return name
        raise RuntimeError("ran out of synthetic place names; add syllables")


def _join(prefix: str, suffix: str) -> str:
    """Elide a doubled letter at the seam, so "Pridd" + "dale" reads "Priddale"."""
    return prefix + (suffix[1:] if prefix[-1] == suffix[0] else suffix)


def _council_name(rng: random.Random, names: _Names, kind: str, coastal: bool) -> str:
    """A name in the style of the kind: counties end -shire, some places are pairs."""
    if kind == "CTY":
        return names.place(_COUNTY_SUFFIXES)
    if kind == "CC":
        return f"City of {names.town()}"
    roll = rng.random()
    if kind in ("UA", "LBO") and roll < 0.08:
        return f"{names.town()} and {names.town(coastal)}"
    if kind == "UA" and roll < 0.14:
        return f"North {names.town(coastal)}"
    return names.town(coastal)


def _draft_councils(rng: random.Random, names: _Names) -> list[_Draft]:
    """The 152 social care councils, sized and scaled so the nation totals ~55 million."""
    names.reserve("Carnmorvah", "Isles of Morvoren")
    drafts = [
        _Draft("Carnmorvah", "UA", "South West", dt.date(2009, 4, 1), code=LARGE_UNITARY_CODE,
               size=rng.uniform(520_000, 550_000), older=rng.uniform(0.8, 1.0)),
        _Draft("Isles of Morvoren", "UA", "South West", dt.date(1974, 4, 1), code=ISLANDS_CODE,
               size=rng.uniform(2_000, 2_300), older=1.2),
    ]  # fmt: skip
    for region, kinds in _LAYOUT:
        for kind, count in kinds.items():
            drafts.extend(_draft_council(rng, names, kind, region) for _ in range(count))
    for kind, (count, low, high) in _BIG.items():
        ordinary = [d for d in drafts if d.kind == kind and not d.code]
        for draft in rng.sample(ordinary, count):
            draft.size = rng.uniform(low, high)
    factor = rng.uniform(*_NATIONAL) / sum(d.size for d in drafts)
    for draft in drafts:
        draft.persons = max(1, round(draft.size * factor))
    return drafts


def _draft_council(rng: random.Random, names: _Names, kind: str, region: str) -> _Draft:
    coastal = kind == "UA" and rng.random() < 0.3
    start = rng.choice(_UA_STARTS) if kind == "UA" else _STARTS[kind]
    return _Draft(
        name=_council_name(rng, names, kind, coastal),
        kind=kind,
        region=region,
        start=start,
        size=_log_uniform(rng, *_SIZES[kind]),
        older=rng.uniform(*(_COASTAL_OLDER if coastal else _OLDER[kind])),
    )


def _log_uniform(rng: random.Random, low: float, high: float) -> float:
    """Sizes of places are skewed: many middling, a few large. Log-uniform gives that."""
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def _plan_commissioners(rng: random.Random, councils: list[_Draft]) -> list[_Ccg]:
    """Decide which CCGs serve which councils, hitting the real 2015 tangle's counts.

    Most councils have one CCG of their own; a few pairs share one; big counties have
    several; then CCGs are given small slices of a neighbouring council until ~36 councils
    draw on more than one CCG and ~28 CCGs serve more than one council.
    """
    ccgs = _shared_ccgs(rng, councils)
    paired = {d for c in ccgs for d in c.owners}
    singles = [d for d in councils if d.kind != "CTY" and d not in paired]
    plain = [d for kind in ("MD", "UA") for d in _plain(singles, kind)]
    biggest = sorted(plain, key=lambda d: -d.persons)[: 3 * _SPLIT]
    split = set(rng.sample(biggest, _SPLIT))
    for draft in singles:
        ccgs.extend(_Ccg([draft]) for _ in range(2 if draft in split else 1))
    counties = [d for d in councils if d.kind == "CTY"]
    extra = _COMMISSIONERS - len(ccgs) - len(counties)
    weights = [max(1, round(d.persons * rng.uniform(0.5, 1.5))) for d in counties]
    for county, more in zip(counties, _split(extra, weights), strict=True):
        ccgs.extend(_Ccg([county]) for _ in range(1 + more))
    _add_spills(rng, ccgs, councils)
    return ccgs


def _shared_ccgs(rng: random.Random, councils: list[_Draft]) -> list[_Ccg]:
    """CCGs that serve two whole councils: the islands with their mainland, the City with a
    neighbouring borough, and a few pairs of small unitaries in the same region."""
    by_code = {d.code: d for d in councils if d.code}
    city = next(d for d in councils if d.kind == "CC")
    shared = [
        _Ccg([by_code[LARGE_UNITARY_CODE], by_code[ISLANDS_CODE]]),
        _Ccg([city, rng.choice(_plain(councils, "LBO"))]),
    ]
    unitaries: dict[str, list[_Draft]] = defaultdict(list)
    for draft in _plain(councils, "UA"):
        if not draft.code and draft.persons < 250_000:
            unitaries[draft.region].append(draft)
    regions = [r for r in REGIONS if len(unitaries[r]) >= 2]
    for region in rng.sample(regions, _SHARED - len(shared)):
        shared.append(_Ccg(rng.sample(unitaries[region], 2)))
    return shared


def _add_spills(rng: random.Random, ccgs: list[_Ccg], councils: list[_Draft]) -> None:
    """Give CCGs slices of neighbouring councils (same region) to make the overlaps."""
    served: dict[_Draft, int] = defaultdict(int)
    for ccg in ccgs:
        for owner in ccg.owners:
            served[owner] += 1
    whole = {d for c in ccgs if len(c.owners) > 1 for d in c.owners}
    multi = [d for d in councils if served[d] > 1]
    lone = [d for d in councils if served[d] == 1 and d not in whole]
    fresh = max(0, min(len(lone), _MULTI_CCG_COUNCILS - len(multi)))
    donors = _MULTI_COUNCIL_CCGS - _SHARED
    recipients = rng.sample(lone, fresh) + rng.sample(multi, min(len(multi), donors - fresh))
    spilling: list[_Ccg] = []
    for recipient in recipients:
        donor = rng.choice(_candidate_donors(ccgs, recipient))
        donor.spills.append(recipient)
        spilling.append(donor)
    multi_after = [*multi, *recipients[:fresh]]
    for donor in rng.sample(spilling, _THREE_COUNCIL_CCGS):
        home = donor.owners[0]
        others = [d for d in multi_after if d.region == home.region and d is not home]
        others = [d for d in others if d not in donor.spills]
        if others:
            donor.spills.append(rng.choice(others))


def _plain(councils: list[_Draft], kind: str) -> list[_Draft]:
    """Councils of a kind with one-word names, so CCG names built on them read naturally
    ("North X", "X and Y") rather than "North North X" or "X and Y and Z"."""
    return [d for d in councils if d.kind == kind and " " not in d.name]


def _candidate_donors(ccgs: list[_Ccg], recipient: _Draft) -> list[_Ccg]:
    return [
        c
        for c in ccgs
        if len(c.owners) == 1
        and not c.spills
        and c.owners[0].region == recipient.region
        and c.owners[0] is not recipient
    ]


def _draft_districts(rng: random.Random, names: _Names, ccgs: list[_Ccg]) -> list[_Draft]:
    """At least two districts per county: enough to name county CCGs after them and for the
    Disabled Facilities Grant to pass down to."""
    per_county: dict[_Draft, int] = defaultdict(int)
    for ccg in ccgs:
        if ccg.owners[0].kind == "CTY":
            per_county[ccg.owners[0]] += 1
    districts: list[_Draft] = []
    for county, count in per_county.items():
        wanted = max(2, count + rng.randint(0, 2))
        districts.extend(
            _Draft(names.district(), "NMD", county.region, _STARTS["NMD"], parent=county)
            for _ in range(wanted)
        )
    return districts


def _assign_codes(drafts: list[_Draft]) -> None:
    """GSS codes by type, in region then name order (like the real ones), from serial 901."""
    serials: dict[str, int] = defaultdict(lambda: _SERIAL_START)
    ordered = sorted(drafts, key=lambda d: (d.kind != "CC", REGIONS.index(d.region), d.name))
    for draft in ordered:
        if not draft.code:
            prefix = _PREFIX[draft.kind]
            draft.code = f"{prefix}{serials[prefix]:06d}"
            serials[prefix] += 1
    used: set[str] = set()
    for draft in sorted(drafts, key=attrgetter("code")):
        draft.short_code = _short_code(draft.name, used)


def _short_code(name: str, used: set[str]) -> str:
    """Three capitals from the name (first letter, then two later ones), unique."""
    letters = [c for c in name.upper() if c.isalpha()]
    candidates = (
        letters[0] + letters[i] + letters[j]
        for i in range(1, len(letters))
        for j in range(i + 1, len(letters))
    )
    fallback = (f"{a}{b}{c}" for a in letters[:1] for b in _ALPHABET for c in _ALPHABET)
    code = next(c for gen in (candidates, fallback) for c in gen if c not in used)
    used.add(code)
    return code


_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _name_commissioners(ccgs: list[_Ccg], districts: list[_Draft]) -> None:
    """Names as CCGs had them: after the council, a district or two, or a compass point."""
    own: dict[_Draft, list[_Ccg]] = defaultdict(list)
    for ccg in ccgs:
        if len(ccg.owners) > 1:
            ccg.name = " and ".join(d.name for d in ccg.owners)
        else:
            own[ccg.owners[0]].append(ccg)
    by_county: dict[_Draft, list[_Draft]] = defaultdict(list)
    for district in districts:
        if district.parent is not None:
            by_county[district.parent].append(district)
    for council, theirs in own.items():
        places = by_county.get(council, [])
        for ccg, name in zip(theirs, _ccg_names(council, len(theirs), places), strict=True):
            ccg.name = name


def _ccg_names(council: _Draft, count: int, districts: list[_Draft]) -> Iterator[str]:
    if count == 1:
        yield council.name
        return
    if not districts:
        yield from (f"{point} {council.name}" for point in _COMPASS[:count])
        return
    compass = iter(_COMPASS)
    size, extra = divmod(len(districts), count)
    start = 0
    for index in range(count):
        group = districts[start : start + size + (index < extra)]
        start += len(group)
        if len(group) <= 2:
            yield " and ".join(d.name for d in group)
        else:
            yield f"{next(compass)} {council.name}"


def _commissioners(
    rng: random.Random, ccgs: list[_Ccg]
) -> tuple[tuple[Commissioner, ...], dict[_Ccg, str]]:
    """E38 codes in name order from serial 901; ODS codes drawn from the 60-69 block."""
    pool = [f"{n}{letter}" for n in range(60, 70) for letter in _ODS_LETTERS]
    ods = rng.sample(pool, len(ccgs))
    ccgs.sort(key=lambda c: c.name)
    codes = {ccg: f"E38{_SERIAL_START + i:06d}" for i, ccg in enumerate(ccgs)}
    commissioners = tuple(
        Commissioner(codes[ccg], ods_code, f"NHS {ccg.name} CCG")
        for ccg, ods_code in zip(ccgs, ods, strict=True)
    )
    return commissioners, codes


def _shares(
    rng: random.Random, ccgs: list[_Ccg], codes: dict[_Ccg, str]
) -> tuple[CommissionerShare, ...]:
    """Each council's residents split between the CCGs serving it, to the person.

    A neighbouring CCG's slice is small (1-8%); the rest is divided between the council's own
    CCGs by random weights, by largest remainder so the parts add up exactly.
    """
    own: dict[_Draft, list[_Ccg]] = defaultdict(list)
    spill: dict[_Draft, list[_Ccg]] = defaultdict(list)
    for ccg in ccgs:
        for owner in ccg.owners:
            own[owner].append(ccg)
        for other in ccg.spills:
            spill[other].append(ccg)
    pieces: dict[tuple[_Ccg, _Draft], int] = {}
    for council, theirs in own.items():
        slices = [max(1, round(council.persons * rng.uniform(0.01, 0.08))) for _ in spill[council]]
        pieces.update(((c, council), n) for c, n in zip(spill[council], slices, strict=True))
        weights = [rng.randint(600, 1400) for _ in theirs]
        parts = _split(council.persons - sum(slices), weights)
        pieces.update(((c, council), n) for c, n in zip(theirs, parts, strict=True))
    totals: dict[_Ccg, int] = defaultdict(int)
    for (ccg, _), persons in pieces.items():
        totals[ccg] += persons
    rows = (
        CommissionerShare(
            codes[ccg],
            council.code,
            persons,
            Fraction(persons, totals[ccg]),
            Fraction(persons, council.persons),
        )
        for (ccg, council), persons in pieces.items()
    )
    return tuple(sorted(rows, key=lambda s: (s.commissioner_code, s.council_code)))


def _base_ages() -> tuple[float, ...]:
    values = []
    for age in range(90):
        for (low, at_low), (high, at_high) in pairwise(_AGE_ANCHORS):
            if low <= age <= high:
                values.append(at_low + (at_high - at_low) * (age - low) / (high - low))
                break
    return (*values, _NINETY_PLUS)


_BASE_AGES = _base_ages()


def _tilt(age: int, older: float) -> float:
    """Older places have more over-65s and fewer young adults; young places the reverse."""
    if age < 18:
        return 1 - 0.10 * older
    if age < 40:
        return 1 - 0.25 * older
    if age < 65:
        return 1 + 0.05 * older
    return 1 + 0.45 * older


def _ages(rng: random.Random, council: _Draft) -> list[PopulationCount]:
    """Single years 0-89 and 90+, with a little noise so no two places look alike."""
    weights = [
        round(base * _tilt(age, council.older) * rng.uniform(0.97, 1.03) * 1_000_000)
        for age, base in enumerate(_BASE_AGES)
    ]
    return [
        PopulationCount(council.code, council.name, age, age if age < 90 else None, persons)
        for age, persons in enumerate(_split(council.persons, weights))
    ]


def _split(total: int, weights: Sequence[int]) -> list[int]:
    """Divide whole persons by weights, exactly, by largest remainder (ties by position).

    Integer-only because it runs for every single year of age in every council; money has
    its own splitter in ``carepool.domain.money``.
    """
    weight_sum = sum(weights)
    parts = [total * w // weight_sum for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % weight_sum), i))
    for index in order[: total - sum(parts)]:
        parts[index] += 1
    return parts


def _council(draft: _Draft) -> Council:
    return Council(
        code=draft.code,
        short_code=draft.short_code,
        name=draft.name,
        kind=draft.kind,
        region=draft.region,
        start=draft.start,
        county=draft.parent.short_code if draft.parent else "",
    )
