"""Hospital capacity in the browser: a manager saves, every other browser sees it within 2 s."""

from __future__ import annotations

import time

from cop.domain.users import Role
from cop.layouts.ids import Ids, selector
from cop.store.users import UserStore
from tests.conftest import PASSWORD

HOSPITAL = "1470"


def cell(page, row_id: str, col_id: str) -> str:
    locator = page.locator(f"{selector(Ids.HOSPITAL_GRID)} .ag-row[row-id='{row_id}'] [col-id='{col_id}']")
    return locator.first.inner_text() if locator.count() else ""


def test_a_saved_count_reaches_another_browser_within_2_s(web, hub_proc, store, new_page):
    users = UserStore(store.client, store.keys)
    users.add("manager.a", PASSWORD, Role.HOSPITAL_MANAGER, hospitals=frozenset({HOSPITAL}))
    users.add("analyst", PASSWORD, Role.ANALYST)

    watcher = new_page(1600, 900)
    watcher.login(web.url, "analyst", path="/hospitals")
    table = watcher.page
    table.wait_for_function(
        "COP.hospitals && COP.hospitals.api && COP.hospitals.rows.size === 129", timeout=30_000
    )
    # The watcher sorts by name and scrolls: a live update must keep both.
    table.locator(".ag-header-cell[col-id='name']").click()
    table.evaluate("COP.hospitals.api.ensureIndexVisible(60, 'top')")
    first_before = table.evaluate("COP.hospitals.api.getDisplayedRowAtIndex(0).data.name")

    manager = new_page(1200, 900)
    manager.login(web.url, "manager.a", path=f"/hospitals/{HOSPITAL}/edit")
    form = manager.page
    form.wait_for_selector(selector(Ids.HOSPITAL_FORM), timeout=20_000)
    field = form.locator("input[name='AdultICU.available']")
    field.fill("7")
    field.press("Enter")
    form.wait_for_selector(".save-ok", timeout=5_000)
    saved_at = time.monotonic()
    assert form.text_content(".save-ok").startswith("Saved at ")
    manager.screenshot("hospital-form-saved")

    table.wait_for_function(
        f"COP.hospitals.rows.get('{HOSPITAL}').beds.AdultICU.available === 7", timeout=2_000
    )
    assert time.monotonic() - saved_at < 2.0
    assert table.evaluate("COP.hospitals.api.getDisplayedRowAtIndex(0).data.name") == first_before
    assert table.evaluate("COP.hospitals.api.getVerticalPixelRange().top") > 0  # still scrolled
    table.evaluate(f"COP.hospitals.api.ensureNodeVisible(COP.hospitals.api.getRowNode('{HOSPITAL}'))")
    shown = f"document.querySelector(\"[row-id='{HOSPITAL}'] [col-id='AdultICU']\")"
    table.wait_for_function(f"!!{shown} && {shown}.textContent.startsWith('7 /')", timeout=2_000)
    watcher.screenshot("hospitals-table")
    assert watcher.errors == [] and manager.errors == []


def test_hospitals_are_coloured_on_the_map(web, hub_proc, admin, new_page):
    browser = new_page()
    browser.login(web.url, admin)
    page = browser.page
    page.wait_for_function(
        "COP.hospitals && COP.hospitals.markers && COP.hospitals.markers.size === 129", timeout=30_000
    )
    # No report yet (seeded only): grey fill, faded, dashed outline.
    style = page.evaluate(
        "(id) => { const o = COP.hospitals.markers.get(id).options;"
        " return {fillColor: o.fillColor, fillOpacity: o.fillOpacity}; }",
        HOSPITAL,
    )
    assert style["fillColor"] == "#8b949e" and style["fillOpacity"] < 0.5
    browser.screenshot("map-hospitals")
    assert browser.errors == []
