"""The pages of the app (DESIGN.md), in navigation order."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PageSpec:
    key: str
    path: str
    name: str
    title: str
    kinds: tuple[str, ...]  # the stream kinds this page shows


PAGES: tuple[PageSpec, ...] = (
    PageSpec("map", "/", "Map", "Live map", ("position", "hospital", "chem", "zone", "alert")),
    PageSpec("risk", "/risk", "Risk", "National risk", ("indicator", "alert")),
    PageSpec("hospitals", "/hospitals", "Hospitals", "Hospital capacity", ("hospital",)),
    PageSpec("logbook", "/logbook", "Logbook", "Logbooks", ("incident",)),
    PageSpec("sitrep", "/sitrep", "SitRep", "Situation reports", ("incident",)),
    PageSpec("wall", "/wall", "Wall", "Video wall", ("position", "hospital", "indicator")),
)
