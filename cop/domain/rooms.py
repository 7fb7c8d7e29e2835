"""Socket.IO room names: who receives which change."""

from __future__ import annotations

NATIONAL_ROOM = "national"  # every change, for users with national scope
GLOBAL_ROOM = "global"  # changes of entities without a location: every reader may see them
STATUS_ROOM = "status"  # hub and feed health, joined by every logged-in client
PROVINCE_ROOM_PREFIX = "province:"


def province_room(prov_code: str) -> str:
    return f"{PROVINCE_ROOM_PREFIX}{prov_code}"


def rooms_for_entity(prov_code: str | None, also: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Every room an entity's change goes to: national, plus its province or the global room.

    An entity that spans provinces (a zone, a plume) also goes to each province in `also`.
    """
    if prov_code:
        extra = tuple(province_room(p) for p in also if p != prov_code)
        return (NATIONAL_ROOM, province_room(prov_code), *extra)
    if also:
        return (NATIONAL_ROOM, *(province_room(p) for p in also))
    return (NATIONAL_ROOM, GLOBAL_ROOM)


def kind_room(room: str, kind: str) -> str:
    """The Socket.IO room carrying one kind's deltas for one scope room."""
    return f"{room}/{kind}"
