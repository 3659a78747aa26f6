"""Roles and what they allow.

A user holds *grants*: a role, optionally scoped to an area (and for signatories, to the
partner organisation they sign for). Grants are written as text so they can be stored and
shown plainly: ``national_admin``, ``area_editor:E06000052``,
``area_signatory:E06000052:E38000089``, ``pool_finance:E06000052``,
``budget_coordinator:E06000052``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from carepool.domain.errors import CarepoolError, Forbidden


class Role(StrEnum):
    NATIONAL_ADMIN = "national_admin"
    ASSURER = "assurer"
    HEALTH_APPROVER = "health_approver"
    LG_APPROVER = "lg_approver"
    AREA_EDITOR = "area_editor"
    AREA_SIGNATORY = "area_signatory"
    POOL_FINANCE = "pool_finance"
    BUDGET_COORDINATOR = "budget_coordinator"
    ANALYST = "analyst"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def scoped(self) -> bool:
        return self in {
            Role.AREA_EDITOR,
            Role.AREA_SIGNATORY,
            Role.POOL_FINANCE,
            Role.BUDGET_COORDINATOR,
        }


_LABELS = {
    Role.NATIONAL_ADMIN: "National administrator",
    Role.ASSURER: "Regional assurer",
    Role.HEALTH_APPROVER: "National approver (health)",
    Role.LG_APPROVER: "National approver (local government)",
    Role.AREA_EDITOR: "Area plan editor",
    Role.AREA_SIGNATORY: "Area signatory",
    Role.POOL_FINANCE: "Pool finance officer",
    Role.BUDGET_COORDINATOR: "Personal budget coordinator",
    Role.ANALYST: "Analyst",
}

NATIONAL_ROLES = frozenset(
    {Role.NATIONAL_ADMIN, Role.ASSURER, Role.HEALTH_APPROVER, Role.LG_APPROVER, Role.ANALYST}
)
"""Roles that see every area's (unpublished) national data."""


NATIONAL_POWERS: dict[Role, frozenset[Role]] = {
    Role.NATIONAL_ADMIN: frozenset({Role.AREA_EDITOR, Role.POOL_FINANCE}),
}
"""Local roles a national role may act as in any area, on that area's behalf.

The national administrator may change any area's draft plan (as its plan editors would: to
load a plan an area sent in, or put one right) and use any pool's spend, receipt, forecast,
period and settlement forms (as its pool finance officers would). It never signs a plan or a
return, submits a return or signs it off: those stay with the area's own people. Every such
change is recorded as made by the national team (see :meth:`Principal.acts_for_area`)."""


def acting_as(local_role: Role) -> tuple[Role, ...]:
    """Every role that may open ``local_role``'s pages: itself and the national roles whose
    powers include it, so a route's guard and :data:`NATIONAL_POWERS` cannot disagree."""
    powers = sorted(role for role, acts in NATIONAL_POWERS.items() if local_role in acts)
    return (local_role, *powers)


@dataclass(frozen=True, slots=True)
class Grant:
    role: Role
    area_code: str | None = None
    partner_code: str | None = None

    def __str__(self) -> str:
        return ":".join(p for p in (self.role.value, self.area_code, self.partner_code) if p)


def parse_grant(text: str) -> Grant:
    """Read a grant, refusing unknown roles and scoped roles without their area."""
    role_text, *scope = text.strip().split(":")
    try:
        role = Role(role_text)
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise CarepoolError(f"unknown role {role_text!r}; roles are: {known}") from None
    if role.scoped and not scope:
        raise CarepoolError(f"role {role.value} needs an area, e.g. {role.value}:E06000052")
    if not role.scoped and scope:
        raise CarepoolError(f"role {role.value} is national and takes no area")
    if len(scope) > (2 if role is Role.AREA_SIGNATORY else 1):
        raise CarepoolError(f"grant {text!r} has too many parts")
    return Grant(role, scope[0] if scope else None, scope[1] if len(scope) > 1 else None)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: a signed-in person, a machine token's owner, or the public."""

    username: str
    display_name: str
    grants: frozenset[Grant]

    @property
    def is_public(self) -> bool:
        return not self.grants and self.username == PUBLIC.username

    def has(self, *roles: Role) -> bool:
        return any(g.role in roles for g in self.grants)

    def has_area(self, role: Role, area_code: str) -> bool:
        return any(g.role is role and g.area_code == area_code for g in self.grants)

    @property
    def is_national(self) -> bool:
        return any(g.role in NATIONAL_ROLES for g in self.grants)

    def can_see_area(self, area_code: str) -> bool:
        """National roles see every area; local roles only their own."""
        return self.is_national or any(g.area_code == area_code for g in self.grants)

    def acts_for_area(self, local_role: Role, area_code: str) -> bool:
        """Whether doing ``local_role``'s work in the area is the national team acting on
        the area's behalf (:data:`NATIONAL_POWERS`) rather than the area's own people."""
        if self.has_area(local_role, area_code):
            return False
        return any(local_role in NATIONAL_POWERS.get(g.role, ()) for g in self.grants)

    def may_act_as(self, local_role: Role, area_code: str) -> bool:
        """Whether the viewer may do ``local_role``'s work in the area: as one of its own
        people, or as the national team on its behalf."""
        return self.has_area(local_role, area_code) or self.acts_for_area(local_role, area_code)

    def require(self, *roles: Role) -> None:
        if not self.has(*roles):
            wanted = " or ".join(r.label for r in roles)
            raise Forbidden(f"this needs the role {wanted}")

    def require_area(self, area_code: str) -> None:
        if not self.can_see_area(area_code):
            raise Forbidden("you do not have access to this area")


PUBLIC = Principal("public", "Member of the public", frozenset())
SYSTEM = Principal("system", "carepool command line", frozenset({Grant(Role.NATIONAL_ADMIN)}))


def principal(username: str, display_name: str, grants: Iterable[str]) -> Principal:
    return Principal(username, display_name, frozenset(parse_grant(g) for g in grants))
