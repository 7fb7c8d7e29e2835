"""Map page callbacks: the province filter runs in the browser (clientside), no server round trip."""

from __future__ import annotations

import dash
from dash import Input, Output

from cop.layouts.ids import Ids


def register_map_callbacks(app: dash.Dash) -> None:
    app.clientside_callback(
        "function (codes) { return window.COP && COP.liveMap ? COP.liveMap.setProvinces(codes) : codes; }",
        Output(Ids.PROVINCE_FILTER_APPLIED, "data"),
        Input(Ids.PROVINCE_FILTER, "value"),
    )
    app.clientside_callback(
        "function (incident) { return window.COP && COP.chem ? COP.chem.setIncident(incident) : incident; }",
        Output(Ids.CHEM_INCIDENT_APPLIED, "data"),
        Input(Ids.CHEM_INCIDENT, "value"),
    )
