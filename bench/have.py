"""EDXL-HAVE import and export, and concurrent bed-count form submissions, on this machine.

python bench/have.py [--hospitals 1000] [--forms 100]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cop.domain.users import Role  # noqa: E402
from cop.feeds.hospitals import HospitalUpdates, seed_hospitals, seed_payload  # noqa: E402
from cop.geo.sites import emergency_hospitals  # noqa: E402
from cop.settings import Settings  # noqa: E402
from cop.standards.have import HospitalRecord, export_have  # noqa: E402
from cop.store.connection import open_store  # noqa: E402
from cop.store.embedded import EmbeddedRedis  # noqa: E402
from cop.store.users import UserStore  # noqa: E402
from tests.conftest import free_port, wait_healthy  # noqa: E402
from tests.integration.test_hospital_form import save_request  # noqa: E402

PASSWORD = "bench-password-1"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def document(n: int) -> bytes:
    """n hospital reports: the 129 known hospitals in turn, each later report newer."""
    sites = emergency_hospitals()
    start = datetime.now(UTC) - timedelta(hours=1)
    records = []
    for i in range(n):
        site = sites[i % len(sites)]
        payload = seed_payload(site)
        beds = tuple(
            b.model_copy(update={"available": (i + b.baseline) % (b.baseline + 1)}) for b in payload.beds
        )
        records.append(
            HospitalRecord(
                site.site_id, payload.model_copy(update={"beds": beds}), start + timedelta(seconds=i)
            )
        )
    return export_have(records, wrap_de=True, sent_at=datetime.now(UTC))


def login(base: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    session.post(
        f"{base}/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token}, timeout=10
    )
    return session


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hospitals", type=int, default=1000)
    parser.add_argument("--forms", type=int, default=100)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="cop-havebench-"))
    server = EmbeddedRedis(data_dir)
    server.start()
    settings = Settings(redis_url=server.url, redis_prefix="havebench", data_dir=data_dir)
    store = open_store(settings)
    seed_hospitals(store)
    UserStore(store.client, store.keys).add("bench", PASSWORD, Role.ADMIN, replace=True)
    updates = HospitalUpdates(store)
    print(f"# bench/have.py  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"# machine: {platform.machine()} {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}"
    )

    body = document(args.hospitals)
    start = time.perf_counter()
    result = updates.import_document(body, source="bench")
    elapsed = time.perf_counter() - start
    print(
        f"import: {args.hospitals:,}-hospital HAVE document in EDXL-DE ({len(body) / 1024:.0f} KiB) "
        f"in {elapsed:.2f} s = {elapsed / args.hospitals * 1000:.2f} ms per hospital; "
        f"accepted {len(result['accepted'])}, rejected {len(result['rejected'])}, "
        f"unknown {len(result['unknown'])}"
    )

    env = {
        **os.environ,
        "COP_REDIS_URL": server.url,
        "COP_REDIS_PREFIX": "havebench",
        "COP_LOG_LEVEL": "WARNING",
    }
    hub = subprocess.Popen([sys.executable, "-m", "cop", "hub"], env=env)
    time.sleep(3)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        records = updates.records()
        exported = export_have(records, wrap_de=True, sent_at=datetime.now(UTC))
        times.append(time.perf_counter() - start)
    print(
        f"export: national status, {len(records)} hospitals, {len(exported) / 1024:.0f} KiB: "
        f"median {statistics.median(times) * 1000:.0f} ms over 5 runs"
    )

    port = free_port()
    web = subprocess.Popen(
        [sys.executable, "-m", "cop", "web", "--port", str(port)], env={**env, "COP_PORT": str(port)}
    )
    base = f"http://127.0.0.1:{port}"
    wait_healthy(base)
    sites = [s.site_id for s in emergency_hospitals()]
    sessions = [login(base) for _ in range(args.forms)]
    before = store.client.xlen(store.keys.stream("hospital"))

    def submit(i: int) -> tuple[float, bool]:
        start = time.perf_counter()
        response = sessions[i].post(
            f"{base}/_dash-update-component", json=save_request(sites[i % len(sites)], i % 5), timeout=30
        )
        return time.perf_counter() - start, response.ok and "Saved at" in response.text

    with ThreadPoolExecutor(max_workers=args.forms) as pool:
        outcomes = list(pool.map(submit, range(args.forms)))
    latencies = [t * 1000 for t, _ in outcomes]
    acknowledged = sum(ok for _, ok in outcomes)
    present = store.client.xlen(store.keys.stream("hospital")) - before
    print(
        f"forms: {args.forms} concurrent submissions: {acknowledged} acknowledged ('Saved at'), "
        f"{present} present in the stream; latency p50 {pct(latencies, 0.5):.0f} ms "
        f"p95 {pct(latencies, 0.95):.0f} ms max {max(latencies):.0f} ms"
    )
    for process in (web, hub):
        process.terminate()
        process.wait(timeout=20)
    store.close()
    server.stop()


if __name__ == "__main__":
    main()
