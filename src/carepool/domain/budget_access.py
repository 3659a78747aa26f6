"""Who may see and change personal budgets.

A personal budget is a person's own plan for their care and the money behind it, so its
pages are among the most private in carepool. The rules, written once here and used by the
pages and the API alike:

- **A person's budget** (its parts, support plan, status history and transactions) is seen
  only by the area's personal budget coordinator, who runs the budgets, and the area's pool
  finance officer, whose pool carries the money. National roles do not see people: the
  national team needs counts, not names or care plans.
- **Setting up a budget** is the coordinator's work; **uploading transactions** (direct
  payment returns, provider invoices, card statements) is the coordinator's or the pool
  finance officer's, since either may hold the returns.
- **An area's exact counts and spend** are seen by those two and by national roles.
- **Everyone else**, the public included, sees aggregates only, after disclosure control
  (:mod:`carepool.domain.disclosure`): small counts suppressed, the rest rounded.
"""

from __future__ import annotations

from carepool.domain.roles import Principal, Role

PEOPLE_ROLES = (Role.BUDGET_COORDINATOR, Role.POOL_FINANCE)
"""The area roles that see a person's budget."""


def may_see_people(viewer: Principal, area_code: str) -> bool:
    """Whether ``viewer`` may open the area's individual budgets."""
    return any(viewer.has_area(role, area_code) for role in PEOPLE_ROLES)


def may_set_up(viewer: Principal, area_code: str) -> bool:
    """Whether ``viewer`` may set up or change a budget in the area."""
    return viewer.has_area(Role.BUDGET_COORDINATOR, area_code)


def may_upload(viewer: Principal, area_code: str) -> bool:
    """Whether ``viewer`` may upload the area's budget transactions."""
    return may_see_people(viewer, area_code)


def sees_exact_counts(viewer: Principal, area_code: str | None) -> bool:
    """Whether ``viewer`` sees unrounded counts: national roles everywhere, the area's
    coordinator and pool finance officer for their area (``area_code`` ``None``: England)."""
    if viewer.is_national:
        return True
    return area_code is not None and may_see_people(viewer, area_code)


def coordinated_areas(viewer: Principal) -> tuple[str, ...]:
    """The areas whose budgets ``viewer`` may open, in code order."""
    return tuple(
        sorted({g.area_code for g in viewer.grants if g.role in PEOPLE_ROLES and g.area_code})
    )
