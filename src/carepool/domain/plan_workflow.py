"""The life of a plan: local sign-off, regional assurance and the national decision.

A plan's status is one of :class:`PlanStatus`; it changes only through an :class:`Action`
that :data:`PLAN_WORKFLOW` allows from that status, by a person holding the role the action
needs, when the step's guards hold. Every change becomes an append-only event, from which the
plan page draws its timeline. An illegal move raises a ``StateTransitionError`` saying what
is allowed instead. The mechanism is :mod:`carepool.domain.workflow`; this module is the
plan's table, in the policy's words.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from carepool.domain.errors import CarepoolError, Conflict, Problem
from carepool.domain.roles import Principal, Role
from carepool.domain.workflow import Condition, Guard, Scope, Workflow, step


class PlanStatus(StrEnum):
    """Values are the labels people see."""

    DRAFT = "Draft"
    SIGN_OFF = "Awaiting local sign-off"
    SUBMITTED = "Submitted"
    ASSURANCE = "In regional assurance"
    NATIONAL = "Awaiting national decision"
    APPROVED = "Approved"
    NOT_APPROVED = "Not approved"
    ESCALATED = "Escalated"


class Action(StrEnum):
    REQUEST_SIGN_OFF = "request_sign_off"
    SIGN = "sign"
    SEND_BACK = "send_back"
    START_ASSURANCE = "start_assurance"
    RECORD_CATEGORY = "record_category"
    APPROVE = "approve"
    NOT_APPROVE = "not_approve"
    ESCALATE = "escalate"
    RESOLVE_ESCALATION = "resolve_escalation"
    REOPEN = "reopen"
    MARK_CONDITION_MET = "mark_condition_met"

    @property
    def label(self) -> str:
        return _ACTION_LABELS[self]


_ACTION_LABELS = {
    Action.REQUEST_SIGN_OFF: "Sent for local sign-off",
    Action.SIGN: "Signed",
    Action.SEND_BACK: "Sent back",
    Action.START_ASSURANCE: "Regional assurance started",
    Action.RECORD_CATEGORY: "Assurance category recorded",
    Action.APPROVE: "Approved",
    Action.NOT_APPROVE: "Not approved",
    Action.ESCALATE: "Escalated",
    Action.RESOLVE_ESCALATION: "Escalation resolved",
    Action.REOPEN: "Reopened for resubmission",
    Action.MARK_CONDITION_MET: "Condition marked met",
}


APPROVER_ROLES = (Role.HEALTH_APPROVER, Role.LG_APPROVER)
"""Both must approve: health and local government ministers each signed off in 2014."""

HWB_CHAIR = "HWB"
"""The partner code a Health and Wellbeing Board chair signs for."""

NOT_APPROVED_CATEGORY = "Not approved"
"""The assurance category with which an assurer recommends against approval."""


@dataclass(frozen=True, slots=True)
class Progress:
    """What has happened in the current round, as needed to decide the next status."""

    required_signers: frozenset[str]
    signed_by: frozenset[str]
    approved_by: frozenset[Role]


@dataclass(frozen=True, slots=True)
class PlanFacts:
    """What the plan's guards read: the round's progress and what the person sends with a step.

    The service gathers them; ``blocking`` (the problems that stop sign-off) and
    ``categories`` (the year's assurance categories) only for the step that needs them.
    """

    progress: Progress
    role: Role | None = None
    partner: str | None = None
    comment: str = ""
    category: str | None = None
    categories: tuple[str, ...] = ()
    recommended: str | None = None  # the category the assurer recorded
    blocking: tuple[Problem, ...] = ()


def _not_yet_approved_by(facts: PlanFacts) -> Conflict:
    label = facts.role.label if facts.role else "approver"
    return Conflict(f"the {label} has already approved this plan")


_NO_BLOCKING_PROBLEMS: Guard[PlanFacts] = Guard(
    "the plan has no problems that block sign-off",
    lambda f: not f.blocking,
    lambda f: CarepoolError(
        f"the plan has {len(f.blocking)} problems to fix before sign-off", f.blocking
    ),
)
_NOT_SIGNED_YET: Guard[PlanFacts] = Guard(
    "the partner has not signed this version yet",
    lambda f: f.partner not in f.progress.signed_by,
    lambda f: Conflict(f"{f.partner} has already signed this version"),
)
_SAYS_WHY: Guard[PlanFacts] = Guard(
    "a comment says why",
    lambda f: bool(f.comment.strip()),
    lambda f: CarepoolError("say why the plan is sent back (a comment is required)"),
)
_A_CATEGORY: Guard[PlanFacts] = Guard(
    "one of the year's assurance categories is chosen",
    lambda f: f.category in f.categories,
    lambda f: CarepoolError(f"choose an assurance category: {', '.join(f.categories)}"),
)
_NOT_APPROVED_YET: Guard[PlanFacts] = Guard(
    "this approver has not approved in this round",
    lambda f: f.role not in f.progress.approved_by,
    _not_yet_approved_by,
)
_NOT_RECOMMENDED_AGAINST: Guard[PlanFacts] = Guard(
    f"the assurer did not recommend '{NOT_APPROVED_CATEGORY}'",
    lambda f: f.recommended != NOT_APPROVED_CATEGORY,
    lambda f: Conflict(
        f"the assurer recommended '{NOT_APPROVED_CATEGORY}'; escalate or decide not to approve"
    ),
)
_ALL_SIGNED: Condition[PlanFacts] = Condition(
    "every partner and the board's chair have signed",
    lambda f: f.progress.required_signers <= f.progress.signed_by,
)
_BOTH_APPROVED: Condition[PlanFacts] = Condition(
    "both national approvers have approved",
    lambda f: set(APPROVER_ROLES) <= f.progress.approved_by,
)

S = PlanStatus
PLAN_WORKFLOW: Workflow[PlanStatus, Action, PlanFacts] = Workflow(
    name="plan",
    states=PlanStatus,
    initial=S.DRAFT,
    transitions=(
        step(
            Action.REQUEST_SIGN_OFF,
            S.DRAFT,
            S.SIGN_OFF,
            Role.AREA_EDITOR,
            guards=[_NO_BLOCKING_PROBLEMS],
        ),
        step(
            Action.SIGN,
            S.SIGN_OFF,
            S.SUBMITTED,
            Role.AREA_SIGNATORY,
            guards=[_NOT_SIGNED_YET],
            once=_ALL_SIGNED,
        ),
        step(
            Action.SEND_BACK,
            {S.SIGN_OFF, S.SUBMITTED, S.ASSURANCE},
            S.DRAFT,
            (Role.AREA_SIGNATORY, Role.ASSURER),
            guards=[_SAYS_WHY],
        ),
        step(Action.START_ASSURANCE, S.SUBMITTED, S.ASSURANCE, Role.ASSURER),
        step(Action.RECORD_CATEGORY, S.ASSURANCE, S.NATIONAL, Role.ASSURER, guards=[_A_CATEGORY]),
        step(
            Action.APPROVE,
            S.NATIONAL,
            S.APPROVED,
            APPROVER_ROLES,
            guards=[_NOT_APPROVED_YET, _NOT_RECOMMENDED_AGAINST],
            once=_BOTH_APPROVED,
        ),
        step(Action.NOT_APPROVE, {S.NATIONAL, S.ESCALATED}, S.NOT_APPROVED, APPROVER_ROLES),
        step(Action.ESCALATE, S.NATIONAL, S.ESCALATED, APPROVER_ROLES),
        step(Action.RESOLVE_ESCALATION, S.ESCALATED, S.NATIONAL, Role.NATIONAL_ADMIN),
        step(Action.REOPEN, S.NOT_APPROVED, S.DRAFT, Role.AREA_EDITOR),
        step(Action.MARK_CONDITION_MET, S.APPROVED, S.APPROVED, Role.ASSURER),
    ),
)
"""The plan's life as the policy sets it out (rendered in the developer guide)."""

MOVES = PLAN_WORKFLOW.moves
"""The table's rows by action."""


def allowed_actions(status: PlanStatus) -> list[Action]:
    return PLAN_WORKFLOW.open_actions(status)


def scope(area_code: str, partner: str | None = None) -> Scope:
    """A plan step is taken for the plan's area, and by a signatory for one partner."""
    return Scope(area_code, partner)


def check(
    status: PlanStatus, action: Action, actor: Principal, area_code: str, partner: str | None = None
) -> None:
    """Refuse a move that is illegal now, or that this actor may not make, saying why."""
    PLAN_WORKFLOW.permit(status, action, actor, scope(area_code, partner))


def next_status(status: PlanStatus, action: Action, progress: Progress) -> PlanStatus:
    """The status after a legal action, given who has signed and approved this round."""
    return PLAN_WORKFLOW.target(status, action, PlanFacts(progress))


EDITABLE = frozenset({S.DRAFT})
"""Content changes only in draft; sign-off and later act on a frozen version."""
