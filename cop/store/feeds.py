"""Feed heartbeats: `{p}:feed:{name}:health`, a string with a TTL, and reading them back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import redis

from cop.store.keys import Keys, as_text


def beat(client: redis.Redis, keys: Keys, name: str, ttl_s: float, info: dict[str, Any]) -> None:
    """Record that feed `name` is alive; the key expires if the feed stops beating."""
    pipe = client.pipeline(transaction=False)
    pipe.set(keys.feed_health(name), orjson.dumps(info), px=max(int(ttl_s * 1000), 1000))
    pipe.sadd(keys.feeds, name)
    pipe.execute()


def feed_health(
    client: redis.Redis, keys: Keys, now: datetime, stale_after_s: float
) -> dict[str, dict[str, Any]]:
    """Every feed ever seen: its last beat and age, `stale` when old, `down` when its key expired."""
    names = sorted(as_text(name) for name in client.smembers(keys.feeds))
    if not names:
        return {}
    values = client.mget([keys.feed_health(name) for name in names])
    feeds: dict[str, dict[str, Any]] = {}
    for name, raw in zip(names, values, strict=True):
        if raw is None:
            feeds[name] = {"state": "down", "stale": True, "age_s": None}
            continue
        info = orjson.loads(raw)
        age = (now - datetime.fromisoformat(info["at"])).total_seconds()
        stale = age > stale_after_s
        feeds[name] = {
            **info,
            "age_s": round(age, 1),
            "stale": stale,
            "state": "stale" if stale else "ok",
        }
    return feeds
