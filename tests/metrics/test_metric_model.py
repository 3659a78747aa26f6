"""The metric model: definitions check themselves, and finalise does exact arithmetic.

These tests hand :func:`finalise` counts directly, as an engine would, so the arithmetic
(rounding, roll-ups, standardisation) and the checks on definitions and populations are
tested on their own.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from metric_tables import bands, shown, single_years

from carepool.domain.direction import Direction
from carepool.domain.errors import CarepoolError
from carepool.domain.geography import PopulationCount
from carepool.domain.metric import (
    AnyDiagnosisIn,
    AnyOf,
    CountEvents,
    CountKey,
    DiagnosisIn,
    EventCounts,
    InRange,
    Measure,
    MetricDefinition,
    MetricError,
    NoDiagnosisIn,
    NoneOf,
    OneOf,
    Population,
    SumOf,
    Tally,
    aged,
    area_populations,
    finalise,
    is_complete,
    months_of,
    population_gaps,
    require_some_population,
    round_half_even,
)
from carepool.domain.metric_catalogue import (
    FALLS_ADMISSIONS_65_PLUS,
    NON_ELECTIVE_ADMISSIONS,
    REABLEMENT_91_DAYS,
)
from carepool.domain.metric_value import Grain
from carepool.domain.periods import month_label, months_between, quarter_label, year_label
from carepool.domain.person_level import REABLEMENT, SPELLS

APRIL, MAY, JUNE = dt.date(2015, 4, 1), dt.date(2015, 5, 1), dt.date(2015, 6, 1)
SEPTEMBER, OCTOBER, DECEMBER = dt.date(2015, 9, 1), dt.date(2015, 10, 1), dt.date(2015, 12, 1)
JANUARY = dt.date(2016, 1, 1)


def counts(metric: str, *cells: tuple[dt.date, Tally], area: str = "E1") -> EventCounts:
    months = [month for month, _ in cells]
    return EventCounts(
        {CountKey(metric, area, month): tally for month, tally in cells},
        {metric: (min(months), max(months))},
    )


def spells_metric(**changes: object) -> MetricDefinition:
    """A valid rate of emergency admissions aged 65+, with ``changes`` made to it."""
    fields: dict[str, object] = {
        "id": "test_metric",
        "version": 1,
        "name": "Test metric",
        "description": "Emergency admissions of people aged 65+ per 100,000 aged 65+.",
        "record_kind": SPELLS,
        "event_date": "admission_date",
        "where": (OneOf("admission_method", ("non_elective",)), aged(65)),
        "numerator": CountEvents(),
        "denominator": Population(65),
        "measure": Measure.RATE_PER_100000,
        "direction": Direction.LOWER_IS_BETTER,
        "decimal_places": 1,
    }
    fields.update(changes)
    return MetricDefinition(**fields)  # type: ignore[arg-type]


# Rounding ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numerator", "denominator", "places", "rounded"),
    [
        (1, 4, 1, "0.2"),  # 0.25: a tie goes to the even digit
        (7, 20, 1, "0.4"),  # 0.35
        (1, 3, 1, "0.3"),
        (2, 3, 1, "0.7"),
        (5, 2, 0, "2"),  # 2.5
        (7, 2, 0, "4"),  # 3.5
        (0, 9, 1, "0.0"),
        (100_000, 7300, 1, "13.7"),
    ],
)
def test_values_are_rounded_half_to_even(
    numerator: int, denominator: int, places: int, rounded: str
) -> None:
    assert str(round_half_even(numerator, denominator, places)) == rounded


@given(st.integers(0, 10**12), st.integers(1, 10**9), st.integers(0, 4))
def test_rounding_is_exact_for_any_fraction(numerator: int, denominator: int, places: int) -> None:
    exact = Fraction(numerator, denominator)
    assert round_half_even(numerator, denominator, places) == Decimal(
        round(exact * 10**places)
    ).scaleb(-places)


# Periods -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("month", "labels"),
    [
        (dt.date(2015, 4, 1), ("2015-04", "2015-16 Q1", "2015-16")),
        (dt.date(2015, 9, 1), ("2015-09", "2015-16 Q2", "2015-16")),
        (dt.date(2015, 12, 1), ("2015-12", "2015-16 Q3", "2015-16")),
        (dt.date(2016, 3, 1), ("2016-03", "2015-16 Q4", "2015-16")),
        (dt.date(1999, 4, 1), ("1999-04", "1999-00 Q1", "1999-00")),
    ],
)
def test_financial_periods_start_in_april(month: dt.date, labels: tuple[str, str, str]) -> None:
    assert (month_label(month), quarter_label(month), year_label(month)) == labels


def test_months_between_runs_over_the_turn_of_the_year() -> None:
    assert [month_label(m) for m in months_between(dt.date(2015, 11, 17), dt.date(2016, 2, 3))] == [
        "2015-11",
        "2015-12",
        "2016-01",
        "2016-02",
    ]


# Finalising ----------------------------------------------------------------------------------


def test_a_quarter_adds_up_its_months_counts_and_never_averages_their_values() -> None:
    """April is 1 of 1 at home (100%) and June 1 of 3 (33.3%): the quarter is 2 of 4,
    50.0%, not the average of the months' percentages (66.7%). The year of this metric
    takes October to December only, none of which has data yet, so it has no value."""
    found = counts("reablement_91_days", (APRIL, Tally(1, 1)), (JUNE, Tally(1, 3)))
    values = finalise([REABLEMENT_91_DAYS], found, single_years("E1"))
    assert shown(values, "reablement_91_days", "E1") == [
        ("2015-04", "1", "1", "100.0"),
        ("2015-06", "1", "3", "33.3"),
        ("2015-16 Q1", "2", "4", "50.0"),
    ]


def test_a_year_made_of_some_months_adds_up_only_those() -> None:
    """ASCOF 2B(1) measures the year by discharges from October to December: September's
    and January's discharges are in their months and quarters but not in the year, which
    is October's 1 of 1 with December's 1 of 3, 2 of 4."""
    found = counts(
        "reablement_91_days",
        (SEPTEMBER, Tally(1, 1)),
        (OCTOBER, Tally(1, 1)),
        (DECEMBER, Tally(1, 3)),
        (JANUARY, Tally(0, 2)),
    )
    values = finalise([REABLEMENT_91_DAYS], found, single_years("E1"))
    assert [
        v for v in shown(values, "reablement_91_days", "E1") if "Q" in v[0] or "-16" in v[0]
    ] == [
        ("2015-16 Q2", "1", "1", "100.0"),
        ("2015-16 Q3", "2", "4", "50.0"),
        ("2015-16 Q4", "0", "2", "0.0"),
        ("2015-16", "2", "4", "50.0"),
    ]


def test_a_year_of_every_month_is_the_default() -> None:
    found = counts("test_metric", (SEPTEMBER, Tally(1)), (JANUARY, Tally(2)))
    values = finalise([spells_metric()], found, single_years("E1"))
    assert shown(values, "test_metric", "E1")[-1] == ("2015-16", "3", "2600", "115.4")


# Complete periods ----------------------------------------------------------------------------


def periods(first: dt.date, last: dt.date) -> dict[str, bool]:
    """Each period's completeness when an area's records run from ``first`` to ``last``
    (emergency admissions, a count, so every month between has a value)."""
    found = counts("non_elective_admissions", (first, Tally(1)), (last, Tally(1)), area="E1")
    values = finalise([NON_ELECTIVE_ADMISSIONS], found, single_years("E1"))
    return {v.period: v.complete for v in values if v.area_code == "E1"}


def incomplete(first: dt.date, last: dt.date) -> list[str]:
    return [period for period, complete in periods(first, last).items() if not complete]


def test_a_year_from_april_alone_is_april_and_not_the_year() -> None:
    april = dt.date(2016, 4, 1)
    assert periods(april, april) == {"2016-04": True, "2016-17 Q1": False, "2016-17": False}


def test_a_quarter_is_complete_when_its_three_months_are_in_the_span() -> None:
    assert periods(APRIL, JUNE) == {
        "2015-04": True, "2015-05": True, "2015-06": True, "2015-16 Q1": True, "2015-16": False,
    }  # fmt: skip


def test_a_span_from_may_to_march_leaves_the_first_quarter_and_the_year_incomplete() -> None:
    assert incomplete(MAY, dt.date(2016, 3, 1)) == ["2015-16 Q1", "2015-16"]


def test_a_year_is_complete_from_april_to_march_even_with_months_of_no_events() -> None:
    """Completeness is the span of the kind's records, not of the metric's events: months
    with none between the first and last are zeros, not gaps."""
    found = periods(APRIL, dt.date(2016, 3, 1))
    assert len(found) == 12 + 4 + 1
    assert all(found.values())


def test_a_span_from_october_to_may_leaves_both_years_incomplete_but_whole_quarters_not() -> None:
    found = periods(dt.date(2015, 10, 1), dt.date(2016, 5, 1))
    assert [p for p, complete in found.items() if not complete] == [
        "2016-17 Q1",
        "2015-16",
        "2016-17",
    ]
    assert found["2015-16 Q3"] and found["2015-16 Q4"]


def test_a_span_ending_part_way_through_a_quarter_leaves_that_quarter_incomplete() -> None:
    assert incomplete(APRIL, dt.date(2015, 11, 1)) == ["2015-16 Q3", "2015-16"]


@pytest.mark.parametrize(
    ("grain", "period", "months"),
    [
        (Grain.MONTH, "2016-04", ["2016-04"]),
        (Grain.QUARTER, "2015-16 Q4", ["2016-01", "2016-02", "2016-03"]),
        (
            Grain.YEAR,
            "2011-12",
            [f"2011-{m:02d}" for m in range(4, 13)] + ["2012-01", "2012-02", "2012-03"],
        ),
        (Grain.MONTH, "2011-12", ["2011-12"]),  # December 2011: the grain says which
    ],
)
def test_each_grain_takes_its_months(grain: Grain, period: str, months: list[str]) -> None:
    assert [month_label(m) for m in months_of(grain, period)] == months


def test_a_period_taking_only_some_months_is_complete_when_those_are_in_the_span() -> None:
    """A year-value over October to December (as some measures are) needs only those."""
    autumn = months_between(dt.date(2015, 10, 1), dt.date(2015, 12, 1))
    assert is_complete(autumn, (dt.date(2015, 4, 1), dt.date(2015, 12, 1)))
    assert not is_complete(autumn, (dt.date(2015, 4, 1), dt.date(2015, 11, 1)))
    assert not is_complete(months_of(Grain.YEAR, "2015-16"), (APRIL, dt.date(2015, 12, 1)))


def test_a_reablement_year_is_complete_when_october_to_december_are_in_the_span() -> None:
    """ASCOF 2B(1)'s year takes October to December: data from April to December make it
    whole, while the fourth quarter, with no data yet, has no value at all."""
    found = counts("reablement_91_days", (APRIL, Tally(1, 1)), (DECEMBER, Tally(1, 2)))
    values = finalise([REABLEMENT_91_DAYS], found, single_years("E1"))
    years = [
        (v.period, v.numerator, v.denominator, v.complete) for v in values if v.grain is Grain.YEAR
    ]
    assert years == [("2015-16", 1, 2, True)]


def test_a_standardised_rate_worked_by_hand() -> None:
    """Falls aged 65+ in an area with these residents and falls:

    ======  =========  =====  ==========  =======================
    band    residents  falls  ESP weight  weight × falls / people
    ======  =========  =====  ==========  =======================
    65-69   2,000      4      5,500       11
    70-74   1,500      0      5,000       0
    75-79   1,000      3      4,000       12
    80-84   800        0      2,500       0
    85-89   400        0      1,500       0
    90+     100        1      1,000       10
    ======  =========  =====  ==========  =======================

    The weights add up to 19,500, so the rate is 33 / 19,500 × 100,000 = 169.23… → 169.2
    per 100,000, against a crude rate of 8 / 5,800 × 100,000 = 137.9.
    """
    population = bands(
        "E1",
        (0, 64, 50_000),
        (65, 69, 2000),
        (70, 74, 1500),
        (75, 79, 1000),
        (80, 84, 800),
        (85, 89, 400),
        (90, None, 100),
    )
    found = counts("falls_admissions_65_plus", (APRIL, Tally(8, 0, (4, 0, 3, 0, 0, 1))))
    values = finalise([FALLS_ADMISSIONS_65_PLUS], found, population)
    assert shown(values, "falls_admissions_65_plus", "E1")[0] == ("2015-04", "8", "5800", "169.2")


def test_a_standardised_rate_of_a_quarter_weights_the_months_added_up() -> None:
    """Two months with 1 fall each at 65-69 (1/500 × 5,500 each): the quarter is 2/500 ×
    5,500 / 19,500 × 100,000 = 112.8, the same as weighting the added-up counts."""
    found = counts(
        "falls_admissions_65_plus",
        (APRIL, Tally(1, 0, (1, 0, 0, 0, 0, 0))),
        (MAY, Tally(1, 0, (1, 0, 0, 0, 0, 0))),
    )
    values = finalise([FALLS_ADMISSIONS_65_PLUS], found, single_years("E1"))
    assert [line[-1] for line in shown(values, "falls_admissions_65_plus", "E1")] == [
        "56.4",
        "56.4",
        "112.8",
        "112.8",
    ]


def test_a_standardised_rate_is_undefined_where_a_band_has_no_residents() -> None:
    population = [
        PopulationCount("E1", "E1", age, None if age == 90 else age, 0 if age >= 90 else 10)
        for age in range(91)
    ]
    found = counts("falls_admissions_65_plus", (APRIL, Tally(1, 0, (1, 0, 0, 0, 0, 0))))
    assert finalise([FALLS_ADMISSIONS_65_PLUS], found, population) == []


def test_band_counts_must_add_up_to_the_numerator() -> None:
    found = counts("falls_admissions_65_plus", (APRIL, Tally(2, 0, (1, 0, 0, 0, 0, 0))))
    with pytest.raises(ValueError, match="do not split 2"):
        finalise([FALLS_ADMISSIONS_65_PLUS], found, single_years("E1"))


def test_counts_for_areas_outside_the_population_are_left_out() -> None:
    found = counts("reablement_91_days", (APRIL, Tally(1, 1)), area="E9")
    values = finalise([REABLEMENT_91_DAYS], found, single_years("E1"))
    assert values == []  # E1 has no discharges, so no percentage; E9 is not an area


def test_a_metric_given_twice_is_refused() -> None:
    with pytest.raises(MetricError, match="'reablement_91_days' is given more than once"):
        finalise([REABLEMENT_91_DAYS, REABLEMENT_91_DAYS], EventCounts({}, {}), single_years())


# Populations ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("population", "message", "served"),
    [
        (
            bands("E1", (0, 17, 10), (18, 64, 10), (65, None, 5)),
            "falls_admissions_65_plus: the population of E1 is too coarse to standardise: "
            "ages 65-69",
            {"adults"},
        ),
        (
            bands("E1", (0, 19, 10), (20, None, 5)),
            "adults: E1: ages 18+ cannot be taken exactly",
            set(),
        ),
        (bands("E1", (0, 17, 10), (20, None, 5)), "leave a gap at age 18", set()),
        (bands("E1", (0, 20, 10), (18, None, 5)), "overlap at age 21", set()),
        (bands("E1", (0, 17, 10), (18, 99, 5)), "no open-ended oldest band", set()),
        (bands("E1", (5, None, 10)), "leave a gap at age 0", set()),
        (bands("E1", (0, 17, -1), (18, None, 5)), "negative number of persons", set()),
    ],
)
def test_what_a_population_cannot_serve_is_named_and_the_rest_is_computed(
    population: list[PopulationCount], message: str, served: set[str]
) -> None:
    metrics = [
        FALLS_ADMISSIONS_65_PLUS,
        spells_metric(id="adults", where=(aged(18),), denominator=Population(18)),
    ]
    gaps = population_gaps(metrics, area_populations(metrics, population))
    assert any(message in str(gap.problem()) for gap in gaps), gaps
    assert {gap.area_code for gap in gaps} == {"E1"}
    counts = EventCounts({}, {m.id: (dt.date(2015, 4, 1), dt.date(2015, 4, 1)) for m in metrics})
    assert {value.metric for value in finalise(metrics, counts, population)} == served


def test_a_population_that_serves_no_metric_anywhere_is_refused_naming_every_area() -> None:
    population = bands("E1", (0, 64, 10), (65, None, 5)) + bands("E2", (0, 64, 10), (65, None, 5))
    with pytest.raises(MetricError, match="cannot be used for these metrics") as raised:
        require_some_population([FALLS_ADMISSIONS_65_PLUS], population)
    assert [problem.key for problem in raised.value.problems] == ["E1", "E2"]


# Definitions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id": "Test-Metric"}, "lower_snake_case"),
        ({"version": 0}, "versions start at 1"),
        ({"description": " "}, "a name and a description"),
        ({"event_date": "age"}, "'age' is not a date column of spells"),
        (
            {"where": (OneOf("admission_method", ("emergency",)), aged(65))},
            "'emergency' is not a value",
        ),
        ({"where": (OneOf("nhs_number", ("x",)), aged(65))}, "'nhs_number' is not a text column"),
        ({"where": (InRange("sex", 1), aged(65))}, "'sex' is not a integer column"),
        ({"numerator": SumOf("admission_method")}, "not a whole-number column"),
        ({"where": (aged(18),)}, "counts only events aged 65+: add aged(65) to where"),
        ({"denominator": CountEvents()}, "a rate per 100,000 divides by a population"),
        ({"measure": Measure.COUNT}, "a count is a whole number"),
        ({"measure": Measure.PERCENTAGE}, "a percentage counts events over events"),
        ({"age_standardised": True, "measure": Measure.COUNT, "decimal_places": 0}, "only a rate"),
        (
            {"age_standardised": True, "denominator": Population(67), "where": (aged(67),)},
            "must start at the start of an ESP 2013 band",
        ),
        ({"year_months": (0, 10)}, "distinct calendar months, 1 to 12"),
        ({"year_months": (10, 10)}, "distinct calendar months, 1 to 12"),
        (
            {"where": (aged(65), DiagnosisIn("secondary_diagnoses", ("W00",)))},
            "'secondary_diagnoses' holds a list: use AnyDiagnosisIn or NoDiagnosisIn",
        ),
        (
            {"where": (aged(65), AnyDiagnosisIn("primary_diagnosis", ("W00",)))},
            "'primary_diagnosis' holds one value: use DiagnosisIn",
        ),
        (
            {"where": (aged(65), AnyOf(((aged(70),), (OneOf("sex", ("X",)),))))},
            "'X' is not a value of sex",
        ),
    ],
)
def test_an_invalid_definition_is_refused_with_what_is_wrong(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(MetricError, match=r"^metric definition '.*' is not valid") as raised:
        spells_metric(**changes)
    assert any(message in problem.message for problem in raised.value.problems), [
        problem.message for problem in raised.value.problems
    ]


def test_every_fault_of_a_definition_is_reported_together() -> None:
    with pytest.raises(MetricError) as raised:
        spells_metric(version=0, event_date="sex", decimal_places=9)
    assert {problem.key for problem in raised.value.problems} == {
        "test_metric.version",
        "test_metric.event_date",
        "test_metric.decimal_places",
    }


def test_a_percentage_numerator_must_be_among_its_denominator() -> None:
    alive = NoneOf("status_91_days", ("died",))
    with pytest.raises(MetricError) as raised:
        MetricDefinition(
            id="at_home",
            version=1,
            name="At home",
            description="At home, of those alive.",
            record_kind=REABLEMENT,
            event_date="discharge_date",
            where=(),
            numerator=CountEvents(where=(OneOf("status_91_days", ("at_home",)),)),
            denominator=CountEvents(where=(alive,)),
            measure=Measure.PERCENTAGE,
            direction=Direction.HIGHER_IS_BETTER,
            decimal_places=1,
        )
    assert "must be among the denominator's events" in str(raised.value)


@pytest.mark.parametrize(
    ("codes", "prefixes"),
    [
        (("J45",), ("J45",)),
        (("I24.0", "I240"), ("I240",)),
        (("W00-W03",), ("W00", "W01", "W02", "W03")),
        (("E10.0-E10.2",), ("E100", "E101", "E102")),
        (("I24", "I24.0"), ("I24",)),  # I24 already covers I24.0
    ],
)
def test_diagnosis_codes_become_prefixes(codes: tuple[str, ...], prefixes: tuple[str, ...]) -> None:
    assert DiagnosisIn("primary_diagnosis", codes).prefixes == prefixes


@pytest.mark.parametrize(
    ("codes", "message"),
    [
        ((), "needs at least one code"),
        (("J4",), "'J4' is not an ICD-10 code"),
        (("j45",), "'j45' is not an ICD-10 code"),
        (("W19-W00",), "must run forwards"),
        (("W00-X19",), "two codes of one letter and length"),
    ],
)
def test_bad_diagnosis_codes_are_refused(codes: tuple[str, ...], message: str) -> None:
    with pytest.raises(MetricError, match=message):
        DiagnosisIn("primary_diagnosis", codes)


def test_list_conditions_read_codes_as_diagnosis_conditions_do() -> None:
    assert AnyDiagnosisIn("secondary_diagnoses", ("J41-J44", "J47")).prefixes == (
        "J41",
        "J42",
        "J43",
        "J44",
        "J47",
    )
    assert NoDiagnosisIn("secondary_diagnoses", ("D57.0", "D57")).prefixes == ("D57",)
    with pytest.raises(MetricError, match="'d57' is not an ICD-10 code"):
        NoDiagnosisIn("secondary_diagnoses", ("d57",))


def test_alternatives_are_two_or_more_groups_of_plain_conditions() -> None:
    with pytest.raises(MetricError, match="two or more alternatives"):
        AnyOf(((aged(65),),))
    with pytest.raises(MetricError, match="two or more alternatives"):
        AnyOf(((aged(65),), ()))
    inner = AnyOf(((aged(65),), (aged(18),)))
    with pytest.raises(MetricError, match="cannot hold another AnyOf"):
        AnyOf(((aged(65),), (inner,)))  # type: ignore[arg-type]


def test_other_conditions_check_themselves() -> None:
    with pytest.raises(MetricError, match="ends \\(17\\) before it starts \\(65\\)"):
        InRange("age", 65, 17)
    with pytest.raises(MetricError, match="at least one value"):
        OneOf("funding", ())
    with pytest.raises(MetricError, match="are not a range"):
        Population(65, 18)


def test_a_definition_names_the_columns_an_engine_must_read() -> None:
    assert FALLS_ADMISSIONS_65_PLUS.columns == (
        "admission_method",
        "age",
        "primary_diagnosis",
        "secondary_diagnoses",
    )


def test_carepool_errors_carry_the_problems() -> None:
    with pytest.raises(CarepoolError) as raised:
        spells_metric(version=0)
    assert "test_metric.version" in str(raised.value)
