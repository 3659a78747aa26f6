"""The person-level record kinds metrics are computed from, and their columns.

One declaration serves the ingest (which checks files against it), the synthetic generator
(which writes it), the engines (which read it) and the documentation (which prints it), so a
column cannot mean one thing to the importer and another to an engine.

Raw files carry the NHS number in ``nhs_number``; ingest checks it and replaces it with the
keyed pseudonym ``person_id``. Nothing downstream of ingest ever sees ``nhs_number``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

EARLIEST_EVENT_DATE = dt.date(1948, 7, 5)
"""The NHS began on 5 July 1948: an earlier date in a record is a mistake, not history."""


class ColumnType(StrEnum):
    """The logical types a column may have, mapped to Parquet/Arrow types by the io layer."""

    TEXT = "text"
    INTEGER = "integer"
    DATE = "date"  # calendar date, ISO 8601 in CSV
    MONTH = "month"  # the first day of a month, ISO 8601 date in files (``2015-04-01``)


class AdmissionMethod(StrEnum):
    ELECTIVE = "elective"
    NON_ELECTIVE = "non_elective"  # emergency
    MATERNITY = "maternity"
    OTHER = "other"


class Sex(StrEnum):
    FEMALE = "F"
    MALE = "M"


class DischargeDestination(StrEnum):
    USUAL_RESIDENCE = "usual_residence"
    CARE_HOME = "care_home"
    OTHER_HOSPITAL = "other_hospital"
    DIED = "died"
    OTHER = "other"


class ResponsibleOrganisation(StrEnum):
    """Who a delayed transfer of care is attributed to (the DToC return's three columns)."""

    NHS = "nhs"
    SOCIAL_CARE = "social_care"
    BOTH = "both"


class CareType(StrEnum):
    ACUTE = "acute"
    NON_ACUTE = "non_acute"


class CareHomeFunding(StrEnum):
    COUNCIL = "council"
    SELF = "self"
    NHS = "nhs"
    JOINT = "joint"


class CareHomeSetting(StrEnum):
    RESIDENTIAL = "residential"
    NURSING = "nursing"


class PreviousSetting(StrEnum):
    """Where a person admitted permanently to a care home lived just before (SALT's "setting
    prior to admission"). ``residential`` and ``nursing`` mean a permanent placement in a
    care home of that kind, so the admission is a transfer between care homes, which ASCOF
    2A(2) does not count as a new admission."""

    COMMUNITY = "community"
    HOSPITAL = "hospital"
    RESIDENTIAL = "residential"
    NURSING = "nursing"
    NOT_KNOWN = "not_known"


class StatusAfter91Days(StrEnum):
    """Where a person discharged into reablement is 91 days later (ASCOF 2B(1))."""

    AT_HOME = "at_home"
    IN_CARE_HOME = "in_care_home"
    IN_HOSPITAL = "in_hospital"
    DIED = "died"
    NOT_KNOWN = "not_known"


#: An ICD-10 code: a letter, two characters of category, then an optional subdivision with or
#: without its dot (``J44.1``, ``J441``, ``R69X``).
ICD10_PATTERN = r"[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?"

#: What separates the values of a column that holds a list (a spell's secondary diagnoses).
LIST_SEPARATOR = ";"

#: HES records up to 19 secondary diagnoses (DIAG_02 to DIAG_20) besides the primary one.
MAX_SECONDARY_DIAGNOSES = 19

#: A question identifier: lower_snake_case, as the survey's questions are named.
QUESTION_PATTERN = r"[a-z][a-z0-9_]*"

#: The delay reasons of the DToC return, A to I, and O for other.
DELAY_REASONS: tuple[str, ...] = ("A", "B", "C", "D", "E", "F", "G", "H", "I", "O")


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a record kind: its name, logical type, allowed values and meaning.

    ``minimum`` and ``maximum`` bound an INTEGER column (inclusive); ``pattern`` is a regular
    expression a TEXT value must match in full. A TEXT column with ``max_items`` holds a
    list: one to ``max_items`` values, each matching ``pattern``, with
    :data:`LIST_SEPARATOR` between them (and nowhere else); an empty list is a missing value.
    """

    name: str
    type: ColumnType
    description: str
    allowed: tuple[str, ...] = ()
    nullable: bool = False
    minimum: int | None = None
    maximum: int | None = None
    pattern: str = ""
    max_items: int | None = None

    @property
    def is_list(self) -> bool:
        """Whether the column holds a list of values rather than one."""
        return self.max_items is not None


@dataclass(frozen=True, slots=True)
class RecordKind:
    """A kind of person-level record and the file name it lives under in a data directory."""

    name: str
    key: str
    description: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def pseudonymised_columns(self) -> tuple[Column, ...]:
        """The columns after ingest: ``nhs_number`` replaced by ``person_id``."""
        return tuple(PERSON_ID if c.name == "nhs_number" else c for c in self.columns)


def _values(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


NHS_NUMBER = Column(
    "nhs_number", ColumnType.TEXT, "10-digit NHS number with a valid check digit (raw files only)"
)
PERSON_ID = Column(
    "person_id", ColumnType.TEXT, "keyed pseudonym of the NHS number (HMAC-SHA256, hex)"
)
AREA = Column("area_code", ColumnType.TEXT, "HWB area of residence (the programme year's code)")
AGE = Column(
    "age", ColumnType.INTEGER, "age in whole years at the event, 0 to 120", minimum=0, maximum=120
)
SEX = Column("sex", ColumnType.TEXT, "F or M", allowed=_values(Sex))

SPELLS = RecordKind(
    name="spells",
    key="spell_id",
    description="Hospital provider spells (HES-like), one row per spell.",
    columns=(
        Column("spell_id", ColumnType.TEXT, "unique spell identifier"),
        NHS_NUMBER,
        Column("admission_date", ColumnType.DATE, "date of admission"),
        Column("discharge_date", ColumnType.DATE, "date of discharge, not before admission"),
        Column(
            "admission_method",
            ColumnType.TEXT,
            "elective, non_elective (emergency), maternity or other",
            allowed=_values(AdmissionMethod),
        ),
        Column(
            "primary_diagnosis",
            ColumnType.TEXT,
            "ICD-10 code of the primary diagnosis, e.g. J44.1 or J441",
            pattern=ICD10_PATTERN,
        ),
        Column(
            "secondary_diagnoses",
            ColumnType.TEXT,
            f"ICD-10 codes of up to {MAX_SECONDARY_DIAGNOSES} secondary diagnoses in the order "
            f"recorded (HES DIAG_02 to DIAG_20), separated by '{LIST_SEPARATOR}', e.g. "
            "I10;E11.9; empty when there are none",
            nullable=True,
            pattern=ICD10_PATTERN,
            max_items=MAX_SECONDARY_DIAGNOSES,
        ),
        AGE,
        SEX,
        AREA,
        Column(
            "discharge_destination",
            ColumnType.TEXT,
            "where the person went on discharge",
            allowed=_values(DischargeDestination),
        ),
    ),
)

DELAYS = RecordKind(
    name="delays",
    key="delay_id",
    description="Delayed transfers of care: delayed days for one person in one month.",
    columns=(
        Column("delay_id", ColumnType.TEXT, "unique record identifier"),
        NHS_NUMBER,
        Column("month", ColumnType.MONTH, "first day of the month the days fell in"),
        Column(
            "responsible",
            ColumnType.TEXT,
            "organisation responsible for the delay",
            allowed=_values(ResponsibleOrganisation),
        ),
        Column("care_type", ColumnType.TEXT, "acute or non_acute", allowed=_values(CareType)),
        Column("reason", ColumnType.TEXT, "DToC reason code A to I, or O", allowed=DELAY_REASONS),
        Column(
            "delayed_days",
            ColumnType.INTEGER,
            "delayed days in the month, 1 to 31",
            minimum=1,
            maximum=31,
        ),
        AGE,
        AREA,
    ),
)

CARE_HOME_ADMISSIONS = RecordKind(
    name="care_home_admissions",
    key="admission_id",
    description="Permanent admissions to residential and nursing care (SALT-like).",
    columns=(
        Column("admission_id", ColumnType.TEXT, "unique record identifier"),
        NHS_NUMBER,
        Column("admission_date", ColumnType.DATE, "date of the permanent admission"),
        Column(
            "setting", ColumnType.TEXT, "residential or nursing", allowed=_values(CareHomeSetting)
        ),
        Column(
            "funding", ColumnType.TEXT, "who funds the placement", allowed=_values(CareHomeFunding)
        ),
        Column(
            "previous_setting",
            ColumnType.TEXT,
            "where the person lived just before: residential or nursing for a permanent "
            "care-home placement (a transfer between care homes)",
            allowed=_values(PreviousSetting),
        ),
        AGE,
        AREA,
    ),
)

REABLEMENT = RecordKind(
    name="reablement",
    key="episode_id",
    description="Reablement episodes after hospital discharge, with the 91-day follow-up.",
    columns=(
        Column("episode_id", ColumnType.TEXT, "unique episode identifier"),
        NHS_NUMBER,
        Column("discharge_date", ColumnType.DATE, "date of discharge from hospital"),
        Column(
            "status_91_days",
            ColumnType.TEXT,
            "where the person is 91 days after discharge",
            allowed=_values(StatusAfter91Days),
        ),
        AGE,
        AREA,
    ),
)

SURVEY_RESPONSES = RecordKind(
    name="survey_responses",
    key="response_id",
    description="Answers to experience questions (e.g. care coordination), one per person.",
    columns=(
        Column("response_id", ColumnType.TEXT, "unique response identifier"),
        NHS_NUMBER,
        Column("response_date", ColumnType.DATE, "date of the response"),
        Column(
            "question",
            ColumnType.TEXT,
            "question identifier, e.g. care_coordination",
            pattern=QUESTION_PATTERN,
        ),
        Column(
            "positive",
            ColumnType.INTEGER,
            "1 for a positive answer, 0 otherwise",
            minimum=0,
            maximum=1,
        ),
        AGE,
        AREA,
    ),
)

RECORD_KINDS: tuple[RecordKind, ...] = (
    SPELLS,
    DELAYS,
    CARE_HOME_ADMISSIONS,
    REABLEMENT,
    SURVEY_RESPONSES,
)


def record_kind(name: str) -> RecordKind:
    """The record kind called ``name``; a clear error names the kinds there are."""
    for kind in RECORD_KINDS:
        if kind.name == name:
            return kind
    known = ", ".join(k.name for k in RECORD_KINDS)
    raise KeyError(f"unknown record kind {name!r}: expected one of {known}")
