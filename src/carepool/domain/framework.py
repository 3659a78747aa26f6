"""A programme year's policy framework, as validated data.

The BCF changed every year: different funding streams and minimums, national conditions,
metrics, payment rules and assurance categories. carepool keeps each year as a data file
(``carepool/frameworks/*.toml``) and this module says what a valid one looks like. Code
implements rule *kinds* (``population`` allocation, ``non_elective_reduction`` payment...);
a new year is a new file, not new code.

Amounts are written in the files as people write them (``"£3,460,000,000"``) and held here as
integer pence.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from carepool.domain.direction import Direction
from carepool.domain.errors import MoneyError, Problem
from carepool.domain.figures import LEGACY_MARKER, FigureStatus, resolve
from carepool.domain.money import Pence, parse_money
from carepool.domain.periods import (
    PeriodError,
    financial_year,
    financial_year_start,
    programme_financial_years,
)

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
_GSS_CODE = re.compile(r"^[EWSN][0-9]{8}$")


def _money_field(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError("an amount must be written as text such as '£1,234.56'")
    if isinstance(value, int):
        raise ValueError(
            "write amounts as text in pounds, such as '£1,234.56', so pence are never guessed"
        )
    if not isinstance(value, str):
        raise ValueError("an amount must be written as text such as '£1,234.56'")
    try:
        return parse_money(value)
    except MoneyError as exc:  # pydantic reports ValueErrors with their location
        raise ValueError(exc.message) from exc


def _financial_year(value: str) -> str:
    try:
        return financial_year(value)
    except PeriodError as exc:  # pydantic reports ValueErrors with their location
        raise ValueError(exc.message) from exc


def _programme_year(value: str) -> str:
    try:
        programme_financial_years(value)
    except PeriodError as exc:
        raise ValueError(exc.message) from exc
    return value


def _direction(value: Direction) -> Direction:
    if value is Direction.NEITHER:
        raise ValueError("a plan's ambition needs a better direction: lower or higher")
    return value


def _identifier(value: str) -> str:
    if not _IDENTIFIER.match(value):
        raise ValueError(f"{value!r} must be lower_snake_case (letters, digits, underscores)")
    return value


Money = Annotated[int, BeforeValidator(_money_field), Field(ge=0)]
FinancialYear = Annotated[str, AfterValidator(_financial_year)]
ProgrammeYear = Annotated[str, AfterValidator(_programme_year)]
Identifier = Annotated[str, AfterValidator(_identifier)]


class _Strict(BaseModel):
    """Frozen, and refuses unknown keys so a typo in a framework file is caught, not ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Payer(StrEnum):
    """Who pays a stream into the pool: NHS commissioners or the council."""

    COMMISSIONER = "commissioner"
    COUNCIL = "council"


class AgeBand(StrEnum):
    """Broad age bands that allocation formulas may weight."""

    CHILDREN = "0-17"
    WORKING_AGE = "18-64"
    OLDER = "65+"


class AllocationBasis(_Strict):
    """How a stream is divided between areas when no published table is imported.

    ``population``: in proportion to each area's resident population, each person weighted by
    their broad age band (older people use far more health and care, so a year may weight them
    more heavily).
    """

    kind: Literal["population"] = "population"
    age_weights: dict[AgeBand, Annotated[Decimal, Field(ge=0)]] = Field(
        default_factory=lambda: {band: Decimal(1) for band in AgeBand}
    )

    @field_validator("age_weights", mode="before")
    @classmethod
    def _exact(cls, weights: object) -> object:
        # TOML gives floats; read them through their text so 0.1 stays exactly 0.1.
        if isinstance(weights, dict):
            return {k: Decimal(str(v)) if isinstance(v, float) else v for k, v in weights.items()}
        return weights

    @field_validator("age_weights")
    @classmethod
    def _all_bands(cls, weights: dict[AgeBand, Decimal]) -> dict[AgeBand, Decimal]:
        missing = [band.value for band in AgeBand if band not in weights]
        if missing:
            raise ValueError(f"age_weights must give a weight for every band; missing {missing}")
        if not any(weights.values()):
            raise ValueError("at least one age weight must be above zero")
        return weights


class Earmark(_Strict):
    """A part of a stream set aside for a purpose (carers' breaks, reablement...)."""

    name: str
    amount: Money
    note: str = ""


class FundingStream(_Strict):
    """One source of money in the pool, with its national total for each financial year."""

    id: Identifier
    name: str
    payer: Payer
    capital: bool = False
    totals: dict[FinancialYear, Money]
    basis: AllocationBasis = Field(default_factory=AllocationBasis)
    passes_to_districts: bool = False
    earmarks: tuple[Earmark, ...] = ()
    note: str = ""

    @model_validator(mode="after")
    def _earmarks_fit(self) -> FundingStream:
        smallest = min(self.totals.values(), default=0)
        if sum(e.amount for e in self.earmarks) > smallest:
            raise ValueError(f"earmarks of stream {self.id!r} add up to more than the stream")
        return self


class NationalCondition(_Strict):
    id: Identifier
    title: str
    text: str
    evidence: str


class MetricUse(_Strict):
    """A metric the year uses, and the label the year's documents give it.

    ``metric`` is carepool's stable identity for the measure; ``label`` changes from year to
    year (ASCOF 2A(2) became 2C) without making it a different metric.
    """

    metric: Identifier
    label: str
    name: str
    direction: Annotated[Direction, AfterValidator(_direction)]
    measure: Literal["count", "rate_per_100000", "percentage", "score", "days"]
    local_choice: bool = False
    catalogued: bool = True
    """False when the year names a metric carepool has no definition for yet: the file may
    say so (and loading reports it) rather than borrow another metric's id."""


class PaymentDesign(_Strict):
    """A payment-for-performance design: a rule kind plus its parameters.

    Superseded designs stay in the file so the history of the policy is kept with it.
    """

    kind: Literal[
        "conditions_and_metrics",
        "non_elective_reduction",
        "local_risk_share",
        "non_elective_risk_share",
        "none",
    ]
    status: Literal["in_force", "superseded"]
    announced: dt.date
    pot: Money = 0
    parameters: dict[str, Any] = Field(default_factory=dict)
    tranches: tuple[Tranche, ...] = ()
    note: str = ""

    @model_validator(mode="after")
    def _parameters_fit_kind(self) -> PaymentDesign:
        required = _PAYMENT_PARAMETERS[self.kind]
        missing = sorted(required - set(self.parameters))
        if missing:
            raise ValueError(f"payment kind {self.kind!r} needs parameters {missing}")
        for key in _PAYMENT_MONEY.get(self.kind, set()):
            try:
                parse_money(str(self.parameters[key]))
            except MoneyError as exc:
                raise ValueError(f"parameter {key}: {exc.message}") from exc
        if self.tranches and sum(t.amount for t in self.tranches) != self.pot:
            raise ValueError("the tranches of a payment design must add up to its pot")
        return self


class Tranche(_Strict):
    name: str
    amount: Money
    paid: str
    basis: str


_PAYMENT_MONEY: dict[str, set[str]] = {
    "non_elective_reduction": {"cost_per_admission"},
    "non_elective_risk_share": {"ring_fence", "cost_per_admission"},
}

_PAYMENT_PARAMETERS: dict[str, set[str]] = {
    "conditions_and_metrics": set(),
    "non_elective_reduction": {
        "guideline_reduction_percent",
        "cost_per_admission",
        "payment_frequency",
        "unearned_goes_to",
    },
    "local_risk_share": {"applies_when"},
    "non_elective_risk_share": {"ring_fence", "cost_per_admission", "applies_when"},
    "none": set(),
}


class RuleKind(StrEnum):
    """Year-level rules beside the payment design: grant conditions and year-end checks.

    Each kind is implemented once (``carepool.domain.grant_rules``) and parameterised from the
    file; a kind listed in :data:`NOT_YET_RUN` is recognised but carepool cannot yet apply
    it, and loading the year says so by name.
    """

    IMPROVED_BCF_CONDITIONS = "improved_bcf_conditions"
    YEAR_END_RECONCILIATION = "year_end_reconciliation"
    DISCHARGE_FUND = "discharge_fund"
    BETTER_CARE_GRANT_CONDITIONS = "better_care_grant_conditions"
    TRANSFER_TO_SOCIAL_CARE = "transfer_to_social_care"


_RULE_PARAMETERS: dict[RuleKind, set[str]] = {
    RuleKind.IMPROVED_BCF_CONDITIONS: {"stream", "uplift_percent"},
    RuleKind.YEAR_END_RECONCILIATION: {"nhs_stream"},
    RuleKind.DISCHARGE_FUND: {"streams", "returns"},
    RuleKind.BETTER_CARE_GRANT_CONDITIONS: {"stream", "nhs_stream", "uplift_percent"},
    RuleKind.TRANSFER_TO_SOCIAL_CARE: {"stream", "first_tranche"},
}

NOT_YET_RUN: frozenset[RuleKind] = frozenset({RuleKind.TRANSFER_TO_SOCIAL_CARE})
"""Rule kinds a framework may name that carepool does not yet apply."""


class YearRule(_Strict):
    """A grant condition or year-end rule of the year, by kind, with its parameters."""

    kind: RuleKind
    parameters: dict[str, Any] = Field(default_factory=dict)
    note: str = ""

    @model_validator(mode="after")
    def _parameters_fit_kind(self) -> YearRule:
        missing = sorted(_RULE_PARAMETERS[self.kind] - set(self.parameters))
        if missing:
            raise ValueError(f"rule kind {self.kind.value!r} needs parameters {missing}")
        return self


class Figure(_Strict):
    """Where one figure of the file comes from: its key path, a source key, and, when no
    source confirms it, why it is unconfirmed."""

    key: str
    source: str
    unconfirmed: str = ""


class Deadline(_Strict):
    name: str
    date: dt.date


class CouncilMerge(_Strict):
    """Councils that share one Health and Wellbeing Board (Cornwall with the Isles of Scilly)."""

    code: str
    name: str = ""  # default: the councils' names joined with "and"
    councils: tuple[str, ...] = Field(min_length=2)

    @field_validator("councils")
    @classmethod
    def _codes(cls, councils: tuple[str, ...]) -> tuple[str, ...]:
        bad = [c for c in councils if not _GSS_CODE.match(c)]
        if bad:
            raise ValueError(f"not ONS area codes: {bad}")
        return councils


class Geography(_Strict):
    """Which councils form the year's HWB areas, and which data vintages it relies on."""

    as_at: dt.date
    council_types: tuple[Literal["UA", "MD", "LBO", "CTY", "CC"], ...]
    merges: tuple[CouncilMerge, ...] = ()
    population_vintage: str
    metric_population_vintage: str | None = None
    """The population metrics divide by, when it is not ``population_vintage``.

    Allocation needs only broad bands, which the CCG-share vintage carries on the year's own
    codes; age-standardised metrics need single years of age, which only the ONS estimates
    give (on later codes, mapped back through the code history)."""
    note: str = ""

    @property
    def denominator_vintage(self) -> str:
        """The population vintage the year's metrics divide by."""
        return self.metric_population_vintage or self.population_vintage


class PlanRules(_Strict):
    """Parameters of the plan checks that change from year to year."""

    nhs_stream: Identifier = "ccg_minimum"
    social_care_share: Annotated[Decimal, Field(ge=0, le=1)] | None = None
    note: str = ""


class Template(_Strict):
    version: str
    sheets: tuple[str, ...]


class Framework(_Strict):
    """One programme year's whole policy framework."""

    year: ProgrammeYear
    name: str
    financial_years: tuple[FinancialYear, ...] = Field(min_length=1)
    starts: dt.date
    ends: dt.date
    minimum_total: Money
    headline: str = ""
    sources: tuple[str, ...] = ()
    geography: Geography
    streams: tuple[FundingStream, ...] = Field(min_length=1)
    national_conditions: tuple[NationalCondition, ...] = Field(min_length=1)
    metrics: tuple[MetricUse, ...] = Field(min_length=1)
    payment: tuple[PaymentDesign, ...] = Field(min_length=1)
    assurance_categories: tuple[str, ...] = Field(min_length=2)
    scheme_types: tuple[str, ...] = Field(min_length=1)
    areas_of_spend: tuple[str, ...] = Field(min_length=1)
    deadlines: tuple[Deadline, ...] = ()
    plan_rules: PlanRules = Field(default_factory=PlanRules)
    template: Template
    rules: tuple[YearRule, ...] = ()
    citations: dict[str, str] = Field(default_factory=dict)
    """Source keys (as bcf-domain cites them: ``PS2021``) and what each one is."""
    figures: tuple[Figure, ...] = ()
    """Each figure's source; a file that gives ``citations`` must cite every figure."""

    @model_validator(mode="after")
    def _consistent(self) -> Framework:
        _check_dates(self)
        _check_unique(self)
        _check_stream_years(self)
        if self.plan_rules.nhs_stream not in {s.id for s in self.streams}:
            raise ValueError(
                f"plan_rules.nhs_stream {self.plan_rules.nhs_stream!r} is not a stream"
            )
        if sum(1 for p in self.payment if p.status == "in_force") != 1:
            raise ValueError("exactly one payment design must be 'in_force'")
        return self

    def stream(self, stream_id: str) -> FundingStream:
        for stream in self.streams:
            if stream.id == stream_id:
                return stream
        raise KeyError(stream_id)

    def stream_total(self) -> Pence:
        return Pence(sum(sum(s.totals.values()) for s in self.streams))

    @property
    def payment_in_force(self) -> PaymentDesign:
        return next(p for p in self.payment if p.status == "in_force")

    def figure_statuses(self) -> list[FigureStatus]:
        """Every cited figure, then those the older files marked "(verify)" in a note."""
        cited = [
            FigureStatus(f.key, self.citations.get(f.source, f.source), f.unconfirmed)
            for f in self.figures
        ]
        return cited + _legacy_unconfirmed(self)

    def unconfirmed(self) -> list[FigureStatus]:
        return [f for f in self.figure_statuses() if not f.confirmed]

    def not_yet_supported(self) -> list[str]:
        """What the year asks for that carepool cannot yet do, each naming the rule kind."""
        notes = [
            f"rule kind {rule.kind.value!r} is not yet applied by carepool"
            for rule in self.rules
            if rule.kind in NOT_YET_RUN
        ]
        notes.extend(
            f"metric {use.metric!r} ({use.label}) has no carepool definition yet"
            for use in self.metrics
            if not use.catalogued
        )
        return notes


def figure_keys(framework: Framework) -> list[str]:
    """The key path of every figure a cited file must give a source for."""
    keys = ["minimum_total"]
    for stream in framework.streams:
        keys.extend(f"streams.{stream.id}.totals.{year}" for year in stream.totals)
        keys.extend(f"streams.{stream.id}.earmarks.{e.name}.amount" for e in stream.earmarks)
    for design in framework.payment:
        if design.pot:
            keys.append(f"payment.{design.kind}.pot")
        keys.extend(f"payment.{design.kind}.tranches.{t.name}.amount" for t in design.tranches)
        money = _PAYMENT_MONEY.get(design.kind, set())
        keys.extend(f"payment.{design.kind}.parameters.{k}" for k in sorted(money))
    keys.extend(f"deadlines.{d.name}.date" for d in framework.deadlines)
    if framework.plan_rules.social_care_share is not None:
        keys.append("plan_rules.social_care_share")
    return keys


def framework_problems(framework: Framework, file_name: str) -> list[Problem]:
    """What is wrong with a framework that parsed, each with its key: the checks that read
    across the file (figures cited, sources known, metrics defined) rather than one table."""
    problems: list[Problem] = []
    if framework.minimum_total != framework.stream_total():
        problems.append(
            Problem(
                f"minimum_total ({framework.minimum_total} pence) must equal the sum of the "
                f"streams' totals ({framework.stream_total()} pence)",
                file=file_name,
                key="minimum_total",
            )
        )
    for index, figure in enumerate(framework.figures):
        where = f"figures[{index}]"
        try:
            resolve(framework, figure.key)
        except KeyError as exc:
            problems.append(Problem(f"{exc.args[0]}", file=file_name, key=f"{where}.key"))
        if framework.citations and figure.source not in framework.citations:
            problems.append(
                Problem(
                    f"source {figure.source!r} is not one of the file's citations",
                    file=file_name,
                    key=f"{where}.source",
                )
            )
    if framework.citations:
        cited = {f.key for f in framework.figures}
        problems.extend(
            Problem("this figure cites no source", file=file_name, key=key)
            for key in figure_keys(framework)
            if key not in cited
        )
    return problems


def metric_problems(framework: Framework, file_name: str, known: frozenset[str]) -> list[Problem]:
    """Metrics the file names by an id carepool does not define, unless it says so."""
    return [
        Problem(
            f"metric {use.metric!r} does not exist; the metrics are {', '.join(sorted(known))}"
            " (mark a year's own metric local_choice or catalogued = false)",
            file=file_name,
            key=f"metrics[{index}].metric",
        )
        for index, use in enumerate(framework.metrics)
        if use.catalogued and not use.local_choice and use.metric not in known
    ]


def overlap_problems(
    framework: Framework, file_name: str, others: Mapping[str, Sequence[str]]
) -> list[Problem]:
    """Other programme years (by year, their financial years) that share a financial year
    with ``framework``: two frameworks for one year would make allocations ambiguous."""
    mine = set(framework.financial_years)
    return [
        Problem(
            f"financial year {', '.join(sorted(mine.intersection(years)))} is already in "
            f"programme year {other}",
            file=file_name,
            key="financial_years",
        )
        for other, years in sorted(others.items())
        if other != framework.year and mine.intersection(years)
    ]


def _legacy_unconfirmed(framework: Framework) -> list[FigureStatus]:
    if framework.citations:
        return []
    reason = f"marked {LEGACY_MARKER} in the file's note"
    found: list[FigureStatus] = []
    for stream in framework.streams:
        if LEGACY_MARKER in stream.note:
            found.extend(
                FigureStatus(f"streams.{stream.id}.totals.{year}", "", reason)
                for year in stream.totals
            )
        found.extend(
            FigureStatus(f"streams.{stream.id}.earmarks.{e.name}.amount", "", reason)
            for e in stream.earmarks
            if LEGACY_MARKER in e.note
        )
    rules = framework.plan_rules
    if LEGACY_MARKER in rules.note and rules.social_care_share is not None:
        found.append(FigureStatus("plan_rules.social_care_share", "", reason))
    return found


def _check_dates(framework: Framework) -> None:
    if framework.ends <= framework.starts:
        raise ValueError("the programme must end after it starts")
    first = financial_year_start(framework.financial_years[0])
    if framework.starts != first:
        raise ValueError(
            f"starts must be 1 April {first.year}, the start of the first financial year"
        )


def _check_unique(framework: Framework) -> None:
    for name, ids in (
        ("stream", [s.id for s in framework.streams]),
        ("national condition", [c.id for c in framework.national_conditions]),
        ("metric", [m.metric for m in framework.metrics]),
    ):
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"{name} ids must be unique; repeated: {repeated}")


def _check_stream_years(framework: Framework) -> None:
    spanned = programme_financial_years(framework.year)
    if framework.financial_years != spanned:
        raise ValueError(
            f"financial_years must be the years programme year {framework.year} spans: "
            f"{', '.join(spanned)}"
        )
    expected = set(framework.financial_years)
    for stream in framework.streams:
        if set(stream.totals) != expected:
            raise ValueError(
                f"stream {stream.id!r} must give a total for each financial year "
                f"{sorted(expected)}; it gives {sorted(stream.totals)}"
            )


PaymentDesign.model_rebuild()
