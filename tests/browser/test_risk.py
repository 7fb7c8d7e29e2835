"""The national risk page and the public alerts, in headless Chromium, through the real API and hub."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from cop.domain.users import Role
from cop.layouts.ids import Ids, alert_text_id, selector
from cop.store.users import UserStore
from tests.conftest import PASSWORD
from tests.integration.test_risk_api import cap

LIMBURG, LIEGE = "70000", "60000"


@pytest.fixture
def token(store):
    return UserStore(store.client, store.keys).add_token("risk-test")


@pytest.fixture
def people(store):
    users = UserStore(store.client, store.keys)
    users.add("limburg", PASSWORD, Role.COORDINATOR, provinces=frozenset({LIMBURG}))
    users.add("limburg2", PASSWORD, Role.COORDINATOR, provinces=frozenset({LIMBURG}))
    users.add("analyst", PASSWORD, Role.ANALYST)


def post(web, token, path, **kwargs):
    response = requests.post(
        f"{web.url}/api/v1/{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10, **kwargs
    )
    assert response.status_code == 200, response.text
    return response.json()


def open_risk(new_page, web, username):
    browser = new_page(1500, 1100)
    browser.login(web.url, username, path="/risk")
    browser.page.wait_for_selector(f"{selector(Ids.RISK_TILES)} .risk-tile", timeout=20_000)
    return browser


def demer(level: str, value: float, observed_at: str) -> dict[str, object]:
    """A river-level reading of the Demer at Diest (Limburg)."""
    return {
        "indicator": "river_flanders",
        "scope": "station",
        "scope_id": "demer",
        "name": "Demer at Diest",
        "lat": 50.986,
        "lon": 5.05,
        "level": level,
        "value": value,
        "unit": "m",
        "observed_at": observed_at,
    }


def test_tiles_province_map_changes_and_alerts_are_live(store, web, hub_proc, people, token, new_page):
    earlier = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    now = datetime.now(UTC).isoformat()
    post(
        web,
        token,
        "indicators",
        json=[
            demer("normal", 2.1, earlier),
            {"indicator": "ocam", "scope": "national", "scope_id": "BE", "level": 2, "observed_at": now},
        ],
    )
    browser = open_risk(new_page, web, "analyst")
    page = browser.page
    tile = page.locator(f"{selector(Ids.RISK_TILES)} .risk-tile[data-indicator='ocam']")
    assert "2 medium" in tile.inner_text()
    # Live: the river reaches pre-waak; its tile, the map (Limburg yellow) and the changes list follow.
    post(
        web,
        token,
        "indicators",
        json=[
            demer("pre-waak", 2.8, now),
        ],
    )
    page.wait_for_selector(
        f"{selector(Ids.RISK_TILES)} .risk-tile[data-indicator='river_flanders'][data-level='pre-waak']",
        timeout=10_000,
    )
    # Diest lies in Flemish Brabant.
    page.wait_for_function(
        "COP.risk.provinceLayers['20001'].getElement().getAttribute('data-severity') === '1'", timeout=10_000
    )
    assert page.evaluate("COP.risk.provinceLayers['20001'].options.fillColor") == "#ffd60a"
    assert page.evaluate("COP.risk.provinceLayers['60000'].options.fillColor") == "#3a4654"  # no data
    assert "normal → pre-waak" in page.locator(selector(Ids.RISK_CHANGES)).inner_text().replace("\n", " ")
    page.wait_for_selector("#cop-risk-chart-river_flanders .scatterlayer .trace", timeout=10_000)

    # A CAP wind warning arrives: it is listed, and it sets Limburg's KMI wind tile to orange.
    sent = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    response = requests.post(
        f"{web.url}/api/v1/cap",
        data=cap("w-live", sent),
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    page.wait_for_selector(f"{selector(Ids.ALERT_LIST)} li:has-text('Orange wind warning')", timeout=10_000)
    page.wait_for_selector(
        f"{selector(Ids.RISK_TILES)} .risk-tile[data-indicator='kmi_warning'][data-level='orange']",
        timeout=10_000,
    )
    browser.screenshot("risk-page")
    assert browser.errors == []


def test_an_alert_drafted_in_the_app_is_published_by_a_second_person(store, web, hub_proc, people, new_page):
    author = open_risk(new_page, web, "limburg")
    page = author.page
    page.fill(selector(Ids.ALERT_EVENT), "Chlorine release")
    page.fill(f"#{alert_text_id('nl', 'headline')}", "Blijf binnen, sluit ramen en deuren")
    page.fill(f"#{alert_text_id('fr', 'headline')}", "Restez à l'intérieur")
    page.click(f"{selector(Ids.ALERT_PROVINCES)}")
    page.keyboard.type("Limburg")
    page.keyboard.press("Enter")
    page.check(f"{selector(Ids.ALERT_EXERCISE)} input")
    page.click(selector(Ids.ALERT_SUBMIT))
    page.wait_for_selector(f"{selector(Ids.ALERT_MESSAGE)} .save-ok", timeout=10_000)
    page.wait_for_selector(f"{selector(Ids.ALERT_LIST)} .draft-tag", timeout=10_000)
    assert page.locator(f"{selector(Ids.ALERT_LIST)} button[data-approve]").count() == 0  # not for its author

    approver = open_risk(new_page, web, "limburg2")
    approver.page.click(f"{selector(Ids.ALERT_LIST)} button[data-approve]", timeout=10_000)
    approver.page.wait_for_selector(
        f"{selector(Ids.ALERT_LIST)} [data-message]:text('Published.')", timeout=10_000
    )
    page.wait_for_selector(f"{selector(Ids.ALERT_LIST)} li.state-published a:text('CAP')", timeout=10_000)
    href = page.locator(f"{selector(Ids.ALERT_LIST)} li.state-published a").get_attribute("href")
    document = page.request.get(f"{web.url}{href}")
    assert document.status == 200 and b"<status>Exercise</status>" in document.body()
    assert b"Blijf binnen" in document.body() and b"BE-VLI" in document.body()
    approver.screenshot("risk-alert-published")
    assert author.errors == [] and approver.errors == []
