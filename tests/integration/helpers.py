"""Helpers shared by integration tests: envelopes, the expected state, draining a hub."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from cop.domain import kinds  # noqa: F401
from cop.domain.envelope import Envelope
from cop.geo.reference import provinces
from cop.hub.worker import Hub
from cop.store.connection import Store
from cop.store.state import order_key
from tests.conftest import PASSWORD

T0 = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
PROVINCES = tuple(provinces())


def position(
    entity_id: str,
    observed_at: datetime,
    *,
    prov_code: str | None = "60000",
    lat: float = 50.6,
    lon: float = 5.5,
    status: str = "available",
    callsign: str | None = None,
    discipline: str = "D1",
) -> Envelope:
    return Envelope.build(
        kind="position",
        entity_id=entity_id,
        source="test",
        observed_at=observed_at,
        data={
            "callsign": callsign or entity_id.upper(),
            "discipline": discipline,
            "unit_type": "fire engine",
            "status": status,
            "lat": lat,
            "lon": lon,
            "prov_code": prov_code,
        },
    )


class Recorder:
    """An emitter that records what the hub would send to each room."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []

    def emit(self, event: str, data: Any, room: str) -> None:
        self.sent.append((event, room, data))

    def deltas(self, room: str) -> list[dict[str, Any]]:
        return [d for e, r, d in self.sent if e == "delta" and r == room]


def expected_state(store: Store, kind: str) -> dict[str, bytes]:
    """What the state must be: per entity, the entry with the greatest (observed, stream id)."""
    best: dict[str, tuple[str, bytes]] = {}
    for stream_id, fields in store.client.xrange(store.keys.stream(kind)):
        raw = fields[b"e"]
        try:
            envelope = Envelope.from_json(raw)
        except ValueError:
            continue
        key = order_key(envelope.observed_us, stream_id.decode())
        if envelope.id not in best or best[envelope.id][0] < key:
            best[envelope.id] = (key, raw)
    return {eid: raw for eid, (_, raw) in best.items()}


def group_pending(store: Store, kind: str, group: str = "hub") -> int:
    for info in store.client.xinfo_groups(store.keys.stream(kind)):
        if info["name"].decode() == group:
            return int(info["pending"])
    return 0


def drain(hub: Hub, kind: str = "position", timeout: float = 30.0) -> None:
    """Step the hub until every entry of `kind` has been read and nothing is pending."""
    hub.ensure_groups()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        hub.step()
        hub.reclaim()
        hub.batcher.flush()
        last = hub.store.client.xinfo_stream(hub.keys.stream(kind))["last-generated-id"]
        groups = hub.store.client.xinfo_groups(hub.keys.stream(kind))
        group = next(g for g in groups if g["name"].decode() == hub.group)
        if group["pending"] == 0 and group["last-delivered-id"] == last:
            return
    raise TimeoutError("hub did not drain the stream")


def state_docs(store: Store, kind: str) -> dict[str, dict[str, Any]]:
    return {k.decode(): orjson.loads(v) for k, v in store.client.hgetall(store.keys.state(kind)).items()}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def csrf_token(client) -> str:
    page = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match.group(1)


def login(client, username: str, password: str = PASSWORD):
    return client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_token(client),
            "next": "/risk",
        },
    )
