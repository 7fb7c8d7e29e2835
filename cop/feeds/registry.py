"""Every feed worker, by name; importing a feed module registers it."""

from __future__ import annotations

import importlib

from cop.feeds.base import FEEDS, Feed

FEED_MODULES = (
    "cop.feeds.heartbeat",
    "cop.feeds.positions",
    "cop.feeds.hospitals",
    "cop.feeds.chem",
    "cop.feeds.indicators",
    "cop.feeds.cap",
)


def load_feeds() -> dict[str, type[Feed]]:
    for module in FEED_MODULES:
        importlib.import_module(module)
    return dict(FEEDS)
