"""Fault drills under a steady flow: Redis, the hub, a feed worker and the web process SIGKILLed.

Each drill runs its own stack (embedded Redis, `cop hub`, `cop web`, the simulated positions
feed) while 200 positions a second arrive through the API; after recovery every acknowledged item
is in the stream, and the state equals the state an undisturbed run reaches from the same items.
"""

from __future__ import annotations

import time

import pytest
import requests

from tests.integration.drill import SentinelCluster, Stack, run_drill


@pytest.fixture
def stack(tmp_path):
    running = Stack.start(tmp_path)
    yield running
    running.stop()


def assert_recovered(result):
    assert result.acknowledged > 1000, result.line()
    assert result.missing == 0, result.line()
    assert result.differing == 0, result.line()
    assert result.state_matches_stream and result.dead_letters == 0, result.line()
    assert not any(outcome.startswith("5") and outcome != "503" for outcome in result.refusals), result.line()


def feed_state(base_url: str, name: str, want: str, timeout: float = 10) -> str | None:
    deadline = time.monotonic() + timeout
    seen = None
    while time.monotonic() < deadline:
        try:
            seen = requests.get(f"{base_url}/readyz", timeout=2).json()["checks"]["feeds"].get(name)
        except (requests.RequestException, KeyError, ValueError):
            seen = None
        if seen == want:
            return seen
        time.sleep(0.3)
    return seen


def test_redis_killed_for_30_s_under_flow_loses_nothing_acknowledged(stack):
    result = run_drill(stack, "redis", outage_s=30)
    assert_recovered(result)
    # Every refusal while Redis was away was a quick 503, never a 500 or a hang.
    assert set(result.refusals) == {"503"} and result.refusals["503"] > 20, result.line()
    assert result.slowest_refusal_s < 6, result.line()
    assert result.ingest_resumed_s is not None and result.ingest_resumed_s < 15, result.line()
    assert result.push_resumed_s is not None and result.push_resumed_s < 15, result.line()
    # The simulated feed kept its observations while Redis was away and wrote them afterwards.
    assert "Redis unavailable" in stack.feed.output() and stack.feed.process.poll() is None
    assert stack.hub.process.poll() is None and stack.web.proc.process.poll() is None


def test_hub_killed_under_flow_then_restarted_catches_up(stack):
    result = run_drill(stack, "hub", outage_s=3)
    assert_recovered(result)
    assert result.refusals == {}, result.line()  # ingest never noticed
    assert result.push_resumed_s is not None and result.push_resumed_s < 10, result.line()


def test_feed_worker_killed_shows_down_and_its_restart_carries_on(stack):
    result = run_drill(
        stack, "feed", outage_s=6, during=lambda: feed_state(stack.web.url, "positions", "down")
    )
    assert_recovered(result)
    assert result.seen_during == "down", result.line()
    assert feed_state(stack.web.url, "positions", "ok") == "ok"
    assert result.refusals == {}, result.line()


def test_web_killed_under_flow_then_restarted_loses_nothing_acknowledged(stack):
    result = run_drill(stack, "web", outage_s=3)
    assert_recovered(result)
    assert result.refusals and set(result.refusals) <= {"ConnectionError"}, result.line()
    assert result.ingest_resumed_s is not None, result.line()
    assert result.push_resumed_s is not None and result.push_resumed_s < 15, result.line()


def test_sentinel_failover_under_flow_resumes_ingest_and_push(tmp_path):
    cluster = SentinelCluster(tmp_path / "cluster").start()
    running = Stack.start(tmp_path, redis_url=cluster.url)
    try:
        assert cluster.primary() == "a"
        result = run_drill(
            running, "primary", outage_s=0, steady_s=4, actions=(lambda: cluster.kill("a"), lambda: None)
        )
        assert cluster.primary() == "b"
        # Writes to the old primary that had not reached the replica may be lost (asynchronous
        # replication; the README says so): the drill reports them. Everything acknowledged after
        # the failover is kept, the hub has applied the new primary's stream and nothing is stuck.
        print(result.line())
        assert result.acknowledged > 1000, result.line()
        assert result.missing <= 40, result.line()  # at most the last 200 ms of the flow
        assert result.state_matches_stream and result.dead_letters == 0, result.line()
        assert result.ingest_resumed_s is not None and result.ingest_resumed_s < 20, result.line()
        assert result.push_resumed_s is not None and result.push_resumed_s < 20, result.line()
        assert not any(o.startswith("5") and o != "503" for o in result.refusals), result.line()
    finally:
        running.stop()
        cluster.stop()
