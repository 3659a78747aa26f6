"""Who may open a page, declared once for the route that serves it and the links to it.

A route guarded by an :class:`Access` (through :func:`carepool.web.auth.require_access`) and a
link shown only when the same :class:`Access` allows the viewer cannot disagree: nobody is
shown a link that answers 403, and a new role reaches a page by being named here.
"""

from __future__ import annotations

from dataclasses import dataclass

from carepool.domain.plan_workflow import HWB_CHAIR
from carepool.domain.roles import NATIONAL_ROLES, Principal, Role


@dataclass(frozen=True, slots=True)
class Access:
    """The roles that may open a page; no roles means any signed-in person.

    ``board_signatories`` also lets in area signatories who sign for the Health and Wellbeing
    Board (the chair), who sign off the pool's quarterly returns, while an NHS commissioner's
    signatory, who signs only plans, stays out.
    """

    name: str
    roles: frozenset[Role] = frozenset()
    board_signatories: bool = False

    def allows(self, viewer: Principal) -> bool:
        if viewer.is_public:
            return False
        if not self.roles and not self.board_signatories:
            return True
        return viewer.has(*self.roles) or (self.board_signatories and signs_for_board(viewer))

    @property
    def refusal(self) -> str:
        """What a refused person is told: who may open the page."""
        wanted = [role.label for role in sorted(self.roles)]
        if self.board_signatories:
            wanted.append("Area signatory for the Health and Wellbeing Board")
        return "this needs the role " + " or ".join(wanted)

    @property
    def rule(self) -> str:
        """How the route guard test reads this declaration, e.g. ``access:pooled budgets``."""
        return f"access:{self.name}"


def signs_for_board(viewer: Principal) -> bool:
    """Whether the viewer signs for a Health and Wellbeing Board (as its chair)."""
    return any(g.role is Role.AREA_SIGNATORY and g.partner_code == HWB_CHAIR for g in viewer.grants)


SIGNED_IN = Access("signed in")
NATIONAL_DASHBOARD = Access("national dashboard", NATIONAL_ROLES)
POOLED_BUDGETS = Access(
    "pooled budgets", NATIONAL_ROLES | {Role.POOL_FINANCE}, board_signatories=True
)
"""The list of pools: the national team sees every pool, a finance officer their own and the
board's chair the returns waiting for their sign-off."""
