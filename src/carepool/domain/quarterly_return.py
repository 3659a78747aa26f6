"""The quarterly return: what a pool reports to its Health and Wellbeing Board each quarter.

A pool manager's quarterly return has five parts: the budget arrangements (is the Section 75
agreement in place, who hosts it, who manages it, how risk is shared), the national
conditions, income and expenditure for the quarter and the year to date, the metrics planned
against actual, and a narrative the area writes. In 2014-16 every part was re-keyed into an
Excel template and emailed; the NAO found the inbox was the only audit trail. Here every
figure is *built* from what carepool already holds — the ledger, the plan the pool was opened
from, the conditions the assurer recorded, the metric values computed from person-level
data — so the return cannot disagree with the books or the metrics. Only the narrative is
written by hand.

The return is a frozen, self-checking model: its expenditure total must equal the sum of its
schemes, and its income lines must add up, or it refuses to exist. :meth:`as_dict` gives its
stable JSON shape and ``model_validate`` reads that shape back, so a submitted return is
stored as the exact figures the Health and Wellbeing Board signed.

Its sign-off is a :class:`~carepool.domain.workflow.Workflow`, declared as
:data:`RETURN_WORKFLOW`: the pool's finance officers submit, the board's chair (an
``area_signatory:AREA:HWB`` holder) signs off or sends back with a reason, and every step is
an append-only event from which the timeline is drawn.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from carepool.domain.direction import meets
from carepool.domain.errors import CarepoolError, Conflict
from carepool.domain.framework import MetricUse, NationalCondition
from carepool.domain.ledger import Light
from carepool.domain.periods import Quarter, quarters
from carepool.domain.plan import PlanContent, RiskShareKind, Scheme
from carepool.domain.plan_workflow import HWB_CHAIR
from carepool.domain.roles import Principal, Role
from carepool.domain.workflow import Guard, Scope, Transition, Workflow, step

Pence = Annotated[int, Field(strict=True)]
"""Whole pence in the model (strict: a float or a string is refused, never coerced)."""

# --------------------------------------------------------------------------------------------
# Contribution instalments: due, paid, late, short


PAYMENT_TERMS_DAYS = 30
"""Days after its due date by which an instalment counts as paid on time (usual terms)."""


class InstalmentStatus(StrEnum):
    """Values are the labels people see."""

    NOT_DUE = "Not yet due"
    AWAITING = "Awaiting payment"
    PAID = "Paid"
    PAID_LATE = "Paid late"
    SHORT = "Paid short"
    OVERDUE = "Overdue"

    @property
    def flagged(self) -> bool:
        """Whether the pool manager should chase or explain it."""
        return self in {
            InstalmentStatus.PAID_LATE,
            InstalmentStatus.SHORT,
            InstalmentStatus.OVERDUE,
        }


@dataclass(frozen=True, slots=True)
class Instalment:
    """One instalment of one partner's contribution from one stream, with what was paid."""

    partner: str
    partner_name: str
    stream: str
    financial_year: str
    number: int
    of: int
    due_date: dt.date
    due: int
    payments: tuple[tuple[dt.date, int], ...] = ()  # (date, pence), reversals negative
    entry_id: int | None = None

    @property
    def received(self) -> int:
        return sum(amount for _, amount in self.payments)

    @property
    def last_paid(self) -> dt.date | None:
        return max((day for day, amount in self.payments if amount > 0), default=None)

    def received_by(self, day: dt.date) -> int:
        return sum(amount for paid, amount in self.payments if paid <= day)

    def status(self, as_at: dt.date) -> InstalmentStatus:
        """Where the instalment stands at the end of ``as_at``."""
        received = self.received_by(as_at)
        deadline = self.due_date + dt.timedelta(days=PAYMENT_TERMS_DAYS)
        if received >= self.due:
            paid_on = max(
                (day for day, amount in self.payments if amount > 0 and day <= as_at),
                default=self.due_date,
            )
            return InstalmentStatus.PAID_LATE if paid_on > deadline else InstalmentStatus.PAID
        if received > 0:
            return InstalmentStatus.SHORT if as_at > deadline else InstalmentStatus.AWAITING
        if as_at < self.due_date:
            return InstalmentStatus.NOT_DUE
        return InstalmentStatus.OVERDUE if as_at > deadline else InstalmentStatus.AWAITING


# --------------------------------------------------------------------------------------------
# The return's parts


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Partner(_Part):
    code: str
    name: str


class Arrangements(_Part):
    """The Section 75 agreement as the pool holds it (copied from the approved plan)."""

    in_place: bool
    signed: dt.date | None
    host_partner: str
    host_name: str
    pool_manager: str
    risk_share: str | None
    risk_share_terms: str
    instalments: int
    plan_version: int
    partners: tuple[Partner, ...]


class ConditionLine(_Part):
    """A national condition and what the plan confirmed about it."""

    id: str
    title: str
    status: str
    evidence: str


class ApprovalCondition(_Part):
    """A condition of approval the assurer set, and whether it has been met."""

    text: str
    met: bool
    met_on: dt.date | None = None


class IncomeLine(_Part):
    """One partner's contribution from one stream: due and received, quarter and year."""

    partner: str
    partner_name: str
    stream: str
    stream_name: str
    annual: Pence
    due_quarter: Pence
    received_quarter: Pence
    due_to_date: Pence
    received_to_date: Pence
    flagged_instalments: int = 0

    @property
    def outstanding_to_date(self) -> int:
        return self.due_to_date - self.received_to_date


class ExpenditureLine(_Part):
    """Budget against actual for a scheme, an area of spend, a funding stream or the pool."""

    group: str  # scheme | area_of_spend | funding_stream | total
    key: str
    label: str
    annual_budget: Pence
    budget_quarter: Pence
    actual_quarter: Pence
    budget_to_date: Pence
    actual_to_date: Pence
    forecast: Pence
    forecast_basis: str
    light: Light

    @property
    def variance_quarter(self) -> int:
        return self.actual_quarter - self.budget_quarter

    @property
    def variance_to_date(self) -> int:
        return self.actual_to_date - self.budget_to_date

    @property
    def forecast_variance(self) -> int:
        return self.forecast - self.annual_budget


NO_DATA = "no data"
"""Said of a metric's actual when no value is stored for the area and quarter."""
WITHHELD = "withheld: a count of 1 to 7"
"""Said of an actual held back by publication control (a return goes to a public board)."""


@dataclass(frozen=True, slots=True)
class MetricActual:
    """A metric's stored value for an area and quarter, as a return may show it.

    ``value`` is ``None`` when publication control withholds it. ``definition_version`` and
    ``data_vintage`` say which definition computed it, from which person-level extract.
    """

    metric: str
    value: Decimal | None
    definition_version: int
    data_vintage: str


class MetricLine(_Part):
    """A metric's ambition for the quarter beside its actual, and whether it was met.

    ``met`` is ``None`` when there is nothing to judge: no ambition, or no value
    (``actual_note`` says why). Returns stored before carepool read metric values keep the
    note they were submitted with.
    """

    metric: str
    label: str
    name: str
    measure: str
    direction: str
    baseline: Decimal | None
    planned: Decimal | None
    actual: Decimal | None = None
    actual_note: str = NO_DATA
    met: bool | None = None
    definition_version: int | None = None
    data_vintage: str | None = None

    @property
    def verdict(self) -> str:
        """``Met``, ``Not met``, or what stands in for the actual."""
        if self.actual is None:
            return self.actual_note
        if self.met is None:
            return "No ambition set"
        return "Met" if self.met else "Not met"


_MONEY_FIELDS = (
    "annual_budget",
    "budget_quarter",
    "actual_quarter",
    "budget_to_date",
    "actual_to_date",
)


class QuarterlyReturn(_Part):
    """A pool's return for one quarter, every figure from the ledger, plan or conditions."""

    pool: str
    year: str
    area_code: str
    area_name: str
    quarter: str
    financial_year: str
    period_start: dt.date
    period_end: dt.date
    built_at: dt.datetime
    arrangements: Arrangements
    conditions: tuple[ConditionLine, ...]
    approval_conditions: tuple[ApprovalCondition, ...] = ()
    income: tuple[IncomeLine, ...]
    expenditure: tuple[ExpenditureLine, ...]
    metrics: tuple[MetricLine, ...]
    narrative: str = Field(default="", max_length=20000)

    @model_validator(mode="after")
    def _adds_up(self) -> QuarterlyReturn:
        """Refuse a return whose groups do not add up to its total (a bug, never data).

        Schemes, areas of spend and funding streams are three cuts of the same spend, so each
        must sum to the whole pool's line exactly. (Forecasts need not: a pool manager may
        forecast the whole pool without forecasting each scheme.)
        """
        totals = [line for line in self.expenditure if line.group == "total"]
        if len(totals) != 1:
            raise ValueError("a return has exactly one expenditure total line")
        for group in {line.group for line in self.expenditure} - {"total"}:
            lines = self.lines(group)
            for name in _MONEY_FIELDS:
                if sum(getattr(line, name) for line in lines) != getattr(totals[0], name):
                    raise ValueError(f"the {group} lines' {name} do not add up to the total")
        return self

    def lines(self, group: str) -> list[ExpenditureLine]:
        return [line for line in self.expenditure if line.group == group]

    @property
    def total(self) -> ExpenditureLine:
        return self.lines("total")[0]

    @property
    def income_totals(self) -> dict[str, int]:
        fields = ("annual", "due_quarter", "received_quarter", "due_to_date", "received_to_date")
        return {name: sum(getattr(line, name) for line in self.income) for name in fields}

    def as_dict(self) -> dict[str, Any]:
        """The stable JSON shape (money in integer pence, metric values as strings)."""
        return self.model_dump(mode="json")

    def figures(self) -> dict[str, Any]:
        """Everything but the narrative and when it was built, to tell whether figures moved."""
        return self.model_dump(mode="json", exclude={"narrative", "built_at"})

    def with_narrative(self, narrative: str) -> QuarterlyReturn:
        return self.model_copy(update={"narrative": narrative})


# --------------------------------------------------------------------------------------------
# Building a return (pure: the service gathers the facts, this decides the figures)


@dataclass(frozen=True, slots=True)
class SpendFigures:
    """A budget monitoring line as the ledger reports compute it, for one financial year."""

    group: str
    key: str
    label: str
    budget: int
    budget_by_quarter: tuple[int, int, int, int]
    actual_by_quarter: tuple[int, int, int, int]
    forecast: int
    forecast_basis: str
    light: Light


@dataclass(frozen=True, slots=True)
class PoolTerms:
    """What the pool copied from the plan's Section 75 agreement when it was opened."""

    host_partner: str
    pool_manager: str
    risk_share: str | None
    risk_share_parameters: Mapping[str, Any]
    instalments: int
    plan_version: int
    partners: Mapping[str, str]  # code -> name


@dataclass(frozen=True, slots=True)
class ReturnFacts:
    """Everything a return is built from; nothing in it is typed in by the pool manager."""

    pool: str
    year: str
    area_code: str
    area_name: str
    quarter: Quarter
    built_at: dt.datetime
    terms: PoolTerms
    plan: PlanContent
    national_conditions: Sequence[NationalCondition]
    metrics: Sequence[MetricUse]
    approval_conditions: Sequence[ApprovalCondition]
    spend: Sequence[SpendFigures]
    instalments: Sequence[Instalment]
    stream_names: Mapping[str, str] = field(default_factory=dict)
    narrative: str = ""
    actuals: Mapping[str, MetricActual] = field(default_factory=dict)


def build_return(facts: ReturnFacts) -> QuarterlyReturn:
    """The quarterly return for the facts' quarter."""
    quarter = facts.quarter
    return QuarterlyReturn(
        pool=facts.pool,
        year=facts.year,
        area_code=facts.area_code,
        area_name=facts.area_name,
        quarter=quarter.label,
        financial_year=quarter.financial_year,
        period_start=quarter.period.start,
        period_end=quarter.period.end,
        built_at=facts.built_at,
        arrangements=arrangements(facts.terms, facts.plan),
        conditions=condition_lines(facts.national_conditions, facts.plan),
        approval_conditions=tuple(facts.approval_conditions),
        income=income_lines(
            facts.plan, facts.instalments, quarter, facts.terms.partners, facts.stream_names
        ),
        expenditure=tuple(
            expenditure_line(s, quarter) for s in regrouped(facts.spend, facts.plan, quarter)
        ),
        metrics=metric_lines(facts.metrics, facts.plan, quarter, facts.actuals),
        narrative=facts.narrative,
    )


def arrangements(terms: PoolTerms, plan: PlanContent) -> Arrangements:
    """The agreement is in place when it is signed and names its host and pool manager."""
    agreement = plan.section75
    in_place = bool(agreement.signed and terms.host_partner and terms.pool_manager.strip())
    return Arrangements(
        in_place=in_place,
        signed=agreement.signed,
        host_partner=terms.host_partner,
        host_name=terms.partners.get(terms.host_partner, terms.host_partner),
        pool_manager=terms.pool_manager,
        risk_share=terms.risk_share,
        risk_share_terms=risk_share_words(terms),
        instalments=terms.instalments,
        plan_version=terms.plan_version,
        partners=tuple(Partner(code=c, name=n) for c, n in sorted(terms.partners.items())),
    )


def risk_share_words(terms: PoolTerms) -> str:
    """The agreed risk share in a sentence a board member can check against the agreement."""
    if terms.risk_share is None:
        return "Not stated in the agreement: the partners share in proportion to contributions"
    kind = RiskShareKind(terms.risk_share)
    parameters = terms.risk_share_parameters
    if kind is RiskShareKind.PROPORTIONAL:
        return "In proportion to each partner's contribution"
    if kind is RiskShareKind.OWN_COMMISSIONING:
        return (
            "Each partner bears the over- or underspend on the schemes it commissions; the rest "
            "in proportion to contributions"
        )
    if kind is RiskShareKind.FIXED_PERCENTAGES:
        shares = parameters.get("percentages") or {}
        listed = ", ".join(
            f"{terms.partners.get(str(p), str(p))} {v}%" for p, v in sorted(shares.items())
        )
        return f"Fixed percentages: {listed}" if listed else "Fixed percentages (not yet set)"
    cap = parameters.get("cap", "£0")
    host = terms.partners.get(terms.host_partner, terms.host_partner)
    return f"{host}, the host, bears the first {cap}; the rest in proportion to contributions"


def condition_lines(
    conditions: Sequence[NationalCondition], plan: PlanContent
) -> tuple[ConditionLine, ...]:
    """Each of the year's national conditions with the plan's confirmation and evidence."""
    confirmed = {c.condition: c for c in plan.conditions}
    lines = []
    for condition in conditions:
        found = confirmed.get(condition.id)
        status = found.status.value if found and found.status else "Not stated in the plan"
        lines.append(
            ConditionLine(
                id=condition.id,
                title=condition.title,
                status=status,
                evidence=found.evidence if found else "",
            )
        )
    return tuple(lines)


def income_lines(
    plan: PlanContent,
    instalments: Sequence[Instalment],
    quarter: Quarter,
    partners: Mapping[str, str],
    streams: Mapping[str, str] | None = None,
) -> tuple[IncomeLine, ...]:
    """Each partner's contribution by stream: what fell due and what came in."""
    names = {"partners": partners, "streams": streams or {}}
    lines = []
    for contribution in plan.contributions:
        if contribution.financial_year != quarter.financial_year or contribution.total <= 0:
            continue
        own = [
            i
            for i in instalments
            if i.partner == contribution.partner_code
            and i.stream == contribution.stream
            and i.financial_year == quarter.financial_year
        ]
        key = (contribution.partner_code, contribution.stream)
        lines.append(_income_line(key, own, quarter, contribution.total, names))
    return tuple(lines)


def _income_line(
    key: tuple[str, str],
    instalments: Sequence[Instalment],
    quarter: Quarter,
    annual: int,
    names: Mapping[str, Mapping[str, str]],
) -> IncomeLine:
    partner, stream = key
    period = quarter.period
    year_start = quarters(quarter.financial_year)[0].start
    payments = [p for i in instalments for p in i.payments]
    return IncomeLine(
        partner=partner,
        partner_name=names["partners"].get(partner, partner),
        stream=stream,
        stream_name=names["streams"].get(stream, stream),
        annual=annual,
        due_quarter=sum(i.due for i in instalments if period.contains(i.due_date)),
        received_quarter=sum(a for day, a in payments if period.contains(day)),
        due_to_date=sum(i.due for i in instalments if year_start <= i.due_date <= period.end),
        received_to_date=sum(a for day, a in payments if day <= period.end),
        flagged_instalments=sum(
            1 for i in instalments if i.due_date <= period.end and i.status(period.end).flagged
        ),
    )


NOT_IN_PLAN = "Not in plan"
"""The group of spend on a scheme reference the plan does not have (as the ledger reports)."""

_GROUP_KEYS: dict[str, Callable[[Scheme], str]] = {
    "area_of_spend": lambda s: s.area_of_spend,
    "funding_stream": lambda s: s.funding_source,
    "total": lambda _s: "total",
}


def regrouped(
    spend: Sequence[SpendFigures], plan: PlanContent, quarter: Quarter
) -> list[SpendFigures]:
    """The lines with each group's quarterly budgets made the sum of its schemes'.

    A budget spread evenly over four quarters is rounded to the penny scheme by scheme, so
    spreading a group's total afresh can differ from its schemes' spreads by a few pence. A
    return must add up down every column, so a group's quarterly budget is its schemes'.
    """
    by_ref = {s.ref: s for s in plan.schemes if s.financial_year == quarter.financial_year}
    schemes = [line for line in spend if line.group == "scheme"]
    lines = []
    for line in spend:
        key_of = _GROUP_KEYS.get(line.group)
        if key_of is None:
            lines.append(line)
            continue
        members = [
            s.budget_by_quarter
            for s in schemes
            if (key_of(by_ref[s.key]) if s.key in by_ref else NOT_IN_PLAN) == line.key
            or line.group == "total"
        ]
        summed = tuple(sum(column) for column in zip(*members, strict=True)) or (0, 0, 0, 0)
        lines.append(replace(line, budget_by_quarter=_four(summed)))
    return lines


def _four(values: Sequence[int]) -> tuple[int, int, int, int]:
    first, second, third, fourth = values
    return first, second, third, fourth


def expenditure_line(figures: SpendFigures, quarter: Quarter) -> ExpenditureLine:
    """A monitoring line cut to one quarter and the year up to that quarter's end."""
    upto = quarter.index + 1
    return ExpenditureLine(
        group=figures.group,
        key=figures.key,
        label=figures.label,
        annual_budget=figures.budget,
        budget_quarter=figures.budget_by_quarter[quarter.index],
        actual_quarter=figures.actual_by_quarter[quarter.index],
        budget_to_date=sum(figures.budget_by_quarter[:upto]),
        actual_to_date=sum(figures.actual_by_quarter[:upto]),
        forecast=figures.forecast,
        forecast_basis=figures.forecast_basis,
        light=figures.light,
    )


def metric_lines(
    metrics: Sequence[MetricUse],
    plan: PlanContent,
    quarter: Quarter,
    actuals: Mapping[str, MetricActual],
) -> tuple[MetricLine, ...]:
    """Each of the year's metrics: the plan's ambition for the quarter beside the stored value.

    A metric with no stored value for the area and quarter says "no data", never a blank a
    reader might take for zero; whether the ambition was met follows the metric's direction.
    """
    ambitions = {a.metric: a for a in plan.ambitions}
    lines = []
    for metric in metrics:
        ambition = ambitions.get(metric.metric)
        planned = ambition.quarters[quarter.index] if ambition else None
        lines.append(
            MetricLine(
                metric=metric.metric,
                label=metric.label,
                name=metric.name,
                measure=metric.measure,
                direction=metric.direction,
                baseline=ambition.baseline if ambition else None,
                planned=planned,
                **_actual(metric.direction, planned, actuals.get(metric.metric)),
            )
        )
    return tuple(lines)


def _actual(direction: str, planned: Decimal | None, found: MetricActual | None) -> dict[str, Any]:
    if found is None:
        return {"actual_note": NO_DATA}
    shown = {"definition_version": found.definition_version, "data_vintage": found.data_vintage}
    if found.value is None:
        return {**shown, "actual_note": WITHHELD}
    met = None if planned is None else meets(direction, found.value, planned)
    return {**shown, "actual": found.value, "actual_note": "", "met": met}


# --------------------------------------------------------------------------------------------
# Sign-off


class ReturnStatus(StrEnum):
    """Values are the labels people see."""

    DRAFT = "Draft"
    SUBMITTED = "Submitted"
    SIGNED_OFF = "Signed off"
    SENT_BACK = "Sent back"


class ReturnAction(StrEnum):
    START = "start"
    SUBMIT = "submit"
    SIGN_OFF = "sign_off"
    SEND_BACK = "send_back"

    @property
    def label(self) -> str:
        return _ACTION_LABELS[self]

    @property
    def done(self) -> str:
        """The past participle, for "cannot be … now"."""
        return _DONE[self]


_DONE = {
    ReturnAction.START: "started",
    ReturnAction.SUBMIT: "submitted",
    ReturnAction.SIGN_OFF: "signed off",
    ReturnAction.SEND_BACK: "sent back",
}

_ACTION_LABELS = {
    ReturnAction.START: "Return started",
    ReturnAction.SUBMIT: "Submitted to the Health and Wellbeing Board",
    ReturnAction.SIGN_OFF: "Signed off by the Health and Wellbeing Board",
    ReturnAction.SEND_BACK: "Sent back",
}

EDITABLE = frozenset({ReturnStatus.DRAFT, ReturnStatus.SENT_BACK})
"""The narrative changes, and figures follow the ledger, only before submission."""


@dataclass(frozen=True, slots=True)
class SignOffFacts:
    """What the sign-off guards read: the quarter, today, the narrative and the comment."""

    quarter: Quarter
    today: dt.date
    narrative: str = ""
    comment: str = ""


def long_date(day: dt.date) -> str:
    """A date as people write it: ``30 September 2015``."""
    return f"{day.day} {day:%B %Y}"


def _quarter_not_ended(facts: SignOffFacts) -> Conflict:
    quarter = facts.quarter
    return Conflict(
        f"{quarter.label} ends on {long_date(quarter.period.end)}; a return reports a "
        "quarter that has ended, so submit it after then"
    )


_QUARTER_ENDED: Guard[SignOffFacts] = Guard(
    "the quarter has ended",
    lambda f: f.quarter.period.end < f.today,
    _quarter_not_ended,
)
_NARRATIVE_WRITTEN: Guard[SignOffFacts] = Guard(
    "the narrative is written",
    lambda f: bool(f.narrative.strip()),
    lambda f: CarepoolError("write the narrative before you submit the return"),
)
_SAYS_WHY: Guard[SignOffFacts] = Guard(
    "a comment says why",
    lambda f: bool(f.comment.strip()),
    lambda f: CarepoolError("say why the return is sent back (a comment is required)"),
)


def _not_open(
    status: ReturnStatus,
    row: Transition[ReturnStatus, ReturnAction, SignOffFacts],
    opened: Sequence[Transition[ReturnStatus, ReturnAction, SignOffFacts]],
) -> str:
    allowed = ", ".join(r.action.label for r in opened) or "nothing"
    return (
        f"a return that is {status.value.lower()} cannot be {row.action.done} now; "
        f"allowed now: {allowed}"
    )


def _not_held(row: Transition[ReturnStatus, ReturnAction, SignOffFacts], scope: Scope) -> str:
    return f"only {row.who} for {scope.area_code} can do that"


R = ReturnStatus
BOARD_SIGNATORY = "the Health and Wellbeing Board's signatory"
RETURN_WORKFLOW: Workflow[ReturnStatus, ReturnAction, SignOffFacts] = Workflow(
    name="quarterly return",
    states=ReturnStatus,
    initial=R.DRAFT,
    transitions=(
        step(
            ReturnAction.SUBMIT,
            {R.DRAFT, R.SENT_BACK},
            R.SUBMITTED,
            Role.POOL_FINANCE,
            guards=[_QUARTER_ENDED, _NARRATIVE_WRITTEN],
            who="the pool's finance officers",
        ),
        step(
            ReturnAction.SIGN_OFF,
            R.SUBMITTED,
            R.SIGNED_OFF,
            Role.AREA_SIGNATORY,
            who=BOARD_SIGNATORY,
        ),
        step(
            ReturnAction.SEND_BACK,
            R.SUBMITTED,
            R.SENT_BACK,
            Role.AREA_SIGNATORY,
            guards=[_SAYS_WHY],
            who=BOARD_SIGNATORY,
        ),
    ),
    not_open=_not_open,
    not_held=_not_held,
)
"""The return's sign-off as the policy sets it out (rendered in the developer guide).

Starting a return is recorded as an event too, but it is not a step a person takes: a return
starts when its narrative is first saved or its first step is taken.
"""


def scope(area_code: str) -> Scope:
    """The board signs a return through its chair's grant (``area_signatory:AREA:HWB``).

    A partner's signatory signs plans, not the board's returns.
    """
    return Scope(area_code, HWB_CHAIR)


def check_move(
    status: ReturnStatus, action: ReturnAction, actor: Principal, area_code: str
) -> Transition[ReturnStatus, ReturnAction, SignOffFacts]:
    """The move if it is legal now and the actor may make it; otherwise say why not."""
    return RETURN_WORKFLOW.permit(status, action, actor, scope(area_code))


def allowed_actions(status: ReturnStatus) -> list[ReturnAction]:
    return RETURN_WORKFLOW.open_actions(status)


def may(status: ReturnStatus, action: ReturnAction, actor: Principal, area_code: str) -> bool:
    """Whether ``check_move`` would let the actor take the step (to show its button)."""
    return RETURN_WORKFLOW.may(status, action, actor, scope(area_code))
