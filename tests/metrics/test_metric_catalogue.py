"""The catalogue: the metrics carepool computes, consistent with the framework files."""

from __future__ import annotations

import pytest

from carepool.domain.errors import NotFound
from carepool.domain.metric import (
    AnyDiagnosisIn,
    ColumnCondition,
    DiagnosisIn,
    Measure,
    NoDiagnosisIn,
    normalise_icd10,
)
from carepool.domain.metric_catalogue import (
    AVOIDABLE_ADMISSIONS,
    CHRONIC_ACSC,
    FALLS_ADMISSIONS_65_PLUS,
    catalogue,
    definition,
)
from carepool.domain.standard_population import ESP_2013, band_from, bands_within
from carepool.frameworks import available_years, load_framework


def test_the_catalogue_has_the_better_care_fund_metrics() -> None:
    assert [d.id for d in catalogue()] == [
        "non_elective_admissions",
        "non_elective_admissions_rate",
        "delayed_transfers_of_care",
        "delayed_transfers_of_care_nhs",
        "delayed_transfers_of_care_social_care",
        "delayed_transfers_of_care_both",
        "care_home_admissions_65_plus",
        "reablement_91_days",
        "avoidable_admissions",
        "falls_admissions_65_plus",
        "discharge_to_usual_residence",
        "patient_experience",
    ]


@pytest.mark.parametrize("year", available_years())
def test_every_computable_framework_metric_is_in_the_catalogue_the_same_way_round(
    year: str,
) -> None:
    """A framework names each metric by its catalogue id; a locally chosen metric is the
    one thing the catalogue cannot define (and a year may name a metric carepool has not
    defined yet, saying so with ``catalogued = false``). Framework and definition agree on
    which way is better, and on the measure except for patient experience, which frameworks
    call a score and carepool computes as the percentage of positive answers."""
    for use in load_framework(year).metrics:
        if use.local_choice or not use.catalogued:  # a year's own, or not yet defined
            continue
        found = definition(use.metric)
        assert found.direction.value == use.direction, use.metric
        if use.metric != "patient_experience":
            assert found.measure.value == use.measure, use.metric


def test_an_unknown_metric_is_reported_with_the_ones_there_are() -> None:
    with pytest.raises(NotFound, match="no metric 'emergency_admissions': the metrics are non_"):
        definition("emergency_admissions")


def test_descriptions_say_how_each_metric_is_computed() -> None:
    for found in catalogue():
        assert len(found.description) > 80, found.id
        if found.age_standardised:
            assert "European Standard Population 2013" in found.description


def test_every_definition_cites_its_source_and_says_where_carepool_differs() -> None:
    """The avoidable admissions specification standardises by sex too and excludes some
    procedures, neither of which carepool's data can say."""
    for found in catalogue():
        assert len(found.source) > 40, found.id
    assert "age alone" in AVOIDABLE_ADMISSIONS.differences[0]
    assert "no procedure data" in AVOIDABLE_ADMISSIONS.differences[1]


@pytest.mark.parametrize(
    ("code", "chronic_acsc"),
    [
        ("J45.9", True),  # asthma
        ("I209", True),  # angina, without its dot
        ("I25.1", True),  # chronic ischaemic heart disease, with it
        ("E14.9", True),  # diabetes
        ("E15", False),
        ("F03X", True),  # dementia
        ("I48.0", True),  # atrial fibrillation
        ("D50.0", False),  # iron deficiency anaemia from blood loss is not on the list
        ("D51.0", True),  # vitamin B12 deficiency anaemia
        ("D52.9", True),  # folate deficiency anaemia
        ("I13.0", True),  # hypertensive heart and renal disease with heart failure
        ("G41.0", True),  # status epilepticus
        ("G30.9", False),  # Alzheimer's disease: not on the list
        ("R56.8", False),  # convulsions: not on the list
        ("O15.0", False),  # eclampsia: not on the list
        ("I24.0", False),  # acute ischaemic heart disease: not angina on the list
        ("Z03.4", False),  # observation for suspected myocardial infarction
        ("J20.9", False),  # acute bronchitis counts only beside COPD (below)
        ("B18.1", False),  # hepatitis B counts only without sickle-cell disease (below)
    ],
)
def test_the_chronic_ambulatory_care_sensitive_conditions(code: str, chronic_acsc: bool) -> None:
    """The codes that count whatever the secondary diagnoses, from the NHS Outcomes
    Framework 2.3.i specification (IAP00068)."""
    condition = CHRONIC_ACSC.alternatives[0][0]
    assert isinstance(condition, DiagnosisIn)
    plain = normalise_icd10(code)
    assert any(plain.startswith(p) for p in condition.prefixes) is chronic_acsc


def test_hepatitis_b_and_acute_bronchitis_depend_on_the_secondary_diagnoses() -> None:
    hepatitis, bronchitis = CHRONIC_ACSC.alternatives[1:]
    assert [(type(c).__name__, _prefixes(c)) for c in hepatitis] == [
        ("DiagnosisIn", ("B180", "B181")),
        ("NoDiagnosisIn", ("D57",)),
    ]
    assert [(type(c).__name__, _prefixes(c)) for c in bronchitis] == [
        ("DiagnosisIn", ("J20",)),
        ("AnyDiagnosisIn", ("J41", "J42", "J43", "J44", "J47")),
    ]


def _prefixes(condition: ColumnCondition) -> tuple[str, ...]:
    assert isinstance(condition, DiagnosisIn | AnyDiagnosisIn | NoDiagnosisIn)
    return condition.prefixes


def test_falls_are_injuries_caused_by_w00_to_w19() -> None:
    """PHOF 2.24: an injury (S00-T98) as the primary diagnosis, with the fall (W00-W19) as
    its external cause among the secondary diagnoses."""
    injury = next(c for c in FALLS_ADMISSIONS_65_PLUS.where if isinstance(c, DiagnosisIn))
    fall = next(c for c in FALLS_ADMISSIONS_65_PLUS.where if isinstance(c, AnyDiagnosisIn))
    assert injury.prefixes == tuple(f"S{n:02d}" for n in range(100)) + tuple(
        f"T{n:02d}" for n in range(99)
    )
    assert fall.prefixes == tuple(f"W{n:02d}" for n in range(20))


def test_standardised_metrics_are_rates_over_their_populations_bands() -> None:
    assert AVOIDABLE_ADMISSIONS.measure is Measure.RATE_PER_100000
    assert len(AVOIDABLE_ADMISSIONS.standard_bands) == 19
    assert [b.label for b in FALLS_ADMISSIONS_65_PLUS.standard_bands] == [
        "65-69",
        "70-74",
        "75-79",
        "80-84",
        "85-89",
        "90+",
    ]


# The standard population ---------------------------------------------------------------------


def test_the_european_standard_population_2013() -> None:
    assert sum(band.weight for band in ESP_2013) == 100_000
    assert (ESP_2013[0].label, ESP_2013[0].weight) == ("0-4", 5000)
    assert (ESP_2013[9].label, ESP_2013[9].weight) == ("45-49", 7000)
    assert (ESP_2013[-1].label, ESP_2013[-1].weight) == ("90+", 1000)
    assert sum(band.weight for band in bands_within(65, None)) == 19_500


@pytest.mark.parametrize(
    ("age", "band"), [(0, 0), (4, 0), (5, 5), (64, 60), (89, 85), (90, 90), (120, 90)]
)
def test_an_age_falls_in_one_standard_band(age: int, band: int) -> None:
    assert band_from(age) == band
