"""Fault drills, measured: each part SIGKILLed while 200 positions/s flow, and a Sentinel failover.

    python bench/faults.py               # every drill 3 times (Redis down 30 s each time)
    python bench/faults.py --repeat 1 --only hub web

Each run starts its own stack (embedded Redis, `cop hub`, `cop web`, the simulated positions
feed, a logged-in Socket.IO watcher) and prints, per drill: acknowledged items, acknowledged
items missing afterwards, units whose state differs from an undisturbed replay of the same
items, the time from the restart until ingest answered 200 again and until the watcher received
a delta again (Sentinel: from the kill; nothing is restarted), and what the flow was answered
meanwhile. The Sentinel drill runs a primary, a replica and three Sentinels (local processes)
and kills the primary.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import machine, quantile  # noqa: E402
from tests.integration.drill import DrillResult, SentinelCluster, Stack, run_drill  # noqa: E402

OUTAGES = {"redis": 30.0, "hub": 3.0, "feed": 6.0, "web": 3.0, "sentinel": 0.0}


def once(victim: str) -> DrillResult:
    workdir = Path(tempfile.mkdtemp(prefix=f"cop-drill-{victim}-"))
    if victim != "sentinel":
        stack = Stack.start(workdir)
        try:
            return run_drill(stack, victim, outage_s=OUTAGES[victim])
        finally:
            stack.stop()
    cluster = SentinelCluster(workdir / "cluster").start()
    stack = Stack.start(workdir, redis_url=cluster.url)
    try:
        primary = cluster.primary()
        return run_drill(
            stack, "sentinel", outage_s=0, steady_s=4, actions=(lambda: cluster.kill(primary), lambda: None)
        )
    finally:
        stack.stop()
        cluster.stop()


def seconds(values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return "        -"
    return f"{quantile(known, 0.5):5.1f} / {quantile(known, 0.95):5.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", nargs="*", choices=sorted(OUTAGES), default=list(OUTAGES))
    args = parser.parse_args()
    print(f"# bench/faults.py  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"# machine: {machine()}; flow 200 positions/s over 100 units + simulated feed (300 units)")
    print(
        f"{'victim':<9}{'down':>6}{'runs':>5}{'acknowledged':>13}{'missing':>8}{'≠calm':>6}{'DLQ':>4}"
        f"  {'ingest back p50/p95':>20}  {'push back p50/p95':>18}  answers meanwhile"
    )
    for victim in args.only:
        results = []
        for _ in range(args.repeat):
            result = once(victim)
            results.append(result)
            print(f"  # {result.line()}", flush=True)
        refusals: dict[str, int] = {}
        for result in results:
            for outcome, count in result.refusals.items():
                refusals[outcome] = refusals.get(outcome, 0) + count
        print(
            f"{victim:<9}{OUTAGES[victim]:>5.0f}s{len(results):>5}"
            f"{sum(r.acknowledged for r in results):>13,}{sum(r.missing for r in results):>8}"
            f"{sum(r.differing for r in results):>6}{sum(r.dead_letters for r in results):>4}"
            f"  {seconds([r.ingest_resumed_s for r in results]):>20}"
            f"  {seconds([r.push_resumed_s for r in results]):>18}"
            f"  {refusals or 'none'} (slowest {max(r.slowest_refusal_s for r in results):.2f} s)",
            flush=True,
        )


if __name__ == "__main__":
    main()
