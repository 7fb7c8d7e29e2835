"""Fault drills: a whole stack (own Redis, hub, web, a feed) under a steady flow, one part killed.

Shared by `tests/integration/test_fault_drills.py` (assertions) and `bench/faults.py` (figures).
The flow posts positions through the HTTP API like a real feed with an outbox: a batch that is
refused (503) or not answered is kept and sent again, so everything it sent ends up acknowledged
once the system is back. Every acknowledged item must then be in the stream, and the state must
equal the state an undisturbed run reaches from the same acknowledged items.
"""

from __future__ import annotations

import contextlib
import random
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import redis
import requests
import socketio

from cop.domain.users import Role
from cop.feeds.positions import ingest_positions
from cop.hub.deltas import delta_items
from cop.hub.worker import Hub
from cop.settings import Settings
from cop.store.connection import Store, open_store
from cop.store.embedded import EmbeddedRedis, redis_server_binary
from cop.store.streams import StreamWriter
from cop.store.users import UserStore
from tests.conftest import PASSWORD, Proc, WebServer, cop_process, free_port, login_session
from tests.integration.helpers import Recorder, drain, expected_state

DISCIPLINES = ("D1", "D2", "D3", "D4", "D5")


class Flow(threading.Thread):
    """Posts `rate` positions a second over `units` units in batches every 100 ms, in order.

    Observation times are deterministic (one millisecond apart from `start`), so the same flow
    replayed elsewhere reaches the same state. A batch that fails is retried until acknowledged.
    """

    def __init__(
        self, base_url: str, token: str, *, units: int = 100, rate: int = 200, seed: int = 5
    ) -> None:
        super().__init__(daemon=True)
        self.url = f"{base_url}/api/v1/positions"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.units, self.rate = units, rate
        rng = random.Random(seed)
        self.places = [[50.4 + rng.random() * 0.8, 3.5 + rng.random() * 2.3] for _ in range(units)]
        self.start_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
        self.sent = 0
        self.acknowledged: list[dict[str, Any]] = []
        self.refusals: Counter[str] = Counter()
        self.slowest_refusal_s = 0.0
        self.outages: list[tuple[float, float]] = []  # (first failure, next success), monotonic
        self.last_ack_at = 0.0
        self.stopping = threading.Event()

    def batch(self) -> list[dict[str, Any]]:
        items = []
        for _ in range(max(1, self.rate // 10)):
            n = self.sent
            self.sent += 1
            i = n % self.units
            place = self.places[i]
            place[0] += 0.0001
            place[1] += 0.00015
            items.append(
                {
                    "id": f"flow-{i:04d}",
                    "callsign": f"F{i}",
                    "discipline": DISCIPLINES[i % 5],
                    "unit_type": "ambulance",
                    "status": ("en_route", "on_scene", "available")[n % 3],
                    "lat": round(place[0], 6),
                    "lon": round(place[1], 6),
                    "observed_at": (self.start_at + timedelta(milliseconds=n)).isoformat(),
                }
            )
        return items

    def deliver(self, items: list[dict[str, Any]]) -> None:
        """Send until acknowledged (or the drill ends); note every refusal and how long it took."""
        failed_since: float | None = None
        while True:
            started = time.monotonic()
            try:
                response = self.session.post(self.url, json=items, timeout=15)
                outcome = str(response.status_code)
            except requests.RequestException as error:
                outcome = type(error).__name__
                response = None
            if response is not None and response.status_code == 200:
                assert response.json()["accepted"] == len(items), response.text
                self.acknowledged.extend(items)
                self.last_ack_at = time.monotonic()
                if failed_since is not None:
                    self.outages.append((failed_since, self.last_ack_at))
                return
            self.refusals[outcome] += 1
            self.slowest_refusal_s = max(self.slowest_refusal_s, time.monotonic() - started)
            if failed_since is None:
                failed_since = started
            if self.stopping.wait(0.2) and time.monotonic() - failed_since > 60:
                return

    def run(self) -> None:
        began = time.monotonic()
        ticks = 0
        while not self.stopping.is_set():
            self.deliver(self.batch())
            ticks += 1
            delay = began + ticks * 0.1 - time.monotonic()
            if delay > 0:
                self.stopping.wait(delay)
            else:  # behind after an outage: carry on at the steady rate from now
                began, ticks = time.monotonic(), 0

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=90)

    def acknowledged_after(self, moment: float) -> float | None:
        """Monotonic time of the first acknowledgement after `moment`."""
        ends = [end for _start, end in self.outages if end >= moment]
        return min(ends) if ends else None


class Watcher:
    """A logged-in Socket.IO client on the national room: when deltas arrive, and their latency."""

    def __init__(self, base_url: str, username: str) -> None:
        self.session = login_session(base_url, username)
        self.client = socketio.Client(reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1)
        self.delta_times: list[float] = []
        self.connects = 0
        self.client.on("connect", self._on_connect, namespace="/live")
        self.client.on("delta", self._on_delta, namespace="/live")
        cookie = "; ".join(f"{k}={v}" for k, v in self.session.cookies.items())
        self.headers = {"Cookie": cookie, "User-Agent": self.session.headers["User-Agent"]}
        self.client.connect(
            base_url, namespaces=["/live"], transports=["websocket"], headers=self.headers, wait_timeout=10
        )

    def _on_connect(self) -> None:
        self.connects += 1
        # A handler must not wait for a reply on the connection it runs on: subscribe beside it.
        self.client.start_background_task(self._subscribe)

    def _subscribe(self) -> None:
        with contextlib.suppress(socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError):
            self.client.call("subscribe", {"kinds": ["position"]}, namespace="/live", timeout=10)

    def _on_delta(self, data: dict[str, Any]) -> None:
        if data.get("kind") == "position" and any(i["id"].startswith("flow-") for i in delta_items(data)):
            self.delta_times.append(time.monotonic())

    def first_delta_after(self, moment: float) -> float | None:
        later = [t for t in self.delta_times if t >= moment]
        return min(later) if later else None

    def close(self) -> None:
        self.client.disconnect()


def projection(store: Store, prefix_ids: str = "flow-") -> dict[str, tuple[str, float, float, str]]:
    """The part of the position state a flow decides: per unit, time, place and status."""
    result = {}
    for key, raw in store.client.hgetall(store.keys.state("position")).items():
        if not key.startswith(prefix_ids.encode()):
            continue
        doc = orjson.loads(raw)
        data = doc["data"]
        result[key.decode()] = (doc["observed_at"], data["lat"], data["lon"], data["status"])
    return result


def undisturbed_state(redis_url: str, data_dir: Path, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Replay acknowledged items through ingest and a hub with no fault, under a fresh prefix."""
    settings = Settings(redis_url=redis_url, redis_prefix=f"calm{time.monotonic_ns()}", data_dir=data_dir)
    store = open_store(settings)
    try:
        writer = StreamWriter(store.client, store.keys, settings)
        for start in range(0, len(items), 2000):
            result = ingest_positions(
                writer,
                items[start : start + 2000],
                source="replay",
                now=datetime.now(UTC),
                max_skew=timedelta(seconds=settings.max_clock_skew_s),
            )
            assert not result.rejected, result.rejected[:3]
        drain(Hub(store, Recorder(), consumer="calm"), timeout=120)
        return projection(store)
    finally:
        for key in store.client.scan_iter(match=f"{settings.redis_prefix}:*", count=1000):
            store.client.delete(key)
        store.close()


def stream_observations(store: Store) -> set[tuple[str, datetime]]:
    seen = set()
    for _sid, fields in store.client.xrange(store.keys.stream("position")):
        doc = orjson.loads(fields[b"e"])
        seen.add((doc["id"], datetime.fromisoformat(doc["observed_at"])))
    return seen


def wait_drained(store: Store, timeout: float = 90) -> bool:
    """True once the hub has read every position entry and acknowledged it."""
    stream = store.keys.stream("position")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            last = store.client.xinfo_stream(stream)["last-generated-id"]
            group = next(g for g in store.client.xinfo_groups(stream) if g["name"] == b"hub")
            if group["pending"] == 0 and group["last-delivered-id"] == last:
                return True
        except (StopIteration, OSError, Exception):  # noqa: BLE001 - Redis may still be coming back
            pass
        time.sleep(0.2)
    return False


@dataclass
class Stack:
    """Own embedded Redis, `cop hub`, `cop web` and the simulated positions feed."""

    settings: Settings
    workdir: Path
    redis: EmbeddedRedis | None
    store: Store
    web: WebServer
    hub: Proc
    feed: Proc
    token: str
    extra: list[Proc] = field(default_factory=list)

    @classmethod
    def start(
        cls,
        workdir: Path,
        *,
        feed_units: int = 300,
        redis: EmbeddedRedis | None = None,
        redis_url: str | None = None,
        log_level: str = "INFO",
    ) -> Stack:
        if redis_url is None:
            redis = redis or EmbeddedRedis(workdir / "redis")
            redis_url = redis.start()
        settings = Settings(
            redis_url=redis_url,
            redis_prefix="drill",
            data_dir=workdir,
            hub_claim_idle_ms=1000,
            log_level=log_level,
        )
        store = open_store(settings)
        users = UserStore(store.client, store.keys)
        users.add("watch", PASSWORD, Role.ADMIN, replace=True)
        token = users.add_token("drill-flow")
        hub = cop_process(settings, workdir, "hub", "hub", COP_LOG_LEVEL=log_level).start()
        feed = cop_process(
            settings,
            workdir,
            "feed",
            "feed",
            "positions",
            "--simulate",
            COP_SIM_UNITS=str(feed_units),
            COP_FEED_HEARTBEAT_S="1",
            COP_LOG_LEVEL=log_level,
        ).start()
        port = free_port()
        web = WebServer(
            cop_process(
                settings,
                workdir,
                "web",
                "web",
                "--port",
                str(port),
                COP_ASYNC_MODE="gevent",
                COP_LOG_LEVEL=log_level,
            ),
            port,
        ).start()
        return cls(settings, workdir, redis, store, web, hub, feed, token)

    def victims(self) -> dict[str, tuple[Callable[[], Any], Callable[[], Any]]]:
        """Each part a drill can SIGKILL, with how to kill it and how to bring it back."""
        parts: dict[str, tuple[Callable[[], Any], Callable[[], Any]]] = {
            "hub": (self.hub.kill, self.hub.start),
            "feed": (self.feed.kill, self.feed.start),
            "web": (self.web.proc.kill, self.web.start),
        }
        if self.redis is not None:
            parts["redis"] = (self.redis.kill, self.redis.start)
        return parts

    def stop(self) -> None:
        for proc in (self.feed, self.hub, *self.extra):
            proc.stop()
        self.web.stop()
        self.store.client.close()
        if self.redis is not None:
            self.redis.stop()


@dataclass
class DrillResult:
    victim: str
    acknowledged: int
    missing: int  # acknowledged items not in the stream
    differing: int  # units whose state differs from the undisturbed run
    state_matches_stream: bool
    dead_letters: int
    refusals: dict[str, int]
    slowest_refusal_s: float
    ingest_resumed_s: float | None  # restart → first acknowledgement after it (None: never interrupted)
    push_resumed_s: float | None  # restart → first delta after it
    outage_s: float
    seen_during: Any = None

    def line(self) -> str:
        resumed = "-" if self.ingest_resumed_s is None else f"{self.ingest_resumed_s:.1f} s"
        push = "-" if self.push_resumed_s is None else f"{self.push_resumed_s:.1f} s"
        return (
            f"{self.victim:<6} down {self.outage_s:4.0f} s  acknowledged {self.acknowledged:>6,}  "
            f"missing {self.missing}  state≠undisturbed {self.differing}  "
            f"state=stream {self.state_matches_stream}  DLQ {self.dead_letters}  "
            f"after the restart: ingest back {resumed}, push back {push}  "
            f"refusals {dict(self.refusals)} (slowest {self.slowest_refusal_s:.2f} s)"
        )


def run_drill(
    stack: Stack,
    victim: str,
    *,
    outage_s: float,
    steady_s: float = 3.0,
    rate: int = 200,
    during: Callable[[], Any] | None = None,
    actions: tuple[Callable[[], Any], Callable[[], Any]] | None = None,
) -> DrillResult:
    """Flow steadily, SIGKILL `victim`, keep it down `outage_s`, restart it, flow on, compare.

    `during` runs while the victim is down (after the outage began); its answer is kept.
    `actions` (kill, restore) replace the stack's own for victims it does not know.
    """
    watcher = Watcher(stack.web.url, "watch")
    flow = Flow(stack.web.url, stack.token, rate=rate)
    flow.start()
    try:
        time.sleep(steady_s)
        kill, restore = stack.victims()[victim] if actions is None else actions
        killed_at = time.monotonic()
        kill()
        seen_during = during() if during else None
        time.sleep(max(0.0, killed_at + outage_s - time.monotonic()))
        restarted_at = time.monotonic()
        restore()
        time.sleep(steady_s + 2)
    finally:
        flow.stop()
    drained = wait_drained(stack.store)
    watcher.close()
    assert drained, stack.hub.output()[-3000:]
    acknowledged = {(i["id"], datetime.fromisoformat(i["observed_at"])) for i in flow.acknowledged}
    # Acknowledged ids are unique per (unit, time); a retried batch is acknowledged once.
    missing = len(acknowledged - stream_observations(stack.store))
    calm = undisturbed_state(stack.settings.redis_url or "", stack.workdir, flow.acknowledged)
    mine = projection(stack.store)
    differing = sum(1 for k in calm.keys() | mine.keys() if calm.get(k) != mine.get(k))
    state = {k.decode(): v for k, v in stack.store.client.hgetall(stack.store.keys.state("position")).items()}
    resumed = flow.acknowledged_after(killed_at)
    push = watcher.first_delta_after(restarted_at)
    return DrillResult(
        victim=victim,
        acknowledged=len(flow.acknowledged),
        missing=missing,
        differing=differing,
        state_matches_stream=state == expected_state(stack.store, "position"),
        dead_letters=int(stack.store.client.xlen(stack.store.keys.dlq("position"))),
        refusals=dict(flow.refusals),
        slowest_refusal_s=flow.slowest_refusal_s,
        ingest_resumed_s=None if resumed is None else max(0.0, resumed - restarted_at),
        push_resumed_s=None if push is None else push - restarted_at,
        outage_s=outage_s,
        seen_during=seen_during,
    )


class SentinelCluster:
    """A Redis primary, one replica and three Sentinels, all local processes from the embedded binary."""

    SERVICE = "cop"

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.ports = {"a": free_port(), "b": free_port()}
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)
        return f"redis+sentinel://{hosts}/0/{self.SERVICE}"

    def _spawn(self, name: str, lines: list[str], *extra: str) -> None:
        folder = self.workdir / name
        folder.mkdir(parents=True, exist_ok=True)
        config = folder / "redis.conf"
        if not config.exists():  # a Sentinel rewrites its own config: keep it across restarts
            config.write_text("\n".join([f'dir "{folder}"', f'logfile "{folder}/log"', *lines]) + "\n")
        self.processes[name] = subprocess.Popen(
            [str(redis_server_binary()), str(config), *extra],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def start_server(self, name: str, replica_of: str | None = None) -> None:
        lines = [
            f"port {self.ports[name]}",
            "bind 127.0.0.1",
            "appendonly yes",
            "appendfsync everysec",
            'save ""',
        ]
        if replica_of:
            lines.append(f"replicaof 127.0.0.1 {self.ports[replica_of]}")
        self._spawn(name, lines)

    def start(self) -> SentinelCluster:
        self.start_server("a")
        self.start_server("b", replica_of="a")
        for i, port in enumerate(self.sentinel_ports):
            self._spawn(
                f"sentinel{i}",
                [
                    f"port {port}",
                    "bind 127.0.0.1",
                    f"sentinel monitor {self.SERVICE} 127.0.0.1 {self.ports['a']} 2",
                    f"sentinel down-after-milliseconds {self.SERVICE} 1000",
                    f"sentinel failover-timeout {self.SERVICE} 5000",
                    f"sentinel parallel-syncs {self.SERVICE} 1",
                ],
                "--sentinel",
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.replicas_in_sync() and self.sentinels_agree():
                return self
            time.sleep(0.2)
        raise TimeoutError("the Sentinel cluster did not come up")

    def client(self, name: str) -> redis.Redis:
        return redis.Redis(port=self.ports[name], socket_timeout=2)

    def replicas_in_sync(self) -> bool:
        try:
            info = self.client("b").info("replication")
        except redis.RedisError:
            return False
        return info.get("master_link_status") == "up"

    def sentinels_agree(self) -> bool:
        for port in self.sentinel_ports:
            try:
                sentinel = redis.Redis(port=port, socket_timeout=2)
                masters = sentinel.sentinel_masters()
                info = masters.get(self.SERVICE)
                if not info or info.get("num-other-sentinels", 0) < 2 or info.get("num-slaves", 0) < 1:
                    return False
            except redis.RedisError:
                return False
        return True

    def primary(self) -> str:
        sentinel = redis.Redis(port=self.sentinel_ports[0], socket_timeout=2)
        _host, port = sentinel.sentinel_get_master_addr_by_name(self.SERVICE)
        return next(name for name, p in self.ports.items() if p == int(port))

    def kill(self, name: str) -> None:
        process = self.processes.pop(name)
        process.kill()
        process.wait()

    def stop(self) -> None:
        for process in self.processes.values():
            process.kill()
            process.wait()
        self.processes = {}
