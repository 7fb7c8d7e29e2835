"""The hub worker: a consumer-group loop that applies entries, reclaims, dead-letters and pushes."""

from __future__ import annotations

import gc
import logging
import os
import socket
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import redis

from cop.domain.envelope import StoredEnvelope
from cop.domain.errors import InvalidInput
from cop.domain.rooms import STATUS_ROOM, province_room, rooms_for_entity
from cop.hub.deltas import LIVE_NAMESPACE, STATUS_EVENT, DeltaBatcher, Emitter
from cop.realtime.codec import OrjsonCodec
from cop.settings import STREAM_KINDS, Settings
from cop.shutdown import Shutdown
from cop.store.connection import Store
from cop.store.feeds import feed_health
from cop.store.state import Applicable, StateStore
from cop.store.streams import StreamEntry, entry_from_fields

log = logging.getLogger(__name__)

# (kind, [(entry, its previous province)]) for the entries that changed the state.
Applied = tuple[str, list[tuple[Applicable, str | None]]]
MAX_INFLIGHT = 3  # batches read ahead of the one Redis is applying
REDIS_AWAY = (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError, OSError)


class SocketIOEmitter:
    """Emits to Socket.IO rooms through the Redis message queue shared with the web processes."""

    def __init__(self, url: str, channel: str) -> None:
        import socketio  # the hub only needs the write side of the message queue

        self.manager = socketio.RedisManager(url, channel=channel, write_only=True, json=OrjsonCodec)

    def emit(self, event: str, data: Any, room: str) -> None:
        self.manager.emit(event, data, namespace=LIVE_NAMESPACE, room=room)


@dataclass
class HubStats:
    applied: int = 0
    unchanged: int = 0
    dead_lettered: int = 0
    reclaimed: int = 0
    failures: int = 0
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class Hub:
    """Reads every stream through the consumer group, applies, acks, batches and emits deltas."""

    def __init__(
        self,
        store: Store,
        emitter: Emitter,
        *,
        settings: Settings | None = None,
        consumer: str | None = None,
        shutdown: Shutdown | None = None,
        kinds: Sequence[str] = STREAM_KINDS,
    ) -> None:
        self.store = store
        self.settings = settings or store.settings
        self.keys = store.keys
        self.client = store.client
        self.emitter = emitter
        self.group = self.settings.hub_group
        self.consumer = consumer or self.settings.hub_consumer or consumer_name()
        self.shutdown = shutdown or Shutdown()
        self.kinds = tuple(kinds)
        self.state = StateStore(self.client, self.keys)
        self.batcher = DeltaBatcher(emitter, self._next_seqs)
        self.stats = HubStats()
        self.failures: dict[tuple[str, str], str] = {}
        # After a start or a Redis error, first re-read our own pending entries ("0"), then new (">").
        self._cursor: dict[str, str] = dict.fromkeys(self.kinds, "0")
        self._last_failed = 0

    # -- set-up ----------------------------------------------------------------------------

    def ensure_groups(self) -> None:
        """Create the consumer group on every stream; only BUSYGROUP means "already exists"."""
        for kind in self.kinds:
            try:
                self.client.xgroup_create(self.keys.stream(kind), self.group, id="0", mkstream=True)
            except redis.ResponseError as error:
                if "BUSYGROUP" not in str(error):
                    raise

    # -- the loop ----------------------------------------------------------------------------

    def run(self) -> int:
        """Work until asked to stop; the last batch is applied, acked and flushed. Returns 0.

        Reading and parsing the next batch overlaps Redis applying the previous one (a second
        connection in one helper thread); batches are still applied strictly in order.
        """
        backoff = 0.5
        while not self.shutdown.requested:
            try:
                self.ensure_groups()
                break
            except REDIS_AWAY as error:
                log.warning("hub: Redis unavailable at start (%s); retrying in %.1f s", error, backoff)
                self.shutdown.wait(backoff)
                backoff = min(backoff * 2, self.settings.redis_retry_max_s)
        # Thousands of short-lived envelopes per second: collect young objects less often, and
        # keep the long-lived start-up objects out of every full collection.
        gc.freeze()
        gc.set_threshold(50_000, 20, 100)
        log.info("hub %s consuming %s in group %s", self.consumer, ",".join(self.kinds), self.group)
        flush_s = self.settings.hub_flush_ms / 1000
        next_flush = time.monotonic() + flush_s
        next_claim = time.monotonic()
        next_status = time.monotonic()
        backoff = 0.5
        # One applier thread applies batches strictly in the order they were read, while this
        # thread reads and parses ahead: Redis applying one batch overlaps parsing the next.
        inflight: deque[Future[list[Applied]]] = deque()

        def collect(*, wait_all: bool) -> None:
            while inflight and (wait_all or inflight[0].done() or len(inflight) > MAX_INFLIGHT):
                self.publish_all(inflight.popleft().result())

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hub-apply") as applier:
            while not self.shutdown.requested:
                try:
                    response = self.read(block=not inflight)
                    prepared = self.prepare_response(response)
                    if prepared:
                        inflight.append(applier.submit(self.apply_all, prepared))
                    collect(wait_all=False)
                    now = time.monotonic()
                    if now >= next_claim or now >= next_flush or now >= next_status:
                        collect(wait_all=True)
                    if now >= next_claim:
                        self.reclaim()
                        next_claim = now + max(self.settings.hub_claim_idle_ms / 2000, 0.1)
                    if now >= next_flush:
                        self.batcher.flush()
                        next_flush = now + flush_s
                    if now >= next_status:
                        self.emit_status()
                        next_status = now + self.settings.hub_status_every_s
                    backoff = 0.5
                except REDIS_AWAY as error:
                    # Unapplied entries stay pending and are re-read from our own list.
                    for future in inflight:
                        future.cancel()
                    inflight.clear()
                    log.warning("hub: Redis unavailable (%s); retrying in %.1f s", error, backoff)
                    self._cursor = dict.fromkeys(self.kinds, "0")
                    if self.shutdown.wait(backoff):
                        break
                    backoff = min(backoff * 2, self.settings.redis_retry_max_s)
            try:
                collect(wait_all=True)
            except REDIS_AWAY as error:
                log.warning("hub: last batches not applied (%s); they stay pending", error)
        self._final_flush()
        log.info(
            "hub %s stopped: applied=%d unchanged=%d dead-lettered=%d",
            self.consumer,
            self.stats.applied,
            self.stats.unchanged,
            self.stats.dead_lettered,
        )
        return 0

    def _final_flush(self) -> None:
        try:
            self.batcher.flush()
        except REDIS_AWAY as error:
            # The state is applied and acked; browsers resynchronise from a snapshot.
            log.warning("hub: last delta not emitted (%s)", error)

    def step(self) -> int:
        """Read, apply and publish one batch synchronously; returns the number of entries read."""
        prepared = self.read_and_prepare()
        self.publish_all(self.apply_all(prepared))
        return sum(len(good) for _, good in prepared) + self._last_failed

    def read_and_prepare(self) -> list[tuple[str, list[Applicable]]]:
        return self.prepare_response(self.read(block=True))

    def read(self, *, block: bool) -> Any:
        """One XREADGROUP over every stream.

        A kind whose cursor is an id (not ">") is re-reading our own pending list, paging past
        the last id seen; once that comes back empty the kind switches to new entries.
        """
        streams: dict[Any, Any] = {self.keys.stream(kind): self._cursor[kind] for kind in self.kinds}
        history = any(cursor != ">" for cursor in self._cursor.values())
        return self.client.xreadgroup(
            self.group,
            self.consumer,
            streams,
            count=self.settings.hub_batch,
            block=self.settings.hub_block_ms if block and not history else None,
        )

    def prepare_response(self, response: Any) -> list[tuple[str, list[Applicable]]]:
        """Parse an XREADGROUP reply; failed entries are noted (towards the DLQ), not returned."""
        prepared = []
        self._last_failed = 0
        for stream_key, rows in response or []:
            kind = stream_key.decode().rsplit(":", 1)[-1]
            if self._cursor[kind] != ">":
                self._cursor[kind] = rows[-1][0].decode() if rows else ">"
            entries = [entry_from_fields(sid, fields) for sid, fields in rows if fields]
            trimmed = [sid for sid, fields in rows if not fields]
            if trimmed:  # trimmed away while pending: nothing left to apply
                self.client.xack(self.keys.stream(kind), self.group, *trimmed)
            good = self.prepare(kind, entries)
            self._last_failed += len(entries) - len(good)
            if good:
                prepared.append((kind, good))
        return prepared

    def prepare(self, kind: str, entries: Sequence[StreamEntry]) -> list[Applicable]:
        """Parse entries into envelopes; a bad one is left pending and counted towards the DLQ."""
        good: list[Applicable] = []
        for entry in entries:
            try:
                envelope = entry.stored()
                if envelope.kind != kind:
                    raise ValueError(f"kind: entry of kind {envelope.kind!r} in the {kind!r} stream")
            except (InvalidInput, ValueError) as error:
                self._failed(kind, entry, str(error))
                continue
            good.append(Applicable(entry.stream_id, envelope, entry.raw))
        return good

    def apply_all(self, prepared: list[tuple[str, list[Applicable]]]) -> list[Applied]:
        """Apply-and-ack each kind's entries atomically; returns the entries that changed state."""
        result = []
        for kind, good in prepared:
            changed = self.state.apply_and_ack(kind, self.group, good)
            self.stats.applied += len(changed)
            self.stats.unchanged += len(good) - len(changed)
            result.append((kind, [(good[position], previous) for position, previous in changed]))
        return result

    def publish_all(self, applied: list[Applied]) -> None:
        """Queue the changes for the next delta flush.

        An entity that moved to another province leaves its old province's room: that room gets a
        departure (a tombstone carrying no position), so viewers there drop it and see nothing of
        where it went.
        """
        for kind, changed in applied:
            for entry, previous in changed:
                envelope = entry.envelope
                self.failures.pop((kind, entry.stream_id), None)
                self.batcher.add(
                    kind,
                    envelope.id,
                    entry.raw,
                    rooms_for_entity(envelope.prov_code, envelope.prov_codes),
                    envelope.received_at,
                )
                if previous and previous != envelope.prov_code:
                    self.batcher.depart(kind, envelope.id, departure(envelope), province_room(previous))

    def process(self, kind: str, entries: Sequence[StreamEntry]) -> None:
        """Parse, apply-and-ack and publish entries synchronously (reclaimed entries, tests)."""
        good = self.prepare(kind, entries)
        if good:
            self.publish_all(self.apply_all([(kind, good)]))

    # -- failures, reclaim, dead letters ---------------------------------------------------------

    def _failed(self, kind: str, entry: StreamEntry, error: str) -> None:
        """Leave a failed entry pending; once it has been delivered max_tries times, dead-letter it."""
        self.stats.failures += 1
        self.failures[(kind, entry.stream_id)] = error
        tries = self._deliveries(kind, entry.stream_id)
        log.warning("hub: %s entry %s failed (try %d): %s", kind, entry.stream_id, tries, error)
        if tries >= self.settings.hub_max_tries:
            self.dead_letter(kind, entry, error, tries)

    def _deliveries(self, kind: str, stream_id: str) -> int:
        rows = self.client.xpending_range(
            self.keys.stream(kind), self.group, min=stream_id, max=stream_id, count=1
        )
        return int(rows[0]["times_delivered"]) if rows else 0

    def dead_letter(self, kind: str, entry: StreamEntry, error: str, tries: int) -> None:
        """Move an entry to `{p}:dlq:{kind}` with its error, ack it, count it; one transaction."""
        pipe = self.client.pipeline(transaction=True)
        pipe.xadd(
            self.keys.dlq(kind),
            {
                "stream_id": entry.stream_id,
                "e": entry.raw,
                "error": error[:4000],
                "tries": tries,
                "failed_at": datetime.now(UTC).isoformat(),
                "consumer": self.consumer,
            },
        )
        pipe.xack(self.keys.stream(kind), self.group, entry.stream_id)
        pipe.incr(self.keys.dlq_count(kind))
        pipe.execute()
        self.failures.pop((kind, entry.stream_id), None)
        self.stats.dead_lettered += 1
        log.error("hub: %s entry %s dead-lettered after %d tries: %s", kind, entry.stream_id, tries, error)

    def reclaim(self) -> int:
        """XAUTOCLAIM entries idle longer than the threshold (a dead consumer's, or our failed ones)."""
        total = 0
        for kind in self.kinds:
            start = "0-0"
            while True:
                reply = self.client.xautoclaim(
                    self.keys.stream(kind),
                    self.group,
                    self.consumer,
                    min_idle_time=self.settings.hub_claim_idle_ms,
                    start_id=start,
                    count=self.settings.hub_batch,
                )
                start_raw, rows = reply[0], reply[1]
                entries = [entry_from_fields(sid, fields) for sid, fields in rows if fields]
                # Entries trimmed away while pending come back without fields: nothing to apply.
                missing = [sid for sid, fields in rows if not fields]
                if missing:
                    self.client.xack(self.keys.stream(kind), self.group, *missing)
                if entries:
                    log.info("hub: reclaimed %d %s entries", len(entries), kind)
                    self.stats.reclaimed += len(entries)
                    self.process(kind, entries)
                    total += len(entries)
                start = start_raw.decode() if isinstance(start_raw, bytes) else start_raw
                if start == "0-0" or not rows:
                    break
        return total

    # -- sequences and status ----------------------------------------------------------------------

    def _next_seqs(self, channels: list[tuple[str, str]]) -> list[int]:
        pipe = self.client.pipeline(transaction=False)
        for kind, room in channels:
            pipe.incr(self.keys.seq(kind, room))
        return [int(v) for v in pipe.execute()]

    def status(self) -> dict[str, Any]:
        now = datetime.now(UTC)
        pending = {}
        for kind in self.kinds:
            try:
                groups = self.client.xinfo_groups(self.keys.stream(kind))
            except redis.ResponseError:
                groups = []
            for group in groups:
                if group["name"].decode() == self.group:
                    pending[kind] = int(group["pending"])
        return {
            "hub_at": now.isoformat(),
            "consumer": self.consumer,
            "feeds": feed_health(self.client, self.keys, now, self.settings.feed_stale_after_s),
            "pending": pending,
            "applied": self.stats.applied,
            "dead_lettered": self.stats.dead_lettered,
            "delta_latency_s": self.batcher.latency(),
        }

    def emit_status(self) -> None:
        status = self.status()
        self.client.hset(
            self.keys.hub_stats,
            mapping={"status": orjson.dumps(status), "at": status["hub_at"]},
        )
        self.emitter.emit(STATUS_EVENT, status, STATUS_ROOM)


def departure(envelope: StoredEnvelope) -> bytes:
    """A tombstone for the room an entity left: its id and time, nothing about where it went."""
    return orjson.dumps(
        {
            "v": envelope.v,
            "kind": envelope.kind,
            "id": envelope.id,
            "source": envelope.source,
            "observed_at": envelope.observed_at.isoformat(),
            "received_at": envelope.received_at.isoformat(),
            "exercise": envelope.exercise,
            "data": {"deleted": True, "departed": True},
        }
    )
