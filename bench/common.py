"""What every benchmark prints: the machine it ran on, and medians and 95th percentiles."""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from typing import Any

import psutil


def machine() -> str:
    return (
        f"{platform.machine()} {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}"
    )


def quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile (nearest rank) of `values`; NaN when there are none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def logged_in_page(
    playwright: Any, chromium: str, url: str, username: str, password: str, size: tuple[int, int]
) -> tuple[Any, Any, Any]:
    """Debian's Chromium, headless, logged in through the form at `url`: (browser, page, CDP session
    with the Performance domain on, for CPU and heap figures)."""
    from tests.browser.conftest import CHROMIUM_ARGS

    browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    page.goto(url)
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-submit")
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    return browser, page, cdp
