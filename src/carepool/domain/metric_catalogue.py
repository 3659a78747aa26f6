"""The metrics carepool computes from person-level data, each defined once.

Ids match the ``metric`` keys of the framework files, which give each programme year's
labels (ASCOF 2A(2), later 2C) and targets. A definition's version goes up whenever what it
computes changes, so a stored value always says which definition produced it.

Each definition's ``source`` names the published specification it follows: document,
version and section. Where that specification needs data carepool does not hold (a
procedure, the person's sex in the population), the description says what is done instead;
``docs/metrics.md`` lists them all.
"""

from __future__ import annotations

from carepool.domain.direction import Direction
from carepool.domain.errors import NotFound
from carepool.domain.metric import (
    AnyDiagnosisIn,
    AnyOf,
    Condition,
    CountEvents,
    DiagnosisIn,
    InRange,
    Measure,
    MetricDefinition,
    NoDiagnosisIn,
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
    PreviousSetting,
    ResponsibleOrganisation,
    StatusAfter91Days,
)

EMERGENCY = OneOf("admission_method", (AdmissionMethod.NON_ELECTIVE.value,))
PRIMARY = "primary_diagnosis"
SECONDARY = "secondary_diagnoses"

#: NHS Outcomes Framework 2.3.i: the chronic ambulatory care sensitive conditions counted
#: whenever they are the primary diagnosis.
CHRONIC_ACSC_CODES: tuple[str, ...] = (
    "D50.1", "D50.8", "D50.9", "D51", "D52",  # iron-deficiency anaemia
    "E10-E14",  # diabetes
    "F00-F03",  # dementia
    "G40-G41",  # convulsions and epilepsy
    "I10", "I11.9",  # hypertension
    "I11.0", "I13.0", "I50", "J81",  # congestive heart failure
    "I20", "I25",  # angina
    "I48",  # atrial fibrillation and flutter
    "J41-J44", "J47",  # chronic obstructive pulmonary disease
    "J45", "J46",  # asthma
)  # fmt: skip

#: Chronic viral hepatitis B, counted unless a secondary diagnosis is sickle-cell disease.
HEPATITIS_B_CODES: tuple[str, ...] = ("B18.0", "B18.1")
SICKLE_CELL_CODES: tuple[str, ...] = ("D57",)

#: Acute bronchitis, counted only with a secondary diagnosis of COPD.
ACUTE_BRONCHITIS_CODES: tuple[str, ...] = ("J20",)
COPD_CODES: tuple[str, ...] = ("J41-J44", "J47")

CHRONIC_ACSC = AnyOf(
    (
        (DiagnosisIn(PRIMARY, CHRONIC_ACSC_CODES),),
        (DiagnosisIn(PRIMARY, HEPATITIS_B_CODES), NoDiagnosisIn(SECONDARY, SICKLE_CELL_CODES)),
        (DiagnosisIn(PRIMARY, ACUTE_BRONCHITIS_CODES), AnyDiagnosisIn(SECONDARY, COPD_CODES)),
    )
)

#: Injuries, the primary diagnosis of an admission due to a fall (ICD-10 chapter XIX).
INJURY_CODES: tuple[str, ...] = ("S00-S99", "T00-T98")

#: Falls: the external causes W00 to W19 (slipping, tripping, falling), coded after the
#: injury among the secondary diagnoses.
FALLS_CODES: tuple[str, ...] = ("W00-W19",)

#: Before a permanent admission, a permanent place in another care home: a transfer.
CARE_HOME_TRANSFER = NoneOf(
    "previous_setting", (PreviousSetting.RESIDENTIAL.value, PreviousSetting.NURSING.value)
)

BCF_PLANNING_2015_16 = (
    "Better Care Fund planning guidance 2015-16 (NHS England and the Local Government "
    "Association), national metrics"
)

_GENERAL_AND_ACUTE = (
    "The guidance counts admissions to general and acute specialties. carepool's spells do "
    "not say the specialty, so every emergency spell counts."
)

_DELAYED_DAYS_DESCRIPTION = (
    "Delayed days (the delayed_days of every delayed transfer of care record) of patients "
    "aged 18 and over, in the month the days fell in, per 100,000 residents aged 18+. A "
    "quarter or year adds its months' days up."
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
        source=f"{BCF_PLANNING_2015_16}: delayed transfers of care (delayed days) from "
        "hospital per 100,000 population aged 18+; NHS England, Monthly Delayed Transfers of "
        "Care Situation Report, delayed days by responsible organisation.",
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
        "population is reported beside it, and the rate per 100,000 is its own metric "
        "(non_elective_admissions_rate)."
    ),
    source=f"{BCF_PLANNING_2015_16}: total emergency (non-elective) admissions into "
    "hospital, general and acute, all ages, as a count and per 100,000 population.",
    differences=(_GENERAL_AND_ACUTE,),
    record_kind=SPELLS,
    event_date="admission_date",
    where=(EMERGENCY,),
    numerator=CountEvents(),
    denominator=Population(),
    measure=Measure.COUNT,
    direction=Direction.LOWER_IS_BETTER,
    decimal_places=0,
)

NON_ELECTIVE_ADMISSIONS_RATE = MetricDefinition(
    id="non_elective_admissions_rate",
    version=1,
    name="Non-elective (emergency) admissions per 100,000 population, all ages",
    description=(
        "Hospital spells whose admission method is non-elective (emergency), of residents of "
        "any age, in the month of admission, per 100,000 residents of all ages; the same "
        "spells as non_elective_admissions counts. The rate is not age-standardised, as the "
        "planning guidance's is not."
    ),
    source=f"{BCF_PLANNING_2015_16}: total emergency (non-elective) admissions into "
    "hospital, general and acute, all ages, as a count and per 100,000 population.",
    differences=(_GENERAL_AND_ACUTE,),
    record_kind=SPELLS,
    event_date="admission_date",
    where=(EMERGENCY,),
    numerator=CountEvents(),
    denominator=Population(),
    measure=Measure.RATE_PER_100000,
    direction=Direction.LOWER_IS_BETTER,
    decimal_places=1,
)

CARE_HOME_ADMISSIONS_65_PLUS = MetricDefinition(
    id="care_home_admissions_65_plus",
    version=2,
    name="Permanent admissions of people aged 65+ to residential and nursing care homes, "
    "per 100,000 population aged 65+",
    description=(
        "Permanent admissions to residential or nursing care of people aged 65 and over, in "
        "the month of admission, per 100,000 residents aged 65+. As in ASCOF, only "
        "council-supported admissions count: funded by the council alone or jointly with "
        "the NHS. Self-funded placements and those funded wholly by the NHS are left out, "
        "and so is a transfer between care homes (from a permanent place in a residential "
        "or nursing home), which is not a new admission. ASCOF publishes the year; carepool "
        "also reports each month and quarter."
    ),
    source="Adult Social Care Outcomes Framework (ASCOF) 2015-16, handbook of definitions, "
    "measure 2A(2): long-term support needs of older adults (aged 65 and over) met by "
    "admission to residential and nursing care homes, per 100,000 population; measure 2C "
    "from ASCOF 2023-24. Data: the Short and Long Term (SALT) return.",
    record_kind=CARE_HOME_ADMISSIONS,
    event_date="admission_date",
    where=(
        aged(65),
        OneOf("funding", (CareHomeFunding.COUNCIL.value, CareHomeFunding.JOINT.value)),
        CARE_HOME_TRANSFER,
    ),
    numerator=CountEvents(),
    denominator=Population(65),
    measure=Measure.RATE_PER_100000,
    direction=Direction.LOWER_IS_BETTER,
    decimal_places=1,
)

#: ASCOF 2B(1) follows up discharges between 1 October and 31 December.
OCTOBER_TO_DECEMBER = (10, 11, 12)

REABLEMENT_91_DAYS = MetricDefinition(
    id="reablement_91_days",
    version=2,
    name="Proportion of older people (65+) still at home 91 days after discharge from "
    "hospital into reablement",
    description=(
        "Of people aged 65 and over discharged from hospital into reablement, the percentage "
        "at home 91 days after discharge. As in ASCOF 2B(1), people who died within the 91 "
        "days stay in the denominator and are not in the numerator, as are those in "
        "hospital, in a care home or whose whereabouts are not known. The year's value "
        "takes only discharges from 1 October to 31 December, as ASCOF's does; each month "
        "and quarter takes every discharge in it, so that the measure can be followed "
        "through the year."
    ),
    differences=(
        "ASCOF counts people discharged to their own home, or to a care home for "
        "rehabilitation with the aim of going home. carepool's reablement records do not "
        "say which, so every episode recorded counts.",
    ),
    source="Adult Social Care Outcomes Framework (ASCOF) 2015-16, handbook of definitions, "
    "measure 2B(1): proportion of older people (65 and over) who were still at home 91 "
    "days after discharge from hospital into reablement or rehabilitation services. Data: "
    "the Short and Long Term (SALT) return, table STS004.",
    record_kind=REABLEMENT,
    event_date="discharge_date",
    where=(aged(65),),
    numerator=CountEvents(where=(OneOf("status_91_days", (StatusAfter91Days.AT_HOME.value,)),)),
    denominator=CountEvents(),
    measure=Measure.PERCENTAGE,
    direction=Direction.HIGHER_IS_BETTER,
    decimal_places=1,
    year_months=OCTOBER_TO_DECEMBER,
)

AVOIDABLE_ADMISSIONS = MetricDefinition(
    id="avoidable_admissions",
    version=2,
    name="Unplanned hospitalisation for chronic ambulatory care sensitive conditions, "
    "per 100,000 population (directly age-standardised)",
    description=(
        "Emergency admissions whose primary diagnosis is a chronic ambulatory care sensitive "
        "condition, in the month of admission, per 100,000 residents, directly standardised "
        "to the European Standard Population 2013 in 5-year age bands. The conditions are "
        "those of the NHS Outcomes Framework 2.3.i list: iron-deficiency anaemia (D50.1, "
        "D50.8, D50.9, D51, D52), diabetes (E10-E14), dementia (F00-F03), convulsions and "
        "epilepsy (G40-G41), hypertension (I10, I11.9), congestive heart failure (I11.0, "
        "I13.0, I50, J81), angina (I20, I25), atrial fibrillation and flutter (I48), COPD "
        "(J41-J44, J47), asthma (J45, J46); chronic viral hepatitis B (B18.0, B18.1) unless "
        "a secondary diagnosis is sickle-cell disease (D57); and acute bronchitis (J20) only "
        "with a secondary diagnosis of COPD (J41-J44, J47)."
    ),
    differences=(
        "The specification standardises by age and sex. carepool's populations count "
        "persons only (the ONS estimates it imports have no sex), so this standardises by "
        "age alone.",
        "The specification leaves out spells with certain procedures. carepool holds no "
        "procedure data, so no procedure exclusions are applied.",
    ),
    source="NHS Outcomes Framework indicator 2.3.i and CCG Outcomes Indicator Set 2.6: "
    "unplanned hospitalisation for chronic ambulatory care sensitive conditions; NHS "
    "Digital indicator specification, assurance form IAP00068.",
    record_kind=SPELLS,
    event_date="admission_date",
    where=(EMERGENCY, aged(0), CHRONIC_ACSC),
    numerator=CountEvents(),
    denominator=Population(0),
    measure=Measure.RATE_PER_100000,
    direction=Direction.LOWER_IS_BETTER,
    decimal_places=1,
    age_standardised=True,
)

FALLS_ADMISSIONS_65_PLUS = MetricDefinition(
    id="falls_admissions_65_plus",
    version=2,
    name="Emergency hospital admissions due to falls in people aged 65+, per 100,000 "
    "(directly age-standardised)",
    description=(
        "Emergency admissions of people aged 65 and over whose primary diagnosis is an "
        "injury (ICD-10 S00-T98) caused by a fall (an external cause W00-W19 among the "
        "secondary diagnoses), in the month of admission, per 100,000 residents aged 65+, "
        "directly standardised to the European Standard Population 2013 in 5-year bands "
        "(65-69 to 90+). Hospital data never code a fall as the primary diagnosis: the "
        "injury comes first and its cause after it."
    ),
    source="Public Health Outcomes Framework (Public Health England), indicator 2.24: "
    "emergency hospital admissions due to falls in people aged 65 and over.",
    record_kind=SPELLS,
    event_date="admission_date",
    where=(
        EMERGENCY,
        aged(65),
        DiagnosisIn(PRIMARY, INJURY_CODES),
        AnyDiagnosisIn(SECONDARY, FALLS_CODES),
    ),
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
    differences=(
        "The published metric takes discharges from acute hospitals. carepool's spells do "
        "not say what kind of hospital the spell was in, so every spell counts.",
    ),
    source="Better Care Fund planning requirements from 2021-22 (NHS England), national "
    "metrics: percentage of people discharged from acute hospital to their normal place "
    "of residence.",
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
    differences=(
        "The national measure was still being developed when the fund began, so the "
        "question (care coordination) is carepool's own choice.",
    ),
    source=f"{BCF_PLANNING_2015_16}: patient and service user experience (a national "
    "measure to be developed).",
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
    NON_ELECTIVE_ADMISSIONS_RATE,
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


def markdown() -> str:
    """Every metric as the metrics page of the documentation lists it: what it counts, the
    published specification it follows, and where carepool's data differ from it."""
    sections = []
    for metric in _CATALOGUE:
        lines = [
            f"### {metric.name}",
            "",
            f"`{metric.id}`, version {metric.version}. {metric.description}",
            "",
            f"**Source:** {metric.source}",
            "",
        ]
        if metric.differences:
            lines.append("**Where carepool differs:**")
            lines.append("")
            lines += [f"- {difference}" for difference in metric.differences]
        else:
            lines.append("**Where carepool differs:** nowhere.")
        sections.append("\n".join(lines) + "\n")
    return "\n".join(sections)
