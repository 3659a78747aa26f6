"""What a metric is, declared once so that every engine computes exactly the same thing.

A :class:`MetricDefinition` says *what* to count: which record kind, which date puts an
event in a period, which events are in scope (declarative conditions such as "admission
method is non_elective", "aged 65+", "a secondary diagnosis in W00-W19", and "either this
or that" where a specification says so), what the numerator and denominator are, and how
the value is expressed (a count, a rate per 100,000 or a percentage, directly
age-standardised where the definition says so). Engines know *how*:
each compiles the conditions to its own language (a Python predicate, SQL, a Spark column)
and returns exact integer counts per area, month and, for standardised metrics, age band.

:func:`finalise` then does all the arithmetic here, once, exactly (in whole numbers), rounding
half to even only at the end. So the reference engine, DuckDB and Spark give the very same
figures, and a quarter or year is always built by adding up its months' counts, never by
averaging monthly values.

Framework labels (ASCOF 2A(2), later 2C) belong to each programme year's framework file; a
definition carries only the metric's identity and a version that changes whenever what it
computes changes.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from carepool.domain.direction import Direction
from carepool.domain.errors import CarepoolError, Problem
from carepool.domain.geography import PopulationCount, band_label, band_total
from carepool.domain.metric_value import Grain, MetricValue
from carepool.domain.periods import (
    month_label,
    month_start,
    months_between,
    parse_quarter,
    quarter_label,
    year_label,
    year_period,
)
from carepool.domain.person_level import ColumnType, RecordKind
from carepool.domain.standard_population import (
    StandardBand,
    StandardisationError,
    band_populations,
    bands_within,
)

PER_100000 = 100_000
MAX_DECIMAL_PLACES = 6
_ID = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


class MetricError(CarepoolError):
    """A metric definition, or the population given to compute it, is not usable."""


class Measure(StrEnum):
    """How a metric's value is expressed (the words match the framework files)."""

    COUNT = "count"
    RATE_PER_100000 = "rate_per_100000"
    PERCENTAGE = "percentage"


# Conditions ---------------------------------------------------------------------------------
#
# A missing value (null) never passes a condition, in every engine, with one exception: a
# missing list of codes is an empty list, so it passes NoDiagnosisIn (it holds none of them).


@dataclass(frozen=True, slots=True)
class OneOf:
    """The text in ``column`` is one of ``values``."""

    column: str
    values: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.values:
            raise MetricError(f"a condition on {self.column!r} needs at least one value")


@dataclass(frozen=True, slots=True)
class NoneOf:
    """The text in ``column`` is present and none of ``values`` (e.g. every discharge but death)."""

    column: str
    values: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.values:
            raise MetricError(f"a condition on {self.column!r} needs at least one value")


@dataclass(frozen=True, slots=True)
class InRange:
    """The whole number in ``column`` is from ``lowest`` to ``highest`` (``None``: no limit)."""

    column: str
    lowest: int
    highest: int | None = None

    def __post_init__(self) -> None:
        if self.highest is not None and self.highest < self.lowest:
            raise MetricError(
                f"the range on {self.column!r} ends ({self.highest}) before it starts "
                f"({self.lowest})"
            )


def aged(age_from: int, age_to: int | None = None) -> InRange:
    """Aged ``age_from`` to ``age_to`` inclusive, or ``age_from``+ when ``age_to`` is ``None``."""
    return InRange("age", age_from, age_to)


_ICD10 = re.compile(r"^[A-Z][0-9]{2}(\.?[0-9X]{1,2})?$")
_MAX_RANGE = 1000


@dataclass(frozen=True, slots=True)
class DiagnosisIn:
    """The ICD-10 code in ``column`` starts with one of ``codes``.

    Codes are written as the specifications write them: ``J45``, ``I24.0`` or a range
    ``W00-W19`` (every code from W00 to W19). Data may hold ``J44.1`` or ``J441``; a dot in
    the fourth place is ignored on both sides, so the two match alike. ``prefixes`` is the
    list the engines compile: dots removed and ranges written out, each prefix matching
    every code that begins with it (``J45`` matches ``J45``, ``J45.0``, ``J459``).
    """

    column: str
    codes: tuple[str, ...]
    prefixes: tuple[str, ...] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "prefixes", diagnosis_prefixes(self.column, self.codes))


@dataclass(frozen=True, slots=True)
class AnyDiagnosisIn:
    """Some ICD-10 code in the list in ``column`` starts with one of ``codes``.

    For a column of several diagnoses (a spell's secondary diagnoses): ``codes`` and
    ``prefixes`` are written and matched exactly as :class:`DiagnosisIn`'s, against each code
    of the list in turn. A spell with no secondary diagnoses has none of them.
    """

    column: str
    codes: tuple[str, ...]
    prefixes: tuple[str, ...] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "prefixes", diagnosis_prefixes(self.column, self.codes))


@dataclass(frozen=True, slots=True)
class NoDiagnosisIn:
    """No ICD-10 code in the list in ``column`` starts with one of ``codes``.

    The opposite of :class:`AnyDiagnosisIn`, with one consequence worth saying: a missing
    list is an empty one, so it passes. A specification that excludes a spell "with a
    secondary diagnosis of D57" keeps every spell that has no secondary diagnosis at all.
    """

    column: str
    codes: tuple[str, ...]
    prefixes: tuple[str, ...] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "prefixes", diagnosis_prefixes(self.column, self.codes))


def diagnosis_prefixes(column: str, codes: Sequence[str]) -> tuple[str, ...]:
    """The dot-less prefixes that match ``codes`` (ranges written out), shortest kept."""
    if not codes:
        raise MetricError(f"a diagnosis condition on {column!r} needs at least one code")
    found = sorted({prefix for code in codes for prefix in _expand_code(code)})
    # A prefix already covered by a shorter one (I24 covers I240) adds nothing.
    return tuple(p for p in found if not any(p != q and p.startswith(q) for q in found))


def normalise_icd10(code: str) -> str:
    """A code without the dot ICD-10 writes after its third character (``J44.1`` → ``J441``)."""
    return code[:3] + code[4:] if code[3:4] == "." else code


def _expand_code(text: str) -> list[str]:
    first, dash, last = text.strip().partition("-")
    for part in (first, last) if dash else (first,):
        if not _ICD10.match(part):
            raise MetricError(f"{part!r} is not an ICD-10 code (write J45, I24.0 or W00-W19)")
    if not dash:
        return [normalise_icd10(first)]
    low, high = normalise_icd10(first), normalise_icd10(last)
    if len(low) != len(high) or low[0] != high[0] or not (low[1:] + high[1:]).isdigit():
        raise MetricError(f"{text!r}: a range needs two codes of one letter and length")
    width = len(low) - 1
    start, stop = int(low[1:]), int(high[1:])
    if not start <= stop <= start + _MAX_RANGE:
        raise MetricError(f"{text!r}: a range must run forwards, over at most {_MAX_RANGE} codes")
    return [f"{low[0]}{number:0{width}d}" for number in range(start, stop + 1)]


ColumnCondition = OneOf | NoneOf | InRange | DiagnosisIn | AnyDiagnosisIn | NoDiagnosisIn
"""A condition on one column."""


@dataclass(frozen=True, slots=True)
class AnyOf:
    """At least one of ``alternatives`` holds, each a group of conditions that must all pass.

    A definition's conditions must all pass; this says "or" where a specification needs
    it, as the chronic ACSC list does: a primary diagnosis on the list, *or* acute
    bronchitis (J20) *with* a secondary diagnosis of COPD. An alternative is made of
    conditions on one column each, never another :class:`AnyOf`, so a definition reads as
    the specification's table does. A missing value fails its alternative only.
    """

    alternatives: tuple[tuple[ColumnCondition, ...], ...]

    def __post_init__(self) -> None:
        if len(self.alternatives) < 2 or not all(self.alternatives):
            raise MetricError("AnyOf needs two or more alternatives, each with a condition")
        for group in self.alternatives:
            for condition in group:
                if isinstance(condition, AnyOf):
                    raise MetricError("an alternative of AnyOf cannot hold another AnyOf")


Condition = ColumnCondition | AnyOf


def columns_of(condition: Condition) -> tuple[str, ...]:
    """The columns a condition reads, in the order it names them."""
    if isinstance(condition, AnyOf):
        names = (c.column for group in condition.alternatives for c in group)
        return tuple(dict.fromkeys(names))
    return (condition.column,)


def column_conditions(condition: Condition) -> tuple[ColumnCondition, ...]:
    """Every condition on one column inside ``condition`` (itself, if it is one)."""
    if isinstance(condition, AnyOf):
        return tuple(c for group in condition.alternatives for c in group)
    return (condition,)


# Numerators and denominators ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CountEvents:
    """The number of events in scope that also pass ``where``."""

    where: tuple[Condition, ...] = ()


@dataclass(frozen=True, slots=True)
class SumOf:
    """The sum of a whole-number ``column`` over events in scope passing ``where``.

    The column holds amounts that cannot be negative (delayed days); a missing value adds
    nothing.
    """

    column: str
    where: tuple[Condition, ...] = ()


@dataclass(frozen=True, slots=True)
class Population:
    """Residents of the area aged ``age_from`` to ``age_to`` (ONS mid-year estimate)."""

    age_from: int = 0
    age_to: int | None = None

    def __post_init__(self) -> None:
        if self.age_from < 0 or (self.age_to is not None and self.age_to < self.age_from):
            raise MetricError(f"ages {band_label(self.age_from, self.age_to)} are not a range")

    def condition(self) -> InRange:
        """The condition an event of this population's ages passes."""
        return aged(self.age_from, self.age_to)

    @property
    def condition_text(self) -> str:
        """:meth:`condition` as it is written in a definition, for messages."""
        upper = "" if self.age_to is None else f", {self.age_to}"
        return f"aged({self.age_from}{upper}) to where"

    @property
    def label(self) -> str:
        return "all ages" if self.is_all_ages else f"aged {band_label(self.age_from, self.age_to)}"

    @property
    def is_all_ages(self) -> bool:
        return self.age_from == 0 and self.age_to is None


Aggregate = CountEvents | SumOf


# The definition -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MetricDefinition:
    """One metric: what it counts, over what, and how its value is expressed.

    ``where`` selects the events in scope, dated by ``event_date``. The numerator counts
    them (or sums a column) and may narrow them further; a percentage's denominator counts
    the events in scope that pass its own conditions, and the numerator's events must be
    among them. A rate divides by the residents of an age range, and its events must be of
    that age range too. A definition checks all of this when it is made, so an engine never
    meets a definition it cannot compute.

    ``source`` names the published specification the definition follows (document, version,
    section), and ``differences`` each thing it asks that carepool's data cannot say, with
    what is done instead: a metric's page shows both. ``year_months`` are the calendar
    months (1 to 12) whose events make up a financial year's value, for a specification
    that measures the year by a sample of it (ASCOF 2B(1) takes discharges from October to
    December); empty, every month counts. Months and quarters always take every event in
    them.
    """

    id: str
    version: int
    name: str
    description: str
    record_kind: RecordKind
    event_date: str
    where: tuple[Condition, ...]
    numerator: Aggregate
    denominator: Population | CountEvents | None
    measure: Measure
    direction: Direction
    decimal_places: int
    age_standardised: bool = False
    source: str = ""
    differences: tuple[str, ...] = ()
    year_months: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        problems = [
            Problem(message, key=f"{self.id}.{key}")
            for check in _DEFINITION_CHECKS
            for key, message in check(self)
        ]
        if problems:
            raise MetricError(f"metric definition {self.id!r} is not valid", problems)

    @property
    def numerator_where(self) -> tuple[Condition, ...]:
        """Every condition an event must pass to count in the numerator."""
        return _merge(self.where, self.numerator.where)

    @property
    def denominator_where(self) -> tuple[Condition, ...] | None:
        """Every condition an event must pass to count in an event denominator, if any."""
        if isinstance(self.denominator, CountEvents):
            return _merge(self.where, self.denominator.where)
        return None

    @property
    def standard_bands(self) -> tuple[StandardBand, ...]:
        """The ESP 2013 bands the value is standardised over (none if not standardised)."""
        if not self.age_standardised or not isinstance(self.denominator, Population):
            return ()
        return bands_within(self.denominator.age_from, self.denominator.age_to)

    @property
    def columns(self) -> tuple[str, ...]:
        """The record kind's columns an engine must read, besides area and ``event_date``."""
        names: dict[str, None] = {}
        for condition in (*self.numerator_where, *(self.denominator_where or ())):
            names.update(dict.fromkeys(columns_of(condition)))
        if isinstance(self.numerator, SumOf):
            names[self.numerator.column] = None
        if self.age_standardised:
            names["age"] = None
        return tuple(names)


def _merge(first: Iterable[Condition], second: Iterable[Condition]) -> tuple[Condition, ...]:
    return tuple(dict.fromkeys((*first, *second)))


def _column_types(kind: RecordKind) -> dict[str, ColumnType]:
    return {column.name: column.type for column in kind.pseudonymised_columns()}


def _check_identity(d: MetricDefinition) -> Iterator[tuple[str, str]]:
    if not _ID.match(d.id):
        yield "id", "a metric id is lower_snake_case, e.g. non_elective_admissions"
    if d.version < 1:
        yield "version", "versions start at 1"
    if not d.name.strip() or not d.description.strip():
        yield "name", "a metric needs a name and a description in plain words"
    if not 0 <= d.decimal_places <= MAX_DECIMAL_PLACES:
        yield "decimal_places", f"round to between 0 and {MAX_DECIMAL_PLACES} decimal places"


def _check_columns(d: MetricDefinition) -> Iterator[tuple[str, str]]:
    types = _column_types(d.record_kind)
    kind = d.record_kind.name
    if types.get(d.event_date) not in (ColumnType.DATE, ColumnType.MONTH):
        yield "event_date", f"{d.event_date!r} is not a date column of {kind}"
    conditions = (*d.numerator_where, *(d.denominator_where or ()))
    for condition in conditions:
        for part in column_conditions(condition):
            yield from _check_condition(part, d.record_kind)
    if isinstance(d.numerator, SumOf) and types.get(d.numerator.column) != ColumnType.INTEGER:
        yield "numerator", f"{d.numerator.column!r} is not a whole-number column of {kind}"


def _check_condition(condition: ColumnCondition, kind: RecordKind) -> Iterator[tuple[str, str]]:
    columns = {column.name: column for column in kind.pseudonymised_columns()}
    column = columns.get(condition.column)
    wanted = ColumnType.INTEGER if isinstance(condition, InRange) else ColumnType.TEXT
    if column is None or column.type != wanted:
        yield "where", f"{condition.column!r} is not a {wanted.value} column of {kind.name}"
        return
    if column.is_list and not isinstance(condition, AnyDiagnosisIn | NoDiagnosisIn):
        yield "where", f"{column.name!r} holds a list: use AnyDiagnosisIn or NoDiagnosisIn"
        return
    if isinstance(condition, AnyDiagnosisIn | NoDiagnosisIn) and not column.is_list:
        yield "where", f"{column.name!r} holds one value: use DiagnosisIn, not a list condition"
        return
    if isinstance(condition, OneOf | NoneOf) and column.allowed:
        for value in condition.values:
            if value not in column.allowed:
                allowed = ", ".join(column.allowed)
                yield "where", f"{value!r} is not a value of {column.name} ({allowed})"


def _check_measure(d: MetricDefinition) -> Iterator[tuple[str, str]]:
    if d.measure is Measure.COUNT:
        if isinstance(d.denominator, CountEvents):
            yield "denominator", "a count may report a population beside it, not other events"
        if d.decimal_places:
            yield "decimal_places", "a count is a whole number"
    elif d.measure is Measure.RATE_PER_100000:
        if not isinstance(d.denominator, Population):
            yield "denominator", "a rate per 100,000 divides by a population"
        elif not d.denominator.is_all_ages and d.denominator.condition() not in d.where:
            label, needed = d.denominator.label, d.denominator.condition_text
            yield "where", f"a rate per 100,000 {label} counts only events {label}: add {needed}"
    else:
        yield from _check_percentage(d)


def _check_percentage(d: MetricDefinition) -> Iterator[tuple[str, str]]:
    if not isinstance(d.numerator, CountEvents) or not isinstance(d.denominator, CountEvents):
        yield "denominator", "a percentage counts events over events"
        return
    if not set(d.denominator.where) <= set(d.numerator.where):
        message = "the numerator's events must be among the denominator's events"
        yield "numerator", f"{message}: give it every condition the denominator has"


def _check_standardisation(d: MetricDefinition) -> Iterator[tuple[str, str]]:
    if not d.age_standardised:
        return
    if d.measure is not Measure.RATE_PER_100000 or not isinstance(d.denominator, Population):
        yield "age_standardised", "only a rate per 100,000 residents can be age-standardised"
        return
    try:
        bands_within(d.denominator.age_from, d.denominator.age_to)
    except StandardisationError as error:
        yield "denominator", error.message
    if d.denominator.condition() not in d.where:
        needed = d.denominator.condition_text
        yield "where", f"a standardised rate counts only events of its ages: add {needed}"


def _check_year_months(d: MetricDefinition) -> Iterator[tuple[str, str]]:
    months = d.year_months
    if any(not 1 <= month <= 12 for month in months) or len(set(months)) != len(months):
        yield "year_months", "the year's months are distinct calendar months, 1 to 12"


_DEFINITION_CHECKS = (
    _check_identity,
    _check_columns,
    _check_measure,
    _check_standardisation,
    _check_year_months,
)


# Periods ------------------------------------------------------------------------------------

_GRAINS: tuple[tuple[Grain, Callable[[dt.date], str]], ...] = (
    (Grain.MONTH, month_label),
    (Grain.QUARTER, quarter_label),
    (Grain.YEAR, year_label),
)
_GRAIN_ORDER = {grain: order for order, (grain, _) in enumerate(_GRAINS)}


# What engines return ------------------------------------------------------------------------


class CountKey(NamedTuple):
    """Where a count belongs: a metric, an area and a month (its first day)."""

    metric: str
    area_code: str
    month: dt.date


class Tally(NamedTuple):
    """Exact counts for one metric, area and month.

    ``numerator`` is the metric's numerator; ``denominator`` its event denominator (0 when
    it has none). For an age-standardised metric ``bands`` splits the numerator by ESP 2013
    band, in the order of :attr:`MetricDefinition.standard_bands`, and adds up to it.
    """

    numerator: int
    denominator: int = 0
    bands: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class EventCounts:
    """Exact counts from an engine, ready for :func:`finalise`.

    ``tallies`` holds exactly the cells whose numerator or denominator is not zero, so that
    engines' counts can be compared for equality. ``months`` gives, per metric, the first
    and last month in which any record of its kind has an ``event_date`` (whether or not it
    passed the metric's conditions, and whatever its area): those months, and every month
    between, get a value for every area, zeros included. A metric absent from ``months``
    had no records at all and gets no values.
    """

    tallies: Mapping[CountKey, Tally]
    months: Mapping[str, tuple[dt.date, dt.date]]


# Populations --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AreaPopulation:
    """One area's residents in each age range and standard band the definitions divide by.

    A population may serve some definitions and not others: broad bands (0-17, 18-64, 65+)
    give a rate per 100,000 aged 65+ but cannot be standardised. What it cannot give is kept
    with the reason (``unusable`` for the whole area, ``missing`` per age range,
    ``bands_problem`` for standardisation), so one coarse area or metric is reported by name
    while every other value is still computed.
    """

    area_code: str
    ranges: Mapping[tuple[int, int | None], int]
    bands: Mapping[int, int]
    unusable: str = ""
    missing: Mapping[tuple[int, int | None], str] = field(default_factory=dict)
    bands_problem: str = ""

    def problem(self, definition: MetricDefinition) -> str:
        """Why ``definition`` cannot be computed for this area; empty when it can."""
        if self.unusable:
            return self.unusable
        denominator = definition.denominator
        if isinstance(denominator, Population):
            reason = self.missing.get((denominator.age_from, denominator.age_to), "")
            if reason:
                return reason
        if definition.age_standardised and self.bands_problem:
            return self.bands_problem
        return ""


def area_populations(
    definitions: Sequence[MetricDefinition], population: Sequence[PopulationCount]
) -> dict[str, AreaPopulation]:
    """Each area's denominators, checked: every area's ages must run from 0 to an open top
    with no gap or overlap, and be fine enough for the ranges and standard bands needed.

    Nothing is refused here: what an area's population cannot give is recorded on its
    :class:`AreaPopulation` (see :func:`population_gaps`). The definitions are checked to
    have distinct ids, since values are told apart by id.
    """
    _check_unique(definitions)
    by_area: dict[str, list[PopulationCount]] = defaultdict(list)
    for count in population:
        by_area[count.geo_code].append(count)
    ranges = {
        (d.denominator.age_from, d.denominator.age_to)
        for d in definitions
        if isinstance(d.denominator, Population)
    }
    bands = {band for d in definitions for band in d.standard_bands}
    return {
        area: _area_population(area, counts, ranges, bands)
        for area, counts in sorted(by_area.items())
    }


class PopulationGap(NamedTuple):
    """A metric that cannot be computed for an area (every metric, when ``metric`` is None)."""

    area_code: str
    metric: str | None
    reason: str

    def problem(self) -> Problem:
        return Problem(
            f"{self.metric}: {self.reason}" if self.metric else self.reason, key=self.area_code
        )


def population_gaps(
    definitions: Sequence[MetricDefinition], populations: Mapping[str, AreaPopulation]
) -> list[PopulationGap]:
    """Every metric that cannot be computed for an area, with the reason."""
    gaps = []
    for code, area in populations.items():
        for definition in definitions:
            reason = area.problem(definition)
            if reason:
                gaps.append(PopulationGap(code, definition.id, reason))
    return gaps


def require_some_population(
    definitions: Sequence[MetricDefinition], population: Sequence[PopulationCount]
) -> None:
    """Refuse, before any data is read, a population that can serve no metric in no area."""
    populations = area_populations(definitions, population)
    usable = any(
        not area.problem(definition) for area in populations.values() for definition in definitions
    )
    if populations and not usable:
        problems = [gap.problem() for gap in population_gaps(definitions, populations)]
        raise MetricError("the population cannot be used for these metrics", problems)


def _area_population(
    area: str,
    counts: list[PopulationCount],
    ranges: Iterable[tuple[int, int | None]],
    bands: Iterable[StandardBand],
) -> AreaPopulation:
    try:
        _check_coverage(area, counts)
    except MetricError as error:
        return AreaPopulation(area, {}, {}, unusable=error.message)
    totals: dict[tuple[int, int | None], int] = {}
    missing: dict[tuple[int, int | None], str] = {}
    for age_from, age_to in sorted(ranges, key=lambda r: (r[0], -1 if r[1] is None else r[1])):
        persons = band_total(counts, age_from, age_to)
        if persons is None:
            missing[(age_from, age_to)] = (
                f"{area}: ages {band_label(age_from, age_to)} cannot be taken exactly from "
                "the population's age bands"
            )
        else:
            totals[(age_from, age_to)] = persons
    try:
        by_band = band_populations(counts, sorted(bands, key=lambda band: band.age_from))
    except StandardisationError as error:
        return AreaPopulation(area, totals, {}, missing=missing, bands_problem=error.message)
    return AreaPopulation(area, totals, by_band, missing=missing)


def _check_coverage(area: str, counts: list[PopulationCount]) -> None:
    expected = 0
    for count in sorted(counts, key=lambda c: c.age_from):
        label = band_label(count.age_from, count.age_to)
        if count.persons < 0:
            raise MetricError(f"{area}: ages {label} have a negative number of persons")
        if count.age_to is not None and count.age_to < count.age_from:
            raise MetricError(f"{area}: ages {label} end before they start")
        if count.age_from != expected:
            fault = "overlap" if count.age_from < expected else "leave a gap"
            raise MetricError(f"{area}: the population's age bands {fault} at age {expected}")
        if count.age_to is None:
            return
        expected = count.age_to + 1
    raise MetricError(f"{area}: the population has no open-ended oldest band (such as 90+)")


# Finalising ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Formula:
    """How one metric's value is worked out for one area from counts summed over a period.

    value = ``scale`` × Σ(events in band × ``weights[band]``) / divisor, the divisor being
    ``divisor``, or the period's event denominator when that is ``None``. Every term is a
    whole number, so the value is an exact fraction. ``reported`` is the population shown
    as the value's denominator (``None`` with an event denominator, or with none at all).

    ``weights`` are given, one per standard band, only for standardised metrics; every
    other metric's events weigh 1. Since the weighted sum is linear in the counts, months
    carry it already weighted, and quarters and years add it up exactly as they add up the
    counts themselves.
    """

    weights: tuple[int, ...]
    scale: int
    divisor: int | None
    reported: int | None

    def weighted(self, tally: Tally) -> int:
        """Σ(events in band × the band's weight) for one month's tally."""
        if not self.weights:
            return tally.numerator
        if len(tally.bands) != len(self.weights) or sum(tally.bands) != tally.numerator:
            raise ValueError(f"band counts {tally.bands} do not split {tally.numerator}")
        return sum(count * weight for count, weight in zip(tally.bands, self.weights, strict=True))


_UNWEIGHTED: tuple[int, ...] = ()


def formula(definition: MetricDefinition, area: AreaPopulation) -> Formula | None:
    """The definition's formula for one area; ``None`` if its value is undefined there
    (no residents of the ages it divides by) or the area's population cannot give it (see
    :meth:`AreaPopulation.problem`)."""
    if area.problem(definition):
        return None
    if definition.age_standardised:
        return _standardised_formula(definition, area)
    if isinstance(definition.denominator, Population):
        persons = area.ranges[(definition.denominator.age_from, definition.denominator.age_to)]
        if definition.measure is Measure.COUNT:
            return Formula(_UNWEIGHTED, 1, 1, persons)
        return Formula(_UNWEIGHTED, PER_100000, persons, persons) if persons else None
    if definition.measure is Measure.COUNT:
        return Formula(_UNWEIGHTED, 1, 1, None)
    return Formula(_UNWEIGHTED, 100, None, None)


def _standardised_formula(definition: MetricDefinition, area: AreaPopulation) -> Formula | None:
    """Directly standardised rate: Σ (band's rate × band's ESP weight) / Σ weights, per 100,000.

    Over the least common multiple L of the bands' populations, each band's rate
    n / persons is the whole number n × (L / persons) over L, so the sum stays exact. An
    empty band has no rate, and then neither has the area.
    """
    bands = definition.standard_bands
    residents = [area.bands[band.age_from] for band in bands]
    if 0 in residents:
        return None
    common = math.lcm(*residents)
    weights = tuple(
        band.weight * (common // persons) for band, persons in zip(bands, residents, strict=True)
    )
    total_weight = sum(band.weight for band in bands)
    return Formula(weights, PER_100000, common * total_weight, sum(residents))


class _Cell(NamedTuple):
    """One month's counts for a metric and area: events, weighted events, event denominator."""

    events: int
    weighted: int
    denominator: int


def finalise(
    definitions: Sequence[MetricDefinition],
    counts: EventCounts,
    population: Sequence[PopulationCount],
) -> list[MetricValue]:
    """Turn an engine's exact counts into values for every area, month, quarter and year.

    Every area in ``population`` gets a value for every month in its metric's span (see
    :class:`EventCounts`) and for each financial quarter and year those months fall in;
    quarters and years add up their months' counts first and divide once (a year only its
    definition's ``year_months``, when it names them). Values are exact
    fractions rounded half to even to the definition's decimal places.

    A value whose denominator is zero (no events to take a percentage of, no residents, or
    an empty standard age band) is undefined and left out rather than shown as zero.
    Populations are mid-year estimates: a month's rate is that month's events per 100,000
    residents, not an annualised rate. A metric an area's population cannot serve (see
    :func:`population_gaps`) gets no values there. Values are sorted by metric, area, grain
    and period.

    A quarter or year is *complete* only when every month it takes lies within its metric's
    span (:func:`is_complete`): a year from April alone is April's figure, marked incomplete.
    """
    populations = area_populations(definitions, population)
    formulas = {
        (d.id, code): formula(d, area) for d in definitions for code, area in populations.items()
    }
    cells = _monthly_cells(counts.tallies, formulas)
    values: list[MetricValue] = []
    for definition in definitions:
        span = counts.months.get(definition.id)
        if span is None:
            continue
        periods = _year_from_its_months(definition, _periods(months_between(*span)))
        whole = {
            p: is_complete(months_taken(definition, grain, p), span) for grain, p, _ in periods
        }
        for code in populations:
            found = formulas[(definition.id, code)]
            if found is not None:
                series = cells.get((definition.id, code), {})
                values += _values(definition, code, found, periods, series, whole)
    values.sort(key=_order)
    return values


def _monthly_cells(
    tallies: Mapping[CountKey, Tally], formulas: Mapping[tuple[str, str], Formula | None]
) -> dict[tuple[str, str], dict[dt.date, _Cell]]:
    """Each metric's and area's counts by month, weighted by band where standardised.

    Counts for areas outside the population (or where the value is undefined) have no
    formula and are left out.
    """
    cells: dict[tuple[str, str], dict[dt.date, _Cell]] = defaultdict(dict)
    for key, tally in tallies.items():
        found = formulas.get((key.metric, key.area_code))
        if found is None:
            continue
        series = cells[(key.metric, key.area_code)]
        old = series.get(key.month, _Cell(0, 0, 0))
        series[key.month] = _Cell(
            old.events + tally.numerator,
            old.weighted + found.weighted(tally),
            old.denominator + tally.denominator,
        )
    return cells


def _periods(months: list[dt.date]) -> list[tuple[Grain, str, list[dt.date]]]:
    """Every month, quarter and year the months make up, with the months in each."""
    periods: dict[tuple[Grain, str], list[dt.date]] = {}
    for grain, label in _GRAINS:
        for month in months:
            periods.setdefault((grain, label(month)), []).append(month)
    return [(grain, label, inside) for (grain, label), inside in periods.items()]


def _year_from_its_months(
    definition: MetricDefinition, periods: list[tuple[Grain, str, list[dt.date]]]
) -> list[tuple[Grain, str, list[dt.date]]]:
    """The periods, each year keeping only the months its definition's year value takes.

    A year none of whose chosen months has data yet gets no value (rather than a zero
    from no months), as a month outside the data gets none.
    """
    if not definition.year_months:
        return periods
    kept = []
    for grain, label, months in periods:
        if grain is Grain.YEAR:
            months = [month for month in months if month.month in definition.year_months]
            if not months:
                continue
        kept.append((grain, label, months))
    return kept


def months_taken(definition: MetricDefinition, grain: Grain, period: str) -> list[dt.date]:
    """The months whose events make up a period's value: all of :func:`months_of`, but
    only a year's ``year_months`` when its definition names them."""
    months = months_of(grain, period)
    if grain is Grain.YEAR and definition.year_months:
        return [month for month in months if month.month in definition.year_months]
    return months


def months_of(grain: Grain, period: str) -> list[dt.date]:
    """The first day of every month a period takes: a month's one, a quarter's three, a
    financial year's twelve."""
    if grain is Grain.MONTH:
        return [month_start(period)]
    whole = parse_quarter(period).period if grain is Grain.QUARTER else year_period(period)
    return months_between(whole.start, whole.end)


def is_complete(wanted: Iterable[dt.date], span: tuple[dt.date, dt.date]) -> bool:
    """Whether a period's value is whole: every month it takes (``wanted``) lies within the
    span of months its metric's records cover, first to last.

    A month always is. A quarter or year is not when the data begin or end part-way through
    it; a value over a year that takes only some of its months is whole when those are in.
    """
    first, last = span
    return all(first <= month <= last for month in wanted)


def _values(
    definition: MetricDefinition,
    area_code: str,
    found: Formula,
    periods: list[tuple[Grain, str, list[dt.date]]],
    series: Mapping[dt.date, _Cell],
    whole: Mapping[str, bool],
) -> list[MetricValue]:
    values = []
    nothing = _Cell(0, 0, 0)
    for grain, period, months in periods:
        cells = [series.get(month, nothing) for month in months]
        events = sum(cell.events for cell in cells)
        weighted = sum(cell.weighted for cell in cells)
        denominator = sum(cell.denominator for cell in cells)
        divisor = denominator if found.divisor is None else found.divisor
        if divisor == 0:
            continue
        values.append(
            MetricValue(
                metric=definition.id,
                definition_version=definition.version,
                area_code=area_code,
                period=period,
                grain=grain,
                numerator=events,
                denominator=denominator if found.divisor is None else found.reported,
                value=round_half_even(found.scale * weighted, divisor, definition.decimal_places),
                complete=whole[period],
            )
        )
    return values


def _order(value: MetricValue) -> tuple[str, str, int, str]:
    return (value.metric, value.area_code, _GRAIN_ORDER[value.grain], value.period)


def _check_unique(definitions: Sequence[MetricDefinition]) -> None:
    seen: set[str] = set()
    for definition in definitions:
        if definition.id in seen:
            raise MetricError(f"metric {definition.id!r} is given more than once")
        seen.add(definition.id)


def round_half_even(numerator: int, denominator: int, places: int) -> Decimal:
    """``numerator / denominator`` rounded to ``places`` decimal places, ties to even.

    Whole-number arithmetic throughout, so no figure is ever rounded twice or through a
    binary float: 0.25 to one place is 0.2, 0.35 is 0.4.
    """
    quotient, remainder = divmod(numerator * 10**places, denominator)
    if 2 * remainder > denominator or (2 * remainder == denominator and quotient % 2):
        quotient += 1
    return Decimal(quotient).scaleb(-places)
