"""Readings, plume runs and intervention zones through the API, against real Redis and the hub."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import shapely.geometry

from cop.domain.envelope import Envelope
from cop.domain.incidents import IncidentPayload
from cop.domain.users import Role
from cop.feeds.chem import DEMO_INCIDENT_ID, ChemFeed
from cop.geo.zones import circle
from cop.hub.worker import Hub
from cop.store.audit import read_audit
from cop.store.state import StateStore
from cop.store.streams import StreamWriter
from cop.store.users import UserStore
from tests.conftest import PASSWORD
from tests.integration.helpers import Recorder, drain
from tests.integration.helpers import login as form_login

TESSENDERLO = (51.065, 5.08)
LIMBURG, ANTWERP, LIEGE = "70000", "10000", "60000"


@pytest.fixture
def token(store):
    return UserStore(store.client, store.keys).add_token("drone-gateway")


@pytest.fixture
def hub(settings, store):
    return Hub(store, Recorder(), consumer="c")


def login(app, username):
    client = app.server.test_client()
    assert form_login(client, username).status_code == 302
    return client


@pytest.fixture
def users(store):
    users = UserStore(store.client, store.keys)
    users.add("limburg", PASSWORD, Role.COORDINATOR, provinces={LIMBURG})
    users.add("liege", PASSWORD, Role.COORDINATOR, provinces={LIEGE})
    users.add("analyst", PASSWORD, Role.ANALYST)
    return users


@pytest.fixture
def incident(store, settings, hub):
    lat, lon = TESSENDERLO
    envelope = Envelope.build(
        kind="incident",
        entity_id="inc-1",
        source="test",
        observed_at=datetime.now(UTC),
        exercise=True,
        data=IncidentPayload(
            title="Chlorine release", incident_type="chemical release", lat=lat, lon=lon, prov_code=LIMBURG
        ),
    )
    StreamWriter(store.client, store.keys, settings).append([envelope])
    drain(hub, "incident")
    return envelope


def reading(**extra):
    lat, lon = TESSENDERLO
    return {
        "platform_id": "DRONE-1",
        "sensor_id": "cl2",
        "observed_at": datetime.now(UTC).isoformat(),
        "lat": lat + 0.01,
        "lon": lon + 0.01,
        "alt_msl_m": 70.0,
        "alt_agl_m": 30.0,
        "substance": "chlorine",
        "value": 0.7,
        "unit": "ppm",
        "sensor_type": "electrochemical",
        "status": "ok",
        **extra,
    }


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_readings_are_converted_alarmed_placed_and_bad_ones_named(app, token, store, hub):
    client = app.server.test_client()
    future = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    body = [
        reading(),
        reading(sensor_id="cl2-b", value=2.9, unit="mg/m³"),  # 1.0 ppm: high alarm
        reading(sensor_id="nh3", substance="NH3", value=500, unit="ppb"),  # 0.5 ppm: no alarm
        reading(sensor_id="bad", unit="grains"),
        reading(sensor_id="neg", value=-1),
        reading(sensor_id="late", observed_at=future),
        reading(
            sensor_id="o2",
            substance="oxygen",
            value=18.9,
            unit="%vol",
            platform={"callsign": "DRONE 1", "heading_deg": 90},
        ),
    ]
    response = client.post("/api/v1/readings", json=body, headers=bearer(token))
    assert response.status_code == 200
    assert response.json["accepted"] == 4
    assert [(r["index"], r["errors"][0]["field"]) for r in response.json["rejected"]] == [
        (3, "unit"),
        (4, "value"),
        (5, "observed_at"),
    ]
    drain(hub, "chem")
    drain(hub, "position")
    state = StateStore(store.client, store.keys)
    cl2 = state.get("chem", "DRONE-1/cl2").data
    assert (cl2["alarm"], cl2["value_ppm"], cl2["prov_code"]) == ("low", 0.7, LIMBURG)
    high = state.get("chem", "DRONE-1/cl2-b").data
    assert high["alarm"] == "high" and high["value_ppm"] == pytest.approx(1.0, abs=0.01)
    nh3 = state.get("chem", "DRONE-1/nh3").data
    assert nh3["substance_key"] == "ammonia" and nh3["alarm"] == "none" and nh3["value_ppm"] == 0.5
    oxygen = state.get("chem", "DRONE-1/o2").data
    assert oxygen["alarm"] == "low"  # deficiency below 19.5 %vol
    # The reading that came with its platform's report moved the platform on the map.
    drone = state.get("position", "DRONE-1").data
    assert drone["callsign"] == "DRONE 1" and drone["lat"] == pytest.approx(TESSENDERLO[0] + 0.01)


def test_reading_history_filters_by_platform_and_scope(app, token, store, users):
    client = app.server.test_client()
    antwerp = {"lat": 51.2172, "lon": 4.4211}
    body = [reading(), reading(platform_id="DRONE-2", **antwerp), reading(value=0.9)]
    assert client.post("/api/v1/readings", json=body, headers=bearer(token)).json["accepted"] == 3
    history = client.get("/api/v1/readings?platform=DRONE-1", headers=bearer(token)).json
    assert [i["data"]["value"] for i in history["items"]] == [0.7, 0.9]  # oldest first
    liege = login(app, "liege")
    assert liege.get("/api/v1/readings").json["count"] == 0  # nothing in Liège
    limburg = login(app, "limburg")
    assert {i["data"]["platform_id"] for i in limburg.get("/api/v1/readings").json["items"]} == {"DRONE-1"}
    bad = client.get("/api/v1/readings?minutes=abc", headers=bearer(token))
    assert bad.status_code == 400 and bad.json["errors"][0]["field"] == "minutes"


def plume_request(**release):
    lat, lon = TESSENDERLO
    return {
        "release_id": "cl2-leak",
        "incident_id": "inc-1",
        "release": {
            "lat": lat,
            "lon": lon,
            "substance": "chlorine",
            "rate_g_s": 800,
            "height_m": 2,
            **release,
        },
        "weather": {"wind_speed_ms": 3.0, "wind_from_deg": 250, "sky": "overcast"},
    }


def test_a_coordinator_runs_a_plume_and_makes_zones_from_it(app, store, users, incident, hub):
    limburg = login(app, "limburg")
    response = limburg.post("/api/v1/plumes", json=plume_request())
    assert response.status_code == 201, response.json
    plume = response.json["data"]
    assert plume["stability"] == "D" and plume["rate_source"] == "entered"
    levels = [f["properties"]["name"] for f in plume["zones"]["features"]]
    assert levels == ["AEGL-1", "AEGL-2", "AEGL-3"]
    assert LIMBURG in plume["prov_codes"]
    drain(hub, "chem")

    made = limburg.post(
        "/api/v1/zones/from-plume", json={"incident_id": "inc-1", "plume_id": response.json["id"]}
    )
    assert made.status_code == 201
    assert sorted(made.json["ids"]) == ["inc-1/plume/orange", "inc-1/plume/red", "inc-1/plume/yellow"]
    drain(hub, "zone")
    zones = {z["id"]: z for z in limburg.get("/api/v1/zones?incident=inc-1").json["items"]}
    red = zones["inc-1/plume/red"]["data"]
    # The model stops 100 m from the source; the red zone still holds the source.
    assert shapely.geometry.shape(red["geometry"]).contains(
        shapely.geometry.Point(TESSENDERLO[1], TESSENDERLO[0])
    )
    assert red["origin"] == "plume" and red["author"] == "limburg" and red["incident_id"] == "inc-1"
    assert "Tessenderlo-Ham" in {m["name"] for m in red["inside"]["municipalities"]}
    yellow = shapely.geometry.shape(zones["inc-1/plume/yellow"]["data"]["geometry"])
    assert yellow.contains(shapely.geometry.shape(red["geometry"]).buffer(-1e-5))
    actions = [(a["actor"], a["action"]) for a in read_audit(store.client, store.keys, 10)]
    assert ("limburg", "zone.from_plume") in actions and ("limburg", "plume.run") in actions


def test_drawn_zones_are_checked_audited_edited_deleted_and_count_units(
    app, store, users, incident, hub, token
):
    limburg = login(app, "limburg")
    lat, lon = TESSENDERLO
    square = {
        "type": "Polygon",
        "coordinates": [
            [
                [lon - 0.01, lat - 0.01],
                [lon + 0.01, lat - 0.01],
                [lon + 0.01, lat + 0.01],
                [lon - 0.01, lat + 0.01],
                [lon - 0.01, lat - 0.01],
            ]
        ],
    }
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[5.0, 51.0], [5.1, 51.1], [5.1, 51.0], [5.0, 51.1], [5.0, 51.0]]],
    }
    bad = [
        ({"incident_id": "inc-1", "zone_type": "purple", "geometry": square}, "zone_type"),
        ({"incident_id": "inc-1", "zone_type": "red", "geometry": bowtie}, "geometry"),
        (
            {
                "incident_id": "inc-1",
                "zone_type": "red",
                "geometry": {"type": "Point", "coordinates": [5, 51]},
            },
            "geometry",
        ),
        (
            {
                "incident_id": "inc-1",
                "zone_type": "red",
                "geometry": {"type": "Polygon", "coordinates": [[[51.0, 5.0]]]},
            },
            "geometry",
        ),
        ({"incident_id": "nope", "zone_type": "red", "geometry": square}, "incident_id"),
    ]
    before = store.client.xlen(store.keys.stream("zone"))
    for body, field in bad:
        response = limburg.post("/api/v1/zones", json=body)
        assert response.status_code == 400, body
        assert response.json["errors"][0]["field"] == field, response.json
    assert store.client.xlen(store.keys.stream("zone")) == before  # nothing changed

    created = limburg.post(
        "/api/v1/zones", json={"incident_id": "inc-1", "zone_type": "red", "geometry": square}
    )
    assert created.status_code == 201
    zone_id = created.json["id"]
    # 0.02° × 0.02° at 51° N
    assert created.json["data"]["area_km2"] == pytest.approx(1.399 * 2.224, rel=0.01)
    # Units: two inside (D1, D2), one outside.
    positions = [
        {
            "id": "in-1",
            "callsign": "A",
            "discipline": "D1",
            "unit_type": "x",
            "status": "on_scene",
            "lat": lat,
            "lon": lon,
        },
        {
            "id": "in-2",
            "callsign": "B",
            "discipline": "D2",
            "unit_type": "x",
            "status": "on_scene",
            "lat": lat + 0.005,
            "lon": lon,
        },
        {
            "id": "out",
            "callsign": "C",
            "discipline": "D1",
            "unit_type": "x",
            "status": "on_scene",
            "lat": lat + 0.1,
            "lon": lon,
        },
    ]
    now = datetime.now(UTC).isoformat()
    app.server.test_client().post(
        "/api/v1/positions", json=[{**p, "observed_at": now} for p in positions], headers=bearer(token)
    )
    drain(hub, "position")
    drain(hub, "zone")
    listed = {z["id"]: z for z in limburg.get("/api/v1/zones").json["items"]}
    assert listed[zone_id]["units_inside"] == {"D1": 1, "D2": 1}

    # Others may look but not touch; a token may not change zones at all.
    liege = login(app, "liege")
    assert liege.patch(f"/api/v1/zones/{zone_id}", json={"label": "x"}).status_code == 403
    assert login(app, "analyst").delete(f"/api/v1/zones/{zone_id}").status_code == 403
    assert app.server.test_client().post("/api/v1/zones", json={}, headers=bearer(token)).status_code == 403

    bigger = circle(lon, lat, 2000.0)
    edited = limburg.patch(
        f"/api/v1/zones/{zone_id}", json={"geometry": shapely.geometry.mapping(bigger), "label": "Dir-CP-Ops"}
    )
    assert edited.status_code == 200 and edited.json["data"]["label"] == "Dir-CP-Ops"
    assert edited.json["data"]["area_km2"] == pytest.approx(3.1416 * 4, rel=0.01)  # measured in metres
    assert limburg.delete(f"/api/v1/zones/{zone_id}").status_code == 200
    drain(hub, "zone")
    assert zone_id not in {z["id"] for z in limburg.get("/api/v1/zones").json["items"]}
    actions = [a["action"] for a in read_audit(store.client, store.keys, 10) if a["target"] == zone_id]
    assert actions == ["zone.delete", "zone.update", "zone.create"]


def test_buffers_are_circles_in_metres_and_refuse_bad_radii(app, users, incident, hub):
    limburg = login(app, "limburg")
    bad = limburg.post(
        "/api/v1/zones/buffers", json={"incident_id": "inc-1", "radii_m": {"red": 2000, "orange": 500}}
    )
    assert bad.status_code == 400 and bad.json["errors"][0]["field"] == "radii_m"
    bad = limburg.post("/api/v1/zones/buffers", json={"incident_id": "inc-1", "radii_m": {"red": "far"}})
    assert bad.json["errors"][0]["field"] == "radii_m.red"
    made = limburg.post(
        "/api/v1/zones/buffers",
        json={"incident_id": "inc-1", "radii_m": {"red": 300, "orange": 1000, "yellow": 2500}},
    )
    assert made.status_code == 201
    drain(hub, "zone")
    zones = {z["data"]["zone_type"]: z["data"] for z in limburg.get("/api/v1/zones").json["items"]}
    assert zones["red"]["area_km2"] == pytest.approx(3.14159 * 0.09, rel=0.01)
    assert zones["yellow"]["area_km2"] == pytest.approx(3.14159 * 6.25, rel=0.01)
    assert zones["yellow"]["origin"] == "buffer" and zones["yellow"]["radius_m"] == 2500


def test_a_zone_crossing_a_border_reaches_both_provinces(app, store, users, incident, hub):
    """A zone of a Limburg incident that reaches into Antwerp is seen by Antwerp's coordinator."""
    UserStore(store.client, store.keys).add("antwerp", PASSWORD, Role.COORDINATOR, provinces={ANTWERP})
    limburg = login(app, "limburg")
    _lat, _lon = TESSENDERLO
    made = limburg.post("/api/v1/zones/buffers", json={"incident_id": "inc-1", "radii_m": {"yellow": 8000}})
    assert made.status_code == 201
    drain(hub, "zone")
    antwerp = login(app, "antwerp")
    seen = antwerp.get("/api/v1/state/zone").json["items"]
    assert [z["id"] for z in seen] == ["inc-1/buffer/yellow"]
    assert ANTWERP in seen[0]["data"]["prov_codes"]
    assert login(app, "liege").get("/api/v1/state/zone").json["count"] == 0
    assert hub.emitter.deltas(f"province:{ANTWERP}/zone")  # and it was pushed to Antwerp live


def test_the_simulator_estimates_the_rate_and_its_zones_follow_the_plume(settings, store, hub):
    """The demo: readings from the plume plus noise; the estimate lands near the true rate."""
    feed = ChemFeed(store, simulate=True)
    start = datetime.now(UTC) - timedelta(minutes=5)
    feed.started_at = start
    # Five minutes of flight, a reading a second, written as the feed loop would.
    for second in range(300):
        now = start + timedelta(seconds=second)
        envelopes = feed.tick(now)
        feed.writer.append(envelopes)
        feed.ticks += 1
    drain(hub, "incident")
    drain(hub, "chem")
    drain(hub, "position")
    feed.run_plume(start + timedelta(seconds=300))
    drain(hub, "chem")
    state = StateStore(store.client, store.keys)
    plume = state.get("chem", "plume/demo-tessenderlo-cl2").data
    assert plume["rate_source"] == "estimated"
    assert plume["rate_g_s"] == pytest.approx(feed.release.rate_g_s, rel=0.15)
    assert plume["fit"]["readings_used"] > 200
    feed.follow_zones(start + timedelta(seconds=301))
    drain(hub, "zone")
    zone = state.get("zone", f"{DEMO_INCIDENT_ID}/plume/red")
    assert zone is not None and zone.exercise and zone.data["author"] == "simulator"
    assert state.get("position", "DRONE-LIM-01") is not None
