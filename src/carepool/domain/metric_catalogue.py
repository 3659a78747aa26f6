"""The metrics carepool computes from person-level data, each defined once.

Ids match the ``metric`` keys of the framework files, which give each programme year's
labels (ASCOF 2A(2), later 2C) and targets. A definition's version goes up whenever what it
computes changes, so a stored value always says which definition produced it.

Where the national definition needs data carepool does not hold (a second diagnosis, a
procedure, the person's sex in the population), the description says what is done instead.
"""

from __future__ import annotations

from carepool.domain.direction import Direction
from carepool.domain.errors import NotFound
from carepool.domain.metric import (
    Condition,
    CountEvents,
    DiagnosisIn,
    InRange,
    Measure,
    MetricDefinition,
    NoneOf,
    OneOf,
    Population,
    SumOf,
    aged,
)
from carepool.domain.person_level import (
    CARE_HOME_ADMISSIONS,
    DELAYS,
    REABLEMENT,
    SPELLS,
    SURVEY_RESPONSES,
    AdmissionMethod,
    CareHomeFunding,
    DischargeDestination,
    ResponsibleOrganisation,
    StatusAfter91Days,
)

EMERGENCY = OneOf("admission_method", (AdmissionMethod.NON_ELECTIVE.value,))

#: NHS Outcomes Framework 2.3.i, unplanned hospitalisation for chronic ambulatory care
#: sensitive conditions, as a primary diagnosis. Acute bronchitis (J20) is left out: the
#: indicator counts it only with a secondary diagnosis of COPD, which carepool does not hold.
CHRONIC_ACSC_CODES: tuple[str, ...] = (
    "B18.0", "B18.1",  # chronic viral hepatitis B
    "D50.1", "D50.8", "D50.9",  # iron deficiency anaemia
    "E10-E14",  # diabetes
    "F00-F03", "G30",  # dementia
    "G40", "G41", "R56", "O15",  # convulsions and epilepsy
    "I10", "I11.9",  # hypertension
    "I11.0", "I50", "J81",  # congestive heart failure
    "I20", "I24.0", "I24.8", "I24.9", "I25", "Z03.4",  # angina
    "I48",  # atrial fibrillation and flutter
    "J41-J44", "J47",  # chronic obstructive pulmonary disease
    "J45", "J46",  # asthma
)  # fmt: skip

#: Falls: ICD-10 external causes W00 to W19 (slipping, tripping, falling).
FALLS_CODES: tuple[str, ...] = ("W00-W19",)

_DELAYED_DAYS_DESCRIPTION = (
    "Delayed days (the delayed_days of every delayed transfer of care record) of patients "
    "aged 18 and over, in the month the days fell in, per 100,000 residents aged 18+."
)


def _delayed_days(responsible: ResponsibleOrganisation | None) -> MetricDefinition:
    """Delayed days per 100,000 aged 18+; split by who was responsible, as the DToC return is."""
    suffix, name, extra = "", "", ""
    where: tuple[Condition, ...] = ()
    if responsible is not None:
        words = {
            ResponsibleOrganisation.NHS: "the NHS",
            ResponsibleOrganisation.SOCIAL_CARE: "social care",
            ResponsibleOrganisation.BOTH: "both the NHS and social care",
        }[responsible]
        suffix, name = f"_{responsible.value}", f", attributable to {words}"
        extra = f" Only delays attributed to {words} count; the three splits add up to the total."
        where = (OneOf("responsible", (responsible.value,)),)
    return MetricDefinition(
        id=f"delayed_transfers_of_care{suffix}",
        version=1,
        name=f"Delayed transfers of care: delayed days per 100,000 population aged 18+{name}",
        description=_DELAYED_DAYS_DESCRIPTION + extra,
        record_kind=DELAYS,
        event_date="month",
        where=(aged(18), *where),
        numerator=SumOf("delayed_days"),
        denominator=Population(18),
        measure=Measure.RATE_PER_100000,
        direction=Direction.LOWER_IS_BETTER,
        decimal_places=1,
    )


NON_ELECTIVE_ADMISSIONS = MetricDefinition(
    id="non_elective_admissions",
    version=1,
    name="Non-elective (emergency) admissions, all ages",
    description=(
        "Hospital spells whose admission method is non-elective (emergency), of residents of "
        "any age, counted in the month of admission. The value is the count; the all-ages "
        "population is reported beside it."
    ),
    record_kind=SPELLS,
    event_date="admission_date",
    where=(EMERGENCY,),
    numerator=CountEvents(),
    denominator=Population(),
    measure=Measure.COUNT,
    direction=Direction.LOWER_IS_BETTER,
    decimal_places=0,
)

CARE_HOME_ADMISSIONS_65_PLUS = MetricDefinition(
    id="care_home_admissions_65_plus",
    version=1,
    name="Permanent admissions of people aged 65+ to residential and nursing care homes, "
    "per 100,000 population aged 65+",
    description=(
        "Permanent admissions to residential or nursing care of people aged 65 and over, in "
        "the month of admission, per 100,000 residents aged 65+. As in ASCOF, only "
        "council-supported admissions count: funded by the council alone or jointly with "
        "the NHS. Self-funded placements and those funded wholly by the NHS are left out."
    ),
    record_kind=CARE_HOME_ADMISSIONS,
    event_date="admission_date",
    where=(
        aged(65),
        OneOf("funding", (CareHomeFunding.COUNCIL.value, CareHomeFunding.JOINT.value)),
    ),
    numerator=CountEvents(),
    denominator=Population(65),
    measure=Measure.RATE_PER_100000,
    direction=Direction.LOWER_IS_BETTER,
    decimal_places=1,
)

REABLEMENT_91_DAYS = MetricDefinition(
    id="reablement_91_days",
    version=1,
    name="Proportion of older people (65+) still at home 91 days after discharge from "
    "hospital into reablement",
    description=(
        "Of people aged 65 and over discharged from hospital into reablement, the percentage "
        "at home 91 days after discharge, by month of discharge. As in ASCOF 2B(1), people "
        "who died within the 91 days stay in the denominator and are not in the numerator, "
        "as are those in hospital, in a care home or whose whereabouts are not known. "
        "ASCOF's annual figure takes discharges from October to December only; here every "
        "period takes the discharges that fell in it."
    ),
    record_kind=REABLEMENT,
    event_date="discharge_date",
    where=(aged(65),),
    numerator=CountEvents(where=(OneOf("status_91_days", (StatusAfter91Days.AT_HOME.value,)),)),
    denominator=CountEvents(),
    measure=Measure.PERCENTAGE,
    direction=Direction.HIGHER_IS_BETTER,
    decimal_places=1,
)

AVOIDABLE_ADMISSIONS = MetricDefinition(
    id="avoidable_admissions",
    version=1,
    name="Unplanned hospitalisation for chronic ambulatory care sensitive conditions, "
    "per 100,000 population (directly age-standardised)",
    description=(
        "Emergency admissions whose primary diagnosis is a chronic ambulatory care sensitive "
        "condition on the NHS Outcomes Framework 2.3.i list (diabetes, epilepsy, asthma, COPD, "
        "heart failure, angina, hypertension and others), in the month of admission, per "
        "100,000 residents, directly standardised to the European Standard Population 2013 "
        "in 5-year age bands. The national indicator standardises by age and sex; carepool's "
        "populations count persons only, so this standardises by age alone. carepool holds "
        "one diagnosis per spell, so acute bronchitis (J20), which counts only with a "
        "secondary diagnosis of COPD, is left out, and no procedure exclusions are applied."
    ),
    record_kind=SPELLS,
    event_date="admission_date",
    where=(EMERGENCY, aged(0), DiagnosisIn("primary_diagnosis", CHRONIC_ACSC_CODES)),
    numerator=CountEvents(),
    denominator=Population(0),
    measure=Measure.RATE_PER_100000,
    direction=Direction.LOWER_IS_BETTER,
    decimal_places=1,
    age_standardised=True,
)

FALLS_ADMISSIONS_65_PLUS = MetricDefinition(
    id="falls_admissions_65_plus",
    version=1,
    name="Emergency hospital admissions due to falls in people aged 65+, per 100,000 "
    "(directly age-standardised)",
    description=(
        "Emergency admissions of people aged 65 and over whose primary diagnosis is a fall "
        "(ICD-10 W00 to W19), in the month of admission, per 100,000 residents aged 65+, "
        "directly standardised to the European Standard Population 2013 in 5-year bands "
        "(65-69 to 90+). The public health indicator takes an injury as the primary "
        "diagnosis and the fall as an external cause in any position; carepool holds one "
        "diagnosis per spell, so the fall must be that diagnosis."
    ),
    record_kind=SPELLS,
    event_date="admission_date",
    where=(EMERGENCY, aged(65), DiagnosisIn("primary_diagnosis", FALLS_CODES)),
    numerator=CountEvents(),
    denominator=Population(65),
    measure=Measure.RATE_PER_100000,
    direction=Direction.LOWER_IS_BETTER,
    decimal_places=1,
    age_standardised=True,
)

DISCHARGE_TO_USUAL_RESIDENCE = MetricDefinition(
    id="discharge_to_usual_residence",
    version=1,
    name="Percentage of hospital discharges to the person's usual place of residence",
    description=(
        "Of hospital spells ending in the month (by discharge date) with the person alive, "
        "the percentage discharged to their usual place of residence. Spells ending in death "
        "are left out of both numerator and denominator."
    ),
    record_kind=SPELLS,
    event_date="discharge_date",
    where=(NoneOf("discharge_destination", (DischargeDestination.DIED.value,)),),
    numerator=CountEvents(
        where=(OneOf("discharge_destination", (DischargeDestination.USUAL_RESIDENCE.value,)),)
    ),
    denominator=CountEvents(),
    measure=Measure.PERCENTAGE,
    direction=Direction.HIGHER_IS_BETTER,
    decimal_places=1,
)

PATIENT_EXPERIENCE = MetricDefinition(
    id="patient_experience",
    version=1,
    name="Patient and service user experience of care coordination",
    description=(
        "Of answers to the care coordination question, by date of response, the percentage "
        "that were positive."
    ),
    record_kind=SURVEY_RESPONSES,
    event_date="response_date",
    where=(OneOf("question", ("care_coordination",)),),
    numerator=CountEvents(where=(InRange("positive", 1, 1),)),
    denominator=CountEvents(),
    measure=Measure.PERCENTAGE,
    direction=Direction.HIGHER_IS_BETTER,
    decimal_places=1,
)

_CATALOGUE: tuple[MetricDefinition, ...] = (
    NON_ELECTIVE_ADMISSIONS,
    _delayed_days(None),
    *(_delayed_days(responsible) for responsible in ResponsibleOrganisation),
    CARE_HOME_ADMISSIONS_65_PLUS,
    REABLEMENT_91_DAYS,
    AVOIDABLE_ADMISSIONS,
    FALLS_ADMISSIONS_65_PLUS,
    DISCHARGE_TO_USUAL_RESIDENCE,
    PATIENT_EXPERIENCE,
)


def catalogue() -> tuple[MetricDefinition, ...]:
    """Every metric carepool computes, in a stable order."""
    return _CATALOGUE


def definition(metric_id: str) -> MetricDefinition:
    """The definition of ``metric_id``; a clear error lists the ids there are."""
    for candidate in _CATALOGUE:
        if candidate.id == metric_id:
            return candidate
    known = ", ".join(d.id for d in _CATALOGUE)
    raise NotFound(f"there is no metric {metric_id!r}: the metrics are {known}")
