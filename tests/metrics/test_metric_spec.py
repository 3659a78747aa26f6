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
    """Permanent admissions of people aged 65+ funded by the council, alone or jointly with
    the NHS, per 100,000 residents aged 65+ (2,600). Self-funders and placements funded
    wholly by the NHS are not counted."""
    values = run(
        [CARE_HOME_ADMISSIONS_65_PLUS],
        E1,
        care_home_admissions="""
        admission_date | setting     | funding | age | area_code
        2015-04-10     | residential | council | 65  | E1
        2015-04-20     | nursing     | joint   | 90  | E1
        2015-04-21     | nursing     | self    | 80  | E1  # self-funded
        2015-05-02     | residential | nhs     | 70  | E1  # funded by the NHS
        2015-05-03     | residential | council | 64  | E1  # under 65
        """,
    )
    assert shown(values, "care_home_admissions_65_plus", "E1") == expected("""
        period     | numerator | denominator | value
        2015-04    | 2         | 2600        | 76.9
        2015-05    | 0         | 2600        | 0.0
        2015-16 Q1 | 2         | 2600        | 76.9
        2015-16    | 2         | 2600        | 76.9
    """)


def test_reablement_keeps_deaths_in_the_denominator(run: Run) -> None:
    """Of people aged 65+ discharged into reablement, the percentage at home 91 days later,
    by month of discharge. As in ASCOF 2B(1) a death stays in the denominator, as does
    anyone in a care home, in hospital or not known. May has no one aged 65+, so its
    percentage is undefined and left out; the quarter adds up its months' counts."""
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
        2015-16    | 2         | 5           | 40.0
    """)


def test_avoidable_admissions_are_directly_age_standardised(run: Run) -> None:
    """Emergency admissions for chronic ambulatory care sensitive conditions, standardised
    to the ESP 2013: each band's rate is weighted by its share of the standard population.
    Asthma at 30 (band 30-34: 1/500 residents, weight 6,500) gives 13 and angina at 92
    (band 90+: 1/100, weight 1,000) gives 10, per 100,000: 23.0. Codes match with or
    without their dot (J45.0, I240); I24.1 is not on the list, and J20 is left out because
    it counts only with a second diagnosis carepool does not hold."""
    values = run(
        [AVOIDABLE_ADMISSIONS],
        E1,
        spells="""
        admission_date | admission_method | primary_diagnosis | age | area_code
        2015-04-02     | non_elective     | J45.0             | 30  | E1
        2015-04-03     | non_elective     | I240              | 92  | E1
        2015-04-04     | non_elective     | I24.1             | 70  | E1
        2015-04-05     | elective         | E11               | 70  | E1  # planned
        2015-04-06     | non_elective     | J20               | 70  | E1
        """,
    )
    assert shown(values, "avoidable_admissions", "E1") == expected("""
        period     | numerator | denominator | value
        2015-04    | 2         | 9100        | 23.0
        2015-16 Q1 | 2         | 9100        | 23.0
        2015-16    | 2         | 9100        | 23.0
    """)


def test_falls_65_plus_are_standardised_over_the_bands_from_65(run: Run) -> None:
    """Emergency admissions for a fall (W00-W19) of people aged 65+, standardised over the
    ESP 2013 bands 65-69 to 90+ (weights adding up to 19,500): a fall at 66 (1/500 × 5,500
    = 11) and one at 85 (1/500 × 1,500 = 3) give 14 / 19,500 per 100,000 = 71.8. The
    denominator shown is the 2,600 residents aged 65+."""
    values = run(
        [FALLS_ADMISSIONS_65_PLUS],
        E1,
        spells="""
        admission_date | admission_method | primary_diagnosis | age | area_code
        2015-04-10     | non_elective     | W01               | 66  | E1
        2015-04-11     | non_elective     | W19.9             | 85  | E1
        2015-04-12     | non_elective     | W20               | 85  | E1  # not a fall
        2015-04-13     | non_elective     | W05               | 64  | E1  # under 65
        """,
    )
    assert shown(values, "falls_admissions_65_plus", "E1") == expected("""
        period     | numerator | denominator | value
        2015-04    | 2         | 2600        | 71.8
        2015-16 Q1 | 2         | 2600        | 71.8
        2015-16    | 2         | 2600        | 71.8
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
    rate of the ages 65+, and one with no admission method counts nowhere."""
    values = run(
        [NON_ELECTIVE_ADMISSIONS, FALLS_ADMISSIONS_65_PLUS],
        E1,
        spells="""
        admission_date | admission_method | primary_diagnosis | age | area_code
        2015-04-10     | non_elective     | W01               |     | E1
        2015-04-11     |                  | W01               | 70  | E1
        """,
    )
    assert shown(values, "non_elective_admissions", "E1")[0] == ("2015-04", "1", "9100", "1")
    assert shown(values, "falls_admissions_65_plus", "E1")[0] == ("2015-04", "0", "2600", "0.0")


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
