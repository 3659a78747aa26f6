"""The plan workflow: every legal and illegal move, who may make it, and what comes next."""

from __future__ import annotations

import pytest

from carepool.domain.errors import Forbidden, StateTransitionError
from carepool.domain.plan_workflow import (
    MOVES,
    Action,
    PlanStatus,
    Progress,
    allowed_actions,
    check,
    next_status,
)
from carepool.domain.roles import Role, principal

AREA, CCG = "E06000052", "E38000089"

ACTORS = {
    Role.AREA_EDITOR: principal("editor", "Editor", [f"area_editor:{AREA}"]),
    Role.AREA_SIGNATORY: principal("signer", "Signer", [f"area_signatory:{AREA}:{CCG}"]),
    Role.ASSURER: principal("assurer", "Assurer", ["assurer"]),
    Role.HEALTH_APPROVER: principal("health", "Health", ["health_approver"]),
    Role.LG_APPROVER: principal("lg", "LG", ["lg_approver"]),
    Role.NATIONAL_ADMIN: principal("admin", "Admin", ["national_admin"]),
}


@pytest.mark.parametrize("status", list(PlanStatus))
@pytest.mark.parametrize("action", list(Action))
def test_every_move_from_every_status(status: PlanStatus, action: Action) -> None:
    move = MOVES[action]
    actor = ACTORS[sorted(move.roles)[0]]
    if status in move.source:
        check(status, action, actor, AREA, CCG)
        assert action in allowed_actions(status)
    else:
        with pytest.raises(StateTransitionError, match=f"cannot be {action.label.lower()}"):
            check(status, action, actor, AREA, CCG)


@pytest.mark.parametrize("action", list(Action))
def test_only_the_right_roles_may_act(action: Action) -> None:
    move = MOVES[action]
    status = next(iter(move.source))
    for role, actor in ACTORS.items():
        if role in move.roles:
            check(status, action, actor, AREA, CCG)
        else:
            with pytest.raises(Forbidden):
                check(status, action, actor, AREA, CCG)


def test_scoped_roles_act_only_for_their_own_area_and_partner() -> None:
    with pytest.raises(Forbidden):
        check(PlanStatus.DRAFT, Action.REQUEST_SIGN_OFF, ACTORS[Role.AREA_EDITOR], "E09000001")
    with pytest.raises(Forbidden):
        check(PlanStatus.SIGN_OFF, Action.SIGN, ACTORS[Role.AREA_SIGNATORY], AREA, "E38000001")


def test_submitted_only_when_everyone_has_signed() -> None:
    some = Progress(frozenset({CCG, AREA, "HWB"}), frozenset({CCG}), frozenset())
    every = Progress(frozenset({CCG, AREA, "HWB"}), frozenset({CCG, AREA, "HWB"}), frozenset())
    assert next_status(PlanStatus.SIGN_OFF, Action.SIGN, some) is PlanStatus.SIGN_OFF
    assert next_status(PlanStatus.SIGN_OFF, Action.SIGN, every) is PlanStatus.SUBMITTED


def test_approved_only_when_health_and_local_government_both_approve() -> None:
    one = Progress(frozenset(), frozenset(), frozenset({Role.HEALTH_APPROVER}))
    both = Progress(frozenset(), frozenset(), frozenset({Role.HEALTH_APPROVER, Role.LG_APPROVER}))
    assert next_status(PlanStatus.NATIONAL, Action.APPROVE, one) is PlanStatus.NATIONAL
    assert next_status(PlanStatus.NATIONAL, Action.APPROVE, both) is PlanStatus.APPROVED


def test_sent_back_and_reopened_plans_return_to_draft() -> None:
    none = Progress(frozenset(), frozenset(), frozenset())
    assert next_status(PlanStatus.ASSURANCE, Action.SEND_BACK, none) is PlanStatus.DRAFT
    assert next_status(PlanStatus.NOT_APPROVED, Action.REOPEN, none) is PlanStatus.DRAFT
