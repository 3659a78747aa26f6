"""The service's menu, each link shown only to those who may open it.

Each link names the :class:`~carepool.domain.access.Access` its page's route is guarded by
(or ``None`` for a public page), so the menu and the routes read one declaration and a link
can never lead to a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass

from carepool.domain.access import NATIONAL_DASHBOARD, POOLED_BUDGETS, SIGNED_IN, Access
from carepool.domain.roles import Principal


@dataclass(frozen=True, slots=True)
class MenuLink:
    href: str
    text: str
    access: Access | None = None  # None: a public page
    public_only: bool = False  # shown only to people not signed in (signing in)

    def shown_to(self, viewer: Principal, signed_in: bool) -> bool:
        if self.public_only:
            return not signed_in
        if self.access is None:
            return True
        if viewer.is_public:  # a page rendered without its viewer (an error): only the
            return signed_in and self.access == SIGNED_IN  # links anyone signed in may open
        return self.access.allows(viewer)


MENU = (
    MenuLink("/tasks", "Your tasks", SIGNED_IN),
    MenuLink("/areas", "Areas"),
    MenuLink("/frameworks", "Frameworks"),
    MenuLink("/allocations", "Allocations"),
    MenuLink("/plans/2015-16", "Plans"),
    MenuLink("/metrics", "Metrics"),
    MenuLink("/payments/2015-16", "Payments"),
    MenuLink("/pooling", "Pooling"),
    MenuLink("/budgets", "Personal budgets"),
    MenuLink("/pools/2015-16", "Pooled budgets", POOLED_BUDGETS),
    MenuLink("/national", "National dashboard", NATIONAL_DASHBOARD),
    MenuLink("/account", "Your account", SIGNED_IN),
    MenuLink("/sign-in", "Sign in", public_only=True),
)


def menu(viewer: Principal, signed_in: bool) -> list[MenuLink]:
    """The menu links the viewer may follow, in order.

    ``signed_in`` says someone is signed in when the page was rendered without its viewer
    (error pages): they get the links every signed-in person may follow, never a role's.
    """
    return [link for link in MENU if link.shown_to(viewer, signed_in or not viewer.is_public)]


PAGES = {"national": NATIONAL_DASHBOARD, "pools": POOLED_BUDGETS, "signed_in": SIGNED_IN}
"""Declarations templates consult for links in page bodies: ``may(viewer, "national")``."""


def may(viewer: Principal, page: str) -> bool:
    """Whether the viewer may open the page declared as ``page`` in :data:`PAGES`."""
    return PAGES[page].allows(viewer)
