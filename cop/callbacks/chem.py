"""Map page, chemical incident: plume runs and zone drawing. Thin adapters: the user's right to
change the incident is checked again here (and in ZoneEditor), whatever the page showed."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import dash
import orjson
from dash import Input, Output, State, ctx, html
from flask import request
from pydantic import ValidationError

from cop.auth import current_scope_user
from cop.domain.chem import PlumeRequest
from cop.domain.errors import FieldProblem, InvalidInput, problems_from
from cop.feeds.chem import PlumeRuns
from cop.feeds.zones import NotAllowed, ZoneEditor
from cop.geo.zones import circle, round_geometry
from cop.layouts.ids import Ids, buffer_input_id
from cop.store.connection import Store
from cop.store.state import StateStore

BRUSSELS = ZoneInfo("Europe/Brussels")
PERIMETER_TYPES = ("red", "orange", "yellow")


REFUSALS = (InvalidInput, NotAllowed, ValidationError)


def refused(problems: list[FieldProblem] | Exception, what: str = "Not saved") -> html.Div:
    """The message for a refused request: every field and its problem, and nothing was changed."""
    if isinstance(problems, ValidationError):
        problems = problems_from(problems)
    elif isinstance(problems, InvalidInput):
        problems = problems.problems
    elif isinstance(problems, Exception):
        problems = [FieldProblem("incident", str(problems))]
    return html.Div(
        [html.Strong(f"{what}: "), *[html.Div(f"{p.field}: {p.problem}") for p in problems]],
        className="save-error",
    )


def done(text: str) -> html.Div:
    return html.Div(f"{text} at {datetime.now(BRUSSELS):%H:%M:%S}", className="save-ok")


def release_id(incident_id: str, substance: str) -> str:
    return f"{incident_id}-{substance}"[:64]


def drawn_geometry(feature: dict[str, Any], zone_type: str) -> dict[str, Any]:
    """The zone geometry of something drawn with Leaflet.draw: circles come as a centre and a
    radius in metres, and are buffered in Belgian Lambert."""
    geometry = feature.get("geometry") or {}
    props = feature.get("properties") or {}
    radius = props.get("_radius") or props.get("radius")
    if geometry.get("type") == "Point" and zone_type != "cp_ops" and radius:
        lon, lat = geometry["coordinates"][:2]
        return round_geometry(circle(float(lon), float(lat), float(radius)))
    return geometry


def feature_key(feature: dict[str, Any]) -> str:
    """Identifies a drawn shape across the control's reports."""
    shape = {"g": feature.get("geometry"), "r": (feature.get("properties") or {}).get("_radius")}
    return hashlib.sha1(orjson.dumps(shape), usedforsecurity=False).hexdigest()


def register_chem_callbacks(app: dash.Dash, store: Store) -> None:
    plumes = PlumeRuns(store)
    zones = ZoneEditor(store)

    @app.callback(
        Output(Ids.PLUME_MESSAGE, "children"),
        Input(Ids.PLUME_RUN, "n_clicks"),
        State(Ids.CHEM_INCIDENT, "value"),
        State(Ids.PLUME_SUBSTANCE, "value"),
        State(Ids.PLUME_RATE, "value"),
        State(Ids.PLUME_ESTIMATE, "value"),
        State(Ids.PLUME_HEIGHT, "value"),
        State(Ids.PLUME_WIND_SPEED, "value"),
        State(Ids.PLUME_WIND_FROM, "value"),
        State(Ids.PLUME_STABILITY, "value"),
        State(Ids.PLUME_SKY, "value"),
        State(Ids.PLUME_TERRAIN, "value"),
        prevent_initial_call=True,
    )
    def run_plume(
        _clicks: int,
        incident_id: str | None,
        substance: str,
        rate: float | None,
        estimate: list[str],
        height: float | None,
        wind_speed: float | None,
        wind_from: float | None,
        stability: str,
        sky: str,
        terrain: str,
    ) -> Any:
        user = current_scope_user()
        if user is None:
            raise dash.exceptions.PreventUpdate
        if not incident_id:
            return refused([FieldProblem("incident", "choose an incident")], "Not run")
        try:
            incident = zones.incident(incident_id)
            if not user.can_write_province(incident.data.get("prov_code")):
                raise NotAllowed(f"{user.username} may not run plumes for this incident")
            plume_request = PlumeRequest.model_validate(
                {
                    "release_id": release_id(incident_id, substance or "release"),
                    "incident_id": incident_id,
                    "release": {
                        "lat": incident.data["lat"],
                        "lon": incident.data["lon"],
                        "substance": substance,
                        "rate_g_s": rate,
                        "height_m": height if height is not None else 0.0,
                    },
                    "weather": {
                        "wind_speed_ms": wind_speed,
                        "wind_from_deg": wind_from,
                        "stability": stability or None,
                        "sky": sky or None,
                        "terrain": terrain,
                    },
                    "estimate_from_readings": "yes" in (estimate or []),
                }
            )
            _entity, payload = plumes.save(
                plume_request,
                actor=user.username,
                source="web",
                now=datetime.now(UTC),
                exercise=incident.exercise,
                origin=request.remote_addr or "",
            )
        except REFUSALS as error:
            return refused(error, "Not run")
        how = "estimated from readings" if payload.rate_source == "estimated" else "entered"
        return done(f"Plume published ({payload.rate_g_s:g} g/s {how}, class {payload.stability})")

    @app.callback(
        Output(Ids.ZONE_MESSAGE, "children", allow_duplicate=True),
        Output(Ids.ZONE_DRAW, "editToolbar"),
        Output(Ids.ZONE_DRAWN_KEYS, "data"),
        Input(Ids.ZONE_DRAW, "geojson"),
        State(Ids.CHEM_INCIDENT, "value"),
        State(Ids.ZONE_TYPE, "value"),
        State(Ids.ZONE_DRAWN_KEYS, "data"),
        prevent_initial_call=True,
    )
    def drawn(
        collection: dict[str, Any] | None,
        incident_id: str | None,
        zone_type: str,
        done_keys: list[str] | None,
    ) -> Any:
        # The drawing control reports its whole content on every change, and again while it is
        # being cleared: each drawn shape becomes a zone once.
        seen = set(done_keys or [])
        features = [f for f in (collection or {}).get("features") or [] if feature_key(f) not in seen]
        if not features:
            raise dash.exceptions.PreventUpdate
        keys = sorted(seen | {feature_key(f) for f in features})[-200:]
        clear = {"mode": "remove", "action": "clear all", "n_clicks": datetime.now(UTC).timestamp()}
        user = current_scope_user()
        if user is None:
            raise dash.exceptions.PreventUpdate
        if not incident_id:
            return refused([FieldProblem("incident", "choose an incident first")]), clear, keys
        made = 0
        for feature in features:
            kind = zone_type
            if (feature.get("geometry") or {}).get("type") == "Point" and not (
                feature.get("properties") or {}
            ).get("_radius"):
                kind = "cp_ops"  # a marker is a command post, whatever the chosen perimeter
            try:
                zones.create(
                    {
                        "incident_id": incident_id,
                        "zone_type": kind,
                        "geometry": drawn_geometry(feature, kind),
                    },
                    user=user,
                    now=datetime.now(UTC),
                    origin=request.remote_addr or "",
                )
            except REFUSALS as error:
                return refused(error), clear, keys
            made += 1
        return done(f"{made} zone{'s' if made != 1 else ''} saved"), clear, keys

    @app.callback(
        Output(Ids.ZONE_MESSAGE, "children"),
        Input(Ids.ZONES_FROM_PLUME, "n_clicks"),
        Input(Ids.ZONES_BUFFER, "n_clicks"),
        State(Ids.CHEM_INCIDENT, "value"),
        State(Ids.PLUME_SUBSTANCE, "value"),
        *[State(buffer_input_id(t), "value") for t in PERIMETER_TYPES],
        prevent_initial_call=True,
    )
    def derived(
        _a: int, _b: int, incident_id: str | None, substance: str | None, *radii: float | None
    ) -> Any:
        user = current_scope_user()
        if user is None:
            raise dash.exceptions.PreventUpdate
        if not incident_id:
            return refused([FieldProblem("incident", "choose an incident first")])
        now = datetime.now(UTC)
        origin = request.remote_addr or ""
        try:
            if ctx.triggered_id == Ids.ZONES_FROM_PLUME:
                plume_id = _latest_plume(store, incident_id, substance)
                changes = zones.from_plume(incident_id, plume_id, user=user, now=now, origin=origin)
            else:
                given = {t: r for t, r in zip(PERIMETER_TYPES, radii, strict=True) if r is not None}
                changes = zones.buffers(incident_id, given, user=user, now=now, origin=origin)
        except REFUSALS as error:
            return refused(error)
        return done(f"{len(changes)} zones saved")


def _latest_plume(store: Store, incident_id: str, substance: str | None) -> str:
    """The plume of this incident (and substance, if there are several), most recent first."""
    plumes = [
        e
        for e in StateStore(store.client, store.keys).all("chem").values()
        if e.data.get("type") == "plume" and not e.deleted and e.data.get("incident_id") == incident_id
    ]
    if not plumes:
        raise InvalidInput([FieldProblem("plume_id", "this incident has no plume yet: run the model first")])
    same = [p for p in plumes if p.data["release"]["substance"] == substance] or plumes
    return max(same, key=lambda e: e.observed_at).id
