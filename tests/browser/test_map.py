"""The live map and the video wall in headless Chromium, fed through the real HTTP API and hub."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from cop.domain.users import Role
from cop.layouts.ids import Ids, selector
from cop.store.users import UserStore
from tests.browser.test_shell import EXPECTED_WHILE_DOWN
from tests.conftest import PASSWORD, start_web

LIEGE = (50.6326, 5.5797)
ANTWERP = (51.2172, 4.4211)


@pytest.fixture
def token(store):
    return UserStore(store.client, store.keys).add_token("avl-test")


def post_positions(web, token, *items):
    response = requests.post(
        f"{web.url}/api/v1/positions",
        json=list(items),
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == len(items), response.text
    return response


def unit(unit_id, lat, lon, *, discipline="D1", ago_s=0.0, status="en_route"):
    observed = datetime.now(UTC) - timedelta(seconds=ago_s)
    return {
        "id": unit_id,
        "callsign": unit_id.upper(),
        "discipline": discipline,
        "unit_type": "fire engine",
        "status": status,
        "lat": lat,
        "lon": lon,
        "speed_kmh": 60,
        "observed_at": observed.isoformat(),
    }


def open_map(new_page, web, username, path="/"):
    browser = new_page()
    browser.login(web.url, username, path=path)
    browser.page.wait_for_function(
        "window.COP && COP.liveMap && COP.liveMap.map && Object.keys(COP.liveMap.groups).length >= 5",
        timeout=20_000,
    )
    return browser


def marker_position(page, unit_id):
    return page.evaluate(
        f"(() => {{ const u = COP.liveMap.units.get('{unit_id}'); if (!u) return null;"
        " const p = u.marker.getLatLng(); return [p.lat, p.lng, !!u.marker._map]; })()"
    )


def test_map_renders_the_base_layers_and_every_layer_in_the_control(web, hub_proc, admin, new_page):
    browser = open_map(new_page, web, admin)
    page = browser.page
    page.wait_for_function(
        "(() => { let n = 0; COP.liveMap.map.eachLayer(l => { const p = l.feature && l.feature.properties;"
        " if (p && p.prov_code && p.unit_type) n++; }); return n === 11; })()",
        timeout=20_000,
    )
    # The 565 municipalities (2.2 MB) load in the background.
    page.wait_for_function(
        "(() => { let n = 0; COP.liveMap.map.eachLayer(l => { const p = l.feature && l.feature.properties;"
        " if (p && p.nis_code && p.name_nl !== undefined) n++; }); return n === 565; })()",
        timeout=30_000,
    )
    page.wait_for_function("COP.hospitals.markers.size === 129", timeout=20_000)
    circles = page.evaluate(
        "(() => { let n = 0; COP.liveMap.map.eachLayer(l => { if (l instanceof L.CircleMarker) n++; });"
        " return n; })()"
    )
    assert circles >= 129 + 35  # hospitals and critical sites
    labels = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    names = " | ".join(labels)
    for expected in (
        "Resources · D1",
        "Resources · D5",
        "Hospitals",
        "Critical sites",
        "Nuclear planning zones",
        "Command posts",
        "Chemical readings",
        "Plumes",
        "Intervention zones",
    ):
        assert expected in names
    assert page.locator(".province-label").count() == 11
    browser.screenshot("map-base-layers")
    assert browser.errors == []


def test_a_posted_position_appears_within_2_s_and_moves(web, hub_proc, admin, token, new_page):
    browser = open_map(new_page, web, admin)
    page = browser.page
    post_positions(web, token, unit("brw-1", *LIEGE))
    page.wait_for_function("COP.liveMap.units.has('brw-1')", timeout=2_000)
    assert marker_position(page, "brw-1") == [LIEGE[0], LIEGE[1], True]
    post_positions(web, token, unit("brw-1", LIEGE[0] + 0.01, LIEGE[1] + 0.02))
    page.wait_for_function(
        f"COP.liveMap.units.get('brw-1').marker.getLatLng().lat === {LIEGE[0] + 0.01}", timeout=2_000
    )
    # The unit panel shows what it is and how old the news is.
    page.evaluate("COP.liveMap.select('brw-1')")
    page.wait_for_selector(f"{selector(Ids.UNIT_PANEL)}:not([hidden])")
    panel = page.text_content(selector(Ids.UNIT_PANEL))
    assert "BRW-1" in panel and "Rescue" in panel and "en route" in panel and "60 km/h" in panel
    assert "Last update" in panel and "Age" in panel
    browser.screenshot("map-unit-panel")
    assert browser.errors == []


def test_toggling_a_layer_hides_its_units(web, hub_proc, admin, token, new_page):
    browser = open_map(new_page, web, admin)
    page = browser.page
    post_positions(web, token, unit("pol-1", *LIEGE, discipline="D3"), unit("brw-2", *ANTWERP))
    page.wait_for_function("COP.liveMap.units.has('pol-1') && COP.liveMap.units.has('brw-2')", timeout=5_000)
    page.hover(".leaflet-control-layers")
    page.locator(".leaflet-control-layers-overlays label", has_text="Resources · D3").locator(
        "input"
    ).uncheck()
    page.wait_for_function("!COP.liveMap.units.get('pol-1').marker._map", timeout=2_000)
    assert marker_position(page, "brw-2")[2] is True  # the other disciplines stay
    page.locator(".leaflet-control-layers-overlays label", has_text="Resources · D3").locator("input").check()
    page.wait_for_function("!!COP.liveMap.units.get('pol-1').marker._map", timeout=2_000)
    assert browser.errors == []


def test_a_stale_unit_is_drawn_faded_and_counted(web, hub_proc, admin, token, new_page, settings):
    browser = open_map(new_page, web, admin)
    page = browser.page
    post_positions(
        web, token, unit("old-1", *LIEGE, ago_s=settings.stale_after_s + 60), unit("new-1", *ANTWERP)
    )
    page.wait_for_function("COP.liveMap.units.has('old-1') && COP.liveMap.units.has('new-1')", timeout=5_000)
    page.wait_for_function(
        f"document.querySelector('{selector(Ids.STALE_COUNT)}').textContent === '1'", timeout=3_000
    )
    faded = page.evaluate("COP.liveMap.units.get('old-1').marker.options.fillOpacity")
    fresh = page.evaluate("COP.liveMap.units.get('new-1').marker.options.fillOpacity")
    assert faded < 0.5 < fresh
    browser.screenshot("map-stale-unit")
    assert browser.errors == []


def test_a_liege_coordinator_never_receives_an_antwerp_unit(web, hub_proc, store, token, new_page):
    UserStore(store.client, store.keys).add(
        "liege", PASSWORD, Role.COORDINATOR, provinces=frozenset({"60000"})
    )
    browser = open_map(new_page, web, "liege")
    page = browser.page
    post_positions(web, token, unit("antwerp-9", *ANTWERP), unit("liege-9", *LIEGE))
    page.wait_for_function("COP.liveMap.units.has('liege-9')", timeout=5_000)
    page.wait_for_timeout(800)  # the Antwerp unit would have arrived in the same delta
    assert page.evaluate("COP.live.entities('position').has('antwerp-9')") is False
    assert page.evaluate("COP.liveMap.units.has('antwerp-9')") is False
    # The province filter starts on the coordinator's own province.
    assert "Liège" in page.text_content(selector(Ids.PROVINCE_FILTER))
    browser.screenshot("map-coordinator-liege")
    assert browser.errors == []


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (3840, 2160)])
def test_the_wall_reconnects_by_itself_after_the_web_restarts(
    web, hub_proc, store, token, new_page, tmp_path, settings, width, height
):
    UserStore(store.client, store.keys).add("wall", PASSWORD, Role.VIEWER)
    post_positions(web, token, unit("brw-7", *LIEGE), unit("amb-7", *ANTWERP, discipline="D2"))
    browser = new_page(width, height)
    browser.login(web.url, "wall", path="/wall")
    page = browser.page
    page.wait_for_function("COP.liveMap && COP.liveMap.units.size === 2", timeout=20_000)
    page.wait_for_function(
        "document.getElementById('cop-wall-counts').textContent.includes('Total')", timeout=5_000
    )
    assert page.locator(selector(Ids.HEADER)).is_hidden()  # full screen: no navigation
    assert page.locator(selector(Ids.WALL_BANNER)).is_hidden()
    browser.screenshot(f"wall-{width}x{height}")

    web.stop()
    page.wait_for_selector(f"{selector(Ids.WALL_BANNER)}:not([hidden])", timeout=20_000)
    assert "CONNECTION LOST" in page.text_content(selector(Ids.WALL_BANNER))
    browser.screenshot(f"wall-{width}x{height}-disconnected")
    restarted = start_web(settings, tmp_path, port=web.port, name="web-again")
    try:
        post_positions(restarted, token, unit("pol-7", *LIEGE, discipline="D3"))
        page.wait_for_selector(f"{selector(Ids.WALL_BANNER)}[hidden]", state="attached", timeout=30_000)
        page.wait_for_function("COP.liveMap.units.size === 3", timeout=10_000)
    finally:
        restarted.stop()
    assert [e for e in browser.errors if not EXPECTED_WHILE_DOWN.search(e)] == []
