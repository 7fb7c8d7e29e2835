"""The chemical incident on the live map, in headless Chromium, through the real API and hub:
readings and the drone's track, the chart, the plume, and zones drawn, seen live by another
viewer, counted, edited and deleted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
import shapely.geometry

from cop.domain.chem import PlumeRequest
from cop.domain.envelope import Envelope
from cop.domain.incidents import IncidentPayload
from cop.domain.users import Role
from cop.feeds.chem import PlumeRuns
from cop.layouts.ids import Ids, selector
from cop.store.state import StateStore
from cop.store.streams import StreamWriter
from cop.store.users import UserStore
from tests.browser.test_map import open_map, post_positions, unit
from tests.conftest import PASSWORD

SOURCE = (51.065, 5.08)  # lat, lon
LIMBURG = "70000"


@pytest.fixture
def token(store):
    return UserStore(store.client, store.keys).add_token("drone-test")


@pytest.fixture
def people(store):
    users = UserStore(store.client, store.keys)
    users.add("limburg", PASSWORD, Role.COORDINATOR, provinces=frozenset({LIMBURG}))
    users.add("analyst", PASSWORD, Role.ANALYST)


@pytest.fixture
def incident(store, settings, hub_proc):
    lat, lon = SOURCE
    payload = IncidentPayload(
        title="Chlorine release", incident_type="chemical release", lat=lat, lon=lon, prov_code=LIMBURG
    )
    envelope = Envelope.build(
        kind="incident", entity_id="inc-1", source="test", observed_at=datetime.now(UTC), data=payload
    )
    StreamWriter(store.client, store.keys, settings).append([envelope])
    state = StateStore(store.client, store.keys)
    deadline = datetime.now(UTC) + timedelta(seconds=20)
    while state.get("incident", "inc-1") is None:
        assert datetime.now(UTC) < deadline, "the hub did not apply the incident"
    return envelope


def readings(n: int, start: datetime):
    """A drone sweeping across the wind 1 km east of the source, peaking above the high alarm."""
    lat, lon = SOURCE
    items = []
    for i in range(n):
        value = 1.6 if i == n - 1 else 0.1 + 0.05 * i
        items.append(
            {
                "platform_id": "DRONE-T1",
                "sensor_id": "cl2",
                "observed_at": (start + timedelta(seconds=i)).isoformat(),
                "lat": lat - 0.004 + 0.0008 * i,
                "lon": lon + 0.015,
                "alt_agl_m": 30,
                "substance": "chlorine",
                "value": value,
                "unit": "ppm",
                "sensor_type": "electrochemical",
                "platform": {"callsign": "DRONE T1"},
            }
        )
    return items


def test_readings_track_chart_and_plume_reach_the_map(
    store, web, hub_proc, people, incident, token, new_page
):
    start = datetime.now(UTC) - timedelta(seconds=30)
    response = requests.post(
        f"{web.url}/api/v1/readings",
        json=readings(10, start),
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.json()["accepted"] == 10
    request = PlumeRequest.model_validate(
        {
            "release_id": "cl2",
            "incident_id": "inc-1",
            "release": {"lat": SOURCE[0], "lon": SOURCE[1], "substance": "chlorine", "rate_g_s": 500},
            "weather": {"wind_speed_ms": 3, "wind_from_deg": 270, "stability": "D"},
        }
    )
    PlumeRuns(store).save(request, actor="limburg", source="test", now=datetime.now(UTC))

    browser = open_map(new_page, web, "analyst")
    page = browser.page
    page.wait_for_function("COP.chem && COP.chem.plumes.size === 1", timeout=15_000)
    # The track holds the history (the snapshot alone has only the latest reading per sensor).
    page.wait_for_function(
        "COP.chem.platforms.get('DRONE-T1') && COP.chem.platforms.get('DRONE-T1').points.length === 10"
    )
    label = page.locator(".reading-label", has_text="DRONE-T1")
    assert "1.60 ppm" in label.inner_text()
    assert "alarm-high" in label.get_attribute("class")
    # One more reading arrives live and extends the track.
    more = readings(11, start)[-1:]
    more[0].update(value=0.2, observed_at=datetime.now(UTC).isoformat())
    requests.post(
        f"{web.url}/api/v1/readings", json=more, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    page.wait_for_function("COP.chem.platforms.get('DRONE-T1').points.length === 11", timeout=10_000)
    page.wait_for_selector(".reading-label.alarm-none", timeout=5_000)

    page.click(f"{selector(Ids.CHEM_PLATFORMS)} li[data-platform='DRONE-T1']")
    page.wait_for_selector(f"{selector(Ids.CHEM_CHART)} .scatterlayer .trace", timeout=10_000)
    assert page.locator(f"{selector(Ids.CHEM_CHART)} .gtitle").text_content().startswith("DRONE-T1")
    summary = page.locator(selector(Ids.PLUME_SUMMARY)).inner_text()
    assert "500 g/s, entered" in summary and "AEGL-3 20 ppm" in summary
    # An analyst may look but gets no drawing tools and no forms.
    assert page.locator(".leaflet-draw").count() == 0
    assert page.locator(selector(Ids.PLUME_RUN)).count() == 0
    page.evaluate(f"COP.liveMap.map.setView([{SOURCE[0]}, {SOURCE[1] + 0.02}], 13) && null")
    page.wait_for_timeout(800)
    browser.screenshot("chem-readings-plume")
    assert browser.errors == []


def map_point(page, lat, lon):
    """Page coordinates of a map position."""
    point = page.evaluate(
        """([lat, lon]) => {
            const p = COP.liveMap.map.latLngToContainerPoint([lat, lon]);
            const r = COP.liveMap.map.getContainer().getBoundingClientRect();
            return [r.left + p.x, r.top + p.y];
        }""",
        [lat, lon],
    )
    return point[0], point[1]


def test_a_coordinator_draws_a_zone_everyone_sees_it_live_with_the_units_inside(
    store, web, hub_proc, people, incident, token, new_page
):
    viewer = open_map(new_page, web, "analyst")
    coordinator = open_map(new_page, web, "limburg")
    page = coordinator.page
    lat, lon = SOURCE
    page.evaluate(f"COP.liveMap.map.setView([{lat}, {lon}], 14) && null")
    page.wait_for_timeout(500)
    page.check(f"{selector(Ids.ZONE_TYPE)} input[value='orange']")

    # Draw a square of about 1.4 km x 1.1 km around the source with Leaflet.draw.
    page.click(".leaflet-draw-draw-polygon")
    corners = [
        (lat + 0.005, lon - 0.01),
        (lat + 0.005, lon + 0.01),
        (lat - 0.005, lon + 0.01),
        (lat - 0.005, lon - 0.01),
    ]
    for corner in corners:
        x, y = map_point(page, *corner)
        page.mouse.click(x, y)
        page.wait_for_timeout(150)
    x, y = map_point(page, *corners[0])
    page.mouse.click(x, y)  # close the ring

    page.wait_for_selector(f"{selector(Ids.ZONE_MESSAGE)} .save-ok", timeout=10_000)
    page.wait_for_function("COP.chem.zones.size === 1", timeout=10_000)
    viewer.page.wait_for_function("COP.chem.zones.size === 1", timeout=10_000)  # pushed to every viewer
    zones = StateStore(store.client, store.keys).all("zone")
    (zone,) = zones.values()
    assert zone.data["zone_type"] == "orange" and zone.data["author"] == "limburg"
    shape = shapely.geometry.shape(zone.data["geometry"])
    assert shape.contains(shapely.geometry.Point(lon, lat))
    assert zone.data["area_km2"] == pytest.approx(0.02 * 70.0 * 0.01 * 111.2, rel=0.05)
    # The drawing layer was cleared: only the stored zone remains on the map.
    drafts = "document.querySelectorAll('.leaflet-overlay-pane path[stroke=\"#3388ff\"]').length"
    assert page.evaluate(drafts) == 0

    # Units inside, live: one D2 inside, one D1 outside.
    post_positions(
        web, token, unit("amb-in", lat + 0.001, lon, discipline="D2"), unit("fire-out", lat + 0.05, lon)
    )
    viewer.page.click(f"{selector(Ids.ZONE_LIST)} li[data-zone]")
    viewer.page.wait_for_selector(
        f"{selector(Ids.ZONE_PANEL)} td[data-discipline='D2']:text('1')", timeout=10_000
    )
    assert viewer.page.locator(f"{selector(Ids.ZONE_PANEL)} td[data-total]").inner_text() == "1"
    assert "Tessenderlo-Ham" in viewer.page.locator(selector(Ids.ZONE_PANEL)).inner_text()
    viewer.screenshot("chem-zone-viewer")

    # The coordinator moves a corner and saves; the viewer sees the new shape.
    page.click(f"{selector(Ids.ZONE_LIST)} li[data-zone]")
    page.click(f"{selector(Ids.ZONE_PANEL)} button[data-action='edit']")
    handle = page.locator(".leaflet-editing-icon").first
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + 120, box["y"] - 80, steps=8)
    page.mouse.up()
    page.click(f"{selector(Ids.ZONE_PANEL)} button[data-action='save']")
    page.wait_for_selector(f"{selector(Ids.ZONE_PANEL)} [data-message]:text('Shape saved.')", timeout=10_000)
    coordinator.screenshot("chem-zone-edited")
    grown = f"COP.chem.zones.get('{zone.id}').env.data.area_km2 > {zone.data['area_km2']}"
    viewer.page.wait_for_function(f"(() => {{ try {{ return {grown}; }} catch (e) {{ return false; }} }})()")

    # Delete: gone for everyone, and the audit says who did what.
    page.once("dialog", lambda dialog: dialog.accept())
    page.click(f"{selector(Ids.ZONE_PANEL)} button[data-action='delete']")
    viewer.page.wait_for_function("COP.chem.zones.size === 0", timeout=10_000)
    assert viewer.page.locator(selector(Ids.ZONE_PANEL)).is_hidden()
    from cop.store.audit import read_audit

    actions = [a["action"] for a in read_audit(store.client, store.keys, 20) if a["target"] == zone.id]
    assert actions == ["zone.delete", "zone.update", "zone.create"]
    assert coordinator.errors == [] and viewer.errors == []


def test_a_coordinator_runs_the_model_from_the_panel_and_makes_zones_from_it(
    store, web, hub_proc, people, incident, new_page
):
    coordinator = open_map(new_page, web, "limburg")
    page = coordinator.page
    page.click("summary:text('Run the model')")
    page.fill(selector(Ids.PLUME_RATE), "400")
    page.fill(selector(Ids.PLUME_WIND_SPEED), "")
    page.click(selector(Ids.PLUME_RUN))
    refusal = page.wait_for_selector(f"{selector(Ids.PLUME_MESSAGE)} .save-error", timeout=10_000)
    assert "weather.wind_speed_ms" in refusal.inner_text()  # names the field; nothing published
    assert page.evaluate("COP.chem.plumes.size") == 0

    page.fill(selector(Ids.PLUME_WIND_SPEED), "2.5")
    page.fill(selector(Ids.PLUME_WIND_FROM), "200")
    page.click(selector(Ids.PLUME_RUN))
    done = page.wait_for_selector(f"{selector(Ids.PLUME_MESSAGE)} .save-ok", timeout=10_000)
    assert "400 g/s entered, class D" in done.inner_text()
    page.wait_for_function("COP.chem.plumes.size === 1", timeout=10_000)

    page.click(selector(Ids.ZONES_FROM_PLUME))
    page.wait_for_function("COP.chem.zones.size === 3", timeout=10_000)
    page.fill("#cop-buffer-red", "5000")  # larger than orange: refused, naming the field
    page.click(selector(Ids.ZONES_BUFFER))
    refusal = page.wait_for_selector(f"{selector(Ids.ZONE_MESSAGE)} .save-error", timeout=10_000)
    assert "radii_m" in refusal.inner_text()
    page.fill("#cop-buffer-red", "200")
    page.click(selector(Ids.ZONES_BUFFER))
    page.wait_for_function("COP.chem.zones.size === 6", timeout=10_000)
    zones = StateStore(store.client, store.keys).all("zone")
    assert sorted(z.data["origin"] for z in zones.values()) == ["buffer"] * 3 + ["plume"] * 3
    # The plume blows towards the north-east (wind from 200°): its zones lie north of the source.
    yellow = shapely.geometry.shape(zones["inc-1/plume/yellow"].data["geometry"])
    assert yellow.centroid.y > SOURCE[0]
    page.evaluate(f"COP.liveMap.map.setView([{SOURCE[0] + 0.02}, {SOURCE[1] + 0.01}], 12) && null")
    page.wait_for_timeout(800)
    coordinator.screenshot("chem-plume-and-zones")
    assert coordinator.errors == []
