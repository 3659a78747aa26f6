"""Roles: grants parse strictly; area roles reach only their own area."""

from __future__ import annotations

import pytest

from carepool.domain.errors import CarepoolError, Forbidden
from carepool.domain.roles import PUBLIC, Role, principal


def test_grants_parse_and_scope() -> None:
    editor = principal("a", "A", ["area_editor:E06000052"])
    assert editor.has_area(Role.AREA_EDITOR, "E06000052")
    assert editor.can_see_area("E06000052")
    assert not editor.can_see_area("E09000001")
    with pytest.raises(Forbidden):
        editor.require_area("E09000001")
    with pytest.raises(Forbidden, match="National administrator"):
        editor.require(Role.NATIONAL_ADMIN)


def test_national_roles_see_every_area_and_public_sees_none() -> None:
    assert principal("n", "N", ["assurer"]).can_see_area("E09000001")
    assert not PUBLIC.can_see_area("E09000001")
    assert PUBLIC.is_public


@pytest.mark.parametrize(
    ("grant", "message"),
    [
        ("wizard", "unknown role"),
        ("area_editor", "needs an area"),
        ("national_admin:E06000052", "takes no area"),
        ("pool_finance:E06000052:x", "too many parts"),
    ],
)
def test_bad_grants_are_refused(grant: str, message: str) -> None:
    with pytest.raises(CarepoolError, match=message):
        principal("x", "X", [grant])
