"""Writing envelopes to `{p}:stream:{kind}` (XADD, MAXLEN ~) and reading them back as models."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import redis

from cop.domain import kinds as _kinds  # noqa: F401  (registers every payload model)
from cop.domain.envelope import Envelope, StoredEnvelope
from cop.settings import Settings
from cop.store.audit import audit
from cop.store.keys import Keys, as_text

ENVELOPE_FIELD = b"e"


@dataclass(frozen=True, slots=True)
class StreamEntry:
    """One stream entry as read: its id and the raw envelope JSON (parsed lazily)."""

    stream_id: str
    raw: bytes

    def envelope(self) -> Envelope:
        """The entry with its payload validated by its kind's model."""
        return Envelope.from_json(self.raw)

    def stored(self) -> StoredEnvelope:
        """The entry's envelope fields only (the hub's fast path)."""
        return StoredEnvelope.from_json(self.raw)


def entry_from_fields(stream_id: bytes | str, fields: Mapping[Any, Any]) -> StreamEntry:
    sid = stream_id.decode() if isinstance(stream_id, bytes) else stream_id
    return StreamEntry(sid, fields.get(ENVELOPE_FIELD, b""))


class StreamWriter:
    """Appends validated envelopes; one round trip per batch; trims each stream approximately."""

    def __init__(self, client: redis.Redis, keys: Keys, settings: Settings) -> None:
        self.client = client
        self.keys = keys
        self.maxlen = settings.stream_maxlen

    def append(self, envelopes: Sequence[Envelope]) -> list[str]:
        """XADD every envelope; returns the stream ids, in order. Acknowledged once this returns."""
        if not envelopes:
            return []
        pipe = self.client.pipeline(transaction=False)
        for envelope in envelopes:
            pipe.xadd(
                self.keys.stream(envelope.kind),
                {ENVELOPE_FIELD: envelope.to_json()},
                maxlen=self.maxlen[envelope.kind],
                approximate=True,
            )
        return [as_text(sid) for sid in pipe.execute()]

    def append_audited(
        self,
        envelope: Envelope,
        *,
        actor: str,
        action: str,
        origin: str = "",
        detail: dict[str, Any] | None = None,
    ) -> str:
        """XADD a change a person or system made, then its audit record (naming the stream id)."""
        (stream_id,) = self.append([envelope])
        audit(
            self.client,
            self.keys,
            actor=actor,
            action=action,
            target=envelope.id,
            origin=origin,
            detail={"stream_id": stream_id, **(detail or {})},
        )
        return stream_id

    def append_raw(self, kind: str, raw: bytes) -> str:
        """XADD bytes without validation. Only for fault drills that need a poison entry."""
        return as_text(self.client.xadd(self.keys.stream(kind), {ENVELOPE_FIELD: raw}))


class StreamReader:
    """Reads a stream's history back into envelopes."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.client = client
        self.keys = keys

    def range(
        self, kind: str, start: str = "-", end: str = "+", count: int | None = None
    ) -> list[StreamEntry]:
        rows = self.client.xrange(self.keys.stream(kind), start, end, count=count) or []
        return [entry_from_fields(as_text(sid), fields or {}) for sid, fields in rows]

    def envelopes(self, kind: str, start: str = "-", end: str = "+") -> Iterable[Envelope]:
        """Every envelope of a stream, paged so a long stream never loads at once."""
        cursor = start
        while True:
            page = self.range(kind, cursor, end, count=1000)
            for entry in page:
                yield entry.envelope()
            if len(page) < 1000:
                return
            cursor = "(" + page[-1].stream_id

    def length(self, kind: str) -> int:
        return int(self.client.xlen(self.keys.stream(kind)))


def stream_history(
    store: Any,
    kind: str,
    *,
    since: datetime,
    can_read: Callable[[str | None], bool] = lambda _p: True,
    keep: Callable[[dict[str, Any]], bool] = lambda _e: True,
    limit: int = 5000,
    scan: int = 20_000,
) -> list[dict[str, Any]]:
    """Envelopes (as dicts) received since `since`, within the reader's scope and passing `keep`,
    oldest first: the newest `limit` of at most `scan` entries read back."""
    start_ms = int(since.timestamp() * 1000)
    rows = store.client.xrevrange(store.keys.stream(kind), "+", f"{start_ms}-0", count=scan)
    found: list[dict[str, Any]] = []
    for _sid, fields in rows or []:
        envelope = orjson.loads((fields or {})[ENVELOPE_FIELD])
        data = envelope["data"]
        readable = can_read(data.get("prov_code")) or any(can_read(p) for p in data.get("prov_codes") or ())
        if readable and keep(envelope):
            found.append(envelope)
            if len(found) >= limit:
                break
    found.reverse()
    return found
