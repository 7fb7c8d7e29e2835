"""Operations endpoints: readiness follows the hub, metrics read the system from Redis."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from cop.hub.worker import Hub
from cop.store.users import UserStore
from tests.integration.helpers import Recorder, drain, position


def test_readiness_follows_the_hub_and_needs_no_login(app, store):
    client = app.server.test_client()
    silent = client.get("/readyz")
    assert silent.status_code == 503
    assert silent.json["checks"]["redis"] == "ok" and silent.json["checks"]["hub"]["state"] == "silent"
    Hub(store, Recorder(), consumer="c").emit_status()
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["status"] == "ready"
    assert ready.json["checks"]["hub"]["lag_s"] == {}  # no stream yet: nothing to be behind on
    assert ready.json["checks"]["hub"]["age_s"] < 5


def test_metrics_need_a_token_and_count_streams_and_ingest(app, store, settings):
    client = app.server.test_client()
    assert client.get("/metrics").status_code == 401
    token = UserStore(store.client, store.keys).add_token("prometheus")
    body = [
        {
            "id": "m1",
            "callsign": "M1",
            "discipline": "D1",
            "unit_type": "x",
            "status": "available",
            "lat": 50.85,
            "lon": 4.35,
            "observed_at": datetime.now(UTC).isoformat(),
        },
        {"id": "bad", "lat": 200},
    ]
    client.post("/api/v1/positions", json=body, headers={"Authorization": f"Bearer {token}"})
    from cop.store.streams import StreamWriter

    StreamWriter(store.client, store.keys, settings).append([position("p2", datetime.now(UTC))])
    hub = Hub(store, Recorder(), consumer="c")
    drain(hub)
    hub.emit_status()
    text = client.get("/metrics", headers={"Authorization": f"Bearer {token}"}).get_data(as_text=True)
    assert 'cop_stream_entries{kind="position"} 2.0' in text
    assert 'cop_api_items_total{endpoint="positions",outcome="accepted"}' in text
    assert 'cop_api_items_total{endpoint="positions",outcome="rejected"}' in text
    assert 'cop_dlq_entries{kind="position"} 0.0' in text
    assert "cop_socket_clients" in text
    assert 'cop_hub_pending{kind="position"} 0.0' in text
    assert 'cop_hub_lag_seconds{kind="position"} 0.0' in text  # drained: caught up
    latency = re.search(r'cop_delta_latency_seconds\{quantile="0.95"\} ([0-9.e+-]+)', text)
    assert latency and 0 <= float(latency.group(1)) < 30, text


def test_hub_lag_is_the_age_gap_between_the_newest_entry_and_the_last_one_read(app, store):
    from cop.api.ops import hub_lag

    stream = store.keys.stream("position")
    store.client.xgroup_create(stream, "hub", id="0", mkstream=True)
    store.client.xadd(stream, {"e": b"{}"}, id="1000-0")
    store.client.xreadgroup("hub", "c", {stream: ">"}, count=1)
    store.client.xadd(stream, {"e": b"{}"}, id="4500-0")
    assert hub_lag(store)["position"] == 3.5
    Hub(store, Recorder(), consumer="c").emit_status()
    client = app.server.test_client()
    store.client.xadd(stream, {"e": b"{}"}, id="40000-0")  # 39 s newer than what the hub read
    lagging = client.get("/readyz")
    assert lagging.status_code == 503 and lagging.json["checks"]["hub"]["state"] == "lagging"
    store.client.xreadgroup("hub", "c", {stream: ">"}, count=5)
    assert hub_lag(store)["position"] == 0.0
    assert client.get("/readyz").status_code == 200
