"""The video wall: full screen, dark, large type, no interaction; reconnects by itself forever."""

from __future__ import annotations

from dash import html

from cop.layouts.ids import Ids
from cop.layouts.map import live_map
from cop.layouts.risk import risk_context


def wall_page(tile_url: str | None, stale_after_s: float) -> html.Div:
    return html.Div(
        id=Ids.WALL,
        className="wall",
        children=[
            html.Div(id=Ids.WALL_BANNER, className="wall-banner", hidden=True, role="alert"),
            html.Div(id=Ids.WALL_TICKER, className="wall-ticker", role="marquee"),
            html.Div(
                className="wall-grid",
                children=[
                    live_map("wall", tile_url, stale_after_s),
                    html.Aside(
                        className="wall-side",
                        children=[
                            html.Div("--:--:--", id=Ids.WALL_CLOCK, className="wall-clock"),
                            html.Div("Brussels time", className="wall-clock-label"),
                            html.Div(id=Ids.WALL_PHASE, className="wall-phase"),
                            html.H2("Risk"),
                            html.Div(
                                id=Ids.WALL_RISK,
                                className="risk-tiles wall-risk",
                                **{"data-context": risk_context()},
                            ),
                            html.H2("Units by discipline"),
                            html.Table(id=Ids.WALL_COUNTS, className="wall-table"),
                            html.H2("Units by status"),
                            html.Table(id=Ids.WALL_STATUS_COUNTS, className="wall-table"),
                        ],
                    ),
                ],
            ),
        ],
    )
