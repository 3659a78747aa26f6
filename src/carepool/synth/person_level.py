"""A seeded synthetic national year of raw person-level records, for demos, tests and timing.

The metrics of the Better Care Fund are counted from person-level records: emergency
admissions from hospital spells, delayed days from the delayed-transfer return, permanent
care-home admissions and reablement outcomes from social care returns, experience from
survey answers. Real ones cannot leave the NHS, so this module invents a year of them for
the synthetic nation (:func:`carepool.synth.nation.build_nation`), with the real thing's
shape:

- **Volume.** At ``scale=1.0`` about 20 million hospital spells, 6 million of them
  emergency (non-elective) admissions; ~150,000 delayed days a month (NHS ~55%, social care
  ~35%, both ~10%); ~600 permanent care-home admissions per 100,000 people aged 65+; about
  3% of over-65s discharged into reablement, ~80% of them at home 91 days later; a survey.
- **Age.** Admission rates rise with age (and with infancy); maternity is women of 16-45.
- **Diagnoses.** Most spells have none to six secondary diagnoses, older patients more. An
  injury's external cause comes first among them: a fall (W00-W19) for most older people's.
  Acute bronchitis is coded with COPD about half the time, so some of it is a chronic
  ambulatory care sensitive condition. About one care-home admission in twelve is a
  transfer from another care home.
- **Season and trend.** Emergency admissions and delays peak in winter and drift up
  across the year; planned care dips at weekends, in August and at Christmas.
- **Place.** Each area has its own factor for each kind, so areas differ as real ones do,
  and its own course through the year in what plans set ambitions for (emergency admissions,
  delays, care-home admissions, reablement, experience): some improve, some get worse.
- **People.** Everyone has an NHS number from the range NHS England reserves for testing
  (999 000 0000 to 999 999 9999, with valid check digits), and most people have several
  records. That range holds only ~909,000 valid numbers, so at scales above ~0.1 people are
  busier than real ones: the number of people is capped, not the number of records.

``flaws=True`` spoils a small share of rows (a wrong check digit, a discharge before its
admission, an unknown area, a value off its list, a diagnosis in words...) so that ingest's
quarantine has something to show; without it every row is valid.

:func:`expected_quarters` works the same model out without drawing: each area's expected
value of each planned metric in each quarter, with or without its own course. The demo's
plans start from it, so their ambitions are on the scale of the data the demo measures.

Records are made area by area with numpy, so memory stays small at any scale, and each
area and kind draws from its own seeded stream: the same seed gives the same files.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped, unused-ignore]

from carepool.domain import periods
from carepool.domain.errors import CarepoolError
from carepool.domain.framework import Framework
from carepool.domain.geography import PopulationCount, hwb_areas
from carepool.domain.person_level import (
    CARE_HOME_ADMISSIONS,
    DELAY_REASONS,
    DELAYS,
    LIST_SEPARATOR,
    NHS_NUMBER,
    REABLEMENT,
    SPELLS,
    SURVEY_RESPONSES,
    AdmissionMethod,
    CareHomeFunding,
    CareHomeSetting,
    CareType,
    ColumnType,
    DischargeDestination,
    PreviousSetting,
    RecordKind,
    ResponsibleOrganisation,
    StatusAfter91Days,
)
from carepool.frameworks import available_years, load_framework
from carepool.synth.nation import build_nation

ProgressCallback = Callable[[str, int, int | None], None]
Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

# National volumes at scale 1.0, for a year (delays: a month).
METHOD_TOTALS = {
    AdmissionMethod.NON_ELECTIVE: 6_000_000,
    AdmissionMethod.ELECTIVE: 12_400_000,
    AdmissionMethod.MATERNITY: 1_200_000,
    AdmissionMethod.OTHER: 400_000,
}
DELAYED_DAYS_PER_MONTH = 150_000
MEAN_DELAYED_DAYS = 9.0  # per person per month
CARE_HOME_RATE_65_PLUS = 600 / 100_000
CARE_HOME_RATE_18_64 = 14 / 100_000
REABLEMENT_RATE_65_PLUS = 0.03
AT_HOME_AFTER_91_DAYS = 0.82
POSITIVE_ANSWERS = 0.62  # under-65s answering the care coordination question positively
SURVEY_RATE_ADULTS = 0.006
SPELLS_PER_PERSON = 2.5
FLAW_RATE = 0.002

OLDEST = 104  # the ONS "90+" is spread over 90..104
AGES = OLDEST + 1
SEXES = ("F", "M")
CELLS = len(SEXES) * AGES  # an area's people by sex and single year of age
TEST_NUMBERS = (999_000_000, 1_000_000_000)  # first nine digits of the reserved test range
UNKNOWN_AREA = "E99999999"  # not a GSS code of any real or synthetic area

# Relative admission rates by age (interpolated between anchors), before scaling to totals.
_RATE_ANCHORS: dict[AdmissionMethod, tuple[tuple[int, float], ...]] = {
    AdmissionMethod.NON_ELECTIVE: (
        (0, 0.30), (1, 0.10), (5, 0.05), (15, 0.06), (25, 0.07), (45, 0.08), (60, 0.12),
        (70, 0.20), (80, 0.38), (90, 0.60), (104, 0.70),
    ),
    AdmissionMethod.ELECTIVE: (
        (0, 0.04), (10, 0.04), (20, 0.08), (40, 0.17), (55, 0.30), (65, 0.45), (75, 0.55),
        (85, 0.40), (95, 0.20), (104, 0.15),
    ),
    AdmissionMethod.MATERNITY: (
        (0, 0.0), (15, 0.0), (16, 0.02), (20, 0.07), (25, 0.10), (30, 0.12), (35, 0.09),
        (40, 0.04), (45, 0.01), (46, 0.0), (104, 0.0),
    ),
    AdmissionMethod.OTHER: ((0, 0.02), (50, 0.005), (80, 0.02), (104, 0.03)),
}  # fmt: skip

# Primary diagnoses by kind of spell, with relative weights. An injury (S, T) is the primary
# diagnosis of an admission after a fall; the fall itself (W00-W19) is its external cause,
# coded among the secondary diagnoses, as hospital data code it.
_DIAGNOSES: dict[str, tuple[tuple[str, float], ...]] = {
    "non_elective_child": (
        ("J21.9", 3), ("J45.9", 2), ("R50.9", 3), ("A09X", 2), ("S06.0", 1), ("R69X", 2),
    ),
    "non_elective": (
        ("R07.4", 8), ("R10.4", 7), ("J18.9", 6), ("N39.0", 5), ("J44.1", 4), ("J22X", 4),
        ("I50.0", 3), ("R55X", 3), ("A09X", 3), ("L03.1", 3), ("I21.9", 2),
        ("I48X", 2), ("J45.9", 2), ("F10.0", 2), ("E11.9", 1), ("R69X", 10), ("J20.9", 2),
        ("S72.0", 3), ("S06.0", 1), ("S52.5", 1), ("S42.2", 1), ("S00.9", 1), ("T14.9", 1),
        ("B18.1", 0.05),
    ),
    "elective": (
        ("Z51.1", 10), ("Z49.1", 8), ("H25.9", 8), ("K80.2", 3), ("M17.1", 3), ("D12.6", 3),
        ("M16.1", 2), ("K57.3", 2), ("C50.9", 2), ("K21.9", 2), ("R69X", 5),
    ),
    "maternity": (("O80.9", 6), ("O82.0", 3), ("O70.0", 1), ("O47.1", 1), ("O99.8", 1)),
    "other": (("Z75.1", 2), ("Z50.9", 1), ("R69X", 1)),
}  # fmt: skip

# Every diagnosis list end to end: spells code their diagnosis as a place in this list.
_DIAGNOSIS_CODES = tuple(code for codes in _DIAGNOSES.values() for code, _ in codes)
_DIAGNOSIS_START = dict(
    zip(_DIAGNOSES, np.cumsum([0, *(len(c) for c in _DIAGNOSES.values())]).tolist(), strict=False)
)

_INJURIES = np.array([i for i, code in enumerate(_DIAGNOSIS_CODES) if code[0] in "ST"])
_ACUTE_BRONCHITIS = np.array([i for i, code in enumerate(_DIAGNOSIS_CODES) if code[:3] == "J20"])

# Secondary diagnoses: an injury's external cause first, then long-term conditions. Each
# spell's list is drawn as a bit mask over SECONDARY_CODES (bit i for code i, so the codes
# keep this order), which becomes text only when the chunk is written.
_FALL_CAUSES: tuple[tuple[str, float], ...] = (
    ("W01X", 3), ("W06X", 1), ("W10X", 1), ("W18X", 2), ("W19X", 5),
)  # fmt: skip
_OTHER_CAUSES: tuple[tuple[str, float], ...] = (
    ("W22X", 3), ("W20X", 1), ("X59.9", 2), ("V89.2", 2),
)  # fmt: skip
#: Share of injuries caused by a fall: most of older people's, fewer of the young's.
_FALL_SHARE = ((0, 0.35), (16, 0.45), (64, 0.45), (65, 0.85), (AGES - 1, 0.9))
#: Long-term conditions coded beside the primary diagnosis: relative weights under 40 and
#: from 40. Sickle-cell disease (D57.1) is rare and mostly young.
_COMORBIDITIES: tuple[tuple[str, float, float], ...] = (
    ("I10", 0.5, 10), ("E11.9", 0.5, 5), ("I48X", 0, 4), ("J44.9", 0.2, 3), ("N18.3", 0, 3),
    ("F03X", 0, 2), ("E78.0", 0.2, 4), ("I25.1", 0, 3), ("Z92.1", 0, 2), ("K21.9", 1, 2),
    ("E03.9", 0.5, 2), ("F32.9", 2, 2), ("M19.9", 0.2, 2), ("J45.9", 4, 2), ("F17.1", 3, 2),
    ("D57.1", 0.15, 0.01),
)  # fmt: skip
_NOT_A_CODE = "high blood pressure"  # only a flaw writes it
SECONDARY_CODES: tuple[str, ...] = (
    *(code for code, _ in _FALL_CAUSES),
    *(code for code, _ in _OTHER_CAUSES),
    *(code for code, _, _ in _COMORBIDITIES),
    _NOT_A_CODE,
)
_FIRST_COMORBIDITY = len(_FALL_CAUSES) + len(_OTHER_CAUSES)
_COPD = _FIRST_COMORBIDITY + [code for code, _, _ in _COMORBIDITIES].index("J44.9")
#: Mean number of long-term conditions coded, by method: a + b × (age / 100)².
_SECONDARY_MEANS: dict[AdmissionMethod, tuple[float, float]] = {
    AdmissionMethod.NON_ELECTIVE: (0.6, 5.0),
    AdmissionMethod.ELECTIVE: (0.3, 3.0),
    AdmissionMethod.MATERNITY: (0.8, 0.0),
    AdmissionMethod.OTHER: (1.0, 3.0),
}
#: Acute bronchitis is coded with COPD this often (then it counts as a chronic ACSC).
BRONCHITIS_WITH_COPD = 0.45

_DELAY_REASON_WEIGHTS = (17, 4, 20, 12, 15, 3, 14, 1, 2, 12)  # A..I, O


# --------------------------------------------------------------------------------------------
# The nation's people


@dataclass(frozen=True, slots=True)
class _Year:
    """A financial year's days."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def first_day(self) -> int:
        """The start as days since 1970, as Arrow stores dates."""
        return (self.start - dt.date(1970, 1, 1)).days

    def dates(self) -> npt.NDArray[np.datetime64]:
        days: npt.NDArray[np.datetime64] = np.datetime64(self.start, "D") + np.arange(self.days)
        return days

    def month_starts(self) -> Ints:
        months = np.arange(
            np.datetime64(self.start, "M"), np.datetime64(self.end, "M") + 1, dtype="datetime64[M]"
        )
        return months.astype("datetime64[D]").astype(np.int64)


def financial_year(text: str) -> _Year:
    """``2015-16`` as its days, 1 April 2015 to 31 March 2016."""
    label = periods.financial_year(text)
    return _Year(periods.financial_year_start(label), periods.financial_year_end(label))


def framework_for(year: str) -> Framework:
    """The programme year's framework that covers a financial year (for its geography)."""
    for name in available_years():
        framework = load_framework(name)
        if year in framework.financial_years:
            return framework
    raise CarepoolError(f"no framework covers the financial year {year}")


@dataclass
class _Nation:
    """The synthetic nation's areas and people, as arrays: what every kind is drawn from."""

    seed: int
    scale: float
    year: _Year
    codes: tuple[str, ...]
    people: Floats  # persons by area, sex, age: shape (areas, 2, AGES)
    factors: dict[str, Floats] = field(default_factory=dict)
    pool: _Pool | None = None
    levels: dict[str, Floats] = field(default_factory=dict)
    changes: dict[str, Floats] = field(default_factory=dict)
    changed: bool = True  # False: as if every area carried on as before (what plans start from)

    def people_pool(self) -> _Pool:
        if self.pool is None:
            self.pool = _Pool.build(self)
        return self.pool

    def rng(self, stream: int, area: int = 0) -> np.random.Generator:
        return np.random.default_rng([self.seed, stream, area])


def _nation(
    seed: int, scale: float, year: str, populations: Sequence[PopulationCount] | None = None
) -> _Nation:
    if populations is None:
        nation = build_nation(seed)
        areas = hwb_areas(nation.councils, framework_for(year).geography)
        codes = tuple(a.code for a in areas)
        area_of = {council: i for i, area in enumerate(areas) for council in area.councils}
        rows: Sequence[PopulationCount] = nation.populations
    else:
        codes = tuple(sorted({row.geo_code for row in populations}))
        area_of = {code: i for i, code in enumerate(codes)}
        rows = populations
    made = _Nation(seed, scale, financial_year(year), codes, _by_sex(_single_years(rows, area_of)))
    rng = made.rng(0)
    for kind in ("non_elective", "elective", "delays", "care_homes", "reablement", "survey"):
        made.factors[kind] = rng.lognormal(0.0, 0.25 if kind == "delays" else 0.12, len(codes))
    _draw_courses(made)
    return made


def _single_years(rows: Sequence[PopulationCount], area_of: Mapping[str, int]) -> Floats:
    """Persons by area and single year 0-89 and 90+; a wider band is spread evenly."""
    by_age = np.zeros((len(set(area_of.values())), 91))
    for row in rows:
        if row.geo_code in area_of:
            last = 90 if row.age_to is None else min(row.age_to, 90)
            first = min(row.age_from, 90)
            by_age[area_of[row.geo_code], first : last + 1] += row.persons / (last - first + 1)
    return by_age


def _by_sex(by_age: Floats) -> Floats:
    """Single years 0-89 and 90+ as 0-104 by sex: women outnumber men more with age."""
    tail = 0.78 ** np.arange(OLDEST - 89)
    spread = np.concatenate([by_age[:, :90], by_age[:, 90:91] * tail / tail.sum()], axis=1)
    ages = np.arange(AGES)
    female = 0.49 + 0.25 * np.clip((ages - 60) / 45, 0, 1) ** 1.5
    return np.stack([spread * female, spread * (1 - female)], axis=1)


@dataclass(frozen=True, slots=True)
class _Pool:
    """Each area's people by sex and age, with their NHS numbers from the test range.

    People are drawn with a skew (index ``size * u**2``), so a few have many records and
    most have one or two, as in real hospital data.
    """

    sizes: Ints  # people per cell, shape (areas * CELLS)
    offsets: Ints  # first number of each cell in ``numbers``
    numbers: Ints

    @classmethod
    def build(cls, nation: _Nation) -> _Pool:
        spells = np.zeros_like(nation.people)
        for method in AdmissionMethod:
            spells += _method_expected(nation, method)
        usage = spells / SPELLS_PER_PERSON + nation.people * nation.scale * 0.01
        sizes = np.ceil(usage.reshape(-1)).astype(np.int64)
        numbers = _test_numbers(nation.rng(1))
        if sizes.sum() > len(numbers):
            sizes = np.maximum(1, (sizes * (len(numbers) / sizes.sum()) * 0.99).astype(np.int64))
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        return cls(sizes, offsets, numbers[: int(sizes.sum())])

    def draw(self, rng: np.random.Generator, area: int, sex: Ints, age: Ints) -> Ints:
        cell = area * CELLS + sex * AGES + age
        within = np.floor(self.sizes[cell] * rng.random(len(cell)) ** 2).astype(np.int64)
        drawn: Ints = self.numbers[self.offsets[cell] + within]
        return drawn


def _test_numbers(rng: np.random.Generator) -> Ints:
    """Every valid NHS number in the reserved test range, shuffled."""
    bodies = np.arange(*TEST_NUMBERS, dtype=np.int64)
    weighted = np.zeros(len(bodies), np.int64)
    rest = bodies.copy()
    for weight in range(2, 11):  # the last of the nine digits weighs 2, the first 10
        weighted += rest % 10 * weight
        rest //= 10
    check = (11 - weighted % 11) % 11
    valid = check < 10  # a check digit of 10 means the nine digits are never issued
    numbers: Ints = rng.permutation(bodies[valid] * 10 + check[valid])
    return numbers


def _interpolated(anchors: Sequence[tuple[int, float]]) -> Floats:
    ages, rates = zip(*anchors, strict=True)
    rate: Floats = np.interp(np.arange(AGES), ages, rates)
    return rate


def _method_expected(nation: _Nation, method: AdmissionMethod) -> Floats:
    """Expected spells by area, sex and age, scaled so the nation has the method's total."""
    rate = _interpolated(_RATE_ANCHORS[method])
    by_sex = np.stack([rate, rate * (method != AdmissionMethod.MATERNITY)])
    factor = nation.factors["elective" if method == AdmissionMethod.ELECTIVE else "non_elective"]
    raw = nation.people * by_sex[None, :, :] * factor[:, None, None]
    expected: Floats = raw * (METHOD_TOTALS[method] * nation.scale / raw.sum())
    return expected


# --------------------------------------------------------------------------------------------
# Seasons


def _day_weights(
    year: _Year, winter: float, trend: float, weekend: float, holidays: bool = False
) -> Floats:
    """Relative activity on each day of the year: winter peak, trend, weekends, holidays."""
    dates = year.dates()
    since_peak = (dates - np.datetime64(f"{year.start.year}-01-10")).astype(np.int64)
    weights = 1 + winter * np.cos(2 * math.pi * since_peak / 365.25)
    weights *= 1 + trend * np.arange(len(dates)) / len(dates)
    weekday = (dates.astype(np.int64) + 3) % 7  # 0 is Monday
    weights *= np.where(weekday >= 5, weekend, 1.0)
    if holidays:
        month = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
        day = (dates - dates.astype("datetime64[M]")).astype(np.int64) + 1
        weights *= np.where(month == 8, 0.9, 1.0)
        weights *= np.where(((month == 12) & (day >= 24)) | ((month == 1) & (day == 1)), 0.4, 1.0)
    shares: Floats = weights / weights.sum()
    return shares


_SEASONS: dict[AdmissionMethod, dict[str, Any]] = {
    AdmissionMethod.NON_ELECTIVE: {"winter": 0.10, "trend": 0.03, "weekend": 0.85},
    AdmissionMethod.ELECTIVE: {"winter": 0.03, "trend": 0.02, "weekend": 0.2, "holidays": True},
    AdmissionMethod.MATERNITY: {"winter": -0.02, "trend": 0.0, "weekend": 1.0},
    AdmissionMethod.OTHER: {"winter": 0.05, "trend": 0.0, "weekend": 0.9},
}
_CARE_HOME_SEASON: dict[str, Any] = {"winter": 0.04, "trend": 0.0, "weekend": 0.3}
_REABLEMENT_SEASON: dict[str, Any] = {"winter": 0.08, "trend": 0.02, "weekend": 0.8}
_FUNDING = (70, 17, 5, 8)  # council, self, NHS, joint: how permanent admissions are funded


# --------------------------------------------------------------------------------------------
# Each area's course through the year

AREA_LEVELS = {"reablement": 0.035, "survey": 0.06}
"""How far areas' usual shares stand apart: at home 91 days after reablement, and positive
survey answers (the spread of an area's own level about the national one)."""

AREA_CHANGES: dict[str, tuple[float, float]] = {
    "non_elective": (-0.02, 0.06),
    "delays": (-0.04, 0.08),
    "care_homes": (-0.03, 0.08),
    "reablement": (0.005, 0.02),
    "survey": (0.005, 0.03),
}
"""How areas change during the year in what plans set ambitions for, as the mean and spread
of an area's change by the year's end: a share of the rate for counts (-0.02 is 2% fewer),
a share of people for percentages (0.005 is half a percentage point more). Half of it shows
from the start of the year, as schemes that began in April take effect, and the rest builds
up steadily. Some areas improve by more than their plans hope, some by less, and some get
worse."""


def _draw_courses(nation: _Nation) -> None:
    """Each area's own level and change, from a stream of their own so nothing else moves."""
    rng = nation.rng(2)
    for kind, spread in AREA_LEVELS.items():
        nation.levels[kind] = rng.normal(0.0, spread, len(nation.codes))
    for kind, (mean, spread) in AREA_CHANGES.items():
        nation.changes[kind] = rng.normal(mean, spread, len(nation.codes))


def _course(nation: _Nation, kind: str | None, area: int, at: Floats) -> Floats:
    """The area's change at fractions ``at`` of the way through the year (0 at its start)."""
    if not nation.changed or kind is None:
        return np.zeros(len(at))
    change: Floats = nation.changes[kind][area] * (1 + at) / 2
    return change


def _middles(steps: int) -> Floats:
    """How far through the year the middle of each of its ``steps`` (days or months) is."""
    middles: Floats = (np.arange(steps) + 0.5) / steps
    return middles


def _through_year(
    nation: _Nation, kind: str | None, area: int, shares: Floats
) -> tuple[float, Floats]:
    """Day shares bent by the area's change, and the year's total relative to before."""
    bent = shares * (1 + _course(nation, kind, area, _middles(len(shares))))
    total = float(bent.sum())
    return total, bent / total


def _admission_days(nation: _Nation, area: int, method: AdmissionMethod) -> tuple[float, Floats]:
    """The year's admissions relative to before, and their share on each day: emergency
    admissions follow the area's change."""
    kind = "non_elective" if method == AdmissionMethod.NON_ELECTIVE else None
    return _through_year(nation, kind, area, _day_weights(nation.year, **_SEASONS[method]))


def _share(nation: _Nation, kind: str, area: int, national: float, day: Ints) -> Floats:
    """A share (at home after reablement, positive answers) on each of the year's ``day``s:
    the national share, the area's own level and its change so far."""
    at = (day + 0.5) / nation.year.days
    share: Floats = national + nation.levels[kind][area] + _course(nation, kind, area, at)
    return share


# --------------------------------------------------------------------------------------------
# Chunks: one area's records of one kind, as numpy columns until they become Arrow


@dataclass(slots=True)
class _Chunk:
    """Columns by name: codes index into ``categories[name]``; other columns are numbers."""

    size: int
    columns: dict[str, Ints] = field(default_factory=dict)
    categories: dict[str, list[str]] = field(default_factory=dict)

    def coded(self, name: str, values: Sequence[str], codes: Ints) -> None:
        self.categories[name] = list(values)
        self.columns[name] = codes

    def order_by(self, name: str) -> None:
        order = np.argsort(self.columns[name], kind="stable")
        self.columns = {k: v[order] for k, v in self.columns.items()}


def _choose(rng: np.random.Generator, weights: Sequence[float] | Floats, size: int) -> Ints:
    p = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(p), size=size, p=p / p.sum()).astype(np.int64)


def _choose_rows(rng: np.random.Generator, probabilities: Floats) -> Ints:
    """One choice per row, each row with its own probabilities (rows sum to 1)."""
    cumulative = np.cumsum(probabilities, axis=1)
    picks = (rng.random(len(probabilities))[:, None] > cumulative).sum(axis=1)
    chosen: Ints = np.minimum(picks, probabilities.shape[1] - 1).astype(np.int64)
    return chosen


def _cells(rng: np.random.Generator, expected: Floats) -> tuple[Ints, Ints]:
    """Poisson counts for each sex-and-age cell, as one sex and age per record."""
    counts = rng.poisson(np.maximum(expected, 0).reshape(-1))
    cell = np.repeat(np.arange(expected.size), counts)
    return cell // AGES, cell % AGES


def _spells(nation: _Nation, area: int) -> _Chunk:
    rng = nation.rng(10, area)
    parts = [_method_spells(nation, area, method, rng) for method in AdmissionMethod]
    chunk = _Chunk(sum(p.size for p in parts))
    for name in parts[0].columns:
        chunk.columns[name] = np.concatenate([p.columns[name] for p in parts])
    chunk.categories = {
        "admission_method": [m.value for m in AdmissionMethod],
        "primary_diagnosis": list(_DIAGNOSIS_CODES),
        "discharge_destination": [d.value for d in DischargeDestination],
    }
    chunk.order_by("admission_date")
    return chunk


def _method_spells(
    nation: _Nation, area: int, method: AdmissionMethod, rng: np.random.Generator
) -> _Chunk:
    growth, days = _admission_days(nation, area, method)
    sex, age = _cells(rng, _method_expected(nation, method)[area] * growth)
    size = len(age)
    chunk = _Chunk(size)
    day = _choose(rng, days, size)
    admitted = nation.year.first_day + day
    chunk.columns["admission_date"] = admitted
    chunk.columns["discharge_date"] = admitted + _length_of_stay(rng, method, age)
    chunk.columns["admission_method"] = np.full(size, list(AdmissionMethod).index(method))
    chunk.columns["nhs_number"] = nation.people_pool().draw(rng, area, sex, age)
    chunk.columns["age"] = age
    chunk.columns["sex"] = sex
    chunk.columns["area_code"] = np.full(size, area)
    chunk.columns["discharge_destination"] = _destinations(rng, method, age)
    primary = _diagnoses(rng, method, age)
    chunk.columns["primary_diagnosis"] = primary
    chunk.columns["secondary_diagnoses"] = _secondary_diagnoses(rng, method, age, primary)
    return chunk


def _length_of_stay(rng: np.random.Generator, method: AdmissionMethod, age: Ints) -> Ints:
    """Nights in hospital: emergency stays lengthen with age; most planned care is a day case."""
    if method == AdmissionMethod.NON_ELECTIVE:
        mean = 0.5 + 9 * (age / 100) ** 2
    elif method == AdmissionMethod.ELECTIVE:
        mean = np.where(rng.random(len(age)) < 0.7, 0.0, 3.0)
    elif method == AdmissionMethod.MATERNITY:
        mean = np.full(len(age), 1.5)
    else:
        mean = np.full(len(age), 5.0)
    return (rng.geometric(1 / (mean + 1)) - 1).astype(np.int64)


def _destinations(rng: np.random.Generator, method: AdmissionMethod, age: Ints) -> Ints:
    """Usual residence, care home, other hospital, died, other: by method and age."""
    old = age >= 65
    if method == AdmissionMethod.NON_ELECTIVE:
        died = 0.002 + 0.01 * old + 0.015 * (age >= 75) + 0.025 * (age >= 85)
        care_home = 0.03 * (age >= 75)
        rest = np.stack([care_home, np.full(len(age), 0.02), died, np.full(len(age), 0.01)], 1)
    elif method == AdmissionMethod.OTHER:
        rest = np.tile([0.0, 0.2, 0.02, 0.03], (len(age), 1))
    else:
        rest = np.tile([0.0, 0.005, 0.0005, 0.0], (len(age), 1))
    probabilities = np.concatenate([1 - rest.sum(axis=1, keepdims=True), rest], axis=1)
    return _choose_rows(rng, probabilities)


def _diagnoses(rng: np.random.Generator, method: AdmissionMethod, age: Ints) -> Ints:
    """Each spell's diagnosis, as a place in :data:`_DIAGNOSIS_CODES`: children's emergencies
    are bronchiolitis and fevers, adults' chest pain and pneumonia, and so on."""
    lists = {method.value: np.ones(len(age), np.bool_)}
    if method == AdmissionMethod.NON_ELECTIVE:
        lists = {"non_elective_child": age < 16, "non_elective": age >= 16}
    picked = np.zeros(len(age), np.int64)
    for name, rows in lists.items():
        weights = [w for _, w in _DIAGNOSES[name]]
        picked[rows] = _DIAGNOSIS_START[name] + _choose(rng, weights, int(rows.sum()))
    return picked


def _secondary_diagnoses(
    rng: np.random.Generator, method: AdmissionMethod, age: Ints, primary: Ints
) -> Ints:
    """Each spell's secondary diagnoses, as a bit mask over :data:`SECONDARY_CODES`.

    Long-term conditions are drawn one by one, each with its own chance, so a list never
    repeats a code and older patients have more: a mean of about one under 40, four at 80,
    most lists holding none to six. An injury's external cause comes first: a fall for
    most older people's injuries, as in real hospital data. Acute bronchitis is often
    coded with COPD.
    """
    weights = np.array([[young, older] for _, young, older in _COMORBIDITIES]).T
    by_age = weights[(age >= 40).astype(np.int64)]
    low, high = _SECONDARY_MEANS[method]
    mean = low + high * (age / 100) ** 2
    chance = np.minimum(0.9, by_age / by_age.sum(axis=1, keepdims=True) * mean[:, None])
    bronchitis = np.isin(primary, _ACUTE_BRONCHITIS)
    column = _COPD - _FIRST_COMORBIDITY
    chance[bronchitis, column] = np.maximum(chance[bronchitis, column], BRONCHITIS_WITH_COPD)
    coded = rng.random(chance.shape, dtype=np.float32) < chance
    bits = np.left_shift(1, _FIRST_COMORBIDITY + np.arange(len(_COMORBIDITIES), dtype=np.int64))
    masks: Ints = coded.astype(np.int64) @ bits
    return masks | _external_causes(rng, age, np.isin(primary, _INJURIES))


def _external_causes(rng: np.random.Generator, age: Ints, injured: npt.NDArray[np.bool_]) -> Ints:
    """The bit of each injury's external cause (none for other spells)."""
    fall = rng.random(len(age)) < _interpolated(_FALL_SHARE)[age]
    falls = _choose(rng, [w for _, w in _FALL_CAUSES], len(age))
    others = len(_FALL_CAUSES) + _choose(rng, [w for _, w in _OTHER_CAUSES], len(age))
    causes: Ints = np.where(injured, np.left_shift(1, np.where(fall, falls, others)), 0)
    return causes


def _weighted_cells(
    nation: _Nation, area: int, weight: Floats, total: float, factor: str
) -> Floats:
    """Expected records by sex and age in an area: people times an age weight, scaled so the
    nation has ``total`` and the area its factor."""
    national = (nation.people * weight).sum()
    area_people = nation.people[area] * weight
    expected: Floats = area_people * nation.factors[factor][area] * total * nation.scale / national
    return expected


def _delays(nation: _Nation, area: int) -> _Chunk:
    rng = nation.rng(11, area)
    weight = _delay_ages()
    months = nation.year.month_starts()
    season = _month_weights(len(months)) * (
        1 + _course(nation, "delays", area, _middles(len(months)))
    )
    parts = []
    for month, share in zip(months, season, strict=True):
        expected = _weighted_cells(
            nation, area, weight, DELAYED_DAYS_PER_MONTH * share / MEAN_DELAYED_DAYS, "delays"
        )
        parts.append((month, *_cells(rng, expected)))
    month = np.concatenate([np.full(len(a), m) for m, _, a in parts])
    sex = np.concatenate([s for _, s, _ in parts])
    age = np.concatenate([a for _, _, a in parts])
    return _delay_chunk(nation, area, rng, month, sex, age)


def _delay_ages() -> Floats:
    """Relative delays by age: none under 18, rising steeply with age."""
    ages = np.arange(AGES)
    weight: Floats = np.select(
        [ages < 18, ages < 65, ages < 75, ages < 85], [0.0, 0.05, 0.5, 1.5], 3.0
    )
    return weight


def _month_weights(months: int) -> Floats:
    """Each month relative to an average month: a winter peak in January, and a trend."""
    index = np.arange(months)
    winter = 1 + 0.06 * np.cos(2 * math.pi * (index - 9) / 12)  # peaks in January
    return winter * (1 + 0.08 * index / months)


def _delay_chunk(
    nation: _Nation, area: int, rng: np.random.Generator, month: Ints, sex: Ints, age: Ints
) -> _Chunk:
    size = len(age)
    chunk = _Chunk(size)
    chunk.columns["month"] = month
    lengths = (month.astype("datetime64[D]").astype("datetime64[M]") + 1).astype(
        "datetime64[D]"
    ).astype(np.int64) - month
    chunk.columns["delayed_days"] = np.minimum(rng.geometric(1 / MEAN_DELAYED_DAYS, size), lengths)
    social = float(np.clip(0.35 + rng.normal(0, 0.08), 0.1, 0.6))
    chunk.coded(
        "responsible",
        [r.value for r in ResponsibleOrganisation],
        _choose(rng, [0.9 - social, social, 0.10], size),
    )
    chunk.coded("care_type", [c.value for c in CareType], _choose(rng, [0.72, 0.28], size))
    chunk.coded("reason", list(DELAY_REASONS), _choose(rng, _DELAY_REASON_WEIGHTS, size))
    chunk.columns["nhs_number"] = nation.people_pool().draw(rng, area, sex, age)
    chunk.columns["age"] = age
    chunk.columns["area_code"] = np.full(size, area)
    return chunk


#: Where people admitted to a residential (first row) or nursing home (second) lived before:
#: community, hospital, a residential home, a nursing home, not known. About one in twelve
#: admissions is a transfer from another care home, most often residential to nursing.
_PREVIOUS_SETTINGS = np.array([[0.50, 0.38, 0.03, 0.01, 0.08], [0.30, 0.45, 0.15, 0.03, 0.07]])


def _nursing_share(age: Ints) -> Floats:
    """The share of permanent admissions at each age that are to a nursing home."""
    share: Floats = np.where(age >= 85, 0.5, 0.3)
    return share


def _new_admissions(age: Ints) -> Floats:
    """The share of permanent admissions at each age that are not transfers from another
    care home (those the care-home admissions metric counts)."""
    transfers = _PREVIOUS_SETTINGS[:, 2:4].sum(axis=1)  # residential, then nursing homes
    nursing = _nursing_share(age)
    kept: Floats = (1 - nursing) * (1 - transfers[0]) + nursing * (1 - transfers[1])
    return kept


def _care_home_expected(nation: _Nation, area: int) -> Floats:
    """Expected permanent admissions by sex and age in a year (before the area's change)."""
    ages = np.arange(AGES)
    older = np.where(ages >= 65, np.exp((ages - 65) / 8.0), 0.0)
    national_65 = nation.people[:, :, 65:].sum()
    rate_65 = older * CARE_HOME_RATE_65_PLUS * national_65 / (nation.people * older).sum()
    rate = np.where((ages >= 18) & (ages < 65), CARE_HOME_RATE_18_64, rate_65)
    expected: Floats = (
        nation.people[area] * rate * nation.factors["care_homes"][area] * nation.scale
    )
    return expected


def _care_homes(nation: _Nation, area: int) -> _Chunk:
    rng = nation.rng(12, area)
    seasons = _day_weights(nation.year, **_CARE_HOME_SEASON)
    growth, days = _through_year(nation, "care_homes", area, seasons)
    sex, age = _cells(rng, _care_home_expected(nation, area) * growth)
    chunk = _Chunk(len(age))
    day = _choose(rng, days, len(age))
    chunk.columns["admission_date"] = nation.year.first_day + day
    nursing = _nursing_share(age)
    setting = _choose_rows(rng, np.stack([1 - nursing, nursing], axis=1))
    chunk.coded("setting", [s.value for s in CareHomeSetting], setting)
    chunk.coded("funding", [f.value for f in CareHomeFunding], _choose(rng, _FUNDING, len(age)))
    chunk.coded(
        "previous_setting",
        [p.value for p in PreviousSetting],
        _choose_rows(rng, _PREVIOUS_SETTINGS[setting]),
    )
    _people_columns(chunk, nation, area, rng, sex, age)
    chunk.order_by("admission_date")
    return chunk


def _people_columns(
    chunk: _Chunk, nation: _Nation, area: int, rng: np.random.Generator, sex: Ints, age: Ints
) -> None:
    chunk.columns["nhs_number"] = nation.people_pool().draw(rng, area, sex, age)
    chunk.columns["age"] = age
    chunk.columns["area_code"] = np.full(len(age), area)


def _reablement_expected(nation: _Nation, area: int) -> Floats:
    """Expected discharges into reablement by sex and age in a year: older people more."""
    ages = np.arange(AGES)
    weight = np.where(ages >= 65, 1 + (ages - 65) / 10.0, 0.0)
    total = REABLEMENT_RATE_65_PLUS * nation.people[:, :, 65:].sum()
    return _weighted_cells(nation, area, weight, total, "reablement")


def _at_home(share: Floats, age: Ints | Floats) -> Floats:
    """The chance of being at home 91 days on: lower for people of 90 and over."""
    chance: Floats = np.clip(share - 0.1 * (age >= 90), 0.5, 0.97)
    return chance


def _reablement(nation: _Nation, area: int) -> _Chunk:
    rng = nation.rng(13, area)
    sex, age = _cells(rng, _reablement_expected(nation, area))
    chunk = _Chunk(len(age))
    day = _choose(rng, _day_weights(nation.year, **_REABLEMENT_SEASON), len(age))
    chunk.columns["discharge_date"] = nation.year.first_day + day
    at_home = _at_home(_share(nation, "reablement", area, AT_HOME_AFTER_91_DAYS, day), age)
    rest = (1 - at_home)[:, None] * np.array([0.25, 0.25, 0.4, 0.1])
    chunk.coded(
        "status_91_days",
        [s.value for s in StatusAfter91Days],
        _choose_rows(rng, np.concatenate([at_home[:, None], rest], axis=1)),
    )
    _people_columns(chunk, nation, area, rng, sex, age)
    chunk.order_by("discharge_date")
    return chunk


def _survey_wave(year: _Year) -> _Year:
    """The survey asks in the year's last quarter, January to March."""
    return _Year(dt.date(year.end.year, 1, 1), year.end)


def _positive(share: Floats, age: Ints | Floats) -> Floats:
    """The chance of a positive answer: higher for people of 65 and over."""
    chance: Floats = np.clip(share + 0.05 * (age >= 65), 0.2, 0.95)
    return chance


def _survey(nation: _Nation, area: int) -> _Chunk:
    rng = nation.rng(14, area)
    ages = np.arange(AGES)
    weight = (ages >= 18).astype(np.float64)
    total = SURVEY_RATE_ADULTS * nation.people[:, :, 18:].sum()
    sex, age = _cells(rng, _weighted_cells(nation, area, weight, total, "survey"))
    numbers = nation.people_pool().draw(rng, area, sex, age)
    _, first = np.unique(numbers, return_index=True)  # one answer per person
    keep = np.sort(first)
    sex, age = sex[keep], age[keep]
    chunk = _Chunk(len(age))
    wave = _survey_wave(nation.year)
    day = rng.integers(0, wave.days, len(age))
    chunk.columns["response_date"] = wave.first_day + day
    chunk.coded("question", ["care_coordination"], np.zeros(len(age), np.int64))
    into_year = wave.first_day - nation.year.first_day + day
    positive = _positive(_share(nation, "survey", area, POSITIVE_ANSWERS, into_year), age)
    chunk.columns["positive"] = (rng.random(len(age)) < positive).astype(np.int64)
    chunk.columns["nhs_number"] = numbers[keep]
    chunk.columns["age"] = age
    chunk.columns["area_code"] = np.full(len(age), area)
    chunk.order_by("response_date")
    return chunk


# --------------------------------------------------------------------------------------------
# Flaws: a few deliberately bad rows, so ingest's quarantine has something to show

Flaw = Callable[[_Chunk, Ints], None]


def _wrong_check_digit(chunk: _Chunk, rows: Ints) -> None:
    numbers = chunk.columns["nhs_number"]
    numbers[rows] = numbers[rows] // 10 * 10 + (numbers[rows] % 10 + 1) % 10


def _unknown_area(chunk: _Chunk, rows: Ints) -> None:
    chunk.columns["area_code"][rows] = -1  # becomes UNKNOWN_AREA


def _repeated_key(chunk: _Chunk, rows: Ints) -> None:
    chunk.columns["_key"][rows] = chunk.columns["_key"][np.maximum(rows - 1, 0)]


def _impossible_age(chunk: _Chunk, rows: Ints) -> None:
    chunk.columns["age"][rows] = 130


def _off_the_list(name: str, value: str) -> Flaw:
    def spoil(chunk: _Chunk, rows: Ints) -> None:
        chunk.categories[name] = [*chunk.categories[name], value]
        chunk.columns[name][rows] = len(chunk.categories[name]) - 1

    return spoil


def _shifted(name: str, days: int) -> Flaw:
    def spoil(chunk: _Chunk, rows: Ints) -> None:
        chunk.columns[name][rows] += days

    return spoil


def _discharged_before_admitted(chunk: _Chunk, rows: Ints) -> None:
    chunk.columns["discharge_date"][rows] = chunk.columns["admission_date"][rows] - 3


def _too_many_days(chunk: _Chunk, rows: Ints) -> None:
    chunk.columns["delayed_days"][rows] = 40


def _words_for_a_code(chunk: _Chunk, rows: Ints) -> None:
    """A secondary diagnosis written in words ("I10;high blood pressure")."""
    chunk.columns["secondary_diagnoses"][rows] |= 1 << SECONDARY_CODES.index(_NOT_A_CODE)


def _too_many_codes(chunk: _Chunk, rows: Ints) -> None:
    """Every cause and long-term condition at once: more codes than a spell may have."""
    chunk.columns["secondary_diagnoses"][rows] = (1 << (len(SECONDARY_CODES) - 1)) - 1


_COMMON_FLAWS: tuple[Flaw, ...] = (_wrong_check_digit, _unknown_area, _repeated_key)
_FLAWS: dict[str, tuple[Flaw, ...]] = {
    "spells": (
        _discharged_before_admitted,
        _off_the_list("admission_method", "emergency"),
        _impossible_age,
        _shifted("admission_date", 40_000),
        _words_for_a_code,
        _too_many_codes,
    ),
    "delays": (_too_many_days, _off_the_list("reason", "Z"), _shifted("month", 14)),
    "care_home_admissions": (
        _off_the_list("setting", "sheltered"),
        _off_the_list("previous_setting", "own_home"),
        _impossible_age,
    ),
    "reablement": (
        _off_the_list("status_91_days", "moved_away"),
        _shifted("discharge_date", -30_000),
    ),
    "survey_responses": (_impossible_age,),
}


def _spoil(kind: RecordKind, chunk: _Chunk, rng: np.random.Generator) -> None:
    """Spoil about :data:`FLAW_RATE` of the rows (at least one), each in one way."""
    if chunk.size < 2:
        return
    count = max(1, round(chunk.size * FLAW_RATE))
    rows = rng.choice(np.arange(1, chunk.size), size=min(count, chunk.size - 1), replace=False)
    flaws = (*_COMMON_FLAWS, *_FLAWS[kind.name])
    order = rng.permutation(len(flaws))  # so small chunks do not all get the same flaw
    for index, which in enumerate(order.tolist()):
        picked = rows[index :: len(flaws)]
        if picked.size:
            flaws[which](chunk, picked)


# --------------------------------------------------------------------------------------------
# Arrow


_MAKERS: dict[str, tuple[RecordKind, str, Callable[[_Nation, int], _Chunk]]] = {
    "spells": (SPELLS, "SP", _spells),
    "delays": (DELAYS, "DT", _delays),
    "care_home_admissions": (CARE_HOME_ADMISSIONS, "CH", _care_homes),
    "reablement": (REABLEMENT, "RB", _reablement),
    "survey_responses": (SURVEY_RESPONSES, "SR", _survey),
}


def _fixed_text(matrix: npt.NDArray[np.uint8]) -> pa.Array:
    """Rows of ASCII bytes, all the same width, as an Arrow text column (no Python strings)."""
    rows, width = matrix.shape
    offsets = np.arange(0, (rows + 1) * width, width, dtype=np.int32)
    data = np.ascontiguousarray(matrix)
    return pa.Array.from_buffers(
        pa.string(), rows, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )


def _digits(numbers: Ints, width: int, prefix: str = "") -> pa.Array:
    places = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    digits = (numbers[:, None] // places) % 10 + ord("0")
    head = np.tile(np.frombuffer(prefix.encode("ascii"), np.uint8), (len(numbers), 1))
    return _fixed_text(np.concatenate([head, digits.astype(np.uint8)], axis=1))


def _to_arrow(
    kind: RecordKind, chunk: _Chunk, nation: _Nation, prefix: str, first: int
) -> pa.Table:
    chunk.categories["area_code"] = [*nation.codes, UNKNOWN_AREA]
    chunk.categories["sex"] = list(SEXES)
    columns: dict[str, pa.Array] = {}
    for column in kind.columns:
        values = chunk.columns["_key" if column.name == kind.key else column.name]
        if column.name == kind.key:
            columns[column.name] = _digits(values + first, 9, prefix)
        elif column == NHS_NUMBER:
            columns[column.name] = _digits(values, 10)
        elif column.is_list:
            columns[column.name] = _code_lists(values, SECONDARY_CODES)
        elif column.name in chunk.categories:
            listed = pa.array(chunk.categories[column.name], pa.string())
            columns[column.name] = listed.take(_numbers(values % len(listed), pa.int64()))
        else:
            columns[column.name] = _numbers(values.astype(np.int32), _ARROW[column.type])
    return pa.Table.from_arrays(list(columns.values()), names=list(columns))


def _code_lists(masks: Ints, codes: Sequence[str]) -> pa.Array:
    """Bit masks over ``codes`` as text, the codes of each in order joined by the list
    separator; an empty list is missing (null), as the files write it."""
    bits = (masks[:, None] >> np.arange(len(codes), dtype=np.int64)) & 1 == 1
    _, which = np.nonzero(bits)  # row by row, each row's codes in order
    counts = bits.sum(axis=1)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    empty = counts == 0
    lists = pa.ListArray.from_arrays(
        _numbers(offsets, pa.int32()),
        pa.array(codes, pa.string()).take(_numbers(which, pa.int64())),
        mask=pa.Array.from_buffers(
            pa.bool_(), len(empty), [None, pa.py_buffer(np.packbits(empty, bitorder="little"))]
        ),
    )
    joined: pa.Array = pc.binary_join(lists, LIST_SEPARATOR)
    return joined


def _numbers(values: Ints | npt.NDArray[np.int32], type_: pa.DataType) -> pa.Array:
    """Whole numbers (or days) as Arrow, from the array's own buffer (``pa.array`` would look
    for pandas first, which costs seconds where it is installed)."""
    data = pa.py_buffer(np.ascontiguousarray(values))
    return pa.Array.from_buffers(type_, len(values), [None, data])


_ARROW = {
    ColumnType.INTEGER: pa.int32(),
    ColumnType.DATE: pa.date32(),
    ColumnType.MONTH: pa.date32(),
}


def person_level_chunks(
    *,
    seed: int = 2015,
    scale: float = 0.1,
    financial_year: str = "2015-16",
    flaws: bool = False,
    progress: ProgressCallback | None = None,
    populations: Sequence[PopulationCount] | None = None,
) -> Iterator[tuple[RecordKind, pa.Table]]:
    """A national year of raw records, one area of one kind at a time, kinds in order.

    The same arguments always give the same records; ``scale`` 1.0 is a whole nation. The
    areas are the synthetic nation's, or those of ``populations`` (one row per area and
    ages, such as a real geography's metric denominators), so that records generated for
    England's real areas pass an ingest against them.
    """
    nation = _nation(seed, scale, financial_year, populations)
    for name, (kind, prefix, make) in _MAKERS.items():
        made = 0
        for area in range(len(nation.codes)):
            chunk = make(nation, area)
            chunk.columns["_key"] = np.arange(chunk.size, dtype=np.int64)
            if flaws:
                _spoil(kind, chunk, nation.rng(20 + list(_MAKERS).index(name), area))
            if chunk.size:
                yield kind, _to_arrow(kind, chunk, nation, prefix, made)
            made += chunk.size
            if progress:
                progress(f"Generating {name}", area + 1, len(nation.codes))


# --------------------------------------------------------------------------------------------
# What the records are drawn to show

Quarterly = tuple[float | None, float | None, float | None, float | None]
"""A metric's value in each quarter of a financial year (``None``: nothing to measure)."""

PLANNED_METRICS = (
    "non_elective_admissions",
    "delayed_transfers_of_care",
    "care_home_admissions_65_plus",
    "reablement_91_days",
    "patient_experience",
)
"""The catalogue metrics plans set ambitions for, whose expected values the model gives."""


def expected_quarters(
    *,
    seed: int = 2015,
    scale: float = 0.1,
    financial_year: str = "2015-16",
    changed: bool = True,
) -> dict[str, dict[str, Quarterly]]:
    """Each area's expected value of each planned metric in each quarter, by area code.

    This is the model the records are drawn from, worked out without drawing them: the same
    people, area factors, seasons and scale, so at the same arguments the computed metrics
    scatter around these values by chance alone. ``changed=False`` leaves out each area's
    own change during the year (:data:`AREA_CHANGES`): the year as if every area carried on
    as before, which is where a plan starts from. Counts are as the metrics count them
    (emergency admissions), rates per 100,000 residents of the metric's ages in the quarter,
    percentages out of 100; the survey asks only in the last quarter.
    """
    nation = _nation(seed, scale, financial_year)
    nation.changed = changed
    quarter = _quarter_of_each_day(nation.year)
    return {
        code: {
            "non_elective_admissions": _expected_admissions(nation, area, quarter),
            "delayed_transfers_of_care": _expected_delays(nation, area),
            "care_home_admissions_65_plus": _expected_care_homes(nation, area, quarter),
            "reablement_91_days": _expected_reablement(nation, area, quarter),
            "patient_experience": _expected_survey(nation, area, quarter),
        }
        for area, code in enumerate(nation.codes)
    }


def _quarter_of_each_day(year: _Year) -> Ints:
    """0 to 3: the financial quarter (April to June first) of each day of the year."""
    month = year.dates().astype("datetime64[M]").astype(np.int64) % 12 + 1
    quarter: Ints = (month - 4) % 12 // 3
    return quarter


def _quarters(values: Floats, quarter: Ints) -> Floats:
    summed: Floats = np.bincount(quarter, weights=values, minlength=4).astype(np.float64)
    return summed


def _four(values: Floats) -> Quarterly:
    return float(values[0]), float(values[1]), float(values[2]), float(values[3])


def _per(counts: Floats, people: float, per: float) -> Quarterly:
    return _four(counts / people * per)


def _expected_admissions(nation: _Nation, area: int, quarter: Ints) -> Quarterly:
    method = AdmissionMethod.NON_ELECTIVE
    growth, days = _admission_days(nation, area, method)
    yearly = float(_method_expected(nation, method)[area].sum()) * growth
    return _four(_quarters(days * yearly, quarter))


def _expected_delays(nation: _Nation, area: int) -> Quarterly:
    """Delayed days per 100,000 aged 18+: records a month times each record's expected days
    (a stay's delay is cut at the month's end, so a record averages a little under 9)."""
    months = nation.year.month_starts()
    season = _month_weights(len(months)) * (
        1 + _course(nation, "delays", area, _middles(len(months)))
    )
    records = np.array([
        _weighted_cells(
            nation, area, _delay_ages(), DELAYED_DAYS_PER_MONTH * share / MEAN_DELAYED_DAYS,
            "delays",
        ).sum()
        for share in season
    ])  # fmt: skip
    ends = np.append(months[1:], nation.year.first_day + nation.year.days)
    stay = 1 / MEAN_DELAYED_DAYS
    days = records * (1 - (1 - stay) ** (ends - months)) / stay
    quarter = (np.arange(len(months)) // 3).astype(np.int64)  # the year's months from April
    adults = float(nation.people[area][:, 18:].sum())
    return _per(_quarters(days, quarter), adults, 100_000)


def _expected_care_homes(nation: _Nation, area: int, quarter: Ints) -> Quarterly:
    """Council-funded and joint admissions of people aged 65+ per 100,000 aged 65+, less
    transfers from another care home."""
    growth, days = _through_year(
        nation, "care_homes", area, _day_weights(nation.year, **_CARE_HOME_SEASON)
    )
    funding = dict(zip(CareHomeFunding, _FUNDING, strict=True))
    funded = (funding[CareHomeFunding.COUNCIL] + funding[CareHomeFunding.JOINT]) / sum(_FUNDING)
    new = _new_admissions(np.arange(65, AGES))
    yearly = float((_care_home_expected(nation, area)[:, 65:] * new).sum()) * growth * funded
    older = float(nation.people[area][:, 65:].sum())
    return _per(_quarters(days * yearly, quarter), older, 100_000)


def _expected_reablement(nation: _Nation, area: int, quarter: Ints) -> Quarterly:
    """The percentage of people aged 65+ at home 91 days after discharge into reablement."""
    by_age = _reablement_expected(nation, area).sum(axis=0)
    shares = _day_weights(nation.year, **_REABLEMENT_SEASON)
    day = np.arange(nation.year.days)
    share = _share(nation, "reablement", area, AT_HOME_AFTER_91_DAYS, day)
    ages = np.arange(AGES)
    at_home = _at_home(share[:, None], ages[None, :]) @ by_age
    home = _quarters(shares * at_home, quarter)
    discharged = _quarters(shares * by_age.sum(), quarter)
    return _four(100 * home / discharged)


def _expected_survey(nation: _Nation, area: int, quarter: Ints) -> Quarterly:
    """The percentage of positive answers, in the quarter the survey asks in."""
    by_age = _weighted_cells(
        nation, area, (np.arange(AGES) >= 18).astype(np.float64), 1.0, "survey"
    ).sum(axis=0)
    wave = _survey_wave(nation.year)
    day = wave.first_day - nation.year.first_day + np.arange(wave.days)
    share = _share(nation, "survey", area, POSITIVE_ANSWERS, day)
    positive = float((_positive(share[:, None], np.arange(AGES)[None, :]) @ by_age).mean())
    asked = int(quarter[day[0]])
    found: list[float | None] = [None] * 4
    found[asked] = 100 * positive / float(by_age.sum())
    return found[0], found[1], found[2], found[3]
