"""The page shell in a real browser: live push, disconnect, reconnect and resynchronisation."""

from __future__ import annotations

import re

from cop.layouts.ids import Ids, count_id, selector
from cop.store.streams import StreamWriter
from tests.conftest import start_web
from tests.integration.helpers import at, position

# While the web process is down the browser's reconnect attempts fail, by design.
EXPECTED_WHILE_DOWN = re.compile(r"WebSocket connection|ERR_CONNECTION_REFUSED|socket\.io")


def count_is(kind: str, value: int) -> str:
    """A JS predicate: the browser holds `value` entities of a kind (and shows the count if the
    page has a live-data panel)."""
    element = f"document.getElementById('{count_id(kind)}')"
    return (
        f"window.COP && COP.live && COP.live.entities('{kind}').size === {value} && "
        f"(!{element} || {element}.textContent === '{value}')"
    )


def state_of(page) -> str:
    return page.get_attribute(selector(Ids.FRESHNESS), "data-state")


def test_shell_goes_live_survives_a_web_restart_and_resynchronises(
    settings, store, web, hub_proc, admin, new_page, tmp_path
):
    writer = StreamWriter(store.client, store.keys, settings)
    writer.append([position("fire-1", at(1))])
    browser = new_page()
    browser.login(web.url, admin)
    page = browser.page
    page.wait_for_selector(f"{selector(Ids.FRESHNESS)}[data-state=live]", timeout=15_000)
    page.wait_for_function(count_is("position", 1), timeout=10_000)
    page.evaluate("window.__pageMark = 'same page'")
    browser.screenshot("shell-live")

    # A delta pushed while connected arrives without any polling or reload.
    writer.append([position("fire-2", at(2))])
    page.wait_for_function(count_is("position", 2), timeout=5_000)

    web.stop()
    page.wait_for_selector(f"{selector(Ids.FRESHNESS)}[data-state=disconnected]", timeout=15_000)
    assert page.text_content(selector(Ids.FRESHNESS_LABEL)) == "DISCONNECTED"
    browser.screenshot("shell-disconnected")

    # Changes made while the browser is cut off reach it only through the resynchronisation.
    writer.append([position("fire-3", at(3)), position("fire-4", at(4))])
    restarted = start_web(settings, tmp_path, port=web.port, name="web-restarted")
    try:
        page.wait_for_selector(f"{selector(Ids.FRESHNESS)}[data-state=live]", timeout=30_000)
        page.wait_for_function(
            count_is("position", 4),
            timeout=10_000,
        )
        assert page.evaluate("window.__pageMark") == "same page"  # no reload happened
        assert page.evaluate("COP.live.stats.reconnects") >= 1
        browser.screenshot("shell-resynchronised")
    finally:
        restarted.stop()
    unexpected = [e for e in browser.errors if not EXPECTED_WHILE_DOWN.search(e)]
    assert unexpected == []


def test_a_sequence_gap_triggers_a_snapshot(settings, store, web, hub_proc, admin, new_page):
    writer = StreamWriter(store.client, store.keys, settings)
    writer.append([position("fire-1", at(1))])
    browser = new_page()
    browser.login(web.url, admin)
    page = browser.page
    page.wait_for_function(count_is("position", 1), timeout=15_000)
    snapshots_before = page.evaluate("COP.live.stats.snapshots")
    # Lose a delta: the channel's sequence jumps, as if a message had been dropped on the way.
    store.client.incr(store.keys.seq("position", "national"))
    writer.append([position("fire-2", at(2))])
    page.wait_for_function("COP.live.stats.gaps >= 1", timeout=10_000)
    page.wait_for_function(f"COP.live.stats.snapshots > {snapshots_before}", timeout=10_000)
    page.wait_for_function(count_is("position", 2), timeout=10_000)
    assert state_of(page) == "live"
    assert browser.errors == []


def test_every_page_of_the_navigation_opens(settings, store, web, hub_proc, admin, new_page):
    from cop.layouts.ids import nav_link_id
    from cop.layouts.pages import PAGES

    browser = new_page()
    browser.login(web.url, admin)
    page = browser.page
    for spec in PAGES:
        page.click(selector(nav_link_id(spec.key)))
        page.wait_for_url(f"{web.url}{spec.path}")
        landmark = {"map": selector(Ids.MAP_PAGE), "wall": selector(Ids.WALL)}.get(
            spec.key, f"h1:text('{spec.title}')"
        )
        page.wait_for_selector(landmark, timeout=10_000)
        assert page.title() == f"COP · {spec.title}"
    browser.screenshot("shell-navigation")
    assert browser.errors == []
