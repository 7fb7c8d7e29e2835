"""XADD → hub → delta emitted: sustained entries/s and delta latency at increasing rates.

Starts its own embedded Redis and a `cop hub` process pinned to one core, writes position
envelopes at each target rate from this process (pinned to the other core), and listens on the
Socket.IO message-queue channel for the deltas the hub publishes. Latency is measured per item
from its `received_at` (set just before XADD) to the moment its delta is published and received.

    python bench/ingest.py [--rates 5000,10000,20000,30000] [--seconds 10] [--units 10000]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cop.domain import kinds  # noqa: E402,F401
from cop.domain.envelope import Envelope  # noqa: E402
from cop.geo.reference import provinces  # noqa: E402
from cop.settings import Settings  # noqa: E402
from cop.store.connection import open_store  # noqa: E402
from cop.store.embedded import EmbeddedRedis  # noqa: E402
from cop.store.streams import StreamWriter  # noqa: E402

PROVINCES = tuple(provinces())


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class DeltaListener(threading.Thread):
    """Subscribes to the message-queue channel; records per-item latency of national deltas."""

    def __init__(self, client, channel: str) -> None:
        super().__init__(daemon=True)
        self.pubsub = client.pubsub()
        self.pubsub.subscribe(channel)
        self.latencies_ms: list[float] = []
        self.items = 0
        self.deltas = 0
        self.running = True

    def run(self) -> None:
        while self.running:
            message = self.pubsub.get_message(timeout=0.2)
            if not message or message["type"] != "message":
                continue
            now = datetime.now(UTC)
            packet = orjson.loads(message["data"])
            if packet.get("event") != "delta" or not str(packet.get("room", "")).startswith("national/"):
                continue
            self.deltas += 1
            data = packet["data"]
            delta = data[0] if isinstance(data, list) else data
            for item in orjson.loads(delta["items_json"]):
                received = datetime.fromisoformat(item["received_at"].replace("Z", "+00:00"))
                self.latencies_ms.append((now - received).total_seconds() * 1000)
                self.items += 1

    def take(self) -> tuple[list[float], int, int]:
        values, items, deltas = self.latencies_ms, self.items, self.deltas
        self.latencies_ms, self.items, self.deltas = [], 0, 0
        return values, items, deltas


def make_batch(rng: random.Random, units: int, size: int) -> list[Envelope]:
    now = datetime.now(UTC)
    batch = []
    for _ in range(size):
        n = rng.randrange(units)
        batch.append(
            Envelope.build(
                kind="position",
                entity_id=f"unit-{n}",
                source="bench",
                observed_at=now,
                received_at=now,
                data={
                    "callsign": f"U{n}",
                    "discipline": "D1",
                    "unit_type": "engine",
                    "status": "en_route",
                    "lat": 50.5 + rng.random() / 2,
                    "lon": 4 + rng.random(),
                    "prov_code": PROVINCES[n % len(PROVINCES)],
                },
            )
        )
    return batch


def pending(client, stream: str) -> int:
    info = client.xinfo_groups(stream)
    if not info:
        return 0
    last = client.xinfo_stream(stream)["last-generated-id"]
    group = info[0]
    behind = 0 if group["last-delivered-id"] == last else 1
    return int(group["pending"]) + behind


def wait_drained(client, stream: str, timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if pending(client, stream) == 0:
            return time.monotonic() - start
        time.sleep(0.01)
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="5000,10000,20000,30000")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--backlog", type=int, default=200_000)
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",")]

    data_dir = Path(tempfile.mkdtemp(prefix="cop-bench-"))
    server = EmbeddedRedis(data_dir)
    server.start()
    settings = Settings(redis_url=server.url, redis_prefix="bench", data_dir=data_dir, log_level="WARNING")
    store = open_store(settings)
    writer = StreamWriter(store.client, store.keys, settings)
    stream = store.keys.stream("position")
    listener = DeltaListener(store.new_client(), store.keys.socketio_channel)
    listener.start()
    env = {
        **os.environ,
        "COP_REDIS_URL": server.url,
        "COP_REDIS_PREFIX": "bench",
        "COP_LOG_LEVEL": "WARNING",
    }
    hub = subprocess.Popen([sys.executable, "-m", "cop", "hub"], env=env)
    cores = os.cpu_count() or 1
    if cores > 1 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(hub.pid, {1})
        os.sched_setaffinity(0, {0})
    hub_ps = psutil.Process(hub.pid)
    redis_ps = psutil.Process(server.process.pid)
    rng = random.Random(1)
    time.sleep(2)

    print(f"# bench/ingest.py  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"# machine: {platform.machine()} {cores} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}, "
        f"Redis embedded (AOF everysec), hub pinned to one core"
    )
    print(
        f"# {args.units} units; each rate held {args.seconds:.0f} s; latency = received_at → "
        "delta published on the message queue (national room)"
    )
    print(
        f"{'target/s':>9} {'written/s':>10} {'applied/s':>10} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'deltas':>7} {'hub CPU':>8}"
    )
    batch_size = 250
    for rate in rates:
        listener.take()
        hub_ps.cpu_percent(None)
        written = 0
        start = time.monotonic()
        while (elapsed := time.monotonic() - start) < args.seconds:
            due = int(rate * elapsed) - written
            if due >= batch_size:
                writer.append(make_batch(rng, args.units, batch_size))
                written += batch_size
            else:
                time.sleep(0.002)
        wrote_s = time.monotonic() - start
        drain_s = wait_drained(store.client, stream, 60)
        time.sleep(0.4)  # the last flush
        cpu = hub_ps.cpu_percent(None)
        latencies, _items, deltas = listener.take()
        print(
            f"{rate:>9} {written / wrote_s:>10.0f} {written / (wrote_s + drain_s):>10.0f} "
            f"{statistics.median(latencies) if latencies else float('nan'):>8.0f} "
            f"{percentile(latencies, 0.95):>8.0f} {percentile(latencies, 0.99):>8.0f} "
            f"{deltas:>7} {cpu:>7.0f}%"
        )

    # Sustained throughput: a backlog written while the hub is paused, then drained.
    hub_ps.suspend()
    for _ in range(args.backlog // 1000):
        writer.append(make_batch(rng, args.units, 1000))
    hub_ps.cpu_percent(None)
    redis_ps.cpu_percent(None)
    start = time.monotonic()
    hub_ps.resume()
    drained = wait_drained(store.client, stream, 300)
    cpu = hub_ps.cpu_percent(None)
    redis_cpu = redis_ps.cpu_percent(None)
    print(
        f"# sustained: backlog of {args.backlog} entries drained in {drained:.2f} s = "
        f"{args.backlog / drained:,.0f} entries/s through the hub (hub CPU {cpu:.0f}% of one core, "
        f"Redis CPU {redis_cpu:.0f}%)"
    )
    hub.terminate()
    hub.wait(timeout=20)
    listener.running = False
    store.close()
    server.stop()


if __name__ == "__main__":
    main()
