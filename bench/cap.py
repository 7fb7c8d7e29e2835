"""CAP import throughput on this machine: parse, validate (OASIS schema) and store, alerts/s.

python bench/cap.py [--rounds 20]

Every accepted alert of ../shared/conformance (bare CAP 1.2 and 1.1, Atom with embedded CAP,
EDXL-DE 1.0) is imported again and again through the same code as POST /api/v1/cap (each round
gives the alerts fresh identifiers so every one is stored), into an embedded Redis, after one
untimed warm-up round. Target: ≥ 500 alerts/s.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cop.domain.errors import InvalidInput  # noqa: E402
from cop.feeds.cap import AlertBook  # noqa: E402
from cop.settings import Settings  # noqa: E402
from cop.standards.cap import read_cap_document  # noqa: E402
from cop.store.connection import open_store  # noqa: E402

CONFORMANCE = ROOT.parent / "shared" / "conformance"
IDENTIFIER = re.compile(rb"(<(?:\w+:)?identifier>)([^<]+)(</(?:\w+:)?identifier>)")


def samples() -> list[tuple[str, bytes, int]]:
    """(name, document, alerts it carries) for every sample with at least one valid alert."""
    found = []
    for path in sorted(CONFORMANCE.rglob("*")):
        if not path.is_file() or path.name == "README.md":
            continue
        data = path.read_bytes()
        try:
            count = len(read_cap_document(data).alerts)
        except InvalidInput:
            continue
        if count:
            found.append((str(path.relative_to(CONFORMANCE)), data, count))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    print(
        f"# machine: {platform.machine()} {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}"
    )
    documents = samples()
    per_round = sum(n for _, _, n in documents)
    print(f"# {len(documents)} sample documents carrying {per_round} valid alerts per round")
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Settings(data_dir=Path(tmp), redis_prefix="bench-cap"))
        book = AlertBook(store)
        # One untimed round first: the schema is compiled and the reference geodata loaded once
        # per process (about a second), not per alert.
        for _name, data, _count in documents:
            book.import_document(data, source="bench-warm-up", now=datetime.now(UTC))
        rates, per_document = [], []
        total = 0
        started = time.perf_counter()
        for round_ in range(args.rounds):
            start = time.perf_counter()
            suffix = f"-r{round_}".encode()
            for _name, data, _count in documents:
                fresh = IDENTIFIER.sub(lambda m, s=suffix: m.group(1) + m.group(2) + s + m.group(3), data)
                t0 = time.perf_counter()
                result = book.import_document(fresh, source="bench", now=datetime.now(UTC))
                per_document.append((time.perf_counter() - t0) * 1000)
                total += len(result["accepted"])
            rates.append(per_round / (time.perf_counter() - start))
        elapsed = time.perf_counter() - started
        stored = store.client.xlen(store.keys.stream("alert"))
        if store.embedded is not None:
            store.embedded.stop()
    ordered = sorted(per_document)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(f"alerts imported: {total} in {elapsed:.2f} s = {total / elapsed:.0f} alerts/s overall")
    print(f"per round: median {statistics.median(rates):.0f} alerts/s, worst {min(rates):.0f} alerts/s")
    print(f"per document: median {statistics.median(per_document):.2f} ms, p95 {p95:.2f} ms")
    print(f"stream entries written (alerts + weather indicators): {stored}")


if __name__ == "__main__":
    main()
