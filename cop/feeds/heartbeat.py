"""The heartbeat feed: writes no data, only proves the feed path (heartbeat key, backoff, stop)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from cop.domain.envelope import Envelope
from cop.feeds.base import Feed, register_feed


@register_feed
class HeartbeatFeed(Feed):
    name: ClassVar[str] = "heartbeat"
    interval_s: ClassVar[float] = 5.0

    def tick(self, now: datetime) -> Sequence[Envelope]:
        return []
