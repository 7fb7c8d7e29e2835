"""Logbooks and situation reports in headless Chromium: an entry written in one browser appears in
another within 2 s; corrections; exercise marking; a report generated, published and exported."""

from __future__ import annotations

import time

import pytest

from cop.domain.users import Role
from cop.layouts.ids import Ids, narrative_id, selector
from cop.store.users import UserStore
from tests.conftest import PASSWORD, login_session

LIMBURG = "70000"


@pytest.fixture
def people(store):
    users = UserStore(store.client, store.keys)
    users.add("limburg", PASSWORD, Role.COORDINATOR, provinces=frozenset({LIMBURG}))
    users.add("analyst", PASSWORD, Role.ANALYST)


@pytest.fixture
def incident(web, hub_proc, people):
    session = login_session(web.url, "limburg")
    response = session.post(
        f"{web.url}/api/v1/incidents",
        json={
            "title": "Chlorine release",
            "incident_type": "chemical release",
            "lat": 51.065,
            "lon": 5.08,
            "level": "provincial",
            "disciplines": ["D1", "D2"],
            "exercise": True,
        },
        headers={"Origin": web.url},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    incident_id = response.json()["id"]
    deadline = time.monotonic() + 15
    while not any(
        i["id"] == incident_id for i in session.get(f"{web.url}/api/v1/incidents", timeout=5).json()["items"]
    ):
        assert time.monotonic() < deadline, "the hub did not apply the incident"
        time.sleep(0.2)
    return incident_id


def open_logbook(new_page, web, username, incident):
    browser = new_page(1400, 1000)
    browser.login(web.url, username, path=f"/logbook?incident={incident}")
    browser.page.wait_for_selector(selector(Ids.LOG_COUNT) + ":has-text('entr')", timeout=20_000)
    browser.page.wait_for_function(
        f"COP.logbook && COP.logbook.subscribedTo === '{incident}'", timeout=10_000
    )
    return browser


def test_an_entry_written_in_one_browser_appears_in_another_within_two_seconds(web, incident, new_page):
    reader = open_logbook(new_page, web, "analyst", incident)
    writer = open_logbook(new_page, web, "limburg", incident)
    assert reader.page.locator(selector(Ids.LOG_FORM)).count() == 0  # an analyst reads only
    assert "EXERCISE" in reader.page.locator(selector(Ids.LOG_HEADER)).inner_text()

    page = writer.page
    page.fill(selector(Ids.LOG_NEW_TEXT), "Evacuate the Schoonhees quarter")
    page.click(f"{selector(Ids.LOG_NEW_CATEGORY)}")
    page.keyboard.type("decision")
    page.keyboard.press("Enter")
    page.click(selector(Ids.LOG_SUBMIT))
    page.wait_for_selector(f"{selector(Ids.LOG_MESSAGE)} .save-ok", timeout=10_000)
    written = time.monotonic()
    reader.page.wait_for_selector(
        f"{selector(Ids.LOG_ENTRIES)} .log-text:text('Evacuate the Schoonhees quarter')", timeout=2_000
    )
    assert time.monotonic() - written < 2.0
    assert reader.page.locator(f"{selector(Ids.LOG_ENTRIES)} .exercise-chip").count() == 1

    # A correction: the old entry is struck through and links to the new one, for everyone.
    page.click(f"{selector(Ids.LOG_ENTRIES)} button:text('Correct')")
    page.wait_for_function(f"document.querySelector('{selector(Ids.LOG_NEW_CORRECTS)}').value.includes('-')")
    page.fill(selector(Ids.LOG_NEW_TEXT), "Evacuate the Schoonhees and Engsbergen quarters")
    page.click(selector(Ids.LOG_SUBMIT))
    reader.page.wait_for_selector(f"{selector(Ids.LOG_ENTRIES)} li.corrected", timeout=5_000)
    struck = reader.page.locator(f"{selector(Ids.LOG_ENTRIES)} li.corrected")
    assert "Evacuate the Schoonhees quarter" in struck.inner_text() and "corrected by" in struck.inner_text()
    struck_text = f"document.querySelector('{selector(Ids.LOG_ENTRIES)} li.corrected .log-text')"
    assert reader.page.evaluate(f"getComputedStyle({struck_text}).textDecorationLine") == "line-through"
    reader.page.fill(selector(Ids.LOG_SEARCH), "engsbergen")
    reader.page.keyboard.press("Enter")
    reader.page.wait_for_selector(f"{selector(Ids.LOG_COUNT)}:text('1 entry')", timeout=5_000)
    reader.screenshot("logbook-reader")
    assert reader.errors == [] and writer.errors == []


def test_a_situation_report_is_generated_edited_and_published_from_the_page(web, incident, new_page):
    browser = new_page(1400, 1000)
    browser.login(web.url, "limburg", path=f"/sitrep?incident={incident}")
    page = browser.page
    page.wait_for_selector(f"{selector(Ids.SITREP_DRAFT)}:has-text('No draft')", timeout=20_000)
    assert "Chlorine release" in page.locator(selector(Ids.SITREP_INCIDENT)).inner_text()
    page.click(selector(Ids.SITREP_GENERATE))
    message = page.wait_for_selector(f"{selector(Ids.SITREP_MESSAGE)} > div", timeout=10_000)
    assert "Draft generated" in message.inner_text(), message.inner_text()
    page.wait_for_selector(f"{selector(Ids.SITREP_DRAFT)} .exercise-banner", timeout=10_000)
    page.fill(f"#{narrative_id('situation')}", "Chlorine cloud drifting north-east; shelter in place.")
    page.click(selector(Ids.SITREP_PUBLISH))
    page.wait_for_selector(
        f"{selector(Ids.SITREP_MESSAGE)} .save-ok:has-text('Report 1 published')", timeout=10_000
    )
    item = page.locator(f"{selector(Ids.SITREP_PUBLISHED)} li[data-report='1']")
    assert "EXERCISE" in item.inner_text()
    href = item.locator("a:text('EDXL-SitRep')").get_attribute("href")
    xml = page.request.get(f"{web.url}{href}")
    assert xml.status == 200 and b"<reportNumber>1</reportNumber>" in xml.body()
    browser.screenshot("sitrep-published")
    assert browser.errors == []
