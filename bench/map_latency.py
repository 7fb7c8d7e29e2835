"""Position API → hub → Socket.IO → marker moved in headless Chromium: latency, losses, browser load.

Starts its own stack (embedded Redis, `cop hub`, `cop web`), opens the map in Debian's Chromium,
drives `POST /api/v1/positions` at R updates/s over N units, and measures in the page the time
from each observation's `received_at` (stamped by the web server) to its marker being redrawn
at its new place on the canvas.

    python bench/map_latency.py                       # N=10,000 R=2,000/s 60 s, then N=20,000 R=5,000/s
    python bench/map_latency.py --runs 10000:2000:60  # one run, N:R:seconds
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import logged_in_page  # noqa: E402
from cop.domain.users import Role  # noqa: E402
from cop.settings import Settings  # noqa: E402
from cop.store.connection import open_store  # noqa: E402
from cop.store.embedded import EmbeddedRedis  # noqa: E402
from cop.store.users import UserStore  # noqa: E402
from tests.conftest import chromium_path, free_port, wait_healthy  # noqa: E402

PASSWORD = "bench-password-1"
DISCIPLINES = ("D1", "D2", "D3", "D4", "D5")


def start_stack(data_dir: Path) -> tuple[EmbeddedRedis, list[subprocess.Popen[bytes]], str, str]:
    server = EmbeddedRedis(data_dir)
    server.start()
    settings = Settings(redis_url=server.url, redis_prefix="mapbench", data_dir=data_dir)
    store = open_store(settings)
    users = UserStore(store.client, store.keys)
    users.add("bench", PASSWORD, Role.ADMIN, replace=True)
    token = users.add_token("bench")
    store.client.close()
    port = free_port()
    env = {
        **os.environ,
        "COP_REDIS_URL": server.url,
        "COP_REDIS_PREFIX": "mapbench",
        "COP_LOG_LEVEL": "WARNING",
        "COP_PORT": str(port),
    }
    processes = [
        subprocess.Popen([sys.executable, "-m", "cop", "hub"], env=env),
        subprocess.Popen([sys.executable, "-m", "cop", "web"], env=env),
    ]
    base = f"http://127.0.0.1:{port}"
    wait_healthy(base)
    return server, processes, base, token


class Driver(threading.Thread):
    """Posts R observations/s over N units in batches every 100 ms; remembers the last of each."""

    def __init__(self, base: str, token: str, units: int, rate: int, seconds: float) -> None:
        super().__init__(daemon=True)
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.url = f"{base}/api/v1/positions"
        self.units, self.rate, self.seconds = units, rate, seconds
        rng = random.Random(3)
        self.positions = [[50.3 + rng.random() * 0.8, 3.4 + rng.random() * 2.4] for _ in range(units)]
        self.sent = 0
        self.accepted = 0
        self.last_observed: dict[str, str] = {}
        self.next_unit = 0
        self.post_ms: list[float] = []

    def batch(self, size: int) -> list[dict[str, object]]:
        now = datetime.now(UTC).isoformat()
        items = []
        for _ in range(size):
            i = self.next_unit
            self.next_unit = (self.next_unit + 1) % self.units
            position = self.positions[i]
            position[0] += 0.0005
            position[1] += 0.0007
            unit_id = f"u{i:05d}"
            items.append(
                {
                    "id": unit_id,
                    "callsign": f"U{i}",
                    "discipline": DISCIPLINES[i % 5],
                    "unit_type": "engine",
                    "status": "en_route",
                    "lat": round(position[0], 6),
                    "lon": round(position[1], 6),
                    "speed_kmh": 50,
                    "observed_at": now,
                }
            )
            self.last_observed[unit_id] = now
        return items

    def post(self, items: list[dict[str, object]]) -> None:
        start = time.perf_counter()
        response = self.session.post(self.url, json=items, timeout=30)
        self.post_ms.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
        self.accepted += response.json()["accepted"]
        self.sent += len(items)

    def seed(self) -> None:
        for start in range(0, self.units, 5000):
            self.post(self.batch(min(5000, self.units - start)))

    def run(self) -> None:
        per_tick = max(1, self.rate // 10)
        start = time.monotonic()
        ticks = 0
        while time.monotonic() - start < self.seconds:
            self.post(self.batch(per_tick))
            ticks += 1
            delay = start + ticks * 0.1 - time.monotonic()
            if delay > 0:
                time.sleep(delay)


def metrics(cdp) -> dict[str, float]:
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


def run_once(
    page,
    cdp,
    base: str,
    token: str,
    units: int,
    rate: int,
    seconds: float,
    web: psutil.Process,
    hub: psutil.Process,
) -> None:
    driver = Driver(base, token, units, rate, seconds)
    driver.seed()
    page.wait_for_function(f"COP.liveMap.units.size >= {units}", timeout=120_000)
    page.evaluate("COP.liveMap.latencies = []; COP.liveMap.awaitingDraw = []; COP.liveMap.moves = 0")
    cdp.send("HeapProfiler.collectGarbage")
    before = metrics(cdp)
    wall_start = time.monotonic()
    web.cpu_percent(None)
    hub.cpu_percent(None)
    driver.start()
    driver.join()
    # Let the last deltas arrive, then compare the final state with what was sent.
    time.sleep(2.0)
    elapsed = time.monotonic() - wall_start
    after = metrics(cdp)
    cpu_web, cpu_hub = web.cpu_percent(None), hub.cpu_percent(None)
    cdp.send("HeapProfiler.collectGarbage")
    heap_end = metrics(cdp)["JSHeapUsedSize"]
    stats = page.evaluate(
        """(last) => {
          const values = COP.liveMap.latencies.slice().sort((a, b) => a - b);
          const q = p => values.length
            ? values[Math.min(values.length - 1, Math.floor(p * values.length))] : NaN;
          let lost = 0;
          for (const [id, observed] of Object.entries(last)) {
            const unit = COP.liveMap.units.get(id);
            if (!unit || Date.parse(unit.env.observed_at) < Date.parse(observed)) lost++;
          }
          return {n: values.length, p50: q(0.5), p95: q(0.95), p99: q(0.99), max: values[values.length - 1],
                  lost: lost, markers: COP.liveMap.units.size, gaps: COP.live.stats.gaps};
        }""",
        driver.last_observed,
    )
    busy = (after["TaskDuration"] - before["TaskDuration"]) / elapsed
    heap_growth_mb = (heap_end - before["JSHeapUsedSize"]) / 2**20
    post_ms = sorted(driver.post_ms)
    print(
        f"N={units:,} R={rate:,}/s for {seconds:.0f} s: posted {driver.sent:,} "
        f"(accepted {driver.accepted:,}), marker moves measured {stats['n']:,}"
    )
    print(
        f"  latency received_at → marker drawn at its new place: p50 {stats['p50']:.0f} ms  "
        f"p95 {stats['p95']:.0f} ms  "
        f"p99 {stats['p99']:.0f} ms  max {stats['max']:.0f} ms"
    )
    print(
        f"  updates lost (final position not shown): {stats['lost']} of {len(driver.last_observed):,} units; "
        f"sequence gaps resynchronised: {stats['gaps']}"
    )
    print(
        f"  browser main thread busy {busy * 100:.0f} %; JS heap {before['JSHeapUsedSize'] / 2**20:.1f} → "
        f"{heap_end / 2**20:.1f} MB (growth {heap_growth_mb:+.1f} MB); markers {stats['markers']:,}"
    )
    print(
        f"  API post p50 {post_ms[len(post_ms) // 2]:.0f} ms p95 {post_ms[int(len(post_ms) * 0.95)]:.0f} ms;"
        f" web CPU {cpu_web:.0f} %, hub CPU {cpu_hub:.0f} % (of one core)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="10000:2000:60,20000:5000:60", help="comma-separated N:R:seconds")
    args = parser.parse_args()
    path = chromium_path()
    if path is None:
        sys.exit("Chromium is required (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    data_dir = Path(tempfile.mkdtemp(prefix="cop-mapbench-"))
    server, processes, base, token = start_stack(data_dir)
    print(f"# bench/map_latency.py  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"# machine: {platform.machine()} {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}, "
        "Chromium headless, embedded Redis, one hub, one web process (gevent)"
    )
    try:
        with sync_playwright() as playwright:
            browser, page, cdp = logged_in_page(playwright, path, f"{base}/", "bench", PASSWORD, (1600, 900))
            page.wait_for_function("window.COP && COP.liveMap && COP.liveMap.map", timeout=30_000)
            web, hub = psutil.Process(processes[1].pid), psutil.Process(processes[0].pid)
            for spec in args.runs.split(","):
                units, rate, seconds = spec.split(":")
                run_once(page, cdp, base, token, int(units), int(rate), float(seconds), web, hub)
            browser.close()
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=20)
        server.stop()


if __name__ == "__main__":
    main()
