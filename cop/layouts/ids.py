"""Every component id of the web app, in one place; browser tests read their selectors here."""

from __future__ import annotations

from enum import StrEnum


class Ids(StrEnum):
    SHELL = "cop-shell"
    HEADER = "cop-header"
    NAV = "cop-nav"
    FRESHNESS = "cop-freshness"
    FRESHNESS_LABEL = "cop-freshness-label"
    FRESHNESS_DETAIL = "cop-freshness-detail"
    CLOCK = "cop-clock"
    USER = "cop-user"
    LOGOUT = "cop-logout"
    PAGE = "cop-page"
    STATUS_PANEL = "cop-status-panel"
    FEEDS = "cop-feeds"
    EXERCISE_BANNER = "cop-exercise-banner"


def nav_link_id(page: str) -> str:
    return f"cop-nav-{page}"


def count_id(kind: str) -> str:
    """The element showing how many entities of a kind the browser holds."""
    return f"cop-count-{kind}"


def selector(component_id: str) -> str:
    """CSS selector of a component id (for browser tests)."""
    return f"#{component_id}"
