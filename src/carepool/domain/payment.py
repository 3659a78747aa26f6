"""Payment for performance: how much of an area's performance pot a quarter's result earns.

The framework file describes each payment design as a rule *kind* with parameters; this module
implements the kinds, and adding a design is adding a kind (a class and one entry in
:data:`RULE_KINDS`), never editing another. Every line conserves money exactly: released
plus retained is the pot, to the penny, and every figure is in whole pence.

The July 2014 redesign in force for 2015-16 (``non_elective_reduction``), in one place::

    pot_q      = max(0, baseline_q − plan_q) × unit_cost
    earned_q   = min(pot_q, max(0, baseline_q − actual_q) × unit_cost)
    released_q = earned_q            (into the pool, for its schemes)
    retained_q = pot_q − earned_q    (stays with the CCG, to pay for the extra admissions)

``baseline_q`` is the same quarter of the baseline year, ``plan_q`` the approved plan's
ambition for the quarter and ``actual_q`` the measured total non-elective admissions. The
unit cost is the framework's average cost of an admission (£1,490 for 2015-16: a parameter,
not code). The reference formula is from the Better Care Fund's 2015-16 guidance as
summarised in carepool's domain notes; the August 2014 technical guidance that set it out is
not held, and the formula is marked there as to be verified against it.

The December 2013 design (``conditions_and_metrics``, superseded before any payment) is kept
runnable for comparison: an area's share of each tranche, with the share of its planned
improvement it achieved; at 70% or more the money may go to its contingency plan, below 70%
a recovery plan is needed. No money was to be withdrawn in 2015-16, so it is all released.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from fractions import Fraction
from statistics import NormalDist
from typing import Any, Protocol

from carepool.domain import spc
from carepool.domain.errors import CarepoolError, StateTransitionError
from carepool.domain.money import Pence, format_money, parse_money, split_by_weights
from carepool.domain.roles import Role
from carepool.domain.workflow import Condition, Guard, Workflow, step


class PaymentError(CarepoolError):
    """A payment design or its inputs cannot be used."""


class PaymentStatus(StrEnum):
    """How a quarter's result compares with the plan (the words of open results standards)."""

    MET = "met"
    PARTLY_MET = "partly_met"
    NOT_MET = "not_met"
    NO_DATA = "no_data"


@dataclass(frozen=True, slots=True)
class QuarterResult:
    """What one area planned and achieved in one quarter, the inputs of a payment line.

    ``baseline`` and ``plan`` come from the approved plan, ``actual`` from the stored metric
    value (``None`` when there is none yet).
    """

    area_code: str
    quarter: str
    baseline: Decimal
    plan: Decimal
    actual: Decimal | None


@dataclass(frozen=True, slots=True)
class PaymentLine:
    """One area's payment for one quarter, and the working that gave it."""

    area_code: str
    quarter: str
    baseline: Decimal
    plan: Decimal
    actual: Decimal | None
    unit_cost_pence: Pence
    pot_pence: Pence
    earned_pence: Pence
    released_pence: Pence
    retained_pence: Pence
    status: PaymentStatus
    working: str

    def __post_init__(self) -> None:
        if self.released_pence + self.retained_pence != self.pot_pence:
            raise PaymentError(
                f"{self.area_code} {self.quarter}: released and retained must add up to the pot"
            )


class PaymentRule(Protocol):
    """A payment design's rule: a quarter's result in, the line it earns out."""

    @property
    def kind(self) -> str:
        """The framework's name for the design."""
        ...

    def assess(self, result: QuarterResult) -> PaymentLine:
        """The payment line for one area and quarter."""
        ...

    def published_working(self, line: PaymentLine, actual: str) -> str:
        """The line's working as the public may read it: the measured count as published
        (``actual``: rounded, or the withheld symbol) in place of the exact one, and the
        line's amounts exactly as paid."""
        ...


def pence(amount: Decimal) -> Pence:
    """A money amount in pence, rounded half to even only here, once, at the end."""
    return Pence(int(amount.quantize(Decimal(1), rounding=ROUND_HALF_EVEN)))


@dataclass(frozen=True, slots=True)
class NonElectiveReduction:
    """July 2014: the pot is the planned fall in emergency admissions at the unit cost, and
    a quarter earns the fall achieved against the same quarter of the baseline year, up to
    its pot."""

    unit_cost_pence: Pence
    kind: str = "non_elective_reduction"

    def assess(self, result: QuarterResult) -> PaymentLine:
        planned_fall = max(Decimal(0), result.baseline - result.plan)
        pot = pence(planned_fall * self.unit_cost_pence)
        if result.actual is None:
            return self._line(result, pot, Pence(0), PaymentStatus.NO_DATA, "no measured value")
        achieved_fall = max(Decimal(0), result.baseline - result.actual)
        earned = min(pot, pence(achieved_fall * self.unit_cost_pence))
        working = self._working(result.baseline, result.plan, str(result.actual), pot, earned)
        return self._line(result, pot, earned, _status(pot, earned, result), working)

    def published_working(self, line: PaymentLine, actual: str) -> str:
        if line.actual is None:
            return line.working
        return self._working(line.baseline, line.plan, actual, line.pot_pence, line.earned_pence)

    def _working(
        self, baseline: Decimal, plan: Decimal, actual: str, pot: Pence, earned: Pence
    ) -> str:
        """The formula with the numbers filled in; ``actual`` as the reader may see it."""
        cost = format_money(self.unit_cost_pence)
        return (
            f"pot = max(0, {baseline} − {plan}) × {cost} = {format_money(pot)}; "
            f"earned = min(pot, max(0, {baseline} − {actual}) × {cost}) = {format_money(earned)}"
        )

    def _line(
        self, result: QuarterResult, pot: Pence, earned: Pence, status: PaymentStatus, working: str
    ) -> PaymentLine:
        return _line(result, self.unit_cost_pence, pot, earned, status, working)


def _line(
    result: QuarterResult,
    unit_cost: Pence,
    pot: Pence,
    released: Pence,
    status: PaymentStatus,
    working: str,
) -> PaymentLine:
    """A line releasing ``released`` of ``pot`` (earned and released are the same money),
    the rest retained."""
    return PaymentLine(
        area_code=result.area_code,
        quarter=result.quarter,
        baseline=result.baseline,
        plan=result.plan,
        actual=result.actual,
        unit_cost_pence=unit_cost,
        pot_pence=pot,
        earned_pence=released,
        released_pence=released,
        retained_pence=Pence(pot - released),
        status=status,
        working=working,
    )


def _status(pot: Pence, earned: Pence, result: QuarterResult) -> PaymentStatus:
    """Met when the whole pot is earned; with no planned fall, met when the plan held."""
    if pot == 0:
        assert result.actual is not None
        return PaymentStatus.MET if result.actual <= result.plan else PaymentStatus.NOT_MET
    if earned == pot:
        return PaymentStatus.MET
    return PaymentStatus.PARTLY_MET if earned else PaymentStatus.NOT_MET


CONTINGENCY_THRESHOLD = Decimal("0.7")
"""December 2013: at 70% of the planned improvement or more, an area may use the money for
its contingency plan; below it, a recovery plan is needed."""


@dataclass(frozen=True, slots=True)
class ConditionsAndMetrics:
    """December 2013 (superseded): an area's share of the pot, all released, with the share of
    its planned improvement achieved deciding between contingency plan and recovery plan.

    ``area_pot_pence`` is the area's share of the pot for the period assessed.
    """

    area_pot_pence: Mapping[str, Pence]
    kind: str = "conditions_and_metrics"

    def assess(self, result: QuarterResult) -> PaymentLine:
        pot = self.area_pot_pence.get(result.area_code, Pence(0))
        planned = result.baseline - result.plan
        if result.actual is None:
            status, working = PaymentStatus.NO_DATA, "no measured value"
        else:
            achieved = result.baseline - result.actual
            share = achieved / planned if planned > 0 else Decimal(1 if achieved >= 0 else 0)
            status = (
                PaymentStatus.MET
                if share >= 1
                else PaymentStatus.PARTLY_MET
                if share >= CONTINGENCY_THRESHOLD
                else PaymentStatus.NOT_MET
            )
            working = (
                f"achieved {achieved} of a planned {planned} ({share:.0%}); at 70% or more the "
                "money may fund the contingency plan, below it a recovery plan is needed"
            )
        return _line(result, Pence(0), pot, pot, status, working)

    def published_working(self, line: PaymentLine, actual: str) -> str:
        """The achieved share would give the exact count away, so the public reads the count
        as published beside the plan, and the rule."""
        if line.actual is None:
            return line.working
        return (
            f"measured admissions {actual} against a baseline of {line.baseline} and a plan of "
            f"{line.plan}; at 70% of the planned improvement or more the money may fund the "
            "contingency plan, below it a recovery plan is needed"
        )


@dataclass(frozen=True, slots=True)
class NonElectiveRiskShare:
    """2016-17: an area not planning a fall in emergency admissions holds its share of the
    ring-fenced NHS money back as a local risk share; the cost of the admissions above the
    baseline is retained to pay for them, and the rest is released to out-of-hospital
    services. An area planning a fall holds nothing back (its share is invested at once)::

        held_q     = area_share_q            if plan_q ≥ baseline_q, else 0
        retained_q = min(held_q, max(0, actual_q − baseline_q) × unit_cost)
        released_q = held_q − retained_q

    ``area_pot_pence`` is each area's share of the ring-fence for the quarter (see
    :func:`ring_fence_shares`). The formula is carepool's reading of the 2016-17 policy
    framework's risk-sharing condition; the unit cost is a parameter and is marked
    unconfirmed in the framework file.
    """

    unit_cost_pence: Pence
    area_pot_pence: Mapping[str, Pence]
    kind: str = "non_elective_risk_share"

    def assess(self, result: QuarterResult) -> PaymentLine:
        share = self.area_pot_pence.get(result.area_code, Pence(0))
        held = share if result.plan >= result.baseline else Pence(0)
        if result.actual is None:
            return _line(result, self.unit_cost_pence, held, held, PaymentStatus.NO_DATA,
                         "no measured value")  # fmt: skip
        excess = max(Decimal(0), result.actual - result.baseline)
        retained = min(held, pence(excess * self.unit_cost_pence))
        released = Pence(held - retained)
        working = self._working(result.baseline, result.plan, str(result.actual), held, retained)
        status = PaymentStatus.MET if retained == 0 else PaymentStatus.NOT_MET
        return _line(result, self.unit_cost_pence, held, released, status, working)

    def published_working(self, line: PaymentLine, actual: str) -> str:
        if line.actual is None:
            return line.working
        return self._working(line.baseline, line.plan, actual, line.pot_pence, line.retained_pence)

    def _working(
        self, baseline: Decimal, plan: Decimal, actual: str, held: Pence, retained: Pence
    ) -> str:
        cost = format_money(self.unit_cost_pence)
        return (
            f"held = {format_money(held)} (plan {plan} against baseline {baseline}); "
            f"retained = min(held, max(0, {actual} − {baseline}) × {cost}) = "
            f"{format_money(retained)}; released = {format_money(Pence(held - retained))}"
        )


def ring_fence_shares(ring_fence: Pence, nhs_allocations: Mapping[str, Pence]) -> dict[str, Pence]:
    """Each area's share of a national ring-fence, in proportion to its NHS minimum, exactly."""
    return split_by_weights(ring_fence, dict(nhs_allocations))


def _non_elective_risk_share(
    parameters: Mapping[str, Any], area_pots: Mapping[str, Pence]
) -> PaymentRule:
    if not area_pots:
        raise PaymentError(
            "payment kind 'non_elective_risk_share' needs each area's share of the "
            f"{parameters.get('ring_fence', 'ring-fenced')} ring-fence, which carepool's "
            "payment runs do not yet supply; it cannot be run from a plan alone"
        )
    return NonElectiveRiskShare(parse_money(str(parameters["cost_per_admission"])), area_pots)


def _non_elective_reduction(
    parameters: Mapping[str, Any], _area_pots: Mapping[str, Pence]
) -> PaymentRule:
    unit_cost = parameters.get("cost_per_admission")
    if unit_cost is None:
        raise PaymentError("the non_elective_reduction design needs a cost_per_admission")
    return NonElectiveReduction(parse_money(str(unit_cost)))


def _conditions_and_metrics(
    _parameters: Mapping[str, Any], area_pots: Mapping[str, Pence]
) -> PaymentRule:
    return ConditionsAndMetrics(dict(area_pots))


RULE_KINDS: dict[str, Callable[[Mapping[str, Any], Mapping[str, Pence]], PaymentRule]] = {
    "non_elective_reduction": _non_elective_reduction,
    "conditions_and_metrics": _conditions_and_metrics,
    "non_elective_risk_share": _non_elective_risk_share,
}
"""Each payment kind carepool runs, by the name the framework file gives it."""


def rule_for(
    kind: str, parameters: Mapping[str, Any], area_pots: Mapping[str, Pence] | None = None
) -> PaymentRule:
    """The rule of a framework's payment design; a clear error for a kind not implemented."""
    make = RULE_KINDS.get(kind)
    if make is None:
        known = ", ".join(sorted(RULE_KINDS))
        raise PaymentError(f"payment kind {kind!r} cannot be run: carepool runs {known}")
    return make(parameters, area_pots or {})


# The life of a payment run ------------------------------------------------------------------


class RunStatus(StrEnum):
    """A payment run's statuses; values are the labels people see."""

    DRAFT = "Draft"
    CHECKED = "Checked"
    APPROVED = "Approved"
    PAID = "Paid"
    TRUED_UP = "Trued up"


class RunAction(StrEnum):
    CHECK = "check"
    APPROVE = "approve"
    PAY = "pay"
    SEND_BACK = "send_back"
    TRUE_UP = "true_up"

    @property
    def label(self) -> str:
        return _RUN_ACTION_LABELS[self]


_RUN_ACTION_LABELS = {
    RunAction.CHECK: "Checked",
    RunAction.APPROVE: "Approved",
    RunAction.PAY: "Paid",
    RunAction.SEND_BACK: "Sent back to draft",
    RunAction.TRUE_UP: "Trued up",
}


@dataclass(frozen=True, slots=True)
class RunFacts:
    """What the payment guards read: who drafted and checked the run, and who acts now."""

    drafted_by: str
    checked_by: str
    actor: str
    comment: str = ""


def _not_the_drafter(facts: RunFacts) -> bool:
    return facts.actor != facts.drafted_by or facts.actor == "system"


def _not_the_checker(facts: RunFacts) -> bool:
    return facts.actor != facts.checked_by or facts.actor == "system"


_FOUR_EYES_CHECK: Guard[RunFacts] = Guard(
    "checked by someone other than the person who drafted it",
    _not_the_drafter,
    lambda f: StateTransitionError(f"{f.actor} drafted this run, so someone else must check it"),
)
_FOUR_EYES_APPROVE: Guard[RunFacts] = Guard(
    "approved by someone other than the person who checked it",
    _not_the_checker,
    lambda f: StateTransitionError(f"{f.actor} checked this run, so someone else must approve it"),
)
_SAYS_WHY: Guard[RunFacts] = Guard(
    "a comment says why",
    lambda f: bool(f.comment.strip()),
    lambda f: StateTransitionError("say why the run goes back to draft"),
)

PAYMENT_WORKFLOW: Workflow[RunStatus, RunAction, RunFacts] = Workflow(
    name="payment run",
    states=RunStatus,
    initial=RunStatus.DRAFT,
    transitions=(
        step(
            RunAction.CHECK,
            RunStatus.DRAFT,
            RunStatus.CHECKED,
            (Role.NATIONAL_ADMIN, Role.ANALYST),
            guards=[_FOUR_EYES_CHECK],
        ),
        step(
            RunAction.APPROVE,
            RunStatus.CHECKED,
            RunStatus.APPROVED,
            (Role.NATIONAL_ADMIN, Role.HEALTH_APPROVER),
            guards=[_FOUR_EYES_APPROVE],
        ),
        step(RunAction.PAY, RunStatus.APPROVED, RunStatus.PAID, Role.NATIONAL_ADMIN),
        step(
            RunAction.SEND_BACK,
            {RunStatus.CHECKED, RunStatus.APPROVED},
            RunStatus.DRAFT,
            Role.NATIONAL_ADMIN,
            guards=[_SAYS_WHY],
        ),
        step(
            RunAction.TRUE_UP,
            RunStatus.PAID,
            RunStatus.TRUED_UP,
            Role.NATIONAL_ADMIN,
            who="National administrator, by paying a run on a revised data vintage",
        ),
    ),
)
"""A run is drafted, checked and approved by the national team before it is paid; a paid
run is never edited, only trued up by a later run on revised data."""


@dataclass(frozen=True, slots=True)
class TrueUp:
    """How a revised run changes one area's payment for a quarter: what it reverses and what
    replaces it, and the difference in each amount."""

    area_code: str
    quarter: str
    before: PaymentLine
    after: PaymentLine

    @property
    def released_change(self) -> int:
        return self.after.released_pence - self.before.released_pence

    @property
    def retained_change(self) -> int:
        return self.after.retained_pence - self.before.retained_pence


def true_ups(before: Sequence[PaymentLine], after: Sequence[PaymentLine]) -> list[TrueUp]:
    """The areas whose payment a revised run changes, each with old and new lines."""
    old = {(line.area_code, line.quarter): line for line in before}
    changed = []
    for line in after:
        previous = old.get((line.area_code, line.quarter))
        if previous is not None and (
            previous.released_pence,
            previous.retained_pence,
            previous.pot_pence,
        ) != (line.released_pence, line.retained_pence, line.pot_pence):
            changed.append(TrueUp(line.area_code, line.quarter, previous, line))
    return changed


# What if, and how credible -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Variation:
    """An area's natural variation in quarterly admissions, from its own monthly history.

    ``mean`` and ``sigma`` are for a quarter (three months): an XmR chart's mean and sigma
    of the monthly counts, times 3 and √3. A count can never vary less than a Poisson count
    does, so ``sigma`` is at least √mean. With fewer than three months there is no history
    to speak of, and only the Poisson spread around the level asked about is used.
    """

    mean: Decimal | None
    sigma_month: Decimal | None
    months: int

    def quarter_sigma(self, level: Decimal) -> Decimal:
        poisson = level.sqrt() if level > 0 else Decimal(0)
        if self.sigma_month is None:
            return poisson
        return max(poisson, self.sigma_month * Decimal(3).sqrt())

    @property
    def lower_limit(self) -> Decimal | None:
        """The quarter's lower process limit: below it, a fall is beyond natural variation."""
        if self.mean is None:
            return None
        return self.mean - 3 * self.quarter_sigma(self.mean)


def variation(monthly: Sequence[int]) -> Variation:
    """The XmR mean and sigma of a monthly series, as quarterly figures."""
    if len(monthly) < 3:
        return Variation(None, None, len(monthly))
    limits = spc.process_limits([Fraction(m) for m in monthly])
    sigma = Decimal(limits.sigma.numerator) / Decimal(limits.sigma.denominator)
    mean = Decimal(limits.mean.numerator) / Decimal(limits.mean.denominator) * 3
    return Variation(mean, sigma, len(monthly))


@dataclass(frozen=True, slots=True)
class Outlook:
    """What an ambition is worth and what the area might earn, given its natural variation.

    The quarter's admissions are taken as normally distributed around ``expected`` (the
    ambition delivered exactly, unless another level is asked about) with the area's own
    spread; earnings at the 10th, 50th and 90th percentiles follow from the rule, and
    ``chance_of_any`` is the probability of earning something at all (admissions below the
    baseline). ``credible`` is false when the ambition lies below the area's lower process
    limit: a fall its own history says would take a special cause, the failure the NAO
    found when a planned fall of 106,000 admissions became a rise of 87,000.
    """

    pot_pence: Pence
    expected: Decimal
    sigma: Decimal
    p10_pence: Pence
    p50_pence: Pence
    p90_pence: Pence
    chance_of_any: Decimal
    credible: bool
    lower_limit: Decimal | None


def outlook(
    rule: NonElectiveReduction,
    baseline: Decimal,
    plan: Decimal,
    spread: Variation,
    expected: Decimal | None = None,
) -> Outlook:
    """The pot, the spread of likely earnings and the credibility of one quarter's ambition."""
    level = plan if expected is None else expected
    sigma = spread.quarter_sigma(level)

    def earned_at(actual: Decimal) -> PaymentLine:
        return rule.assess(QuarterResult("", "", baseline, plan, actual.quantize(Decimal(1))))

    percentiles = {}
    for share in (Decimal("0.1"), Decimal("0.5"), Decimal("0.9")):
        # A high admissions count earns little: earnings' 10th percentile is admissions' 90th.
        actual = _normal_quantile(level, sigma, 1 - share)
        percentiles[share] = earned_at(max(Decimal(0), actual)).earned_pence
    chance = _normal_below(level, sigma, baseline - Decimal("0.5"))
    limit = spread.lower_limit
    return Outlook(
        pot_pence=earned_at(Decimal(0)).pot_pence,
        expected=level,
        sigma=sigma.quantize(Decimal("0.1")),
        p10_pence=percentiles[Decimal("0.1")],
        p50_pence=percentiles[Decimal("0.5")],
        p90_pence=percentiles[Decimal("0.9")],
        chance_of_any=chance,
        credible=limit is None or plan >= limit,
        lower_limit=None if limit is None else limit.quantize(Decimal("0.1")),
    )


def _normal_quantile(mean: Decimal, sigma: Decimal, share: Decimal) -> Decimal:
    if sigma == 0:
        return mean
    found = NormalDist(float(mean), float(sigma)).inv_cdf(float(share))
    return Decimal(repr(found))


def _normal_below(mean: Decimal, sigma: Decimal, limit: Decimal) -> Decimal:
    """P(X < limit), to three places; a probability, not money, so a float may compute it."""
    if sigma == 0:
        return Decimal(1 if mean < limit else 0)
    found = NormalDist(float(mean), float(sigma)).cdf(float(limit))
    return Decimal(repr(found)).quantize(Decimal("0.001"))


# Revising an ambition after approval ---------------------------------------------------------


class RevisionStatus(StrEnum):
    PROPOSED = "Proposed"
    APPROVED = "Approved"
    REJECTED = "Rejected"


class RevisionAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"

    @property
    def label(self) -> str:
        return "Approved" if self is RevisionAction.APPROVE else "Rejected"


REVISION_APPROVERS = (Role.HEALTH_APPROVER, Role.LG_APPROVER)


@dataclass(frozen=True, slots=True)
class RevisionFacts:
    """Who has approved the revision so far, in which role the person acts now, and why."""

    approved_by: frozenset[Role]
    role: Role | None
    comment: str = ""


_NOT_YET_BY_THIS_ROLE: Guard[RevisionFacts] = Guard(
    "this approver has not approved it yet",
    lambda f: f.role not in f.approved_by,
    lambda f: StateTransitionError(
        f"the {f.role.label if f.role else 'approver'} has already approved this revision"
    ),
)
_REVISION_SAYS_WHY: Guard[RevisionFacts] = Guard(
    "a comment says why",
    lambda f: bool(f.comment.strip()),
    lambda f: StateTransitionError("say why the revision is rejected"),
)
_BOTH_APPROVERS: Condition[RevisionFacts] = Condition(
    "both national approvers have approved",
    lambda f: set(REVISION_APPROVERS) <= f.approved_by | {f.role},
)

AMBITION_REVISION_WORKFLOW: Workflow[RevisionStatus, RevisionAction, RevisionFacts] = Workflow(
    name="ambition revision",
    states=RevisionStatus,
    initial=RevisionStatus.PROPOSED,
    transitions=(
        step(
            RevisionAction.APPROVE,
            RevisionStatus.PROPOSED,
            RevisionStatus.APPROVED,
            REVISION_APPROVERS,
            guards=[_NOT_YET_BY_THIS_ROLE],
            once=_BOTH_APPROVERS,
        ),
        step(
            RevisionAction.REJECT,
            RevisionStatus.PROPOSED,
            RevisionStatus.REJECTED,
            REVISION_APPROVERS,
            guards=[_REVISION_SAYS_WHY],
        ),
    ),
)
"""A payment ambition revised after the plan's approval resizes the pot, so, as the 2015-16
operational guidance required, it takes effect only once both national approvers (health and
local government) have approved it; a proposal is recorded as an event, not a step."""
