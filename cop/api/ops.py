"""Operations: liveness (`/healthz`), readiness (`/readyz`) and Prometheus metrics (`/metrics`).

Figures that live in Redis (stream lengths, hub status and lag, dead letters, feed heartbeats)
are read on every scrape, so any web process reports the whole system; per-process figures
(connected Socket.IO clients, API items accepted and rejected) are counted here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import redis
from flask import Blueprint, Response
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from cop.auth import api_auth
from cop.settings import STREAM_KINDS
from cop.store.connection import Store
from cop.store.feeds import feed_health
from cop.store.users import UserStore

HUB_SILENT_AFTER_S = 10.0
HUB_LAG_LIMIT_S = 30.0  # readiness: the hub reads entries at most this far behind the newest

# Per-process figures, shared by the API and the Socket.IO handlers of this process.
REGISTRY = CollectorRegistry(auto_describe=True)
API_ITEMS = Counter(
    "cop_api_items", "Items received by the ingest API", ["endpoint", "outcome"], registry=REGISTRY
)
SOCKET_CLIENTS = Gauge(
    "cop_socket_clients", "Socket.IO clients connected to this web process", registry=REGISTRY
)


def stream_ms(stream_id: bytes | str) -> int:
    text = stream_id.decode() if isinstance(stream_id, bytes) else stream_id
    return int(text.split("-", 1)[0])


def hub_lag(store: Store, group: str = "hub") -> dict[str, float]:
    """Per kind, how far the hub's reading is behind the newest entry, in seconds: the time part
    of the stream's last id minus that of the last id delivered to the hub (0 when caught up)."""
    lags: dict[str, float] = {}
    for kind in STREAM_KINDS:
        stream = store.keys.stream(kind)
        try:
            last = store.client.xinfo_stream(stream)["last-generated-id"]
            groups = store.client.xinfo_groups(stream)
        except redis.ResponseError:  # no such stream yet
            continue
        names = (group, group.encode())
        delivered = next((g["last-delivered-id"] for g in groups if g["name"] in names), None)
        if delivered is None:
            continue
        lags[kind] = max(0, stream_ms(last) - stream_ms(delivered)) / 1000
    return lags


def hub_status(store: Store) -> dict[str, Any] | None:
    raw = store.client.hget(store.keys.hub_stats, "status")
    return orjson.loads(raw) if raw else None


class StoreCollector(Collector):
    """Reads the system's figures from Redis at scrape time."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Any:
        now = datetime.now(UTC)
        client, keys = self.store.client, self.store.keys
        pipe = client.pipeline(transaction=False)
        for kind in STREAM_KINDS:
            pipe.xlen(keys.stream(kind))
            pipe.xlen(keys.dlq(kind))
            pipe.hlen(keys.state(kind))
        values = pipe.execute()
        streams = GaugeMetricFamily(
            "cop_stream_entries", "Entries in each stream (trimmed ~MAXLEN)", labels=["kind"]
        )
        dlq = GaugeMetricFamily("cop_dlq_entries", "Entries in each dead-letter stream", labels=["kind"])
        state = GaugeMetricFamily("cop_state_entities", "Entities in each state hash", labels=["kind"])
        for i, kind in enumerate(STREAM_KINDS):
            streams.add_metric([kind], values[3 * i])
            dlq.add_metric([kind], values[3 * i + 1])
            state.add_metric([kind], values[3 * i + 2])
        yield from (streams, dlq, state)
        status = hub_status(self.store)
        pending = GaugeMetricFamily(
            "cop_hub_pending", "Entries delivered to the hub, not yet acknowledged", labels=["kind"]
        )
        age = GaugeMetricFamily("cop_hub_status_age_seconds", "Seconds since the hub last reported")
        applied = GaugeMetricFamily("cop_hub_applied", "Entries the reporting hub applied since it started")
        latency = GaugeMetricFamily(
            "cop_delta_latency_seconds",
            "Ingest (received_at) to delta emitted by the hub, over its last 600 flushes",
            labels=["quantile"],
        )
        if status:
            figures = status.get("delta_latency_s", {})
            for label, name in (("0.5", "p50"), ("0.95", "p95"), ("1", "max")):
                if name in figures:
                    latency.add_metric([label], figures[name])
            for kind, count in status.get("pending", {}).items():
                pending.add_metric([kind], count)
            age.add_metric([], (now - datetime.fromisoformat(status["hub_at"])).total_seconds())
            applied.add_metric([], status.get("applied", 0))
        lag = GaugeMetricFamily(
            "cop_hub_lag_seconds",
            "How far the hub's reading is behind the newest entry of each stream",
            labels=["kind"],
        )
        for kind, seconds in hub_lag(self.store).items():
            lag.add_metric([kind], seconds)
        yield from (pending, age, applied, latency, lag)
        feeds = feed_health(client, keys, now, self.store.settings.feed_stale_after_s)
        up = GaugeMetricFamily("cop_feed_up", "1 if the feed's heartbeat is fresh", labels=["feed"])
        beat = GaugeMetricFamily(
            "cop_feed_heartbeat_age_seconds", "Age of the feed's last heartbeat", labels=["feed"]
        )
        for name, info in feeds.items():
            up.add_metric([name], 1.0 if info["state"] == "ok" else 0.0)
            if info.get("age_s") is not None:
                beat.add_metric([name], info["age_s"])
        yield from (up, beat)


def create_ops(store: Store, users: UserStore) -> Blueprint:
    """`/readyz` is public (it says only ok / silent / stale); `/metrics` needs a token or a session."""
    ops = Blueprint("ops", __name__)
    authenticated = api_auth(users)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(store))

    @ops.get("/readyz")
    def readyz() -> Response:
        """Ready to serve: Redis answers, a hub reported recently, and how the feeds are."""
        checks: dict[str, Any] = {}
        try:
            store.client.ping()
            checks["redis"] = "ok"
        except (redis.ConnectionError, redis.TimeoutError, OSError) as error:
            checks["redis"] = f"unreachable: {type(error).__name__}"
            return Response(
                orjson.dumps({"status": "unavailable", "checks": checks}), 503, mimetype="application/json"
            )
        now = datetime.now(UTC)
        status = hub_status(store)
        hub_age = (now - datetime.fromisoformat(status["hub_at"])).total_seconds() if status else None
        lag = hub_lag(store)
        state = "ok" if hub_age is not None and hub_age <= HUB_SILENT_AFTER_S else "silent"
        if state == "ok" and max(lag.values(), default=0.0) > HUB_LAG_LIMIT_S:
            state = "lagging"
        checks["hub"] = {
            "state": state,
            "age_s": None if hub_age is None else round(hub_age, 1),
            "pending": (status or {}).get("pending", {}),
            "lag_s": lag,
        }
        feeds = feed_health(store.client, store.keys, now, store.settings.feed_stale_after_s)
        checks["feeds"] = {name: info["state"] for name, info in feeds.items()}
        ready = checks["hub"]["state"] == "ok"
        body = {"status": "ready" if ready else "degraded", "checks": checks}
        return Response(orjson.dumps(body), 200 if ready else 503, mimetype="application/json")

    @ops.get("/metrics")
    @authenticated
    def metrics() -> Response:
        body = generate_latest(registry) + generate_latest(REGISTRY)
        return Response(body, mimetype="text/plain; version=0.0.4")

    return ops
