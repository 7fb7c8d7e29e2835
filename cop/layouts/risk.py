"""The national risk page: a tile per indicator (official colours), the worst level per province,
history charts, what changed in the last 24 h and the public alerts. Everything is filled and kept
live by assets/cop-risk.js from the socket (kinds indicator and alert)."""

from __future__ import annotations

import dash_leaflet as dl
import orjson
from dash import dcc, html

from cop.domain.indicators import SEVERITY_NAMES, scales
from cop.geo.reference import provinces
from cop.layouts.ids import Ids, risk_chart_id
from cop.layouts.map import BELGIUM_BOUNDS

SEVERITY_COLOURS = ("#30a46c", "#ffd60a", "#f76b15", "#e5484d")


def risk_context() -> str:
    """What the browser needs: every scale, and province names."""
    return orjson.dumps(
        {
            "scales": [scale.as_dict() for scale in scales().values()],
            "provinces": {code: p.name_en for code, p in provinces().items()},
            "severity": {"names": SEVERITY_NAMES, "colours": SEVERITY_COLOURS},
        }
    ).decode()


def chart(indicator: str, name: str) -> html.Div:
    return html.Div(
        className="risk-chart",
        children=dcc.Graph(
            id=risk_chart_id(indicator),
            figure={
                "data": [],
                "layout": {
                    "height": 190,
                    "title": {"text": name, "font": {"size": 12}},
                    "margin": {"l": 90, "r": 8, "t": 26, "b": 26},
                    "paper_bgcolor": "#131c26",
                    "plot_bgcolor": "#131c26",
                    "font": {"color": "#c9d5e0", "size": 10},
                },
            },
            config={"displayModeBar": False},
        ),
    )


def risk_page() -> html.Div:
    return html.Div(
        id=Ids.RISK_PAGE,
        className="risk-page",
        **{"data-context": risk_context()},
        children=[
            html.H1("National risk"),
            html.Div(id=Ids.RISK_TILES, className="risk-tiles"),
            html.Div(
                className="risk-middle",
                children=[
                    html.Section(
                        className="risk-map-box",
                        children=[
                            html.H2("Worst regional level per province"),
                            dl.Map(
                                id=Ids.RISK_MAP,
                                center=[50.55, 4.65],
                                zoom=7,
                                bounds=[list(BELGIUM_BOUNDS[0]), list(BELGIUM_BOUNDS[1])],
                                zoomSnap=0.25,
                                zoomControl=False,
                                dragging=False,
                                scrollWheelZoom=False,
                                doubleClickZoom=False,
                                attributionControl=False,
                                style={"height": "360px", "background": "#0b1118"},
                                children=[
                                    dl.LayerGroup(
                                        id="cop-risk-provinces",
                                        eventHandlers={"add": {"variable": "COP.risk.onLayerAdd"}},
                                    )
                                ],
                            ),
                            html.Div(
                                className="risk-legend",
                                children=[
                                    html.Span(
                                        [
                                            html.Span(className="legend-dot", style={"background": colour}),
                                            name,
                                        ]
                                    )
                                    for name, colour in zip(SEVERITY_NAMES, SEVERITY_COLOURS, strict=True)
                                ],
                            ),
                        ],
                    ),
                    html.Section(
                        className="risk-changes-box",
                        children=[html.H2("Changed in the last 24 h"), html.Div(id=Ids.RISK_CHANGES)],
                    ),
                    html.Section(
                        className="risk-alerts-box",
                        children=[html.H2("Public alerts (CAP)"), html.Div(id=Ids.ALERT_LIST)],
                    ),
                ],
            ),
            html.H2("History (72 h)"),
            html.Div(
                id=Ids.RISK_CHARTS,
                className="risk-charts",
                children=[chart(key, scale.name) for key, scale in scales().items()],
            ),
        ],
    )
