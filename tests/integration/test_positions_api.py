"""POST /api/v1/positions against real Redis: per-item outcome, province placement, limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cop.app import create_app
from cop.hub.worker import Hub
from cop.store.state import StateStore
from cop.store.users import UserStore
from tests.integration.helpers import Recorder, drain


@pytest.fixture
def client(settings, store):
    return create_app(settings, store).server.test_client()


@pytest.fixture
def token(store):
    return UserStore(store.client, store.keys).add_token("avl-gateway")


def observation(unit_id: str, lat: float, lon: float, **extra):
    return {
        "id": unit_id,
        "callsign": unit_id.upper(),
        "discipline": "D1",
        "unit_type": "fire engine",
        "status": "en_route",
        "lat": lat,
        "lon": lon,
        "observed_at": datetime.now(UTC).isoformat(),
        **extra,
    }


def post(client, token, body, **kwargs):
    return client.post("/api/v1/positions", json=body, headers={"Authorization": f"Bearer {token}"}, **kwargs)


def test_good_items_are_stored_with_their_province_and_bad_ones_reported(client, token, store):
    future = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
    body = [
        observation("liege-1", 50.6326, 5.5797),
        observation("bad-lat", 91.0, 5.0),
        observation("antwerp-1", 51.2172, 4.4211, speed_kmh=72.5, heading_deg=90),
        observation("late", 50.85, 4.35, observed_at=future),
        observation("abroad-1", 52.37, 4.9),
    ]
    response = post(client, token, body)
    assert response.status_code == 200
    result = response.json
    assert result["accepted"] == 3
    assert [(r["index"], r["id"], r["errors"][0]["field"]) for r in result["rejected"]] == [
        (1, "bad-lat", "lat"),
        (3, "late", "observed_at"),
    ]
    assert "future" in result["rejected"][1]["errors"][0]["problem"]
    drain(Hub(store, Recorder(), consumer="c"))
    state = StateStore(store.client, store.keys).all("position")
    assert set(state) == {"liege-1", "antwerp-1", "abroad-1"}
    assert state["liege-1"].data["prov_code"] == "60000"
    assert state["liege-1"].data["nis_code"] == "62063"
    assert state["antwerp-1"].data["prov_code"] == "10000"
    assert state["abroad-1"].data["prov_code"] is None
    assert state["antwerp-1"].source == "avl-gateway"


def test_all_items_bad_is_422_and_nothing_is_stored(client, token, store):
    response = post(client, token, [observation("x", 0, 200), {"id": "y"}])
    assert response.status_code == 422
    assert len(response.json["rejected"]) == 2
    assert store.client.xlen(store.keys.stream("position")) == 0


@pytest.mark.parametrize(
    ("data", "field"),
    [(b"{not json", "body"), (b'{"positions": 3}', "body"), (b"", "body")],
)
def test_unreadable_bodies_get_400_naming_the_problem(client, token, store, data, field):
    response = client.post(
        "/api/v1/positions",
        data=data,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400
    assert response.json["errors"][0]["field"] == field
    assert store.client.exists(store.keys.stream("position")) == 0


def test_more_than_the_batch_limit_is_refused_whole(client, token, store, settings):
    items = [observation(f"u{i}", 50.5, 4.5) for i in range(settings.api_max_batch + 1)]
    response = post(client, token, items)
    assert response.status_code == 400
    assert response.json["errors"][0]["field"] == "items"
    assert store.client.exists(store.keys.stream("position")) == 0


def test_a_full_batch_of_ten_thousand_is_accepted(client, token, store):
    items = [observation(f"u{i}", 49.6 + (i % 100) * 0.019, 2.6 + (i // 100) * 0.036) for i in range(10_000)]
    response = post(client, token, {"items": items})
    assert response.status_code == 200
    assert response.json["accepted"] == 10_000
    assert store.client.xlen(store.keys.stream("position")) == 10_000


def test_positions_need_a_token_even_with_a_session(client):
    response = client.post("/api/v1/positions", json=[])
    assert response.status_code == 401
