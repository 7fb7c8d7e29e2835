"""Snapshots: the current state a client starts from, with the sequence numbers it continues at."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from cop.domain.users import User
from cop.store.connection import Store
from cop.store.state import StateStore, visible_in

Raw = tuple[dict[bytes, bytes], dict[bytes, bytes]]


@dataclass
class _Read:
    started: float = 0.0
    done: threading.Event = field(default_factory=threading.Event)
    result: Raw | None = None
    error: BaseException | None = None


class SharedStateReads:
    """Reads of a kind's whole state, shared by the snapshots asked for at about the same time.

    After a restart hundreds of clients ask at once; each would read the whole state hash. A
    snapshot may only use a read that *started after* its sequence numbers were read (otherwise
    it could miss a change whose delta it will skip), so a request joins the read in progress
    only if that started late enough; else it joins (or starts) the next one, which begins as
    soon as the current one ends. One read in flight and one waiting, per kind, at most.
    """

    def __init__(self, states: StateStore) -> None:
        self.states = states
        self.lock = threading.Lock()
        self.running: dict[str, _Read] = {}
        self.waiting: dict[str, _Read] = {}
        self.reads = 0

    def read(self, kind: str, asked_at: float) -> Raw:
        previous: _Read | None = None
        join: _Read | None = None
        with self.lock:
            running = self.running.get(kind)
            if running is not None and running.started >= asked_at:
                join = running
            elif kind in self.waiting:
                join = self.waiting[kind]
            else:
                mine = _Read()
                if running is None:
                    mine.started = time.monotonic()
                    self.running[kind] = mine
                else:
                    self.waiting[kind] = mine
                    previous = running
        if join is not None:
            return self._wait(join)  # outside the lock: its reader needs the lock to finish
        if previous is not None:
            previous.done.wait()
            with self.lock:
                self.waiting.pop(kind, None)
                mine.started = time.monotonic()
                self.running[kind] = mine
        try:
            mine.result = self.states.read_raw(kind)
            self.reads += 1
        except BaseException as error:
            mine.error = error
            raise
        finally:
            with self.lock:
                if self.running.get(kind) is mine:
                    del self.running[kind]
            mine.done.set()
        return mine.result

    @staticmethod
    def _wait(read: _Read) -> Raw:
        read.done.wait()
        if read.error is not None:
            raise read.error
        assert read.result is not None
        return read.result


def snapshot(store: Store, user: User, kind: str, reads: SharedStateReads | None = None) -> dict[str, Any]:
    """The user's view of one kind: every entity they may read, and each room's sequence number.

    The sequence numbers are read *before* the state, so a delta that raced the read is at
    worst applied twice (harmless: items are whole envelopes, applied monotonically).
    """
    rooms = user.data_rooms()
    pipe = store.client.pipeline(transaction=False)
    for room in rooms:
        pipe.get(store.keys.seq(kind, room))
    seqs = {room: int(value or 0) for room, value in zip(rooms, pipe.execute(), strict=True)}
    asked_at = time.monotonic()
    reads = reads or SharedStateReads(StateStore(store.client, store.keys))
    items = visible_in(*reads.read(kind, asked_at), user.can_read_province)
    # Pre-serialised like a delta's items: no parsing and re-encoding of thousands of envelopes.
    return {"kind": kind, "seqs": seqs, "items_json": (b"[" + b",".join(items) + b"]").decode()}
