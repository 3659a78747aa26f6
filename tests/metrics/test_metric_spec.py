"""What each metric computes, shown on small tables and checked on every engine.

Each test is a paragraph of the metrics' documentation: the rule, the records it is shown
on, and the values every engine must give for them. Unless a test says otherwise, area E1
has 100 residents at every age: 9,100 in all, 7,300 aged 18+, 2,600 aged 65+, 500 in each
5-year band to 85-89 and 100 aged 90+.
"""

from __future__ import annotations

from pathlib import Path

from metric_tables import Run, bands, expected, rows, shown, single_years

from carepool.domain.metric_catalogue import (
    AVOIDABLE_ADMISSIONS,
    CARE_HOME_ADMISSIONS_65_PLUS,
    DISCHARGE_TO_USUAL_RESIDENCE,
    FALLS_ADMISSIONS_65_PLUS,
    NON_ELECTIVE_ADMISSIONS,
    NON_ELECTIVE_ADMISSIONS_RATE,
    PATIENT_EXPERIENCE,
    REABLEMENT_91_DAYS,
    catalogue,
    definition,
)
from carepool.domain.person_level import SPELLS
from carepool.engines.data_directory import write_records

E1 = single_years("E1")
DELAYED_DAYS = [d for d in catalogue() if d.id.startswith("delayed_transfers_of_care")]


def test_non_elective_admissions_count_emergency_spells_in_their_admission_month(
    run: Run,
) -> None:
    """Only non-elective (emergency) spells count, in the month of admission, whatever the
    discharge date. The value is the count itself, with the all-ages population beside it.
    A month without admissions between two with them is a zero, not a gap."""
    values = run(
        [NON_ELECTIVE_ADMISSIONS],
        E1,
        spells="""
        admission_date | discharge_date | admission_method | area_code
        2015-04-30     | 2015-05-02     | non_elective     | E1
        2015-04-01     | 2015-04-01     | elective         | E1  # planned: not counted
        2015-04-11     | 2015-04-12     | maternity        | E1  # not counted
        2015-06-15     | 2015-06-20     | non_elective     | E1
        """,
    )
    assert shown(values, "non_elective_admissions", "E1") == expected("""
        period     | numerator | denominator | value
        2015-04    | 1         | 9100        | 1
        2015-05    | 0         | 9100        | 0
        2015-06    | 1         | 9100        | 1
        2015-16 Q1 | 2         | 9100        | 2
        2015-16    | 2         | 9100        | 2
    """)


def test_non_elective_admissions_are_also_a_rate_per_100000_of_all_ages(run: Run) -> None:
    """The 2015-16 planning guidance gives emergency admissions as a count and as a rate
    per 100,000 residents of all ages (not age-standardised): the same spells as the
    count, over the 9,100 residents. Two in April are 21.978… → 22.0; three in the quarter
    32.967… → 33.0."""
    values = run(
        [NON_ELECTIVE_ADMISSIONS, NON_ELECTIVE_ADMISSIONS_RATE],
        E1,
        spells="""
        admission_date | admission_method | age | area_code
        2015-04-01     | non_elective     | 0   | E1
        2015-04-30     | non_elective     | 101 | E1
        2015-04-15     | elective         | 40  | E1  # planned: not counted
        2015-06-30     | non_elective     | 30  | E1
        """,
    )
    assert shown(values, "non_elective_admissions_rate", "E1") == expected("""
        period     | numerator | denominator | value
        2015-04    | 2         | 9100        | 22.0
        2015-05    | 0         | 9100        | 0.0
        2015-06    | 1         | 9100        | 11.0
        2015-16 Q1 | 3         | 9100        | 33.0
        2015-16    | 3         | 9100        | 33.0
    """)
    counted = [line[1] for line in shown(values, "non_elective_admissions", "E1")]
    assert counted == ["2", "0", "1", "3", "3"]


def test_periods_are_financial_quarters_and_years_from_april(run: Run) -> None:
    """March belongs to the fourth quarter of the financial year that began the April
    before; April starts a new financial year."""
    values = run(
        [NON_ELECTIVE_ADMISSIONS],
        E1,
        spells="""
        admission_date | admission_method | area_code
        2016-03-31     | non_elective     | E1
        2016-04-01     | non_elective     | E1
        2016-04-02     | non_elective     | E1
        """,
    )
    assert shown(values, "non_elective_admissions", "E1") == expected("""
        period     | numerator | denominator | value
        2016-03    | 1         | 9100        | 1
        2016-04    | 2         | 9100        | 2
        2015-16 Q4 | 1         | 9100        | 1
        2016-17 Q1 | 2         | 9100        | 2
        2015-16    | 1         | 9100        | 1
        2016-17    | 2         | 9100        | 2
    """)


def test_every_area_in_the_population_gets_values_and_no_other_area_does(run: Run) -> None:
    """An area of the population with no events gets zeros for every month the record kind
    spans; events of an area outside the population (E9), or with no area, are not counted
    for any area, although they still extend the months."""
    values = run(
        [NON_ELECTIVE_ADMISSIONS],
        single_years("E1") + single_years("E2", per_age=10),
        spells="""
        admission_date | admission_method | area_code
        2015-04-03     | non_elective     | E1
        2015-05-03     | non_elective     | E9
        2015-06-03     | non_elective     |
        """,
    )
    assert shown(values, "non_elective_admissions") == expected("""
        area | period     | numerator | denominator | value
        E1   | 2015-04    | 1         | 9100        | 1
        E1   | 2015-05    | 0         | 9100        | 0
        E1   | 2015-06    | 0         | 9100        | 0
        E1   | 2015-16 Q1 | 1         | 9100        | 1
        E1   | 2015-16    | 1         | 9100        | 1
        E2   | 2015-04    | 0         | 910         | 0
        E2   | 2015-05    | 0         | 910         | 0
        E2   | 2015-06    | 0         | 910         | 0
        E2   | 2015-16 Q1 | 0         | 910         | 0
        E2   | 2015-16    | 0         | 910         | 0
    """)


def test_a_kind_with_no_records_gives_its_metrics_no_values(run: Run) -> None:
    """With no reablement records at all there is no month to report, so the metric has no
    values, while the spells' metric is reported as usual."""
    values = run(
        [NON_ELECTIVE_ADMISSIONS, REABLEMENT_91_DAYS],
        E1,
        spells="""
        admission_date | admission_method | area_code
        2015-04-03     | non_elective     | E1
        """,
    )
    assert shown(values, "reablement_91_days") == []
    assert len(shown(values, "non_elective_admissions")) == 3


def test_delayed_days_per_100000_adults_and_the_split_by_responsible_organisation(
    run: Run,
) -> None:
    """Delayed days of patients aged 18+ are summed in the month they fell in and divided
    by the residents aged 18+ (7,300), per 100,000. The splits by responsible organisation
    take only their own days, so together they add up to the total."""
    values = run(
        DELAYED_DAYS,
        E1,
        delays="""
        month      | responsible | delayed_days | age | area_code
        2015-04-01 | nhs         | 10           | 80  | E1
        2015-04-01 | social_care | 5            | 40  | E1
        2015-04-01 | nhs         | 7            | 17  | E1  # under 18: not counted
        2015-05-01 | both        | 3            | 18  | E1
        """,
    )
    assert shown(values, "delayed_transfers_of_care", "E1") == expected("""
        period     | numerator | denominator | value
        2015-04    | 15        | 7300        | 205.5
        2015-05    | 3         | 7300        | 41.1
        2015-16 Q1 | 18        | 7300        | 246.6
        2015-16    | 18        | 7300        | 246.6
    """)
    assert shown(values, "delayed_transfers_of_care_nhs", "E1") == expected("""
        period     | numerator | denominator | value
        2015-04    | 10        | 7300        | 137.0
        2015-05    | 0         | 7300        | 0.0
        2015-16 Q1 | 10        | 7300        | 137.0
        2015-16    | 10        | 7300        | 137.0
    """)
    assert shown(values, "delayed_transfers_of_care_social_care", "E1")[0][1:] == (
        "5",
        "7300",
        "68.5",
    )
    assert shown(values, "delayed_transfers_of_care_both", "E1")[1][1:] == ("3", "7300", "41.1")


def test_rates_round_half_to_even(run: Run) -> None:
    """With 80,000 residents aged 18+, each delayed day is exactly 1.25 per 100,000: one day
    rounds down to 1.2 and three days (3.75) up to 3.8, ties going to the even digit."""
    values = run(
        [definition("delayed_transfers_of_care")],
        bands("E1", (0, 17, 1000), (18, 64, 60000), (65, None, 20000)),
        delays="""
        month      | responsible | delayed_days | age | area_code
        2015-04-01 | nhs         | 1            | 30  | E1
        2015-05-01 | nhs         | 3            | 30  | E1
        """,
    )
    assert [line[-1] for line in shown(values, "delayed_transfers_of_care", "E1")] == [
        "1.2",
        "3.8",
        "5.0",
        "5.0",
    ]


def test_care_home_admissions_65_plus_count_council_supported_placements(run: Run) -> None:
    """ASCOF 2A(2) (2C from 2023-24): permanent admissions of people aged 65+ funded by the
    council, alone or jointly with the NHS, per 100,000 residents aged 65+ (2,600).
    Self-funders and placements funded wholly by the NHS are not counted, and neither is
    a move from a permanent place in one care home to another, residential to nursing or
    back: that is a transfer, not a new admission. A move from a hospital, or from where
    the person lived before not being known, counts."""
    values = run(
        [CARE_HOME_ADMISSIONS_65_PLUS],
        E1,
        care_home_admissions="""
        admission_date | setting     | funding | previous_setting | age | area_code
        2015-04-10     | residential | council | community        | 65  | E1
        2015-04-20     | nursing     | joint   | hospital         | 90  | E1
        2015-04-21     | nursing     | self    | community        | 80  | E1  # self-funded
        2015-04-22     | nursing     | council | residential      | 80  | E1  # a transfer
        2015-04-23     | residential | council | nursing          | 81  | E1  # a transfer
        2015-04-24     | nursing     | council | not_known        | 75  | E1
        2015-05-02     | residential | nhs     | community        | 70  | E1  # NHS-funded
        2015-05-03     | residential | council | community        | 64  | E1  # under 65
        """,
    )
    assert shown(values, "care_home_admissions_65_plus", "E1") == expected("""
        period     | numerator | denominator | value
        2015-04    | 3         | 2600        | 115.4
        2015-05    | 0         | 2600        | 0.0
        2015-16 Q1 | 3         | 2600        | 115.4
        2015-16    | 3         | 2600        | 115.4
    """)


def test_reablement_keeps_deaths_in_the_denominator(run: Run) -> None:
    """ASCOF 2B(1) (SALT STS004): of people aged 65+ discharged from hospital into
    reablement, the percentage at home 91 days later, by month of discharge. A death
    stays in the denominator, as does anyone in a care home, in hospital or not known. May
    has no one aged 65+, so its percentage is undefined and left out; the quarter adds up
    its months' counts. The year takes October to December only, so these discharges
    give it no value."""
    values = run(
        [REABLEMENT_91_DAYS],
        E1,
        reablement="""
        discharge_date | status_91_days | age | area_code
        2015-04-01     | at_home        | 70  | E1
        2015-04-15     | died           | 80  | E1
        2015-04-30     | in_care_home   | 90  | E1
        2015-05-05     | at_home        | 64  | E1  # under 65
        2015-06-01     | not_known      | 66  | E1
        2015-06-02     | at_home        | 67  | E1
        """,
    )
    assert shown(values, "reablement_91_days", "E1") == expected("""
        period     | numerator | denominator | value
        2015-04    | 1         | 3           | 33.3
        2015-06    | 1         | 2           | 50.0
        2015-16 Q1 | 2         | 5           | 40.0
    """)


def test_reablement_years_take_discharges_from_october_to_december(run: Run) -> None:
    """ASCOF 2B(1) (SALT STS004) follows up the discharges of 1 October to 31 December,
    and the year's value is theirs alone: 1 at home of 3, 33.3%. The discharges of 30
    September and 1 January are in their months and quarters, not in the year."""
    values = run(
        [REABLEMENT_91_DAYS],
        E1,
        reablement="""
        discharge_date | status_91_days | age | area_code
        2015-09-30     | at_home        | 70  | E1  # before October: not in the year
        2015-10-01     | at_home        | 70  | E1
        2015-11-15     | died           | 80  | E1
        2015-12-31     | in_hospital    | 90  | E1
        2016-01-01     | at_home        | 66  | E1  # after December: not in the year
        """,
    )
    assert shown(values, "reablement_91_days", "E1") == expected("""
        period     | numerator | denominator | value
        2015-09    | 1         | 1           | 100.0
        2015-10    | 1         | 1           | 100.0
        2015-11    | 0         | 1           | 0.0
        2015-12    | 0         | 1           | 0.0
        2016-01    | 1         | 1           | 100.0
        2015-16 Q2 | 1         | 1           | 100.0
        2015-16 Q3 | 1         | 3           | 33.3
        2015-16 Q4 | 1         | 1           | 100.0
        2015-16    | 1         | 3           | 33.3
    """)


def test_avoidable_admissions_are_directly_age_standardised(run: Run) -> None:
    """NHS Outcomes Framework 2.3.i (IAP00068): emergency admissions for chronic ambulatory
    care sensitive conditions, standardised to the ESP 2013: each band's rate is weighted
    by its share of the standard population. Asthma at 30 (band 30-34: 1/500 residents,
    weight 6,500) gives 13 and angina at 92 (90+: 1/100, weight 1,000) gives 10, per
    100,000: 23.0. Codes match with or without their dot (J45.0, I209); I24.0 and
    Alzheimer's disease (G30) are not on the list."""
    values = run(
        [AVOIDABLE_ADMISSIONS],
        E1,
        spells="""
        admission_date | admission_method | primary_diagnosis | age | area_code
        2015-04-02     | non_elective     | J45.0             | 30  | E1
        2015-04-03     | non_elective     | I209              | 92  | E1
        2015-04-04     | non_elective     | I24.0             | 70  | E1
        2015-04-05     | elective         | E11               | 70  | E1  # planned
        2015-04-06     | non_elective     | G30.9             | 70  | E1
        """,
    )
    assert shown(values, "avoidable_admissions", "E1") == expected("""
        period     | numerator | denominator | value
        2015-04    | 2         | 9100        | 23.0
        2015-16 Q1 | 2         | 9100        | 23.0
        2015-16    | 2         | 9100        | 23.0
    """)


def test_avoidable_admissions_read_the_secondary_diagnoses_for_j20_and_b18(run: Run) -> None:
    """NHS Outcomes Framework 2.3.i (IAP00068): acute bronchitis (J20) counts only with a
    secondary diagnosis of COPD (J41-J44, J47) in any position, and chronic viral
    hepatitis B (B18.0, B18.1) only without one of sickle-cell disease (D57); a spell with
    no secondary diagnoses has no sickle-cell disease. Counted: J20 beside J44.9 at 52
    (band 50-54, 7,000/500 = 14), B18.1 at 40 and at 44 (40-44, 7,000/500 each, 28): 42.0
    per 100,000. Not counted: J20 beside simple chronic bronchitis (J40, not on the COPD
    list) or alone, B18.0 beside D57.1, and chronic hepatitis C (B18.2)."""
    values = run(
        [AVOIDABLE_ADMISSIONS],
        E1,
        spells="""
        admission_date | admission_method | primary_diagnosis | secondary_diagnoses | age | area_code
        2015-04-06     | non_elective     | J20.9             | I10;J44.9           | 52  | E1
        2015-04-07     | non_elective     | J20.9             | I10;J40             | 52  | E1
        2015-04-07     | non_elective     | J20.9             |                     | 52  | E1
        2015-04-08     | non_elective     | B18.1             |                     | 40  | E1
        2015-04-08     | non_elective     | B18.1             | E11.9               | 44  | E1
        2015-04-09     | non_elective     | B18.0             | E11.9;D57.1         | 40  | E1
        2015-04-09     | non_elective     | B18.2             |                     | 40  | E1
        """,  # noqa: E501 (the table's header)
    )
    assert shown(values, "avoidable_admissions", "E1") == expected("""
        period     | numerator | denominator | value
        2015-04    | 3         | 9100        | 42.0
        2015-16 Q1 | 3         | 9100        | 42.0
        2015-16    | 3         | 9100        | 42.0
    """)


def test_falls_65_plus_are_injuries_caused_by_a_fall_standardised_from_65(run: Run) -> None:
    """PHOF 2.24: emergency admissions of people aged 65+ whose primary diagnosis is an
    injury (S00-T98) with a fall (W00-W19) as its external cause among the secondary
    diagnoses, in any position, standardised over the ESP 2013 bands 65-69 to 90+
    (weights adding up to 19,500). A hip fracture after a fall at 66 (1/500 × 5,500 = 11),
    a head injury at 85 (1/500 × 1,500 = 3) and a late effect of injury (T98) at 90
    (1/100 × 1,000 = 10) give 24 / 19,500 per 100,000 = 123.1. The denominator shown is
    the 2,600 residents aged 65+. Not counted: an injury caused otherwise (W20, struck by
    a thrown object), a fall coded as the primary diagnosis without an injury, a fall
    beside a diagnosis that is not an injury (I10), a fall at 64 and a planned admission."""
    values = run(
        [FALLS_ADMISSIONS_65_PLUS],
        E1,
        spells="""
        admission_date | admission_method | primary_diagnosis | secondary_diagnoses | age | area_code
        2015-04-10     | non_elective     | S72.0             | W01;I10             | 66  | E1
        2015-04-11     | non_elective     | S06.0             | I10;E11.9;W19.9     | 85  | E1
        2015-04-11     | non_elective     | T98.3             | W10                 | 90  | E1
        2015-04-12     | non_elective     | S72.0             | W20                 | 85  | E1
        2015-04-12     | non_elective     | W01               |                     | 85  | E1
        2015-04-12     | non_elective     | I10               | W01                 | 85  | E1
        2015-04-13     | non_elective     | S00.0             | W05                 | 64  | E1
        2015-04-13     | elective         | S72.0             | W01                 | 70  | E1
        """,  # noqa: E501 (the table's header)
    )
    assert shown(values, "falls_admissions_65_plus", "E1") == expected("""
        period     | numerator | denominator | value
        2015-04    | 3         | 2600        | 123.1
        2015-16 Q1 | 3         | 2600        | 123.1
        2015-16    | 3         | 2600        | 123.1
    """)


def test_discharge_to_usual_residence_leaves_out_deaths_and_goes_by_discharge_date(
    run: Run,
) -> None:
    """Of spells ending in the month with the person alive, the percentage discharged to
    their usual place of residence. The spell admitted in March counts in April, when it
    ended, and March has no value since no spell ended then."""
    values = run(
        [DISCHARGE_TO_USUAL_RESIDENCE],
        E1,
        spells="""
        admission_date | discharge_date | discharge_destination | area_code
        2015-03-30     | 2015-04-02     | usual_residence       | E1
        2015-04-01     | 2015-04-03     | care_home             | E1
        2015-04-01     | 2015-04-05     | died                  | E1
        2015-04-02     | 2015-04-09     | usual_residence       | E1
        """,
    )
    assert shown(values, "discharge_to_usual_residence", "E1") == expected("""
        period     | numerator | denominator | value
        2015-04    | 2         | 3           | 66.7
        2015-16 Q1 | 2         | 3           | 66.7
        2015-16    | 2         | 3           | 66.7
    """)


def test_patient_experience_is_the_share_of_positive_answers(run: Run) -> None:
    """Of answers to the care coordination question, the percentage that were positive;
    other questions are not counted."""
    values = run(
        [PATIENT_EXPERIENCE],
        E1,
        survey_responses="""
        response_date | question          | positive | area_code
        2015-04-01    | care_coordination | 1        | E1
        2015-04-02    | care_coordination | 0        | E1
        2015-04-03    | care_coordination | 1        | E1
        2015-04-04    | other_question    | 1        | E1
        """,
    )
    assert shown(values, "patient_experience", "E1") == expected("""
        period     | numerator | denominator | value
        2015-04    | 2         | 3           | 66.7
        2015-16 Q1 | 2         | 3           | 66.7
        2015-16    | 2         | 3           | 66.7
    """)


def test_a_missing_value_passes_no_condition(run: Run) -> None:
    """A record whose age is missing counts towards all-ages admissions but not towards a
    rate of the ages 65+, and one with no admission method counts nowhere. A missing list
    of secondary diagnoses is an empty one: it holds no fall, but no sickle-cell disease
    either, so hepatitis B with no secondary diagnosis is an avoidable admission (at 70,
    5,000/500 = 10 per 100,000)."""
    values = run(
        [NON_ELECTIVE_ADMISSIONS, FALLS_ADMISSIONS_65_PLUS, AVOIDABLE_ADMISSIONS],
        E1,
        spells="""
        admission_date | admission_method | primary_diagnosis | secondary_diagnoses | age | area_code
        2015-04-10     | non_elective     | S72.0             | W01                 |     | E1
        2015-04-11     |                  | S72.0             | W01                 | 70  | E1
        2015-04-12     | non_elective     | S72.0             |                     | 70  | E1
        2015-04-13     | non_elective     | B18.1             |                     | 70  | E1
        """,  # noqa: E501 (the table's header)
    )
    assert shown(values, "non_elective_admissions", "E1")[0] == ("2015-04", "3", "9100", "3")
    assert shown(values, "falls_admissions_65_plus", "E1")[0] == ("2015-04", "0", "2600", "0.0")
    assert shown(values, "avoidable_admissions", "E1")[0] == ("2015-04", "1", "9100", "10.0")


def test_every_file_of_a_kind_is_read(run: Run, tmp_path: Path) -> None:
    """A kind's folder may hold several Parquet files; all of them count."""
    first = rows(
        SPELLS, "admission_date | admission_method | area_code\n2015-04-01 | non_elective | E1"
    )
    write_records(tmp_path, SPELLS, first, part="part-1")
    values = run(
        [NON_ELECTIVE_ADMISSIONS],
        E1,
        spells="""
        admission_date | admission_method | area_code
        2015-04-02     | non_elective     | E1
        """,
    )
    assert shown(values, "non_elective_admissions", "E1")[0] == ("2015-04", "2", "9100", "2")
