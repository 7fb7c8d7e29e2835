"""Changes are batched: one delta per kind and room per flush, latest change per entity."""

import orjson

from cop.domain.rooms import rooms_for_entity
from cop.hub.deltas import DELTA_EVENT, DeltaBatcher, delta_items


class Recorder:
    def __init__(self):
        self.sent = []

    def emit(self, event, data, room):
        self.sent.append((event, room, data))


def counter():
    seqs = {}

    def next_seqs(channels):
        result = []
        for channel in channels:
            seqs[channel] = seqs.get(channel, 0) + 1
            result.append(seqs[channel])
        return result

    return next_seqs


def test_one_delta_per_kind_and_room_with_the_latest_item_per_entity():
    recorder = Recorder()
    batcher = DeltaBatcher(recorder, counter())
    for i in range(100):
        batcher.add("position", "amb-1", orjson.dumps({"id": "amb-1", "n": i}), rooms_for_entity("60000"))
    batcher.add("position", "amb-2", b'{"id": "amb-2"}', rooms_for_entity("10000"))
    batcher.add("hospital", "h-1", b'{"id": "h-1"}', rooms_for_entity(None))
    assert batcher.flush() == 5
    rooms = sorted(room for _, room, _ in recorder.sent)
    assert rooms == [
        "global/hospital",
        "national/hospital",
        "national/position",
        "province:10000/position",
        "province:60000/position",
    ]
    national = next(d for _, r, d in recorder.sent if r == "national/position")
    assert national["kind"] == "position" and national["room"] == "national"
    assert [item["id"] for item in delta_items(national)] == ["amb-1", "amb-2"]
    assert delta_items(national)[0]["n"] == 99
    assert national["count"] == 2
    liege = next(d for _, r, d in recorder.sent if r == "province:60000/position")
    assert [item["id"] for item in delta_items(liege)] == ["amb-1"]
    assert all(event == DELTA_EVENT for event, _, _ in recorder.sent)


def test_sequence_numbers_increase_per_channel_and_empty_flushes_send_nothing():
    recorder = Recorder()
    batcher = DeltaBatcher(recorder, counter())
    assert batcher.flush() == 0
    for _ in range(3):
        batcher.add("position", "a", b'{"id": "a"}', ("national",))
        batcher.flush()
    assert [d["seq"] for _, _, d in recorder.sent] == [1, 2, 3]
    assert len(batcher) == 0


def test_each_flush_records_how_long_its_oldest_change_waited_since_ingest():
    from datetime import UTC, datetime, timedelta

    batcher = DeltaBatcher(Recorder(), counter())
    assert batcher.latency() == {"n": 0}
    now = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
    for waited_ms in (100, 300, 200):
        batcher.add("position", "a", b'{"id": "a"}', ("national",), now - timedelta(milliseconds=waited_ms))
        batcher.add("position", "b", b'{"id": "b"}', ("national",), now - timedelta(milliseconds=50))
        batcher.flush(now)
    batcher.flush(now)  # nothing pending: no figure
    assert batcher.latency() == {"n": 3, "p50": 0.2, "p95": 0.3, "max": 0.3}
