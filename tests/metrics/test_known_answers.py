"""Known answers, worked by hand, on the boundaries where a definition could slip.

One small data set of every kind sits on each edge the definitions draw: the last day of a
month, a quarter and a financial year against the first of the next; ages 17 and 18, 64 and
65; reablement episodes that ended in death or in hospital by day 91; care-home admissions
that are transfers from another care home; acute bronchitis with and without COPD, and
hepatitis B with and without sickle-cell disease. Every engine must give exactly these
values. Area E1 has 100 residents at every age: 9,100 in all, 7,300 aged 18+, 2,600 aged
65+, 500 in each 5-year band to 85-89 and 100 aged 90+.
"""

from __future__ import annotations

import pytest
from metric_tables import Run, expected, shown, single_years

from carepool.domain.metric_catalogue import catalogue, definition
from carepool.domain.metric_value import Grain, MetricValue

#: Each row's reason is in the test that reads it.
SPELLS = """
admission_date | admission_method | primary_diagnosis | secondary_diagnoses | age | area_code
2015-06-30     | non_elective     | J45.9             |                     | 17  | E1
2015-07-01     | non_elective     | J20.9             | I10;J44.9           | 18  | E1
2015-07-01     | non_elective     | J20.9             | I10                 | 64  | E1
2015-12-31     | non_elective     | S06.0             | I10;W10X            | 90  | E1
2015-12-31     | elective         | I10               |                     | 70  | E1
2016-03-31     | non_elective     | B18.1             | D57.1               | 65  | E1
2016-03-31     | non_elective     | B18.1             |                     | 64  | E1
2016-03-31     | non_elective     | S72.0             | W19X                | 64  | E1
2016-04-01     | non_elective     | S72.0             | W01X;I10            | 65  | E1
"""

DELAYS = """
month      | responsible | delayed_days | age | area_code
2015-06-01 | nhs         | 10           | 17  | E1
2015-06-01 | nhs         | 5            | 18  | E1
2015-07-01 | nhs         | 3            | 64  | E1
2016-03-01 | social_care | 7            | 90  | E1
"""

CARE_HOME_ADMISSIONS = """
admission_date | setting     | funding | previous_setting | age | area_code
2015-06-30     | residential | council | community        | 64  | E1
2015-06-30     | residential | council | hospital         | 65  | E1
2015-07-01     | nursing     | council | residential      | 80  | E1
2015-07-01     | residential | joint   | nursing          | 80  | E1
2016-03-31     | nursing     | council | not_known        | 70  | E1
2016-04-01     | residential | council | community        | 66  | E1
"""

REABLEMENT = """
discharge_date | status_91_days | age | area_code
2015-09-30     | at_home        | 65  | E1
2015-10-01     | at_home        | 64  | E1
2015-10-01     | died           | 65  | E1
2015-12-31     | in_hospital    | 90  | E1
2015-12-31     | at_home        | 70  | E1
2016-01-01     | at_home        | 80  | E1
"""


@pytest.fixture
def values(run: Run) -> list[MetricValue]:
    return run(
        catalogue(),
        single_years("E1"),
        spells=SPELLS,
        delays=DELAYS,
        care_home_admissions=CARE_HOME_ADMISSIONS,
        reablement=REABLEMENT,
    )


def rolled_up(values: list[MetricValue], metric: str) -> list[tuple[str, ...]]:
    """A metric's quarters and years in E1 (its months are in the quarters' counts)."""
    return shown([value for value in values if value.grain is not Grain.MONTH], metric, "E1")


def test_emergency_admissions_fall_in_the_month_quarter_and_year_of_admission(
    values: list[MetricValue],
) -> None:
    """30 June is the first quarter and 1 July the second; 31 December the third; 31 March
    the last quarter of 2015-16 and 1 April the first of 2016-17. Every emergency spell
    counts whatever its diagnoses or age, the planned one on 31 December does not. The
    rate is over the 9,100 residents: 1 is 11.0, 2 are 22.0, 3 are 33.0, 7 are 76.9."""
    assert shown(values, "non_elective_admissions", "E1")[:3] == expected("""
        period  | numerator | denominator | value
        2015-06 | 1         | 9100        | 1
        2015-07 | 2         | 9100        | 2
        2015-08 | 0         | 9100        | 0
    """)
    assert rolled_up(values, "non_elective_admissions_rate") == expected("""
        period     | numerator | denominator | value
        2015-16 Q1 | 1         | 9100        | 11.0
        2015-16 Q2 | 2         | 9100        | 22.0
        2015-16 Q3 | 1         | 9100        | 11.0
        2015-16 Q4 | 3         | 9100        | 33.0
        2016-17 Q1 | 1         | 9100        | 11.0
        2015-16    | 7         | 9100        | 76.9
        2016-17    | 1         | 9100        | 11.0
    """)


def test_chronic_acsc_at_the_edges_of_the_list_and_the_secondary_diagnoses(
    values: list[MetricValue],
) -> None:
    """Counted: asthma at 17 on 30 June (band 15-19, 5,500/500 = 11), acute bronchitis
    with COPD at 18 on 1 July (11), hepatitis B with no secondary diagnosis at 64 on 31
    March (band 60-64, 6,000/500 = 12). Not counted: acute bronchitis beside hypertension
    alone, hepatitis B beside sickle-cell disease, injuries, and the planned spell."""
    assert rolled_up(values, "avoidable_admissions") == expected("""
        period     | numerator | denominator | value
        2015-16 Q1 | 1         | 9100        | 11.0
        2015-16 Q2 | 1         | 9100        | 11.0
        2015-16 Q3 | 0         | 9100        | 0.0
        2015-16 Q4 | 1         | 9100        | 12.0
        2016-17 Q1 | 0         | 9100        | 0.0
        2015-16    | 3         | 9100        | 34.0
        2016-17    | 0         | 9100        | 0.0
    """)


def test_falls_at_64_and_65_and_at_the_turn_of_the_year(values: list[MetricValue]) -> None:
    """A head injury after a fall down stairs at 90 on 31 December (band 90+, 1,000/100 =
    10, over the weights' 19,500: 51.3) and a hip fracture after a fall at 65 on 1 April
    (band 65-69, 5,500/500 = 11: 56.4, in 2016-17) count; the hip fracture at 64 on 31
    March does not."""
    assert rolled_up(values, "falls_admissions_65_plus") == expected("""
        period     | numerator | denominator | value
        2015-16 Q1 | 0         | 2600        | 0.0
        2015-16 Q2 | 0         | 2600        | 0.0
        2015-16 Q3 | 1         | 2600        | 51.3
        2015-16 Q4 | 0         | 2600        | 0.0
        2016-17 Q1 | 1         | 2600        | 56.4
        2015-16    | 1         | 2600        | 51.3
        2016-17    | 1         | 2600        | 56.4
    """)


def test_delayed_days_from_the_age_of_18(values: list[MetricValue]) -> None:
    """June's 10 days of a 17-year-old do not count and the 5 of an 18-year-old do: 5 over
    7,300 residents aged 18+ is 68.5; the year's 15 days are 205.5."""
    assert rolled_up(values, "delayed_transfers_of_care") == expected("""
        period     | numerator | denominator | value
        2015-16 Q1 | 5         | 7300        | 68.5
        2015-16 Q2 | 3         | 7300        | 41.1
        2015-16 Q3 | 0         | 7300        | 0.0
        2015-16 Q4 | 7         | 7300        | 95.9
        2015-16    | 15        | 7300        | 205.5
    """)
    social_care = rolled_up(values, "delayed_transfers_of_care_social_care")
    assert social_care[-1] == ("2015-16", "7", "7300", "95.9")


def test_care_home_admissions_from_65_leaving_out_transfers(values: list[MetricValue]) -> None:
    """On 30 June the admission at 64 does not count and the one at 65 does (1 over 2,600
    residents aged 65+ is 38.5). Both admissions on 1 July are transfers from another
    care home, residential to nursing and back, and do not count. The admission from a
    setting not known on 31 March counts in 2015-16, and 1 April's in 2016-17."""
    assert rolled_up(values, "care_home_admissions_65_plus") == expected("""
        period     | numerator | denominator | value
        2015-16 Q1 | 1         | 2600        | 38.5
        2015-16 Q2 | 0         | 2600        | 0.0
        2015-16 Q3 | 0         | 2600        | 0.0
        2015-16 Q4 | 1         | 2600        | 38.5
        2016-17 Q1 | 1         | 2600        | 38.5
        2015-16    | 2         | 2600        | 76.9
        2016-17    | 1         | 2600        | 38.5
    """)


def test_reablement_at_day_91_and_its_year_of_october_to_december(
    values: list[MetricValue],
) -> None:
    """The death and the stay in hospital at day 91 are in the denominator, not the
    numerator; the discharge at 64 is in neither. November had no discharges, so it has
    no value. The year is October to December's 1 at home of 3, 33.3%: 30 September's
    and 1 January's discharges are in their quarters only."""
    assert shown(values, "reablement_91_days", "E1") == expected("""
        period     | numerator | denominator | value
        2015-09    | 1         | 1           | 100.0
        2015-10    | 0         | 1           | 0.0
        2015-12    | 1         | 2           | 50.0
        2016-01    | 1         | 1           | 100.0
        2015-16 Q2 | 1         | 1           | 100.0
        2015-16 Q3 | 1         | 3           | 33.3
        2015-16 Q4 | 1         | 1           | 100.0
        2015-16    | 1         | 3           | 33.3
    """)


def test_metrics_of_kinds_without_records_have_no_values(values: list[MetricValue]) -> None:
    """No survey answers, so no experience values; the spells have no discharge dates, so
    no discharge values either."""
    assert shown(values, definition("patient_experience").id) == []
    assert shown(values, "discharge_to_usual_residence") == []
