"""The life of a plan: local sign-off, regional assurance and the national decision.

A plan's status is one of :class:`PlanStatus`; it changes only through an :class:`Action`
that the table below allows from that status, by a person holding the role the action needs.
Every change becomes an append-only event, from which the plan page draws its timeline.
An illegal move raises :class:`StateTransitionError` saying what is allowed instead.

The table is plain data rather than a state-machine library: it is small, it is read by
people checking the process against the policy, and the per-action guards (all partners
signed; both national approvers agreed) need the plan's own data anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from carepool.domain.errors import Forbidden, StateTransitionError
from carepool.domain.roles import Principal, Role


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


@dataclass(frozen=True, slots=True)
class Move:
    action: Action
    source: frozenset[PlanStatus]
    roles: frozenset[Role]


def _move(action: Action, sources: Iterable[PlanStatus], *roles: Role) -> Move:
    return Move(action, frozenset(sources), frozenset(roles))


S = PlanStatus
MOVES: dict[Action, Move] = {
    m.action: m
    for m in (
        _move(Action.REQUEST_SIGN_OFF, {S.DRAFT}, Role.AREA_EDITOR),
        _move(Action.SIGN, {S.SIGN_OFF}, Role.AREA_SIGNATORY),
        _move(
            Action.SEND_BACK,
            {S.SIGN_OFF, S.SUBMITTED, S.ASSURANCE},
            Role.AREA_SIGNATORY,
            Role.ASSURER,
        ),
        _move(Action.START_ASSURANCE, {S.SUBMITTED}, Role.ASSURER),
        _move(Action.RECORD_CATEGORY, {S.ASSURANCE}, Role.ASSURER),
        _move(Action.APPROVE, {S.NATIONAL}, Role.HEALTH_APPROVER, Role.LG_APPROVER),
        _move(
            Action.NOT_APPROVE, {S.NATIONAL, S.ESCALATED}, Role.HEALTH_APPROVER, Role.LG_APPROVER
        ),
        _move(Action.ESCALATE, {S.NATIONAL}, Role.HEALTH_APPROVER, Role.LG_APPROVER),
        _move(Action.RESOLVE_ESCALATION, {S.ESCALATED}, Role.NATIONAL_ADMIN),
        _move(Action.REOPEN, {S.NOT_APPROVED}, Role.AREA_EDITOR),
        _move(Action.MARK_CONDITION_MET, {S.APPROVED}, Role.ASSURER),
    )
}

APPROVER_ROLES = (Role.HEALTH_APPROVER, Role.LG_APPROVER)
"""Both must approve: health and local government ministers each signed off in 2014."""

HWB_CHAIR = "HWB"
"""The partner code a Health and Wellbeing Board chair signs for."""


@dataclass(frozen=True, slots=True)
class Progress:
    """What has happened in the current round, as needed to decide the next status."""

    required_signers: frozenset[str]
    signed_by: frozenset[str]
    approved_by: frozenset[Role]


def allowed_actions(status: PlanStatus) -> list[Action]:
    return [action for action, move in MOVES.items() if status in move.source]


def check(
    status: PlanStatus, action: Action, actor: Principal, area_code: str, partner: str | None = None
) -> None:
    """Refuse a move that is illegal now, or that this actor may not make, saying why."""
    move = MOVES[action]
    if status not in move.source:
        allowed = ", ".join(a.label for a in allowed_actions(status)) or "nothing"
        raise StateTransitionError(
            f"a plan that is {status.value} cannot be {action.label.lower()}; "
            f"allowed now: {allowed}"
        )
    if not any(_holds(actor, role, area_code, partner) for role in move.roles):
        needed = " or ".join(r.label for r in sorted(move.roles))
        raise Forbidden(f"{action.label.lower()} needs the role {needed} for this area")


def _holds(actor: Principal, role: Role, area_code: str, partner: str | None) -> bool:
    if role is Role.AREA_SIGNATORY:
        return any(
            g.role is role and g.area_code == area_code and g.partner_code == partner
            for g in actor.grants
        )
    if role.scoped:
        return actor.has_area(role, area_code)
    return actor.has(role)


def next_status(status: PlanStatus, action: Action, progress: Progress) -> PlanStatus:
    """The status after a legal action, given who has signed and approved this round."""
    if action is Action.SIGN:
        done = progress.required_signers <= progress.signed_by
        return S.SUBMITTED if done else S.SIGN_OFF
    if action is Action.APPROVE:
        return S.APPROVED if set(APPROVER_ROLES) <= progress.approved_by else S.NATIONAL
    return {
        Action.REQUEST_SIGN_OFF: S.SIGN_OFF,
        Action.SEND_BACK: S.DRAFT,
        Action.START_ASSURANCE: S.ASSURANCE,
        Action.RECORD_CATEGORY: S.NATIONAL,
        Action.NOT_APPROVE: S.NOT_APPROVED,
        Action.ESCALATE: S.ESCALATED,
        Action.RESOLVE_ESCALATION: S.NATIONAL,
        Action.REOPEN: S.DRAFT,
        Action.MARK_CONDITION_MET: S.APPROVED,
    }[action]


EDITABLE = frozenset({S.DRAFT})
"""Content changes only in draft; sign-off and later act on a frozen version."""
