"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, logged in through the form."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import OUTPUT, PASSWORD, chromium_path, need

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = chromium_path()
    need(path is not None, "Chromium (apt-get install chromium chromium-driver)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


class Page:
    """A browser page that records console errors and can sign in."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def login(self, base_url: str, username: str, password: str = PASSWORD, path: str = "/") -> None:
        self.page.goto(f"{base_url}{path}")
        self.page.fill("#username", username)
        self.page.fill("#password", password)
        self.page.click("#login-submit")
        self.page.wait_for_url(f"{base_url}{path}")

    def screenshot(self, name: str) -> Path:
        OUTPUT.mkdir(exist_ok=True)
        target = OUTPUT / f"{name}.png"
        self.page.screenshot(path=str(target))
        return target


@pytest.fixture
def new_page(browser: Any) -> Iterator[Any]:
    contexts = []

    def make(width: int = 1400, height: int = 850) -> Page:
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        return Page(context.new_page())

    yield make
    for context in contexts:
        context.close()
