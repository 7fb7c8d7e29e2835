"""A logbook of 100,000 entries on this machine: time to open the page, to filter, to search and
to export. Target: ≤ 1 s for the page and the filters.

python bench/logbook.py [--entries 100000] [--runs 10]

The entries are XADDed straight into `{p}:log:{incident}` (as LogBook.append writes them), then
a web process is started and driven over HTTP with a logged-in session: the page's first render
(the Dash callback that lists the newest entries, as the browser calls it), the filters and the
search through the same callback, and the CSV and printable exports. "First open" is the first
request after the web process started (the logbook is read from Redis into memory); later
figures are with that index warm, as on a running server.
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
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cop.domain.users import Role  # noqa: E402
from cop.feeds.logbook import IncidentDesk  # noqa: E402
from cop.hub.worker import Hub  # noqa: E402
from cop.layouts.ids import Ids  # noqa: E402
from cop.settings import Settings  # noqa: E402
from cop.store.connection import open_store  # noqa: E402
from cop.store.users import UserStore  # noqa: E402
from tests.conftest import free_port, login_session, wait_healthy  # noqa: E402
from tests.integration.helpers import Recorder, drain  # noqa: E402

PASSWORD = "bench-password-1"
WORDS = [
    "evacuation",
    "perimeter",
    "ambulance",
    "chlorine",
    "hospital",
    "decontamination",
    "road",
    "closed",
    "water",
    "tanker",
    "shelter",
    "wind",
    "plume",
    "drone",
    "reading",
    "municipality",
    "governor",
    "mayor",
    "police",
    "fire",
    "engine",
    "civil",
    "protection",
]


def callback_body(
    incident: str,
    *,
    discipline: str = "all",
    categories: list[str] | None = None,
    hours: int = 0,
    search: str | None = None,
) -> dict[str, object]:
    """The JSON the browser posts to /_dash-update-component for the logbook list."""
    outputs = [
        Ids.LOG_ENTRIES + ".children",
        Ids.LOG_COUNT + ".children",
        Ids.LOG_AUTHOR + ".options",
        Ids.LOG_EXPORT_CSV + ".href",
        Ids.LOG_EXPORT_HTML + ".href",
    ]
    inputs = [
        {"id": Ids.LOG_INCIDENT, "property": "value", "value": incident},
        {"id": Ids.LOG_DISCIPLINE, "property": "value", "value": discipline},
        {"id": Ids.LOG_CATEGORY, "property": "value", "value": categories},
        {"id": Ids.LOG_AUTHOR, "property": "value", "value": None},
        {"id": Ids.LOG_HOURS, "property": "value", "value": hours},
        {"id": Ids.LOG_SEARCH, "property": "value", "value": search},
        {"id": Ids.LOG_VERSION, "property": "data", "value": 0},
    ]
    return {
        "output": ".." + "...".join(outputs) + "..",
        "outputs": [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in outputs],
        "inputs": inputs,
        "changedPropIds": [Ids.LOG_INCIDENT + ".value"],
        "state": [{"id": "cop-log-writer", "property": "data", "value": True}],
    }


def timed(fn, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def report(name: str, times: list[float]) -> None:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(f"{name:<46} median {statistics.median(times):8.1f} ms   p95 {p95:8.1f} ms   (n={len(times)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    print(
        f"# machine: {platform.machine()} {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), redis_prefix="bench-log")
        store = open_store(settings)
        UserStore(store.client, store.keys).add("bench", PASSWORD, Role.ADMIN)
        IncidentDesk(store).seed_daily_operations()
        drain(Hub(store, Recorder(), consumer="bench"), "incident")  # the incident into the state
        incident = "daily-operations"
        rng = random.Random(7)
        start = datetime.now(UTC) - timedelta(days=7)
        pipe = store.client.pipeline(transaction=False)
        t0 = time.perf_counter()
        for i in range(args.entries):
            at = (start + timedelta(seconds=6 * i)).isoformat()
            entry = {
                "incident_id": incident,
                "author": f"user{rng.randrange(40)}",
                "author_role": "coordinator",
                "discipline": rng.choice(["multi", "D1", "D2", "D3", "D4", "D5"]),
                "event_time": at,
                "entry_time": at,
                "priority": rng.choice(["normal"] * 8 + ["high", "flash"]),
                "category": rng.choice(["decision", "action", "information", "request"]),
                "text": " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 30))) + f" #{i}",
                "lat": None,
                "lon": None,
                "links": [],
                "corrects": None,
                "exercise": False,
            }
            pipe.xadd(store.keys.log(incident), {"e": orjson.dumps(entry)})
            if i % 5000 == 4999:
                pipe.execute()
        pipe.execute()
        print(f"# {args.entries} entries written in {time.perf_counter() - t0:.1f} s")
        port = free_port()
        env = {
            **os.environ,
            "COP_REDIS_URL": store.url,
            "COP_REDIS_PREFIX": "bench-log",
            "COP_DATA_DIR": tmp,
            "COP_LOG_LEVEL": "WARNING",
            "COP_ASYNC_MODE": "threading",
        }
        web = subprocess.Popen([sys.executable, "-m", "cop", "web", "--port", str(port)], env=env)
        try:
            base = f"http://127.0.0.1:{port}"
            assert wait_healthy(base), "web did not start"
            session = login_session(base, "bench", PASSWORD)
            headers = {"Origin": base, "Content-Type": "application/json"}

            def list_(**kwargs: object) -> None:
                r = session.post(
                    f"{base}/_dash-update-component",
                    data=orjson.dumps(callback_body(incident, **kwargs)),
                    headers=headers,
                    timeout=60,
                )
                assert r.status_code == 200, r.text[:300]

            cold = time.perf_counter()
            probe = session.post(
                f"{base}/_dash-update-component",
                data=orjson.dumps(callback_body(incident)),
                headers=headers,
                timeout=120,
            )
            report("first list after start (logbook read into memory)", [(time.perf_counter() - cold) * 1000])
            csv_probe = session.get(f"{base}/api/v1/logbooks/{incident}/export.csv", timeout=120)
            print(
                f"# list: HTTP {probe.status_code}, {len(probe.content)} bytes; "
                f"CSV: HTTP {csv_probe.status_code}, {csv_probe.text.count(chr(10)) - 1} rows"
            )
            report(
                "open the page (page + list of the newest 200)",
                timed(lambda: (session.get(f"{base}/logbook", timeout=60), list_()), args.runs),
            )
            report("filter: discipline D2", timed(lambda: list_(discipline="D2"), args.runs))
            report(
                "filter: decisions and requests, last 24 h",
                timed(lambda: list_(categories=["decision", "request"], hours=24), args.runs),
            )
            report("search: two words", timed(lambda: list_(search="chlorine shelter"), args.runs))
            report("search: no match", timed(lambda: list_(search="zzzz"), args.runs))
            csv_times = timed(
                lambda: session.get(f"{base}/api/v1/logbooks/{incident}/export.csv", timeout=120),
                max(3, args.runs // 3),
            )
            report(f"export CSV ({args.entries} entries)", csv_times)
            html_times = timed(
                lambda: session.get(f"{base}/api/v1/logbooks/{incident}/export.html", timeout=120),
                max(3, args.runs // 3),
            )
            report(f"export printable HTML ({args.entries} entries)", html_times)
        finally:
            web.terminate()
            web.wait(20)
            if store.embedded is not None:
                store.embedded.stop()


if __name__ == "__main__":
    main()
