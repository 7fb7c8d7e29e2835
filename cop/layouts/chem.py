"""The map's chemical-incident panel: readings chart, plume model, intervention zones.

Live content (platform list, plume summaries, zone list, the selected zone's panel, the chart's
figure) is rendered by assets/cop-chem.js from the socket; the forms post to Dash callbacks,
which check the user's right to change the incident again on the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dash_leaflet as dl
import orjson
from dash import dcc, html

from cop.domain.chem import substances
from cop.domain.zones import ZONE_NAMES
from cop.feeds.zones import DEFAULT_BUFFERS_M
from cop.layouts.ids import Ids, buffer_input_id


@dataclass(frozen=True, slots=True)
class IncidentChoice:
    id: str
    title: str
    exercise: bool
    editable: bool


STABILITY_OPTIONS = [{"label": "from the sky (Pasquill–Gifford)", "value": ""}] + [
    {"label": f"{c} {name}", "value": c}
    for c, name in zip(
        "ABCDEF",
        ("very unstable", "unstable", "slightly unstable", "neutral", "slightly stable", "stable"),
        strict=True,
    )
]
SKY_OPTIONS = [
    {"label": "overcast (day or night) → D", "value": "overcast"},
    {"label": "strong sun", "value": "strong_sun"},
    {"label": "moderate sun", "value": "moderate_sun"},
    {"label": "slight sun", "value": "slight_sun"},
    {"label": "night, > 4/8 cloud", "value": "night_cloudy"},
    {"label": "night, ≤ 4/8 cloud", "value": "night_clear"},
]


def empty_chart() -> dict[str, Any]:
    return {
        "data": [],
        "layout": {
            "height": 220,
            "margin": {"l": 44, "r": 10, "t": 28, "b": 32},
            "paper_bgcolor": "#131c26",
            "plot_bgcolor": "#131c26",
            "font": {"color": "#c9d5e0", "size": 11},
            "title": {"text": "Click a reading on the map", "font": {"size": 12}},
            "xaxis": {"gridcolor": "#243240"},
            "yaxis": {"gridcolor": "#243240", "title": {"text": "ppm"}},
        },
    }


def substance_table() -> str:
    """What the browser needs to colour and chart readings: names and alarm set-points."""
    return orjson.dumps(
        {
            s.key: {
                "name": s.name,
                "formula": s.formula,
                "low": s.alarm_low,
                "high": s.alarm_high,
                "unit": s.alarm_unit,
            }
            for s in substances().values()
        }
    ).decode()


def field(label: str, control: Any) -> html.Label:
    """A labelled control of the panel's forms."""
    return html.Label(className="field", children=[html.Span(label), control])


def number(component_id: str, value: float | None, label: str, **kwargs: Any) -> html.Label:
    return field(label, dcc.Input(id=component_id, type="number", value=value, debounce=True, **kwargs))


def plume_form() -> html.Div:
    modelled = [{"label": s.name, "value": s.key} for s in substances().values() if s.modelled]
    return html.Div(
        className="chem-form",
        children=[
            field(
                "Substance",
                dcc.Dropdown(id=Ids.PLUME_SUBSTANCE, options=modelled, value="chlorine", clearable=False),
            ),
            number(Ids.PLUME_RATE, None, "Release rate (g/s)", min=0),
            dcc.Checklist(
                id=Ids.PLUME_ESTIMATE,
                options=[{"label": " estimate the rate from the last 10 min of readings", "value": "yes"}],
                value=[],
            ),
            number(Ids.PLUME_HEIGHT, 0, "Release height (m)", min=0, max=500),
            number(Ids.PLUME_WIND_SPEED, 3, "Wind speed at 10 m (m/s)", min=0.1, max=50, step=0.1),
            number(Ids.PLUME_WIND_FROM, 240, "Wind from (° from north)", min=0, max=359),
            field(
                "Stability class",
                dcc.Dropdown(id=Ids.PLUME_STABILITY, options=STABILITY_OPTIONS, value="", clearable=False),
            ),
            field(
                "Sky", dcc.Dropdown(id=Ids.PLUME_SKY, options=SKY_OPTIONS, value="overcast", clearable=False)
            ),
            dcc.RadioItems(
                id=Ids.PLUME_TERRAIN,
                options=[{"label": " rural", "value": "rural"}, {"label": " urban", "value": "urban"}],
                value="rural",
                inline=True,
            ),
            html.Button("Run the plume model", id=Ids.PLUME_RUN, className="button"),
            html.Div(id=Ids.PLUME_MESSAGE, className="form-message", role="status"),
        ],
    )


def zone_tools() -> html.Div:
    return html.Div(
        className="chem-form",
        children=[
            field(
                "Draw on the map as",
                dcc.RadioItems(
                    id=Ids.ZONE_TYPE,
                    options=[{"label": f" {ZONE_NAMES[t]}", "value": t} for t in ZONE_NAMES],
                    value="red",
                ),
            ),
            html.P(
                "Use the drawing tools at the top right of the map (polygon, rectangle, circle; marker for "
                "CP-Ops). Click a zone to see what is inside, edit its shape or delete it.",
                className="hint",
            ),
            html.Button("Zones from the plume", id=Ids.ZONES_FROM_PLUME, className="button"),
            html.Div(
                className="buffer-row",
                children=[
                    number(buffer_input_id(t), radius, f"{t} (m)", min=10, max=100_000)
                    for t, radius in DEFAULT_BUFFERS_M.items()
                ],
            ),
            html.Button("Circles around the incident", id=Ids.ZONES_BUFFER, className="button"),
            html.Div(id=Ids.ZONE_MESSAGE, className="form-message", role="status"),
            dcc.Store(id=Ids.ZONE_DRAWN_KEYS, data=[]),
        ],
    )


def chem_panel(incidents: list[IncidentChoice]) -> html.Aside:
    editable = any(i.editable for i in incidents)
    chosen = next((i.id for i in incidents if i.editable), incidents[0].id if incidents else None)
    return html.Aside(
        id=Ids.CHEM_PANEL,
        className="chem-panel",
        **{"data-substances": substance_table()},
        children=[
            field(
                "Incident",
                dcc.Dropdown(
                    id=Ids.CHEM_INCIDENT,
                    options=[
                        {"label": f"{i.title}{' (EXERCISE)' if i.exercise else ''}", "value": i.id}
                        for i in incidents
                    ],
                    value=chosen,
                    clearable=False,
                    placeholder="No open incident",
                ),
            ),
            dcc.Store(id=Ids.CHEM_INCIDENT_APPLIED),
            html.Details(
                open=True,
                children=[
                    html.Summary("Detector readings"),
                    html.Div(id=Ids.CHEM_PLATFORMS, className="platform-list"),
                    dcc.Graph(id=Ids.CHEM_CHART, figure=empty_chart(), config={"displayModeBar": False}),
                ],
            ),
            html.Details(
                open=True,
                children=[
                    html.Summary("Plume model"),
                    html.Div(id=Ids.PLUME_SUMMARY, className="plume-summary"),
                    *([html.Details([html.Summary("Run the model"), plume_form()])] if editable else []),
                ],
            ),
            html.Details(
                open=True,
                children=[
                    html.Summary("Intervention zones"),
                    html.Div(id=Ids.ZONE_LIST, className="zone-list"),
                    *([zone_tools()] if editable else []),
                ],
            ),
        ],
    )


def draw_control() -> dl.FeatureGroup:
    """Leaflet.draw tools for editors; what they draw becomes a zone (callbacks/chem.py)."""
    return dl.FeatureGroup(
        dl.EditControl(
            id=Ids.ZONE_DRAW,
            position="topright",
            draw={
                "polyline": False,
                "circlemarker": False,
                "polygon": {"allowIntersection": False, "showArea": True},
                "rectangle": True,
                "circle": True,
                "marker": True,
            },
            edit={"edit": False, "remove": True},  # "clear all" empties the drawing layer after each save
        )
    )
