"""Roles and scopes decide which rooms a user joins and what they may read or change."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from cop.auth import safe_next
from cop.domain.rooms import GLOBAL_ROOM, NATIONAL_ROOM, STATUS_ROOM, rooms_for_entity
from cop.domain.users import Role, User

NOW = datetime(2026, 11, 21, tzinfo=UTC)


def user(role: Role, **scope) -> User:
    return User(username="u1", role=role, created_at=NOW, **scope)


def test_national_roles_join_the_national_room():
    for role in (Role.VIEWER, Role.ANALYST, Role.ADMIN):
        assert user(role).rooms() == [STATUS_ROOM, NATIONAL_ROOM]


def test_scoped_coordinator_joins_only_their_provinces():
    coordinator = user(Role.COORDINATOR, provinces=frozenset({"60000", "90000"}))
    assert coordinator.rooms() == [STATUS_ROOM, GLOBAL_ROOM, "province:60000", "province:90000"]
    assert NATIONAL_ROOM not in coordinator.rooms()
    assert coordinator.can_read_province("60000")
    assert not coordinator.can_read_province("10000")
    assert coordinator.can_read_province(None)  # entities without a location
    assert coordinator.can_write_province("60000")
    assert not coordinator.can_write_province("10000")


def test_entity_rooms_match_the_scoped_rooms():
    assert rooms_for_entity("60000") == (NATIONAL_ROOM, "province:60000")
    assert rooms_for_entity(None) == (NATIONAL_ROOM, GLOBAL_ROOM)


def test_hospital_manager_needs_hospitals_and_manages_only_them():
    with pytest.raises(ValidationError, match="hospitals"):
        user(Role.HOSPITAL_MANAGER)
    manager = user(Role.HOSPITAL_MANAGER, hospitals=frozenset({"1470"}))
    assert manager.can_manage_hospital("1470")
    assert not manager.can_manage_hospital("4210")
    assert not manager.can_write_province("04000")


def test_scope_must_fit_the_role():
    with pytest.raises(ValidationError, match="provinces"):
        user(Role.ANALYST, provinces=frozenset({"60000"}))
    with pytest.raises(ValidationError, match="hospitals"):
        user(Role.COORDINATOR, hospitals=frozenset({"1470"}))


def test_viewer_and_analyst_write_nothing():
    assert not user(Role.VIEWER).can_write_province("60000")
    assert not user(Role.ANALYST).can_write_province(None)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/risk", "/risk"),
        ("https://evil.example/", "/"),
        ("//evil.example", "/"),
        ("", "/"),
        (None, "/"),
        ("/hospitals?x=1", "/hospitals?x=1"),
    ],
)
def test_after_login_only_local_redirects(target, expected):
    assert safe_next(target) == expected
