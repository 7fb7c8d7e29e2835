"""Socket.IO handlers on the `/live` namespace: authenticate, join scoped rooms, serve snapshots."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from flask_login import current_user
from flask_socketio import SocketIO, emit, join_room

from cop.api.ops import SOCKET_CLIENTS
from cop.domain.rooms import STATUS_ROOM, kind_room
from cop.feeds.logbook import log_room, may_read
from cop.hub.deltas import LIVE_NAMESPACE
from cop.realtime.snapshot import SharedStateReads, snapshot
from cop.settings import STREAM_KINDS
from cop.store.connection import Store
from cop.store.state import StateStore

log = logging.getLogger(__name__)


def _kinds(request: Any) -> list[str]:
    """The kinds a client asks for; unknown names are refused with a message."""
    kinds = request.get("kinds") if isinstance(request, dict) else None
    if not isinstance(kinds, list) or not kinds:
        raise ValueError("kinds: a non-empty list of stream kinds is required")
    unknown = [k for k in kinds if k not in STREAM_KINDS]
    if unknown:
        raise ValueError(f"kinds: unknown {unknown!r}")
    return list(dict.fromkeys(kinds))


def register_handlers(socketio: SocketIO, store: Store) -> None:
    state = StateStore(store.client, store.keys)
    reads = SharedStateReads(state)  # a reconnect storm reads each kind's state a few times, not 300

    @socketio.on("connect", namespace=LIVE_NAMESPACE)
    def on_connect(auth: Any = None) -> None:
        if not current_user.is_authenticated:
            raise ConnectionRefusedError("login required")
        user = current_user.user
        SOCKET_CLIENTS.inc()
        join_room(STATUS_ROOM)
        last = store.client.hget(store.keys.hub_stats, "status")
        emit(
            "hello",
            {
                "user": user.username,
                "role": user.role.value,
                "rooms": user.data_rooms(),
                "status": orjson.loads(last) if last else None,
            },
        )

    @socketio.on("disconnect", namespace=LIVE_NAMESPACE)
    def on_disconnect(*_args: Any) -> None:
        SOCKET_CLIENTS.dec()

    @socketio.on("subscribe", namespace=LIVE_NAMESPACE)
    def on_subscribe(request: Any) -> dict[str, Any]:
        """Join the rooms of the asked kinds within the user's scope; answer with snapshots."""
        if not current_user.is_authenticated:
            return {"error": "login required"}
        try:
            kinds = _kinds(request)
        except ValueError as error:
            return {"error": str(error)}
        user = current_user.user
        for kind in kinds:
            for room in user.data_rooms():
                join_room(kind_room(room, kind))
        return {"snapshots": [snapshot(store, user, kind, reads) for kind in kinds]}

    @socketio.on("subscribe_log", namespace=LIVE_NAMESPACE)
    def on_subscribe_log(request: Any) -> dict[str, Any]:
        """Join the logbook rooms of the incidents asked for that the user may read."""
        if not current_user.is_authenticated:
            return {"error": "login required"}
        wanted = request.get("incidents") if isinstance(request, dict) else None
        if not isinstance(wanted, list) or not all(isinstance(i, str) for i in wanted):
            return {"error": "incidents: a list of incident ids is required"}
        user = current_user.user
        joined = []
        for incident_id in wanted[:200]:
            incident = state.get("incident", incident_id)
            if incident is not None and may_read(user, incident):
                join_room(log_room(incident_id))
                joined.append(incident_id)
        return {"joined": joined}

    @socketio.on("snapshot", namespace=LIVE_NAMESPACE)
    def on_snapshot(request: Any) -> dict[str, Any]:
        """A client that saw a sequence gap asks for the current state again."""
        if not current_user.is_authenticated:
            return {"error": "login required"}
        try:
            kinds = _kinds(request)
        except ValueError as error:
            return {"error": str(error)}
        return {"snapshots": [snapshot(store, current_user.user, kind, reads) for kind in kinds]}
