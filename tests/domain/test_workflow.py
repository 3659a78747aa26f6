"""The workflow mechanism: one table per workflow, one order of refusals, one way to ask.

A small made-up workflow (a payment run: drafted, checked by two people, paid) shows the
mechanism on its own; the declared workflows of plans, quarterly returns and allocation runs
are then checked as tables: every status can be reached, and the developer guide shows each
exactly as it is declared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest

from carepool.domain.allocation import ALLOCATION_WORKFLOW, AllocationStatus, action_to
from carepool.domain.errors import CarepoolError, Conflict, Forbidden, StateTransitionError
from carepool.domain.payment import AMBITION_REVISION_WORKFLOW, PAYMENT_WORKFLOW
from carepool.domain.plan_workflow import PLAN_WORKFLOW
from carepool.domain.quarterly_return import RETURN_WORKFLOW
from carepool.domain.roles import Role, principal
from carepool.domain.workflow import (
    Condition,
    Guard,
    Scope,
    Transition,
    Workflow,
    holds,
    markdown,
    step,
)

DOCS = Path(__file__).resolve().parents[2] / "docs"


class RunStatus(StrEnum):
    DRAFT = "Draft"
    CHECKING = "Being checked"
    CHECKED = "Checked"
    PAID = "Paid"


class RunAction(StrEnum):
    CHECK = "check"
    COUNTERSIGN = "countersign"
    PAY = "pay"
    AUDIT = "audit"  # declared as an action, but no row of the table takes it

    @property
    def label(self) -> str:
        return {"check": "Checked", "countersign": "Countersigned", "pay": "Paid"}.get(
            self.value, "Audited"
        )


@dataclass(frozen=True, slots=True)
class RunFacts:
    checked_by: frozenset[str] = frozenset()
    comment: str = ""
    balanced: bool = True


_SAYS_WHY: Guard[RunFacts] = Guard(
    "a comment says why", lambda f: bool(f.comment), lambda f: CarepoolError("say why")
)
_BALANCED: Guard[RunFacts] = Guard(
    "the run balances", lambda f: f.balanced, lambda f: Conflict("the run does not balance")
)
_TWO_CHECKERS = Condition[RunFacts]("two people have checked", lambda f: len(f.checked_by) >= 2)

R = RunStatus
PAYMENT_RUN: Workflow[RunStatus, RunAction, RunFacts] = Workflow(
    name="payment run",
    states=RunStatus,
    initial=R.DRAFT,
    transitions=(
        step(RunAction.CHECK, R.DRAFT, R.CHECKING, Role.NATIONAL_ADMIN, guards=[_SAYS_WHY]),
        step(
            RunAction.COUNTERSIGN,
            R.CHECKING,
            R.CHECKED,
            (Role.NATIONAL_ADMIN, Role.ASSURER),
            once=_TWO_CHECKERS,
        ),
        step(
            RunAction.PAY,
            R.CHECKED,
            R.PAID,
            Role.POOL_FINANCE,
            guards=[_BALANCED, _SAYS_WHY],
            who="the pool's finance officers",
        ),
    ),
)

ADMIN = principal("admin", "Admin", ["national_admin"])
ASSURER = principal("assurer", "Assurer", ["assurer"])
FINANCE = principal("finance", "Finance", ["pool_finance:E1"])
AREA = Scope("E1")
OK = RunFacts(comment="because", balanced=True)


# --------------------------------------------------------------------------------------------
# Asking the table


def test_open_actions_follow_the_table_in_its_order() -> None:
    assert PAYMENT_RUN.open_actions(R.DRAFT) == [RunAction.CHECK]
    assert PAYMENT_RUN.open_actions(R.PAID) == []
    assert PAYMENT_RUN.final == [R.PAID]
    assert list(PAYMENT_RUN.moves) == [RunAction.CHECK, RunAction.COUNTERSIGN, RunAction.PAY]


def test_a_step_is_refused_for_its_status_before_its_role_and_its_role_before_its_guards() -> None:
    with pytest.raises(StateTransitionError, match="cannot be paid; allowed now: Checked"):
        PAYMENT_RUN.apply(R.DRAFT, RunAction.PAY, ASSURER, AREA, RunFacts())
    with pytest.raises(Forbidden, match="the role Pool finance officer for this area"):
        PAYMENT_RUN.apply(R.CHECKED, RunAction.PAY, ASSURER, AREA, RunFacts())
    with pytest.raises(Conflict, match="does not balance"):
        PAYMENT_RUN.apply(R.CHECKED, RunAction.PAY, FINANCE, AREA, RunFacts(balanced=False))


def test_guards_refuse_in_the_order_they_are_declared() -> None:
    nothing_right = RunFacts(balanced=False, comment="")
    with pytest.raises(Conflict):
        PAYMENT_RUN.check(R.CHECKED, RunAction.PAY, FINANCE, AREA, nothing_right)
    with pytest.raises(CarepoolError, match="say why"):
        PAYMENT_RUN.check(R.CHECKED, RunAction.PAY, FINANCE, AREA, RunFacts(balanced=True))


def test_an_action_no_row_takes_is_not_a_step() -> None:
    with pytest.raises(StateTransitionError, match="audited is not a step a person takes"):
        PAYMENT_RUN.apply(R.DRAFT, RunAction.AUDIT, ADMIN, AREA, OK)
    assert not PAYMENT_RUN.may(R.DRAFT, RunAction.AUDIT, ADMIN, AREA)


def test_may_answers_what_apply_would_do() -> None:
    assert PAYMENT_RUN.may(R.DRAFT, RunAction.CHECK, ADMIN, AREA)
    assert not PAYMENT_RUN.may(R.DRAFT, RunAction.CHECK, FINANCE, AREA)
    assert not PAYMENT_RUN.may(R.CHECKED, RunAction.CHECK, ADMIN, AREA)
    # guards are asked only when the facts are at hand
    assert not PAYMENT_RUN.may(R.DRAFT, RunAction.CHECK, ADMIN, AREA, RunFacts())
    assert PAYMENT_RUN.may(R.DRAFT, RunAction.CHECK, ADMIN, AREA, OK)


def test_apply_returns_the_move_to_record_with_the_role_acted_in() -> None:
    move = PAYMENT_RUN.apply(R.DRAFT, RunAction.CHECK, ADMIN, AREA, OK)
    assert (move.action, move.source, move.target, move.role) == (
        RunAction.CHECK,
        R.DRAFT,
        R.CHECKING,
        Role.NATIONAL_ADMIN,
    )
    by_assurer = PAYMENT_RUN.apply(R.CHECKING, RunAction.COUNTERSIGN, ASSURER, AREA, OK)
    assert by_assurer.role is Role.ASSURER


def test_a_step_with_a_condition_stays_until_the_condition_holds() -> None:
    one = RunFacts(checked_by=frozenset({"a"}))
    two = RunFacts(checked_by=frozenset({"a", "b"}))
    assert PAYMENT_RUN.target(R.CHECKING, RunAction.COUNTERSIGN, one) is R.CHECKING
    assert PAYMENT_RUN.target(R.CHECKING, RunAction.COUNTERSIGN, two) is R.CHECKED


def test_a_table_that_cannot_be_read_one_way_is_refused() -> None:
    row: Transition[RunStatus, RunAction, RunFacts] = step(
        RunAction.CHECK, R.DRAFT, R.CHECKING, Role.NATIONAL_ADMIN
    )
    with pytest.raises(ValueError, match="declared twice"):
        Workflow("payment run", RunStatus, R.DRAFT, (row, row))
    with pytest.raises(ValueError, match="needs statuses and roles"):
        Workflow("payment run", RunStatus, R.DRAFT, (step(RunAction.PAY, R.CHECKED, R.PAID, ()),))


# --------------------------------------------------------------------------------------------
# Who holds a role where


def test_a_signatory_holds_the_role_only_for_the_partner_their_grant_names() -> None:
    chair = principal("chair", "Chair", ["area_signatory:E1:HWB"])
    assert holds(chair, Role.AREA_SIGNATORY, Scope("E1", "HWB"))
    assert not holds(chair, Role.AREA_SIGNATORY, Scope("E1", "E38000001"))
    assert not holds(chair, Role.AREA_SIGNATORY, Scope("E2", "HWB"))


def test_area_roles_hold_in_their_area_and_national_roles_everywhere() -> None:
    assert holds(FINANCE, Role.POOL_FINANCE, Scope("E1"))
    assert not holds(FINANCE, Role.POOL_FINANCE, Scope("E2"))
    assert not holds(FINANCE, Role.POOL_FINANCE, Scope())
    assert holds(ADMIN, Role.NATIONAL_ADMIN, Scope("E2"))
    assert holds(ADMIN, Role.NATIONAL_ADMIN, Scope())


# --------------------------------------------------------------------------------------------
# The declared workflows, as tables a policy person reads

DECLARED = [
    PLAN_WORKFLOW,
    RETURN_WORKFLOW,
    ALLOCATION_WORKFLOW,
    PAYMENT_WORKFLOW,
    AMBITION_REVISION_WORKFLOW,
]


@pytest.mark.parametrize("workflow", DECLARED, ids=lambda w: w.name)
def test_every_status_can_be_reached_from_where_a_case_starts(
    workflow: Workflow[StrEnum, Any, Any],
) -> None:
    reached, frontier = {workflow.initial}, [workflow.initial]
    while frontier:
        state = frontier.pop()
        for action in workflow.open_actions(state):
            target = workflow.moves[action].target
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(workflow.states)


@pytest.mark.parametrize("workflow", DECLARED, ids=lambda w: w.name)
def test_the_developer_guide_shows_each_workflow_as_declared(
    workflow: Workflow[StrEnum, Any, Any],
) -> None:
    table = markdown(workflow)
    assert table.count("\n|") == len(workflow.transitions) + 1
    guide = (DOCS / "developer-guide.md").read_text(encoding="utf-8")
    assert table in guide, f"re-render the {workflow.name} table: markdown({workflow.name})"


def test_a_rendered_table_names_guards_conditions_and_people() -> None:
    table = markdown(PAYMENT_RUN)
    assert "| Paid (`pay`) | Checked | Paid | the pool's finance officers |" in table
    assert "the run balances; a comment says why" in table
    assert "Checked once two people have checked; until then it stays" in table
    assert "Regional assurer or National administrator" in table
    assert table.endswith("A new payment run starts as Draft. Final: Paid.\n")


def test_the_glossary_allocation_table_matches_the_workflow() -> None:
    glossary = (DOCS / "glossary.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| ([^|]+) \| ([^|]+) \| [^|]+ \|$", glossary, flags=re.M)
    moves = {(a, b) for a, b in rows if a not in {"From", "---"}}
    declared = {
        (source.value, row.target.value)
        for row in ALLOCATION_WORKFLOW.transitions
        for source in row.source
    }
    assert moves == {("(new)", ALLOCATION_WORKFLOW.initial.value)} | declared


def test_each_allocation_status_is_given_by_exactly_one_step() -> None:
    targets = [row.target for row in ALLOCATION_WORKFLOW.transitions]
    assert sorted(targets) == sorted(AllocationStatus)
    assert all(ALLOCATION_WORKFLOW.moves[action_to(s)].target is s for s in AllocationStatus)
