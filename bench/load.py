"""Load: 300 Socket.IO clients over the provinces and a headless wall while 2,000 positions/s flow.

    python bench/load.py                    # 60 s of load, then a reconnect storm
    python bench/load.py --soak 1800        # and a 30-minute soak: memory sampled every minute

Starts its own stack (embedded Redis, `cop hub`, one `cop web` process), logs in 30 national
analysts and 270 provincial coordinators (the 11 provinces in turn) as python-socketio clients
spread over three client processes, opens the video wall in Debian's Chromium, and posts 2,000
position updates a second over 5,000 units spread over Belgium.

Prints per client group the delivery latency (the web's `received_at` stamp → the client
holding the delta) p50/p95/p99, the deltas lost (sequence gaps) and the units whose final position
a client does not hold; the wall's latency (received_at → marker drawn); web and hub CPU and RSS.
Then a reconnect storm: the web process is SIGKILLed and restarted and the time until all 300
clients are connected again and resynchronised (snapshot received) is printed. Targets on this
machine: p95 ≤ 1 s, nothing lost, storm recovered ≤ 15 s; soak growth ≤ 5 %.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import multiprocessing as mp
import re
import sys
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import logged_in_page, machine  # noqa: E402
from bench.map_latency import Driver  # noqa: E402
from cop.domain.users import Role  # noqa: E402
from cop.geo.reference import provinces  # noqa: E402
from cop.store.users import UserStore  # noqa: E402
from tests.conftest import PASSWORD, chromium_path, login_session  # noqa: E402
from tests.integration.drill import Stack  # noqa: E402

MAX_MS = 60_000  # latency histogram range (1 ms buckets)
CLIENTS = 300
NATIONAL = 30
WORKERS = 3


RECEIVED = re.compile(r'"received_at":"([^"]+)"')


class SteadyDriver(Driver):
    """The map bench's driver, posting each 100 ms batch without waiting for the previous answer
    (up to four in flight), so a slow answer does not lower the offered rate."""

    def run(self) -> None:
        per_tick = max(1, self.rate // 10)
        lock = threading.Lock()

        def post(items: list[dict[str, object]]) -> None:
            started = time.perf_counter()
            response = sessions.get().post(self.url, json=items, timeout=30)
            with lock:
                self.post_ms.append((time.perf_counter() - started) * 1000)
                if response.ok:
                    self.accepted += response.json()["accepted"]
                self.sent += len(items)

        sessions = ThreadSessions(self.session.headers)
        with ThreadPoolExecutor(max_workers=4) as pool:
            start = time.monotonic()
            ticks = 0
            while time.monotonic() - start < self.seconds:
                pool.submit(post, self.batch(per_tick))
                ticks += 1
                time.sleep(max(0.0, start + ticks * 0.1 - time.monotonic()))


class ThreadSessions(threading.local):
    """One requests session per posting thread."""

    def __init__(self, headers: Any) -> None:
        self.headers = dict(headers)
        self.session: requests.Session | None = None

    def get(self) -> requests.Session:
        if self.session is None:
            self.session = requests.Session()
            self.session.headers.update(self.headers)
        return self.session


class Viewer:
    """One Socket.IO client: subscribes to positions, measures every item's delivery latency.

    An auditor also keeps the newest observation per unit it holds, to count at the end the units
    whose final position it lacks (one auditor per group keeps the client processes light).
    """

    def __init__(
        self, base: str, headers: dict[str, str], group: str, histogram: np.ndarray, auditor: bool
    ) -> None:
        import aiohttp
        import socketio

        from cop.realtime.codec import OrjsonCodec

        self.base, self.headers, self.group = base, headers, group
        self.histogram = histogram
        self.auditor = auditor
        self.client = socketio.AsyncClient(
            reconnection=True,
            reconnection_delay=0.5,
            reconnection_delay_max=3,
            randomization_factor=0.5,
            json=OrjsonCodec,
            # aiohttp's default cookie jar ignores cookies for IP addresses such as 127.0.0.1.
            http_session=aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)),
        )
        self.client.on("connect", self._on_connect, namespace="/live")
        self.client.on("delta", self._on_delta, namespace="/live")
        self.seqs: dict[str, int] = {}
        self.gaps = 0
        self.held: dict[str, str] = {}  # unit → newest observed_at held (auditors)
        self.synced_at = 0.0
        self.syncs = 0

    async def connect(self) -> None:
        # A copy: engine.io moves the Cookie header into the session's cookie jar (deleting it).
        await self.client.connect(
            self.base,
            namespaces=["/live"],
            transports=["websocket"],
            headers=dict(self.headers),
            wait_timeout=60,
        )

    async def _on_connect(self) -> None:
        self.client.start_background_task(self._subscribe)

    async def _subscribe(self) -> None:
        try:
            reply = await self.client.call(
                "subscribe", {"kinds": ["position"]}, namespace="/live", timeout=120
            )
        except Exception:  # noqa: BLE001 - a storm may cut it; the next connect subscribes again
            return
        snapshot = reply["snapshots"][0]
        self.seqs = dict(snapshot["seqs"])
        if self.auditor:
            for item in orjson.loads(snapshot["items_json"]):
                self._hold(item)
        self.synced_at = time.time()
        self.syncs += 1

    def _hold(self, item: dict[str, Any]) -> None:
        if item["data"].get("departed"):
            self.held.pop(item["id"], None)
        elif self.held.get(item["id"], "") < item["observed_at"]:
            self.held[item["id"]] = item["observed_at"]

    async def _on_delta(self, delta: dict[str, Any]) -> None:
        now = time.time()
        items_json = delta["items_json"]
        room, seq = delta["room"], delta["seq"]
        last = self.seqs.get(room)
        if last is not None and seq > last + 1:
            self.gaps += seq - last - 1
        if last is None or seq > last:
            self.seqs[room] = seq
        if self.auditor:
            for item in orjson.loads(items_json):
                self._hold(item)
        # A batch's items share the web's received_at stamp: one conversion per stamp.
        waited: dict[str, int] = {}
        for stamp in RECEIVED.findall(items_json):
            waited[stamp] = waited.get(stamp, 0) + 1
        for stamp, count in waited.items():
            ms = int((now - stamp_seconds(stamp)) * 1000)
            self.histogram[min(max(ms, 0), MAX_MS - 1)] += count


@functools.lru_cache(maxsize=4096)
def stamp_seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


def client_worker(conn: Any, base: str, specs: list[tuple[str, dict[str, str]]]) -> None:
    """Runs a share of the clients in one event loop; answers the parent's commands over `conn`."""
    asyncio.run(serve_clients(conn, base, specs))


async def serve_clients(conn: Any, base: str, specs: list[tuple[str, dict[str, str]]]) -> None:
    groups = sorted({group for group, _ in specs})
    histograms = {group: np.zeros(MAX_MS, dtype=np.int64) for group in groups}
    audited: set[str] = set()
    viewers = []
    for group, headers in specs:
        viewers.append(Viewer(base, headers, group, histograms[group], auditor=group not in audited))
        audited.add(group)
    for viewer in viewers:
        await viewer.connect()
    loop = asyncio.get_running_loop()
    while True:
        command = await loop.run_in_executor(None, conn.recv)
        if command == "stop":
            for viewer in viewers:
                await viewer.client.disconnect()
            conn.send("stopped")
            return
        if command == "reset":
            for histogram in histograms.values():
                histogram[:] = 0
            for viewer in viewers:
                viewer.gaps = 0
            conn.send("ok")
        elif command == "report":
            conn.send(
                {
                    "histograms": {g: h.copy() for g, h in histograms.items()},
                    "gaps": [(v.group, v.gaps) for v in viewers],
                    "synced": [(v.synced_at, v.syncs, v.client.connected) for v in viewers],
                    "rss": psutil.Process().memory_info().rss,
                }
            )
        elif command == "held":
            conn.send([(v.group, dict(v.held) if v.auditor else None) for v in viewers])


def quantile_ms(histogram: np.ndarray, q: float) -> float:
    total = int(histogram.sum())
    if total == 0:
        return float("nan")
    return float(np.searchsorted(np.cumsum(histogram), q * total))


class Clients:
    """The client processes, and what they say."""

    def __init__(self, base: str, specs: list[tuple[str, dict[str, str]]]) -> None:
        context = mp.get_context("spawn")
        self.links = []
        self.processes = []
        for share in range(WORKERS):
            parent, child = context.Pipe()
            process = context.Process(
                target=client_worker, args=(child, base, specs[share::WORKERS]), daemon=True
            )
            process.start()
            self.links.append(parent)
            self.processes.append(process)

    def ask(self, command: str) -> list[Any]:
        for link in self.links:
            link.send(command)
        return [link.recv() for link in self.links]

    def synced(self) -> list[tuple[float, int, bool]]:
        return [s for report in self.ask("report") for s in report["synced"]]

    def stop(self) -> None:
        self.ask("stop")
        for process in self.processes:
            process.join(timeout=10)


def users(stack: Stack) -> list[tuple[str, dict[str, str]]]:
    """Clients' groups and login headers: 30 national analysts, 270 coordinators over 11 provinces."""
    store = UserStore(stack.store.client, stack.store.keys)
    codes = list(provinces())
    store.add("national", PASSWORD, Role.ANALYST, replace=True)
    for code in codes:
        store.add(f"coord-{code}", PASSWORD, Role.COORDINATOR, provinces=frozenset({code}), replace=True)
    headers = {}
    for name in ["national", *(f"coord-{code}" for code in codes)]:
        session = login_session(stack.web.url, name)
        cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
        headers[name] = {"Cookie": cookie, "User-Agent": session.headers["User-Agent"]}
    specs = [("national", headers["national"]) for _ in range(NATIONAL)]
    specs += [
        (code, headers[f"coord-{code}"])
        for i in range(CLIENTS - NATIONAL)
        for code in [codes[i % len(codes)]]
    ]
    return specs


def wait_all_synced(clients: Clients, since: float, timeout: float) -> float | None:
    """Seconds from `since` until every client has a snapshot taken after `since`; None if not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        synced = clients.synced()
        if all(connected and at > since for at, _n, connected in synced):
            return max(at for at, _n, _c in synced) - since
        time.sleep(0.25)
    return None


def held_check(stack: Stack, clients: Clients) -> dict[str, tuple[int, int]]:
    """Per group: (clients × units checked, units whose newest position a client lacks)."""
    truth = {}
    for key, raw in stack.store.client.hgetall(stack.store.keys.state("position")).items():
        doc = orjson.loads(raw)
        truth[key.decode()] = (doc["data"].get("prov_code"), doc["observed_at"])
    result: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for report in clients.ask("held"):
        for group, held in report:
            if held is None:
                continue
            for unit, (prov, observed) in truth.items():
                if group != "national" and prov != group:
                    continue
                result[group][0] += 1
                if held.get(unit) != observed:
                    result[group][1] += 1
    return {group: (checked, lacking) for group, (checked, lacking) in result.items()}


def print_latency(reports: list[dict[str, Any]], held: dict[str, tuple[int, int]]) -> None:
    merged: dict[str, np.ndarray] = {}
    gaps: dict[str, int] = defaultdict(int)
    counts: dict[str, int] = defaultdict(int)
    for report in reports:
        for group, histogram in report["histograms"].items():
            merged[group] = merged.get(group, np.zeros(MAX_MS, dtype=np.int64)) + histogram
        for group, n in report["gaps"]:
            gaps[group] += n
            counts[group] += 1
    everyone = sum(merged.values())
    print(
        f"  {'group':<10}{'clients':>8}{'items':>12}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
        f"{'gaps':>6}{'lacking':>9}"
    )
    for group in sorted(merged, key=lambda g: (g != "national", g)):
        h = merged[group]
        checked, lacking = held.get(group, (0, 0))
        print(
            f"  {group:<10}{counts[group]:>8}{int(h.sum()):>12,}{quantile_ms(h, 0.5):>8.0f}"
            f"{quantile_ms(h, 0.95):>8.0f}{quantile_ms(h, 0.99):>8.0f}{gaps[group]:>6}"
            f"{lacking:>6}/{checked:,}"
        )
    print(
        f"  {'all':<10}{sum(counts.values()):>8}{int(everyone.sum()):>12,}{quantile_ms(everyone, 0.5):>8.0f}"
        f"{quantile_ms(everyone, 0.95):>8.0f}{quantile_ms(everyone, 0.99):>8.0f}{sum(gaps.values()):>6}"
        f"{sum(v[1] for v in held.values()):>6}/{sum(v[0] for v in held.values()):,}"
    )


def browser_figures(page: Any) -> dict[str, float]:
    return page.evaluate(
        """() => {
          const v = COP.liveMap.latencies.slice().sort((a, b) => a - b);
          const q = p => v.length ? v[Math.min(v.length - 1, Math.floor(p * v.length))] : NaN;
          return {n: v.length, p50: q(0.5), p95: q(0.95), p99: q(0.99), gaps: COP.live.stats.gaps,
                  markers: COP.liveMap.units.size};
        }"""
    )


def heap_mb(cdp: Any, page: Any) -> float:
    page.evaluate("COP.liveMap.latencies = []")  # the measurement itself must not count as growth
    cdp.send("HeapProfiler.collectGarbage")
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return float(metrics["JSHeapUsedSize"]) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rate", type=int, default=2000)
    parser.add_argument("--units", type=int, default=5000)
    parser.add_argument("--soak", type=float, default=0, help="then soak this many seconds (1800 = 30 min)")
    args = parser.parse_args()
    path = chromium_path()
    if path is None:
        sys.exit("Chromium is required (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    workdir = Path(tempfile.mkdtemp(prefix="cop-load-"))
    stack = Stack.start(workdir, feed_units=0, log_level="WARNING")
    web, hub = psutil.Process(stack.web.proc.process.pid), psutil.Process(stack.hub.process.pid)
    print(f"# bench/load.py  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"# machine: {machine()}; embedded Redis, one hub, one web process (gevent), "
        f"{CLIENTS} python-socketio clients in {WORKERS} processes, Chromium headless on /wall"
    )
    driver = SteadyDriver(stack.web.url, stack.token, args.units, args.rate, args.seconds)
    driver.seed()
    specs = users(stack)
    started = time.monotonic()
    clients = Clients(stack.web.url, specs)
    took = wait_all_synced(clients, 0, timeout=180)
    print(f"# {len(specs)} clients connected and synchronised in {time.monotonic() - started:.1f} s ({took})")
    try:
        with sync_playwright() as playwright:
            browser, page, cdp = logged_in_page(
                playwright, path, f"{stack.web.url}/login?next=/wall", "watch", PASSWORD, (1920, 1080)
            )
            page.wait_for_function(
                f"window.COP && COP.liveMap && COP.liveMap.units.size >= {args.units}", timeout=120_000
            )
            clients.ask("reset")
            page.evaluate("COP.liveMap.latencies = []; COP.liveMap.awaitingDraw = []")
            web.cpu_percent(None)
            hub.cpu_percent(None)
            driver.start()
            driver.join()
            time.sleep(2.0)
            cpu_web, cpu_hub = web.cpu_percent(None), hub.cpu_percent(None)
            print(
                f"## {args.rate:,} positions/s over {args.units:,} units for {args.seconds:.0f} s: "
                f"posted {driver.sent:,}, accepted {driver.accepted:,}"
            )
            reports = clients.ask("report")
            print_latency(reports, held_check(stack, clients))
            wall = browser_figures(page)
            print(
                f"  wall (Chromium, received_at → marker drawn): {wall['n']:,} moves  "
                f"p50 {wall['p50']:.0f} ms  p95 {wall['p95']:.0f} ms  p99 {wall['p99']:.0f} ms  "
                f"gaps {wall['gaps']}  markers {wall['markers']:,}"
            )
            print(
                f"  web CPU {cpu_web:.0f} % RSS {web.memory_info().rss / 2**20:.0f} MB; "
                f"hub CPU {cpu_hub:.0f} % RSS {hub.memory_info().rss / 2**20:.0f} MB (100 % = one core); "
                f"client processes RSS {sum(r['rss'] for r in reports) / 2**20:.0f} MB"
            )

            # Reconnect storm: the web process dies; all 300 clients and the wall come back at once.
            killed = time.time()
            stack.web.proc.kill()
            stack.web.start()
            healthy = time.time()
            storm = wait_all_synced(clients, killed, timeout=120)
            synced = clients.synced()
            page.wait_for_function(
                "COP.live.stats.reconnects >= 1 && "
                "document.getElementById('cop-freshness').dataset.state === 'live'",
                timeout=60_000,
            )
            wall_back = time.time() - killed
            back = sorted(at - healthy for at, _n, c in synced if c and at > killed)
            if back:
                print(
                    f"  clients resynchronised after the web answered: p50 {back[len(back) // 2]:.1f} s  "
                    f"p95 {back[int(len(back) * 0.95)]:.1f} s  last {back[-1]:.1f} s"
                )
            print(
                f"## reconnect storm (web SIGKILLed, restarted in {healthy - killed:.1f} s): "
                f"{sum(1 for at, _n, c in synced if c and at > killed)}/{len(synced)} clients resynchronised "
                f"{storm_text(storm, healthy - killed)}; wall live again after {wall_back:.1f} s"
            )
            if args.soak:
                soak(args, stack, clients, page, cdp, web, hub)
            browser.close()
    finally:
        clients.stop()
        stack.stop()


def storm_text(storm: float | None, restart_s: float) -> str:
    if storm is None:
        return "NOT within 120 s"
    return f"in {storm:.1f} s after the kill ({storm - restart_s:.1f} s after the web answered)"


def soak(args: Any, stack: Stack, clients: Clients, page: Any, cdp: Any, web: Any, hub: Any) -> None:
    """Hold the load for `--soak` seconds; sample memory every minute after GC; report growth."""
    web = psutil.Process(stack.web.proc.process.pid)  # the restarted one
    driver = SteadyDriver(stack.web.url, stack.token, args.units, args.rate, args.soak)
    driver.start()
    print(f"## soak: {args.rate:,}/s for {args.soak / 60:.0f} min; memory every minute")
    print(
        f"  {'min':>4}{'web RSS MB':>11}{'hub RSS MB':>11}{'clients MB':>11}{'wall heap MB':>13}{'p95 ms':>8}"
    )
    samples = []
    begun = time.monotonic()
    minute = 0
    while driver.is_alive():
        time.sleep(max(0.0, begun + (minute + 1) * 60 - time.monotonic()))
        minute += 1
        reports = clients.ask("report")
        clients.ask("reset")
        merged = sum(h for r in reports for h in r["histograms"].values())
        sample = (
            web.memory_info().rss / 2**20,
            hub.memory_info().rss / 2**20,
            sum(r["rss"] for r in reports) / 2**20,
            heap_mb(cdp, page),
            quantile_ms(merged, 0.95),
        )
        samples.append(sample)
        print(
            f"  {minute:>4}{sample[0]:>11.0f}{sample[1]:>11.0f}{sample[2]:>11.0f}"
            f"{sample[3]:>13.1f}{sample[4]:>8.0f}",
            flush=True,
        )
    driver.join()
    if len(samples) >= 10:
        base = samples[4]  # after five minutes of warm-up
        last = samples[-1]
        names = ("web RSS", "hub RSS", "client RSS", "wall JS heap")
        growth = ", ".join(f"{n} {(last[i] / base[i] - 1) * 100:+.1f} %" for i, n in enumerate(names))
        print(f"  growth from minute 5 to minute {len(samples)}: {growth}")


if __name__ == "__main__":
    main()
