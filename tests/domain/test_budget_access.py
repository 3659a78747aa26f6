"""Personal budgets: people's budgets are seen only by their area's coordinator and pool
finance officer; national roles see exact counts; everyone else sees published aggregates."""

from __future__ import annotations

import pytest

from carepool.domain.budget_access import (
    coordinated_areas,
    may_see_people,
    may_set_up,
    may_upload,
    sees_exact_counts,
)
from carepool.domain.errors import CarepoolError
from carepool.domain.roles import PUBLIC, Role, parse_grant, principal

AREA, OTHER = "E06000052", "E09000001"
COORDINATOR = principal("c", "C", [f"budget_coordinator:{AREA}"])
FINANCE = principal("f", "F", [f"pool_finance:{AREA}"])
EDITOR = principal("e", "E", [f"area_editor:{AREA}"])
ADMIN = principal("n", "N", ["national_admin"])
ANALYST = principal("a", "A", ["analyst"])


def test_the_coordinator_role_is_scoped_to_an_area() -> None:
    grant = parse_grant(f"budget_coordinator:{AREA}")
    assert grant.role is Role.BUDGET_COORDINATOR and grant.area_code == AREA
    assert Role.BUDGET_COORDINATOR.label == "Personal budget coordinator"
    assert str(grant) == f"budget_coordinator:{AREA}"
    with pytest.raises(CarepoolError, match="needs an area"):
        parse_grant("budget_coordinator")
    with pytest.raises(CarepoolError, match="too many parts"):
        parse_grant(f"budget_coordinator:{AREA}:x")


def test_only_the_areas_coordinator_and_finance_officer_see_people() -> None:
    assert may_see_people(COORDINATOR, AREA) and may_see_people(FINANCE, AREA)
    assert not may_see_people(COORDINATOR, OTHER)
    for viewer in (EDITOR, ADMIN, ANALYST, PUBLIC):
        assert not may_see_people(viewer, AREA), viewer.username


def test_only_the_coordinator_sets_up_budgets_and_either_uploads() -> None:
    assert may_set_up(COORDINATOR, AREA)
    assert not may_set_up(FINANCE, AREA) and not may_set_up(ADMIN, AREA)
    assert not may_set_up(COORDINATOR, OTHER)
    assert may_upload(COORDINATOR, AREA) and may_upload(FINANCE, AREA)
    assert not may_upload(ADMIN, AREA) and not may_upload(FINANCE, OTHER)


def test_exact_counts_for_national_roles_and_the_areas_own_people() -> None:
    assert sees_exact_counts(ANALYST, None) and sees_exact_counts(ADMIN, OTHER)
    assert sees_exact_counts(COORDINATOR, AREA)
    assert not sees_exact_counts(COORDINATOR, OTHER)
    assert not sees_exact_counts(COORDINATOR, None), "an area's coordinator sees England rounded"
    assert not sees_exact_counts(PUBLIC, AREA) and not sees_exact_counts(EDITOR, AREA)


def test_coordinated_areas_lists_each_area_once() -> None:
    both = principal("b", "B", [f"budget_coordinator:{AREA}", f"pool_finance:{AREA}",
                                f"pool_finance:{OTHER}", f"area_editor:{OTHER}"])  # fmt: skip
    assert coordinated_areas(both) == (AREA, OTHER)
    assert coordinated_areas(EDITOR) == () and coordinated_areas(PUBLIC) == ()
