"""The hub against a real Redis: monotonic state, ack after apply, reclaim, dead letters, deltas."""

from __future__ import annotations

import random
import signal
import time

import orjson
import pytest

from cop.hub.deltas import delta_items
from cop.hub.worker import Hub
from cop.store.state import StateStore
from cop.store.streams import StreamReader, StreamWriter
from tests.conftest import cop_process
from tests.integration.helpers import (
    PROVINCES,
    Recorder,
    at,
    drain,
    expected_state,
    group_pending,
    position,
    state_docs,
)


def test_out_of_order_observations_keep_the_newest(store, settings):
    writer = StreamWriter(store.client, store.keys, settings)
    writer.append([position("fire-1", at(30), callsign="on scene")])
    writer.append([position("fire-1", at(10), callsign="en route")])  # arrives late
    writer.append([position("fire-1", at(20), callsign="dispatched")])
    hub = Hub(store, Recorder(), consumer="c1")
    drain(hub)
    stored = StateStore(store.client, store.keys).get("position", "fire-1")
    assert stored is not None
    assert stored.data["callsign"] == "on scene"
    assert stored.observed_at == at(30)
    assert hub.stats.applied == 1 and hub.stats.unchanged == 2
    assert group_pending(store, "position") == 0


def test_a_newer_observation_in_a_later_batch_replaces_the_stored_one(store, settings):
    writer = StreamWriter(store.client, store.keys, settings)
    hub = Hub(store, Recorder(), consumer="c1")
    writer.append([position("fire-1", at(10), callsign="en route")])
    drain(hub)
    writer.append([position("fire-1", at(5), callsign="old news")])
    drain(hub)
    assert state_docs(store, "position")["fire-1"]["data"]["callsign"] == "en route"
    writer.append([position("fire-1", at(11), callsign="on scene")])
    drain(hub)
    assert state_docs(store, "position")["fire-1"]["data"]["callsign"] == "on scene"


def test_deltas_go_to_the_national_room_and_the_entity_province_with_sequences(store, settings):
    writer = StreamWriter(store.client, store.keys, settings)
    recorder = Recorder()
    hub = Hub(store, recorder, consumer="c1")
    writer.append(
        [
            position("liege-1", at(1), prov_code="60000"),
            position("antwerp-1", at(1), prov_code="10000"),
            position("nowhere-1", at(1), prov_code=None),
        ]
    )
    drain(hub)
    national = recorder.deltas("national/position")
    assert [sorted(i["id"] for i in delta_items(d)) for d in national] == [
        ["antwerp-1", "liege-1", "nowhere-1"]
    ]
    assert [i["id"] for d in recorder.deltas("province:60000/position") for i in delta_items(d)] == [
        "liege-1"
    ]
    assert [i["id"] for d in recorder.deltas("global/position") for i in delta_items(d)] == ["nowhere-1"]
    writer.append([position("liege-1", at(2), prov_code="60000")])
    drain(hub)
    assert [d["seq"] for d in recorder.deltas("province:60000/position")] == [1, 2]
    assert store.client.get(store.keys.seq("position", "province:60000")) == b"2"


def test_reclaims_entries_left_pending_by_a_dead_consumer(store, settings):
    writer = StreamWriter(store.client, store.keys, settings)
    hub = Hub(store, Recorder(), consumer="survivor")
    hub.ensure_groups()
    writer.append([position(f"u{i}", at(i)) for i in range(50)])
    # A consumer reads the entries and dies before applying them.
    store.client.xreadgroup("hub", "dead", {store.keys.stream("position"): ">"}, count=50)
    assert group_pending(store, "position") == 50
    hub._cursor = dict.fromkeys(hub.kinds, ">")
    assert hub.step() == 0  # nothing new for the survivor
    time.sleep(settings.hub_claim_idle_ms / 1000 + 0.1)
    assert hub.reclaim() == 50
    assert group_pending(store, "position") == 0
    assert StateStore(store.client, store.keys).count("position") == 50


def test_poison_entry_is_dead_lettered_after_max_tries_and_does_not_block(store, settings):
    writer = StreamWriter(store.client, store.keys, settings)
    hub = Hub(store, Recorder(), consumer="c1")
    hub.ensure_groups()
    writer.append([position("before", at(1))])
    poison_id = writer.append_raw("position", b'{"v":1,"kind":"position","id":"bad"}')
    writer.append([position("after", at(2))])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not store.client.xlen(store.keys.dlq("position")):
        hub.step()
        hub.reclaim()
        time.sleep(0.05)
    # The good entries did not wait for the poison one.
    assert set(state_docs(store, "position")) == {"before", "after"}
    dead = store.client.xrange(store.keys.dlq("position"))
    assert len(dead) == 1
    fields = dead[0][1]
    assert fields[b"stream_id"].decode() == poison_id
    assert int(fields[b"tries"]) == settings.hub_max_tries
    assert b"source" in fields[b"error"] and b"observed_at" in fields[b"error"]
    assert store.client.get(store.keys.dlq_count("position")) == b"1"
    assert group_pending(store, "position") == 0
    # The stream keeps flowing after the dead letter.
    writer.append([position("later", at(3))])
    drain(hub)
    assert "later" in state_docs(store, "position")


def test_hub_killed_mid_batch_then_restarted_applies_everything_once(store, settings, tmp_path):
    writer = StreamWriter(store.client, store.keys, settings)
    rng = random.Random(7)
    entities = [f"unit-{i}" for i in range(3000)]
    batch = []
    for n in range(60_000):
        eid = rng.choice(entities)
        batch.append(
            position(
                eid,
                at(rng.uniform(0, 3600)),
                prov_code=rng.choice(PROVINCES),
                lat=50 + rng.random(),
                callsign=f"s{n}",
            )
        )
        if len(batch) == 5000:
            writer.append(batch)
            batch = []
    hub = cop_process(settings, tmp_path, "hub1", "hub", COP_HUB_BATCH="500").start()
    state = StateStore(store.client, store.keys)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and state.count("position") < 500:
        time.sleep(0.005)
    hub.kill()  # SIGKILL: no chance to finish or ack anything
    applied_before = state.count("position")
    assert applied_before > 0, hub.output()[-2000:]
    # The dead hub's unacked entries stay pending until a new hub reclaims them.
    second = cop_process(settings, tmp_path, "hub2", "hub").start()
    try:
        deadline = time.monotonic() + 90
        info = {}
        while time.monotonic() < deadline:
            info = next(g for g in store.client.xinfo_groups(store.keys.stream("position")))
            last = store.client.xinfo_stream(store.keys.stream("position"))["last-generated-id"]
            if info["pending"] == 0 and info["last-delivered-id"] == last:
                break
            time.sleep(0.2)
        assert info["pending"] == 0, second.output()[-2000:]
    finally:
        assert second.stop() == 0
    assert StateStore(store.client, store.keys).all_raw("position") == expected_state(store, "position")
    assert len(expected_state(store, "position")) == 3000
    assert store.client.xlen(store.keys.dlq("position")) == 0


def test_sigterm_finishes_the_batch_acks_and_exits_zero(store, settings, tmp_path):
    writer = StreamWriter(store.client, store.keys, settings)
    writer.append([position(f"u{i}", at(i)) for i in range(20_000)])
    hub = cop_process(settings, tmp_path, "hub", "hub").start()
    state = StateStore(store.client, store.keys)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and state.count("position") == 0:
        time.sleep(0.01)
    assert hub.process is not None
    hub.process.send_signal(signal.SIGTERM)
    assert hub.process.wait(timeout=20) == 0
    log = hub.output()
    assert "finishing the current batch" in log and "stopped" in log
    # Whatever it read, it applied and acked: nothing is left pending for a dead consumer.
    assert group_pending(store, "position") == 0


def test_a_killed_redis_keeps_every_acknowledged_entry(tmp_path, settings):
    from cop.store.connection import open_store
    from cop.store.embedded import EmbeddedRedis

    server = EmbeddedRedis(tmp_path / "own-redis")
    server.start()
    try:
        own = open_store(settings.model_copy(update={"redis_url": server.url}))
        writer = StreamWriter(own.client, own.keys, settings)
        ids = []
        for start in range(0, 20_000, 1000):
            ids += writer.append([position(f"u{i}", at(i)) for i in range(start, start + 1000)])
        server.kill()  # SIGKILL right after the last acknowledgement
        own.client.close()
        server.start()
        reopened = open_store(settings.model_copy(update={"redis_url": server.url}))
        reader = StreamReader(reopened.client, reopened.keys)
        assert [e.stream_id for e in reader.range("position")] == ids
        last = reader.range("position", start=ids[-1])[0].envelope()
        assert last.id == "u19999"
        reopened.client.close()
    finally:
        server.stop()


@pytest.mark.parametrize("kind", ["position"])
def test_stream_is_trimmed_approximately_to_its_maxlen(store, settings, kind):
    small = settings.model_copy(update={"stream_maxlen": {**settings.stream_maxlen, kind: 1000}})
    writer = StreamWriter(store.client, store.keys, small)
    for start in range(0, 5000, 500):
        writer.append([position(f"u{i}", at(i)) for i in range(start, start + 500)])
    length = store.client.xlen(store.keys.stream(kind))
    assert 1000 <= length < 5000


def test_status_reports_feeds_and_pending(store, settings):
    from cop.store.feeds import beat

    recorder = Recorder()
    hub = Hub(store, recorder, consumer="c1")
    hub.ensure_groups()
    beat(store.client, store.keys, "heartbeat", 15, {"at": at(0).isoformat()})
    hub.emit_status()
    event, room, status = recorder.sent[-1]
    assert (event, room) == ("status", "status")
    assert status["feeds"]["heartbeat"]["stale"] is True  # observed long ago
    assert status["pending"]["position"] == 0
    assert orjson.loads(store.client.hget(store.keys.hub_stats, "status"))["consumer"] == "c1"


def test_a_unit_leaving_a_province_departs_from_its_room_without_saying_where(store, settings):
    writer = StreamWriter(store.client, store.keys, settings)
    recorder = Recorder()
    hub = Hub(store, recorder, consumer="c1")
    writer.append([position("amb-5", at(1), prov_code="60000", lat=50.63, lon=5.58)])
    drain(hub)
    writer.append([position("amb-5", at(2), prov_code="10000", lat=51.21, lon=4.42)])
    drain(hub)
    liege = [i for d in recorder.deltas("province:60000/position") for i in delta_items(d)]
    assert [i["data"].get("deleted", False) for i in liege] == [False, True]
    assert liege[1]["id"] == "amb-5"
    assert "lat" not in liege[1]["data"] and "prov_code" not in liege[1]["data"]
    antwerp = [i for d in recorder.deltas("province:10000/position") for i in delta_items(d)]
    assert [(i["id"], i["data"]["prov_code"]) for i in antwerp] == [("amb-5", "10000")]
    # The stored state is the real position; the departure only went to the old room.
    assert state_docs(store, "position")["amb-5"]["data"]["prov_code"] == "10000"
    # Moving within a province sends no departure.
    writer.append([position("amb-5", at(3), prov_code="10000", lat=51.22, lon=4.43)])
    drain(hub)
    assert len(recorder.deltas("province:60000/position")) == 2


def test_the_unparsed_view_of_a_province_equals_the_parsed_one(store, settings):
    writer = StreamWriter(store.client, store.keys, settings)
    writer.append(
        [position(f"u{i}", at(i), prov_code=PROVINCES[i % len(PROVINCES)]) for i in range(60)]
        + [position("national-unit", at(61), prov_code=None)]
    )
    drain(Hub(store, Recorder(), consumer="c"))
    state = store.keys.state("position")
    # Spanning two provinces: one applied by the hub (order entry), one written without an entry.
    spanning = {"id": "span", "observed_at": at(70).isoformat(), "data": {"prov_code": "10000"}}
    spanning["data"]["prov_codes"] = ["10000", "60000"]
    store.client.hset(state, "span", orjson.dumps(spanning))
    store.client.hset(store.keys.state_order("position"), "span", "x|10000")
    store.client.hset(state, "orphan", orjson.dumps({**spanning, "id": "orphan"}))
    states = StateStore(store.client, store.keys)
    for scope in ({"60000"}, {"10000"}, {"40000", "70000"}):

        def can_read(prov, scope=scope):
            return prov is None or prov in scope

        unparsed = sorted(orjson.loads(raw)["id"] for raw in states.visible_raw("position", can_read))
        parsed = [orjson.loads(raw) for raw in store.client.hvals(state)]
        assert unparsed == sorted(
            d["id"]
            for d in parsed
            if can_read(d["data"].get("prov_code")) or any(map(can_read, d["data"].get("prov_codes") or ()))
        )
        assert "national-unit" in unparsed
        assert ("span" in unparsed) == bool(scope & {"10000", "60000"})
        assert ("orphan" in unparsed) == bool(scope & {"10000", "60000"})
