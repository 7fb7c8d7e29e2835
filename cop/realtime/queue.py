"""The Socket.IO message queue on Redis, listening again within seconds after Redis comes back."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import socketio


class PromptRedisManager(socketio.RedisManager):  # type: ignore[misc]
    """python-socketio's Redis manager, with its listener's wait between retries capped.

    The stock listener doubles its wait up to 60 s, so after a 30 s Redis outage a web process
    would push nothing for another half minute. Here the wait grows from 0.25 s to `retry_max_s`.
    """

    def __init__(self, *args: Any, retry_max_s: float = 2.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retry_max_s = retry_max_s

    def _redis_listen_with_retries(self) -> Iterator[dict[str, Any]]:
        retry_sleep = 0.25
        subscribed = False
        while True:
            try:
                if not subscribed:
                    self._redis_connect()
                    self.pubsub.subscribe(self.channel)
                    retry_sleep = 0.25
                yield from self.pubsub.listen()
            except Exception as exc:  # noqa: BLE001 - as the stock listener: any failure reconnects
                self._get_logger().warning(
                    "Socket.IO queue: cannot receive from Redis (%s); retrying in %.2f s", exc, retry_sleep
                )
                subscribed = False
                time.sleep(retry_sleep)
                retry_sleep = min(retry_sleep * 2, self.retry_max_s)
