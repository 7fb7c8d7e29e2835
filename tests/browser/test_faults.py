"""The web process SIGKILLed while positions flow: the open wall resynchronises without a reload."""

from __future__ import annotations

import time

import orjson

from tests.browser.test_shell import EXPECTED_WHILE_DOWN
from tests.integration.drill import Flow, Stack, wait_drained


def test_web_killed_under_flow_the_wall_comes_back_with_the_same_state(tmp_path, new_page):
    stack = Stack.start(tmp_path, feed_units=50)
    flow = Flow(stack.web.url, stack.token, units=100, rate=100)
    try:
        browser = new_page(1600, 900)
        browser.login(stack.web.url, "watch", path="/wall")
        page = browser.page
        page.wait_for_selector("#cop-freshness[data-state=live]", state="attached", timeout=20_000)
        page.evaluate("window.__pageMark = 'same page'")
        flow.start()
        time.sleep(3)
        stack.web.proc.kill()
        page.wait_for_selector("#cop-freshness[data-state=disconnected]", state="attached", timeout=20_000)
        browser.screenshot("wall-web-killed")
        # The CONNECTION LOST banner is readable: nothing (such as the exercise banner) covers it.
        seen = page.evaluate(
            """() => {
              const banner = document.getElementById('cop-wall-banner');
              const box = banner.getBoundingClientRect();
              const top = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
              return !banner.hidden && banner.contains(top) ? banner.textContent : null;
            }"""
        )
        assert seen == "CONNECTION LOST — RECONNECTING…"
        time.sleep(2)
        stack.web.start()
        page.wait_for_selector("#cop-freshness[data-state=live]", state="attached", timeout=30_000)
        time.sleep(3)
        flow.stop()
        assert flow.outages and flow.acknowledged, flow.refusals
        assert wait_drained(stack.store)
        truth = {
            key.decode(): orjson.loads(raw)["observed_at"]
            for key, raw in stack.store.client.hgetall(stack.store.keys.state("position")).items()
        }
        # The wall ends up holding exactly the stored state: every unit, each at its newest report.
        page.wait_for_function(
            """(truth) => Object.entries(truth).every(([id, observed]) => {
                 const unit = COP.live.entities('position').get(id);
                 return unit && Date.parse(unit.observed_at) === Date.parse(observed);
               }) && COP.live.entities('position').size === Object.keys(truth).length""",
            arg=truth,
            timeout=20_000,
        )
        assert page.evaluate("window.__pageMark") == "same page"  # no reload
        assert page.evaluate("COP.live.stats.reconnects") >= 1
        browser.screenshot("wall-resynchronised")
        unexpected = [e for e in browser.errors if not EXPECTED_WHILE_DOWN.search(e)]
        assert unexpected == []
    finally:
        if flow.ident is not None:
            flow.stop()
        stack.stop()
