"""Snapshots: the current state a client starts from, with the sequence numbers it continues at."""

from __future__ import annotations

from typing import Any

from cop.domain.users import User
from cop.store.connection import Store
from cop.store.state import StateStore


def snapshot(store: Store, user: User, kind: str) -> dict[str, Any]:
    """The user's view of one kind: every entity they may read, and each room's sequence number.

    The sequence numbers are read *before* the state, so a delta that raced the read is at
    worst applied twice (harmless: items are whole envelopes, applied monotonically).
    """
    rooms = user.data_rooms()
    pipe = store.client.pipeline(transaction=False)
    for room in rooms:
        pipe.get(store.keys.seq(kind, room))
    seqs = {room: int(value or 0) for room, value in zip(rooms, pipe.execute(), strict=True)}
    items = StateStore(store.client, store.keys).visible_raw(kind, user.can_read_province)
    # Pre-serialised like a delta's items: no parsing and re-encoding of thousands of envelopes.
    return {"kind": kind, "seqs": seqs, "items_json": (b"[" + b",".join(items) + b"]").decode()}
