"""The current state per entity (`{p}:state:{kind}`), applied atomically and monotonically."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import redis

from cop.domain.envelope import Envelope, StoredEnvelope
from cop.store.keys import Keys, as_bytes, as_text

# Applies a batch of entries to the state hash and acknowledges them in one atomic step, so an
# entry is either applied *and* acknowledged, or neither: a hub killed at any instant leaves
# nothing half done. An entry replaces the stored one only if its order key (observed time,
# then stream id) is greater: feeds arrive out of order, and a re-applied entry is a no-op.
# The order hash also remembers each entity's province ("orderkey|prov"), so that a change that
# moves an entity to another province reports where it was. Returns the 0-based positions of the
# entries that changed the state, and each one's previous province ('' if none).
APPLY_AND_ACK = """
local state, order, stream = KEYS[1], KEYS[2], KEYS[3]
local group = ARGV[1]
local n = tonumber(ARGV[2])
local changed = {}
local previous = {}
local ids = {}
for i = 0, n - 1 do
  local b = 3 + i * 5
  local sid, eid, okey, doc, prov = ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4]
  ids[#ids + 1] = sid
  local cur = redis.call('HGET', order, eid)
  if (not cur) or string.sub(cur, 1, #okey) < okey then
    redis.call('HSET', state, eid, doc)
    redis.call('HSET', order, eid, okey .. '|' .. prov)
    changed[#changed + 1] = i
    previous[#previous + 1] = cur and string.sub(cur, #okey + 2) or ''
  end
  if #ids == 500 then
    redis.call('XACK', stream, group, unpack(ids))
    ids = {}
  end
end
if #ids > 0 then
  redis.call('XACK', stream, group, unpack(ids))
end
return {changed, previous}
"""


def order_key(observed_us: int, stream_id: str) -> str:
    """Lexicographically sortable (observed time, stream id): the monotonic order of entries."""
    ms, _, seq = stream_id.partition("-")
    return f"{observed_us:017d}:{ms:0>13}-{seq or '0':0>10}"


@dataclass(frozen=True, slots=True)
class Applicable:
    stream_id: str
    envelope: StoredEnvelope
    raw: bytes


class StateStore:
    """Reads and (through the hub) writes the latest envelope per entity."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.client = client
        self.keys = keys
        self._apply = client.register_script(APPLY_AND_ACK)

    def apply_and_ack(
        self, kind: str, group: str, entries: Sequence[Applicable]
    ) -> list[tuple[int, str | None]]:
        """Apply entries of one kind and XACK them atomically.

        Returns (position, previous province) of each entry that changed the state.
        """
        if not entries:
            return []
        args: list[str | bytes | int] = [group, len(entries)]
        for entry in entries:
            args += [
                entry.stream_id,
                entry.envelope.id,
                order_key(entry.envelope.observed_us, entry.stream_id),
                entry.raw,
                entry.envelope.prov_code or "",
            ]
        keys = [self.keys.state(kind), self.keys.state_order(kind), self.keys.stream(kind)]
        changed, previous = self._apply(keys=keys, args=args)
        return [(int(i), as_text(prov) or None) for i, prov in zip(changed, previous, strict=True)]

    def get(self, kind: str, entity_id: str) -> Envelope | None:
        raw = self.client.hget(self.keys.state(kind), entity_id)
        return Envelope.from_json(raw) if raw is not None else None

    def all_raw(self, kind: str) -> dict[str, bytes]:
        rows = self.client.hgetall(self.keys.state(kind))
        return {as_text(k): as_bytes(v) for k, v in rows.items()}

    def all(self, kind: str) -> dict[str, Envelope]:
        return {eid: Envelope.from_json(raw) for eid, raw in self.all_raw(kind).items()}

    def count(self, kind: str) -> int:
        return int(self.client.hlen(self.keys.state(kind)))

    def read_raw(self, kind: str) -> tuple[dict[bytes, bytes], dict[bytes, bytes]]:
        """The whole state of a kind as stored, with its order hash (each entity's province)."""
        pipe = self.client.pipeline(transaction=False)
        pipe.hgetall(self.keys.state(kind))
        pipe.hgetall(self.keys.state_order(kind))
        state, order = pipe.execute()
        return state, order

    def visible_raw(self, kind: str, can_read: Callable[[str | None], bool]) -> list[bytes]:
        """Like `visible()`, as the stored JSON (see `visible_in`)."""
        return visible_in(*self.read_raw(kind), can_read)

    def visible(self, kind: str, can_read: Callable[[str | None], bool]) -> list[dict[str, Any]]:
        """Every stored envelope (as a dict) whose province the reader may see."""
        return [orjson.loads(raw) for raw in self.visible_raw(kind, can_read)]


def visible_in(
    state: dict[bytes, bytes], order: dict[bytes, bytes], can_read: Callable[[str | None], bool]
) -> list[bytes]:
    """The stored envelopes a reader may see, mostly without parsing them (snapshots for hundreds
    of clients at once): the order hash says each entity's province; only an envelope that lists
    several provinces (`prov_codes`) or has no order entry is parsed."""
    kept = []
    for entity_id, raw in state.items():
        mark = order.get(entity_id)
        if mark is not None and can_read(mark.rpartition(b"|")[2].decode() or None):
            kept.append(raw)
        elif mark is None or b"prov_codes" in raw:
            data = orjson.loads(raw)["data"]
            if can_read(data.get("prov_code")) or any(can_read(p) for p in data.get("prov_codes") or ()):
                kept.append(raw)
    return kept
