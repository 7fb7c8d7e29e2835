"""The national risk page: a tile per indicator (official colours), the worst level per province,
history charts, what changed in the last 24 h and the public alerts. Everything is filled and kept
live by assets/cop-risk.js from the socket (kinds indicator and alert)."""

from __future__ import annotations

import dash_leaflet as dl
import orjson
from dash import dcc, html

from cop.domain.alerts import CAP_CATEGORIES, CERTAINTIES, LANGUAGES, SEVERITIES, URGENCIES
from cop.domain.indicators import SEVERITY_NAMES, scales
from cop.domain.users import Role, User
from cop.geo.reference import provinces
from cop.layouts.chem import field
from cop.layouts.ids import Ids, alert_text_id, risk_chart_id
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


def alert_form(user: User | None) -> html.Section | None:
    """The draft form, for those who may draft public alerts (coordinators, admins)."""
    if user is None or user.role not in {Role.COORDINATOR, Role.ADMIN}:
        return None
    names = provinces()
    allowed = [code for code in names if user.can_write_province(code)]

    def choice(component_id: str, options: tuple[str, ...], value: str) -> dcc.Dropdown:
        return dcc.Dropdown(id=component_id, options=list(options), value=value, clearable=False)

    texts = [
        html.Div(
            className="alert-language",
            children=[
                html.Strong(language.upper()),
                dcc.Input(
                    id=alert_text_id(language, "headline"), placeholder="Headline", maxLength=160, type="text"
                ),
                dcc.Textarea(id=alert_text_id(language, "description"), placeholder="What is happening"),
                dcc.Input(id=alert_text_id(language, "instruction"), placeholder="What to do", type="text"),
            ],
        )
        for language in LANGUAGES
    ]
    return html.Section(
        id=Ids.ALERT_FORM,
        className="alert-form",
        children=[
            html.H2("Draft a public alert (CAP)"),
            html.P(
                "A draft is published only when a second person approves it in the list of alerts.",
                className="hint",
            ),
            html.Div(
                className="alert-grid",
                children=[
                    field("Event", dcc.Input(id=Ids.ALERT_EVENT, type="text", maxLength=120)),
                    field("Category", choice(Ids.ALERT_CATEGORY, CAP_CATEGORIES, "Safety")),
                    field("Urgency", choice(Ids.ALERT_URGENCY, URGENCIES, "Immediate")),
                    field("Severity", choice(Ids.ALERT_SEVERITY, SEVERITIES, "Severe")),
                    field("Certainty", choice(Ids.ALERT_CERTAINTY, CERTAINTIES, "Observed")),
                    field(
                        "Expires after (hours)",
                        dcc.Input(id=Ids.ALERT_EXPIRES, type="number", value=6, min=0.5),
                    ),
                ],
            ),
            *texts,
            field(
                "Provinces",
                dcc.Dropdown(
                    id=Ids.ALERT_PROVINCES,
                    options=[{"label": names[c].name_en, "value": c} for c in allowed],
                    multi=True,
                    placeholder="Choose provinces, or draw the area below",
                ),
            ),
            dl.Map(
                id=Ids.ALERT_MAP,
                center=[50.55, 4.65],
                zoom=7,
                style={"height": "260px", "background": "#0b1118"},
                children=[
                    dl.GeoJSON(
                        url="/geo/be_provinces.geojson",
                        style={"color": "#8aa0b6", "weight": 1, "fillOpacity": 0},
                    ),
                    dl.FeatureGroup(
                        dl.EditControl(
                            id=Ids.ALERT_DRAW,
                            position="topright",
                            draw={
                                "polygon": {"allowIntersection": False},
                                "polyline": False,
                                "rectangle": True,
                                "circle": False,
                                "circlemarker": False,
                                "marker": False,
                            },
                            edit={"edit": True, "remove": True},
                        )
                    ),
                ],
            ),
            dcc.Checklist(
                id=Ids.ALERT_EXERCISE,
                options=[{"label": " exercise (status Exercise)", "value": "yes"}],
                value=[],
            ),
            html.Button("Save the draft", id=Ids.ALERT_SUBMIT, className="button"),
            html.Div(id=Ids.ALERT_MESSAGE, className="form-message", role="status"),
        ],
    )


def risk_page(user: User | None = None) -> html.Div:
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
            *([form] if (form := alert_form(user)) is not None else []),
            html.H2("History (72 h)"),
            html.Div(
                id=Ids.RISK_CHARTS,
                className="risk-charts",
                children=[chart(key, scale.name) for key, scale in scales().items()],
            ),
        ],
    )
