"""Snapshots asked at the same time share reads of the state, never one that began too early."""

from __future__ import annotations

import threading
import time

from cop.realtime.snapshot import SharedStateReads


class SlowStates:
    """A state store whose whole-state read takes a while and says when it began."""

    def __init__(self) -> None:
        self.began: list[float] = []
        self.lock = threading.Lock()

    def read_raw(self, kind: str):
        began = time.monotonic()
        with self.lock:
            self.began.append(began)
        time.sleep(0.05)
        return ({kind.encode(): str(began).encode()}, {})


def test_concurrent_snapshots_share_reads_that_began_after_their_sequence_numbers():
    states = SlowStates()
    reads = SharedStateReads(states)
    results: list[tuple[float, float]] = []

    def ask() -> None:
        asked_at = time.monotonic()
        state, _order = reads.read("position", asked_at)
        results.append((asked_at, float(state[b"position"])))

    threads = []
    for _ in range(40):
        thread = threading.Thread(target=ask)
        thread.start()
        threads.append(thread)
        time.sleep(0.004)
    for thread in threads:
        thread.join()
    assert len(results) == 40
    # Every answer comes from a read that began after the asker's sequence numbers were read...
    assert all(began >= asked_at for asked_at, began in results)
    # ...and forty askers over ~160 ms needed only a handful of reads, one at a time.
    assert len(states.began) <= 6, states.began
    assert reads.reads == len(states.began)


def test_a_failed_read_fails_every_snapshot_that_waited_for_it_and_the_next_read_works():
    class Failing(SlowStates):
        fail = True

        def read_raw(self, kind: str):
            if self.fail:
                self.fail = False
                time.sleep(0.05)
                raise ConnectionError("Redis went away")
            return super().read_raw(kind)

    reads = SharedStateReads(Failing())
    outcomes: list[str] = []

    def ask() -> None:
        try:
            reads.read("zone", time.monotonic())
            outcomes.append("ok")
        except ConnectionError:
            outcomes.append("failed")

    first = threading.Thread(target=ask)
    first.start()
    time.sleep(0.01)
    first.join()
    ask()
    assert outcomes == ["failed", "ok"]
