"""Risk page: the public-alert draft form (server side; the user's right is checked again)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import dash
from dash import Input, Output, State
from flask import request

from cop.auth import current_scope_user
from cop.callbacks.chem import REFUSALS, done, refused
from cop.domain.alerts import LANGUAGES
from cop.domain.errors import FieldProblem
from cop.feeds.cap import AlertBook
from cop.layouts.ids import Ids, alert_text_id
from cop.store.connection import Store

PARTS = ("headline", "description", "instruction")


def drawn_polygon(collection: dict[str, Any] | None) -> list[list[float]] | None:
    """The last polygon drawn on the alert map, as (lon, lat) pairs."""
    for feature in reversed((collection or {}).get("features") or []):
        geometry = feature.get("geometry") or {}
        if geometry.get("type") == "Polygon" and geometry.get("coordinates"):
            return [list(point[:2]) for point in geometry["coordinates"][0]]
    return None


def register_risk_callbacks(app: dash.Dash, store: Store) -> None:
    book = AlertBook(store)
    text_states = [State(alert_text_id(lang, part), "value") for lang in LANGUAGES for part in PARTS]

    @app.callback(
        Output(Ids.ALERT_MESSAGE, "children"),
        Input(Ids.ALERT_SUBMIT, "n_clicks"),
        State(Ids.ALERT_EVENT, "value"),
        State(Ids.ALERT_CATEGORY, "value"),
        State(Ids.ALERT_URGENCY, "value"),
        State(Ids.ALERT_SEVERITY, "value"),
        State(Ids.ALERT_CERTAINTY, "value"),
        State(Ids.ALERT_PROVINCES, "value"),
        State(Ids.ALERT_DRAW, "geojson"),
        State(Ids.ALERT_EXPIRES, "value"),
        State(Ids.ALERT_EXERCISE, "value"),
        *text_states,
        prevent_initial_call=True,
    )
    def save_draft(
        _clicks: int,
        event: str | None,
        category: str,
        urgency: str,
        severity: str,
        certainty: str,
        chosen: list[str] | None,
        drawn: dict[str, Any] | None,
        expires: float | None,
        exercise: list[str] | None,
        *texts: str | None,
    ) -> Any:
        user = current_scope_user()
        if user is None:
            raise dash.exceptions.PreventUpdate
        values = iter(texts)
        by_language = {lang: {part: (next(values) or "").strip() for part in PARTS} for lang in LANGUAGES}
        raw = {
            "event": (event or "").strip(),
            "category": category,
            "urgency": urgency,
            "severity": severity,
            "certainty": certainty,
            "texts": {
                lang: text for lang, text in by_language.items() if text["headline"] or text["description"]
            },
            "provinces": chosen or [],
            "polygon": drawn_polygon(drawn),
            "expires_in_hours": expires if expires is not None else 6,
            "exercise": "yes" in (exercise or []),
        }
        if not raw["texts"]:
            return refused(
                [FieldProblem("texts", "a headline in at least one language (nl, fr, de, en) is required")]
            )
        try:
            book.draft(raw, user=user, now=datetime.now(UTC), origin=request.remote_addr or "")
        except REFUSALS as error:
            return refused(error)
        return done("Draft saved; a second person must now approve it")
