"""The feed worker loop: tick, write, heartbeat; back off while Redis is away; stop in two stages."""

from __future__ import annotations

import logging
import os
import random
import socket
import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

import redis

from cop.domain.envelope import Envelope
from cop.settings import Settings
from cop.shutdown import Shutdown
from cop.store.connection import Store
from cop.store.feeds import beat
from cop.store.streams import StreamWriter

log = logging.getLogger(__name__)

REDIS_AWAY = (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError, OSError)


class Feed:
    """A feed worker. Subclasses set `name` and implement `tick()`.

    `tick()` returns the envelopes it produced; the loop writes them. While Redis is away they
    wait in a bounded outbox and are written, in order, once it is back. `simulate` is the
    simulator hook: a feed that can invent believable data does so when it is set (`cop demo`).
    """

    name: ClassVar[str] = ""
    interval_s: ClassVar[float] = 1.0
    outbox_limit: ClassVar[int] = 200_000
    in_demo: ClassVar[bool] = True  # `cop demo` runs it with simulate=True

    def __init__(
        self,
        store: Store,
        *,
        settings: Settings | None = None,
        shutdown: Shutdown | None = None,
        simulate: bool = False,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.settings = settings or store.settings
        self.shutdown = shutdown or Shutdown()
        self.simulate = simulate
        self.clock = clock
        self.writer = StreamWriter(store.client, store.keys, self.settings)
        self.outbox: deque[Envelope] = deque()
        self.dropped = 0
        self.written = 0
        self.ticks = 0
        self.errors = 0
        self.last_error: str | None = None
        self.started_at = clock()

    # -- for subclasses --------------------------------------------------------------------------

    def tick(self, now: datetime) -> Sequence[Envelope]:
        """Do one round of work; return the envelopes to write."""
        raise NotImplementedError

    def info(self) -> dict[str, Any]:
        """Extra figures for the heartbeat (counts, last error)."""
        return {}

    # -- the loop ----------------------------------------------------------------------------------

    def _queue(self, envelopes: Sequence[Envelope]) -> None:
        self.outbox.extend(envelopes)
        overflow = len(self.outbox) - self.outbox_limit
        if overflow > 0:
            for _ in range(overflow):
                self.outbox.popleft()
            self.dropped += overflow
            log.warning("feed %s: outbox full, dropped %d oldest unsent entries", self.name, overflow)

    def _flush(self) -> None:
        while self.outbox:
            batch = [self.outbox[i] for i in range(min(len(self.outbox), 5000))]
            self.writer.append(batch)
            for _ in batch:
                self.outbox.popleft()
            self.written += len(batch)

    def _tick_safely(self) -> None:
        """One tick; a failing tick is logged and counted, and the worker carries on."""
        try:
            self._queue(self.tick(self.clock()))
            self.ticks += 1
        except REDIS_AWAY:
            raise
        except Exception as error:  # one bad tick must not stop a feed on its worst day
            self.errors += 1
            self.last_error = f"{type(error).__name__}: {error}"[:500]
            log.exception("feed %s: tick failed (%d so far)", self.name, self.errors)

    def _beat(self, now: datetime) -> None:
        info = {
            "at": now.isoformat(),
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "simulate": self.simulate,
            "written": self.written,
            "outbox": len(self.outbox),
            "dropped": self.dropped,
            "errors": self.errors,
            "last_error": self.last_error,
            **self.info(),
        }
        beat(self.store.client, self.store.keys, self.name, self.settings.feed_heartbeat_s * 3, info)

    def run(self) -> int:
        """Run until the first SIGTERM, then finish the round and exit 0."""
        log.info("feed %s started (simulate=%s)", self.name, self.simulate)
        next_tick = time.monotonic()
        next_beat = time.monotonic()
        backoff = 0.5
        while not self.shutdown.requested:
            now_mono = time.monotonic()
            try:
                if now_mono >= next_tick and len(self.outbox) < self.outbox_limit:
                    next_tick = now_mono + self.interval_s
                    self._tick_safely()
                self._flush()
                if now_mono >= next_beat:
                    self._beat(self.clock())
                    next_beat = now_mono + self.settings.feed_heartbeat_s
                backoff = 0.5
            except REDIS_AWAY as error:
                delay = backoff * (1 + random.random() / 2)
                log.warning(
                    "feed %s: Redis unavailable (%s); %d entries waiting; retry in %.1f s",
                    self.name,
                    error,
                    len(self.outbox),
                    delay,
                )
                backoff = min(backoff * 2, self.settings.redis_retry_max_s)
                if self.shutdown.wait(delay):
                    break
                continue
            self.shutdown.wait(max(0.0, min(next_tick, next_beat) - time.monotonic()))
        try:
            self._flush()
        except REDIS_AWAY:
            log.warning("feed %s: %d entries not written at shutdown", self.name, len(self.outbox))
        log.info("feed %s stopped: written=%d dropped=%d", self.name, self.written, self.dropped)
        return 0


FEEDS: dict[str, type[Feed]] = {}


def register_feed(cls: type[Feed]) -> type[Feed]:
    """Class decorator: make a feed available to `cop feed NAME` and `cop demo`."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    FEEDS[cls.name] = cls
    return cls
