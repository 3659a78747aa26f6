"""One way to declare a workflow: states, the steps between them, who may take each, and why not.

Plans, quarterly returns and allocation runs each move through a short life of statuses, and
payment runs and personal budgets will too. Each of them is a :class:`Workflow`: a table of
:class:`Transition` rows, each saying which action moves a case from which statuses to which,
which roles may take it and which :class:`Guard` rules must hold first. The table is plain
data declared once at module level, so a person checking the process against the policy can
read it (:func:`markdown` renders it as the table the developer guide shows), and every
question the services and pages ask goes through the same few methods:

- :meth:`Workflow.open_actions` — what may be done from this status at all;
- :meth:`Workflow.may` — may this person take this step now (to show a button exactly when
  pressing it would work);
- :meth:`Workflow.apply` — take it: the step is checked in a fixed order (is it a step, is it
  open from this status, does the person hold a role for it here, does every guard hold) and
  refused with a domain error saying why, or the :class:`Move` to record is returned.

The mechanism is pure: guards are predicates over *facts* the service has gathered (who has
signed, today's date, the comment), never over a session. Recording the move as an event and
in the audit chain stays with each service, whose tables differ.

A state-machine library was considered; none reads as a policy table, gives refusals in the
domain's words, or knows carepool's scoped roles, and the whole mechanism is a page of code.
(The generic classes have no ``__slots__``, so that ``Guard[Facts](...)`` can be written.)
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, Protocol, TypeVar

from carepool.domain.errors import CarepoolError, Forbidden, StateTransitionError
from carepool.domain.roles import Principal, Role


class Labelled(Hashable, Protocol):
    """An action: a ``StrEnum`` member whose value is its code and whose label people read."""

    @property
    def value(self) -> str: ...

    @property
    def label(self) -> str: ...


S = TypeVar("S", bound=StrEnum)
A = TypeVar("A", bound=Labelled)
F = TypeVar("F")


@dataclass(frozen=True, slots=True)
class Scope:
    """What the person acts for: an area and, for signatories, the partner they sign for.

    A national step (approving an allocation) has no area; a scoped role is then never held.
    """

    area_code: str | None = None
    partner: str | None = None


def holds(actor: Principal, role: Role, scope: Scope) -> bool:
    """Whether ``actor`` holds ``role`` for ``scope``.

    A signatory signs only for the partner their grant names (the board's chair signs as
    ``HWB``); other area roles need a grant for the area; national roles hold everywhere.
    """
    if role is Role.AREA_SIGNATORY:
        return any(
            g.role is role and g.area_code == scope.area_code and g.partner_code == scope.partner
            for g in actor.grants
        )
    if role.scoped:
        return scope.area_code is not None and actor.has_area(role, scope.area_code)
    return actor.has(role)


@dataclass(frozen=True)
class Condition(Generic[F]):
    """A fact a transition depends on, in words and as a pure predicate over the facts."""

    rule: str
    holds: Callable[[F], bool]


@dataclass(frozen=True)
class Guard(Generic[F]):
    """A rule a step must satisfy beyond status and role, and the error refusing it.

    ``rule`` is what the policy table shows ("a comment says why"); ``refusal`` is the error
    the person sees, built from the same facts so it can name what is wrong.
    """

    rule: str
    passes: Callable[[F], bool]
    refusal: Callable[[F], CarepoolError]


@dataclass(frozen=True)
class Transition(Generic[S, A, F]):
    """One row of a workflow's table.

    ``once``, when given, makes the step reach ``target`` only when the condition holds on the
    facts *after* the step (the last partner signs, the second approver approves); until then
    the case stays where it was and the step is still recorded.
    """

    action: A
    source: frozenset[S]
    target: S
    roles: frozenset[Role]
    guards: tuple[Guard[F], ...] = ()
    once: Condition[F] | None = None
    who: str = ""  # how the policy names the people, when not by the roles' labels

    @property
    def people(self) -> str:
        return self.who or " or ".join(r.label for r in sorted(self.roles))


def step(
    action: A,
    source: S | frozenset[S] | set[S],
    target: S,
    roles: Role | Sequence[Role],
    *,
    guards: Sequence[Guard[F]] = (),
    once: Condition[F] | None = None,
    who: str = "",
) -> Transition[S, A, F]:
    """A table row, written as briefly as the policy says it."""
    sources = frozenset(source) if isinstance(source, set | frozenset) else frozenset({source})
    allowed = frozenset({roles}) if isinstance(roles, Role) else frozenset(roles)
    return Transition(action, sources, target, allowed, tuple(guards), once, who)


@dataclass(frozen=True)
class Move(Generic[S, A]):
    """A step that was allowed: what the service records as the case's next event."""

    action: A
    source: S
    target: S
    role: Role


StateWords = Callable[[S, Transition[S, A, F], Sequence[Transition[S, A, F]]], str]
RoleWords = Callable[[Transition[S, A, F], Scope], str]


@dataclass(frozen=True)
class Workflow(Generic[S, A, F]):
    """A declared workflow: its statuses, where a new case starts, and its transitions.

    ``not_open`` and ``not_held`` word the two common refusals in the workflow's own terms;
    when left out, :func:`not_open_words` and :func:`not_held_words` word them.
    """

    name: str
    states: type[S]
    initial: S
    transitions: tuple[Transition[S, A, F], ...]
    not_open: StateWords[S, A, F] | None = None
    not_held: RoleWords[S, A, F] | None = None
    _by_action: dict[A, Transition[S, A, F]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Refuse a table that could not be read one way: each action once, every row whole."""
        by_action: dict[A, Transition[S, A, F]] = {}
        for row in self.transitions:
            if row.action in by_action:
                raise ValueError(f"{self.name}: {row.action.value} is declared twice")
            if not row.source or not row.roles:
                raise ValueError(f"{self.name}: {row.action.value} needs statuses and roles")
            by_action[row.action] = row
        object.__setattr__(self, "_by_action", by_action)

    @property
    def moves(self) -> Mapping[A, Transition[S, A, F]]:
        """The rows by action, in the order they are declared."""
        return self._by_action

    @property
    def final(self) -> list[S]:
        """Statuses no step leaves."""
        return [s for s in self.states if not self.open_actions(s)]

    def transition(self, action: A) -> Transition[S, A, F]:
        """The row for ``action``; an action the table does not declare is no step at all."""
        row = self._by_action.get(action)
        if row is None:
            raise StateTransitionError(f"{action.label.lower()} is not a step a person takes")
        return row

    def open_actions(self, state: S) -> list[A]:
        """What may be done from ``state``, by anyone, in the table's order."""
        return [row.action for row in self.transitions if state in row.source]

    def legal(self, state: S, action: A) -> Transition[S, A, F]:
        """The row if ``action`` may be taken from ``state``; otherwise say what may."""
        row = self.transition(action)
        if state not in row.source:
            opened = [r for r in self.transitions if state in r.source]
            words = self.not_open or not_open_words(self.name)
            raise StateTransitionError(words(state, row, opened))
        return row

    def permit(self, state: S, action: A, actor: Principal, scope: Scope) -> Transition[S, A, F]:
        """The row if the step is open now and ``actor`` holds a role for it in ``scope``."""
        row = self.legal(state, action)
        if not any(holds(actor, role, scope) for role in row.roles):
            words = self.not_held or not_held_words
            raise Forbidden(words(row, scope))
        return row

    def check_guards(self, row: Transition[S, A, F], facts: F) -> None:
        """Refuse with the first guard, in declared order, that the facts do not pass."""
        for guard in row.guards:
            if not guard.passes(facts):
                raise guard.refusal(facts)

    def check(
        self, state: S, action: A, actor: Principal, scope: Scope, facts: F
    ) -> Transition[S, A, F]:
        """Status, then role, then each guard: the first that fails is the refusal."""
        row = self.permit(state, action, actor, scope)
        self.check_guards(row, facts)
        return row

    def may(
        self, state: S, action: A, actor: Principal, scope: Scope, facts: F | None = None
    ) -> bool:
        """Whether :meth:`check` would allow the step (guards only when facts are given)."""
        try:
            row = self.permit(state, action, actor, scope)
            if facts is not None:
                self.check_guards(row, facts)
        except CarepoolError:
            return False
        return True

    def target(self, state: S, action: A, facts: F) -> S:
        """Where an allowed step leads, given the facts once it is taken."""
        row = self.transition(action)
        if row.once is not None and not row.once.holds(facts):
            return state
        return row.target

    def acting_role(self, row: Transition[S, A, F], actor: Principal, scope: Scope) -> Role:
        """The role ``actor`` takes the step in (the first of the row's roles they hold)."""
        for role in sorted(row.roles):
            if holds(actor, role, scope):
                return role
        raise Forbidden((self.not_held or not_held_words)(row, scope))

    def apply(self, state: S, action: A, actor: Principal, scope: Scope, facts: F) -> Move[S, A]:
        """Check the step and say where it leads; the facts are those before the step."""
        row = self.check(state, action, actor, scope, facts)
        role = self.acting_role(row, actor, scope)
        return Move(action, state, self.target(state, action, facts), role)


def not_open_words(name: str) -> StateWords[S, A, F]:
    """ "a plan that is Draft cannot be signed; allowed now: Sent for local sign-off"."""

    def words(state: S, row: Transition[S, A, F], opened: Sequence[Transition[S, A, F]]) -> str:
        allowed = ", ".join(r.action.label for r in opened) or "nothing"
        return (
            f"a {name} that is {state.value} cannot be {row.action.label.lower()}; "
            f"allowed now: {allowed}"
        )

    return words


def not_held_words(row: Transition[S, A, F], scope: Scope) -> str:
    """ "signed needs the role Area signatory for this area"."""
    needed = " or ".join(r.label for r in sorted(row.roles))
    where = " for this area" if scope.area_code else ""
    return f"{row.action.label.lower()} needs the role {needed}{where}"


# --------------------------------------------------------------------------------------------
# The table a policy person reads


def markdown(workflow: Workflow[S, A, F]) -> str:
    """The workflow as a Markdown table, with where a case starts and where it ends."""
    lines = [
        "| Step | From | To | Who | Only if |",
        "|---|---|---|---|---|",
    ]
    order = list(workflow.states)
    for row in workflow.transitions:
        sources = ", ".join(s.value for s in sorted(row.source, key=order.index))
        target = row.target.value
        if row.once is not None:
            target = f"{target} once {row.once.rule}; until then it stays"
        rules = "; ".join(g.rule for g in row.guards) or "—"
        cells = (f"{row.action.label} (`{row.action.value}`)", sources, target, row.people, rules)
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    final = ", ".join(s.value for s in workflow.final) or "none"
    lines.append("")
    lines.append(f"A new {workflow.name} starts as {workflow.initial.value}. Final: {final}.")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
