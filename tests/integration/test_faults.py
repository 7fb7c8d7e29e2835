"""Fault drills against a Redis of the test's own, killed and restarted."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from cop.app import create_app
from cop.store.connection import open_store
from cop.store.embedded import EmbeddedRedis
from cop.store.users import UserStore


def unit(unit_id: str) -> dict[str, object]:
    return {
        "id": unit_id,
        "callsign": unit_id,
        "discipline": "D1",
        "unit_type": "x",
        "status": "available",
        "lat": 50.85,
        "lon": 4.35,
        "observed_at": datetime.now(UTC).isoformat(),
    }


def test_redis_away_ingest_answers_503_quickly_and_recovers_without_losing_anything(tmp_path, settings):
    server = EmbeddedRedis(tmp_path / "own-redis")
    server.start()
    try:
        own = settings.model_copy(update={"redis_url": server.url})
        store = open_store(own)
        app = create_app(own, store)
        token = UserStore(store.client, store.keys).add_token("fault-drill")
        client = app.server.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        assert client.post("/api/v1/positions", json=[unit("before")], headers=headers).status_code == 200

        server.kill()
        answers = []
        for i in range(5):  # Redis is away for a while: every answer is a quick 503, never a 500 or a hang
            started = time.monotonic()
            response = client.post("/api/v1/positions", json=[unit(f"away{i}")], headers=headers)
            answers.append((response.status_code, time.monotonic() - started))
            assert response.headers.get("Retry-After") == "5"
            assert "nothing was saved" in response.json["message"]
            time.sleep(0.5)
        assert all(status == 503 and seconds < 6 for status, seconds in answers), answers
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json["status"] == "unavailable"

        server.start()
        deadline = time.monotonic() + 15
        while True:
            response = client.post("/api/v1/positions", json=[unit("after")], headers=headers)
            if response.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert response.status_code == 200
        ids = [fields[b"e"] for _sid, fields in store.client.xrange(store.keys.stream("position"))]
        assert [b'"id":"before"' in ids[0], b'"id":"after"' in ids[-1], len(ids)] == [True, True, 2]
    finally:
        server.stop()
