"""Batching state changes into one delta per kind and room, each with a sequence number."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson

from cop.domain.rooms import kind_room

DELTA_EVENT = "delta"
STATUS_EVENT = "status"
LIVE_NAMESPACE = "/live"
LATENCY_WINDOW = 600  # flushes (a minute at 10 a second)


class Emitter(Protocol):
    """Sends one event to one Socket.IO room (through the message queue in production)."""

    def emit(self, event: str, data: Any, room: str) -> None: ...


@dataclass
class PendingChange:
    raw: bytes  # the envelope JSON exactly as stored in the state
    rooms: tuple[str, ...]


@dataclass
class DeltaBatcher:
    """Collects the latest change per entity between flushes; a flush emits one delta per room.

    A delta is `{kind, room, seq, sent_at, count, items_json}`; `items_json` is a JSON array of
    envelopes. Parse it with `delta_items()`.

    `next_seq(kind, room)` returns the next sequence number of that channel (Redis INCR in
    production, so several hubs and restarts share one counter).
    """

    emitter: Emitter
    next_seqs: Callable[[list[tuple[str, str]]], list[int]]
    pending: dict[str, dict[str, PendingChange]] = field(default_factory=dict)
    departures: dict[str, dict[tuple[str, str], bytes]] = field(default_factory=dict)
    emitted: int = 0
    # Ingest → emit: per flush, how long the oldest change waited since the web received it.
    oldest_received: datetime | None = None
    latencies_s: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_WINDOW))

    def add(
        self,
        kind: str,
        entity_id: str,
        raw: bytes,
        rooms: Iterable[str],
        received_at: datetime | None = None,
    ) -> None:
        self.pending.setdefault(kind, {})[entity_id] = PendingChange(raw, tuple(rooms))
        if received_at is not None and (self.oldest_received is None or received_at < self.oldest_received):
            self.oldest_received = received_at

    def latency(self) -> dict[str, float | int]:
        """Ingest → emit latency over the recent flushes: p50, p95, max (seconds) and how many."""
        values = sorted(self.latencies_s)
        if not values:
            return {"n": 0}
        return {
            "n": len(values),
            "p50": values[len(values) // 2],
            "p95": values[min(len(values) - 1, int(len(values) * 0.95))],
            "max": values[-1],
        }

    def depart(self, kind: str, entity_id: str, raw: bytes, room: str) -> None:
        """An entity left `room` (moved to another province): send that room a tombstone."""
        self.departures.setdefault(kind, {})[(entity_id, room)] = raw

    def __len__(self) -> int:
        return sum(len(changes) for changes in self.pending.values())

    def flush(self, now: datetime | None = None) -> int:
        """Emit everything pending; returns the number of deltas sent."""
        if not self.pending and not self.departures:
            return 0
        moment = now or datetime.now(UTC)
        sent_at = moment.isoformat()
        if self.oldest_received is not None:
            self.latencies_s.append(max(0.0, (moment - self.oldest_received).total_seconds()))
            self.oldest_received = None
        per_channel: dict[tuple[str, str], list[bytes]] = {}
        # Departures first: an entity that left a room and came back within one flush ends up shown.
        for kind, leaving in self.departures.items():
            for (_entity_id, room), raw in leaving.items():
                per_channel.setdefault((kind, room), []).append(raw)
        self.departures = {}
        for kind, changes in self.pending.items():
            for change in changes.values():
                for room in change.rooms:
                    per_channel.setdefault((kind, room), []).append(change.raw)
        self.pending = {}
        channels = list(per_channel)
        seqs = self.next_seqs(channels)
        for (kind, room), seq in zip(channels, seqs, strict=True):
            # The items travel as one pre-serialised JSON array: nobody between the hub and the
            # browser needs to walk thousands of nested dicts (python-socketio would, per room).
            items_json = (b"[" + b",".join(per_channel[(kind, room)]) + b"]").decode()
            self.emitter.emit(
                DELTA_EVENT,
                {
                    "kind": kind,
                    "room": room,
                    "seq": seq,
                    "sent_at": sent_at,
                    "count": len(per_channel[(kind, room)]),
                    "items_json": items_json,
                },
                kind_room(room, kind),
            )
        self.emitted += len(channels)
        return len(channels)


def delta_items(delta: dict[str, Any]) -> list[dict[str, Any]]:
    """The envelopes (as dicts) a delta carries."""
    items: list[dict[str, Any]] = orjson.loads(delta["items_json"])
    return items
