"""Logbook and situation-report pages: thin adapters over LogBook, IncidentDesk and SitReps; the
user's rights are checked again on every call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import dash
from dash import ALL, Input, Output, State, ctx, html
from flask import request

from cop.auth import current_scope_user
from cop.callbacks.chem import REFUSALS, done, refused
from cop.domain.errors import FieldProblem, InvalidInput
from cop.feeds.logbook import Emitter, IncidentDesk, LogBook, LogQuery, may_log, may_read
from cop.feeds.sitreps import NARRATIVE, NARRATIVE_TITLES, SitReps, compare
from cop.layouts.ids import Ids, narrative_id
from cop.layouts.logbook import entry_row, local
from cop.store.connection import Store

BRUSSELS = ZoneInfo("Europe/Brussels")
SHOWN = 200  # the newest entries listed; filters and search narrow the rest


def parse_links(text: str | None) -> list[dict[str, str]]:
    links = []
    for token in (text or "").split():
        kind, _, ident = token.partition(":")
        if not ident:
            raise InvalidInput([FieldProblem("links", f"{token!r}: write kind:id, e.g. zone:zone-1a2b")])
        links.append({"kind": kind, "id": ident})
    return links


def event_time(value: str | None) -> str | None:
    """A datetime-local value (Brussels wall-clock time) as an aware ISO time."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=BRUSSELS).isoformat()
    except ValueError:
        raise InvalidInput([FieldProblem("event_time", f"not a date and time: {value!r}")]) from None


def register_logbook_callbacks(app: dash.Dash, store: Store, emitter: Emitter | None) -> None:
    logbook = LogBook(store, emitter=emitter)
    incidents = IncidentDesk(store)
    sitreps = SitReps(store)

    app.clientside_callback(
        """function (incident) {
            const page = document.getElementById("cop-log-page");
            if (incident && page && page.dataset.incident !== incident) {
                window.location.search = "?incident=" + encodeURIComponent(incident);
            }
            return window.dash_clientside.no_update;
        }""",
        Output(Ids.LOG_COUNT, "title"),
        Input(Ids.LOG_INCIDENT, "value"),
    )

    @app.callback(
        Output(Ids.LOG_ENTRIES, "children"),
        Output(Ids.LOG_COUNT, "children"),
        Output(Ids.LOG_AUTHOR, "options"),
        Output(Ids.LOG_EXPORT_CSV, "href"),
        Output(Ids.LOG_EXPORT_HTML, "href"),
        Input(Ids.LOG_INCIDENT, "value"),
        Input(Ids.LOG_DISCIPLINE, "value"),
        Input(Ids.LOG_CATEGORY, "value"),
        Input(Ids.LOG_AUTHOR, "value"),
        Input(Ids.LOG_HOURS, "value"),
        Input(Ids.LOG_SEARCH, "value"),
        Input(Ids.LOG_VERSION, "data"),
        State("cop-log-writer", "data"),
    )
    def show_entries(
        incident_id: str | None,
        discipline: str,
        categories: list[str] | None,
        author: str | None,
        hours: int | None,
        search: str | None,
        _version: Any,
        writer: bool,
    ) -> Any:
        user = current_scope_user()
        if user is None or not incident_id:
            return [], "", [], "#", "#"
        try:
            incident = incidents.get(incident_id)
        except InvalidInput:
            return [], "No such incident.", [], "#", "#"
        if not may_read(user, incident):
            return [], "You may not read this logbook.", [], "#", "#"
        query = LogQuery(
            disciplines=() if discipline == "all" else (discipline,),
            categories=tuple(categories or ()),
            author=author or None,
            since=datetime.now(UTC) - timedelta(hours=hours) if hours else None,
            text=search or None,
            limit=SHOWN,
        )
        total, entries = logbook.query(incident_id, query)
        can_correct = bool(writer) and any(
            may_log(user, incident, d) for d in ("multi", "D1", "D2", "D3", "D4", "D5")
        )
        rows = [entry_row(e, can_correct=can_correct) for e in entries]
        shown = f"{total} entr{'y' if total == 1 else 'ies'}" + (
            f", the newest {SHOWN} shown" if total > SHOWN else ""
        )
        base = f"/api/v1/logbooks/{incident_id}"
        return rows, shown, logbook.authors(incident_id), f"{base}/export.csv", f"{base}/export.html"

    @app.callback(
        Output(Ids.LOG_NEW_CORRECTS, "value"),
        Input({"type": "cop-log-correct", "entry": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def correct(clicks: list[int]) -> Any:
        if not ctx.triggered_id or not any(clicks):
            raise dash.exceptions.PreventUpdate
        return ctx.triggered_id["entry"]

    @app.callback(
        Output(Ids.LOG_MESSAGE, "children"),
        Output(Ids.LOG_NEW_TEXT, "value"),
        Output(Ids.LOG_NEW_CORRECTS, "value", allow_duplicate=True),
        Output(Ids.LOG_VERSION, "data", allow_duplicate=True),
        Input(Ids.LOG_SUBMIT, "n_clicks"),
        State(Ids.LOG_INCIDENT, "value"),
        State(Ids.LOG_NEW_DISCIPLINE, "value"),
        State(Ids.LOG_NEW_CATEGORY, "value"),
        State(Ids.LOG_NEW_PRIORITY, "value"),
        State(Ids.LOG_NEW_EVENT_TIME, "value"),
        State(Ids.LOG_NEW_TEXT, "value"),
        State(Ids.LOG_NEW_LAT, "value"),
        State(Ids.LOG_NEW_LON, "value"),
        State(Ids.LOG_NEW_LINKS, "value"),
        State(Ids.LOG_NEW_CORRECTS, "value"),
        prevent_initial_call=True,
    )
    def add_entry(
        _clicks: int,
        incident_id: str,
        discipline: str,
        category: str,
        priority: str,
        when: str | None,
        text: str | None,
        lat: float | None,
        lon: float | None,
        links: str | None,
        corrects: str | None,
    ) -> Any:
        user = current_scope_user()
        if user is None:
            raise dash.exceptions.PreventUpdate
        try:
            entry = logbook.append(
                incident_id,
                {
                    "discipline": discipline,
                    "category": category,
                    "priority": priority,
                    "event_time": event_time(when),
                    "text": text or "",
                    "lat": lat,
                    "lon": lon,
                    "links": parse_links(links),
                    "corrects": (corrects or "").strip() or None,
                },
                user=user,
                now=datetime.now(UTC),
                origin=request.remote_addr or "",
            )
        except REFUSALS as error:
            return refused(error), dash.no_update, dash.no_update, dash.no_update
        return done(f"Entry #{entry['id']} added"), "", "", entry["id"]

    @app.callback(
        Output(Ids.LOG_INCIDENT_MESSAGE, "children"),
        Input(Ids.LOG_INCIDENT_SAVE, "n_clicks"),
        State(Ids.LOG_INCIDENT, "value"),
        State(Ids.LOG_PHASE, "value"),
        State(Ids.LOG_STATUS, "value"),
        prevent_initial_call=True,
    )
    def change_incident(_clicks: int, incident_id: str, level: str, status: str) -> Any:
        user = current_scope_user()
        if user is None:
            raise dash.exceptions.PreventUpdate
        try:
            current = incidents.get(incident_id)
            fields = {k: current.data[k] for k in ("title", "incident_type", "lat", "lon", "disciplines")}
            fields["hospital_managers_may_log"] = current.data.get("hospital_managers_may_log", False)
            incidents.save(
                {**fields, "level": level, "status": status},
                user=user,
                now=datetime.now(UTC),
                incident_id=incident_id,
                origin=request.remote_addr or "",
            )
        except REFUSALS as error:
            return refused(error)
        return done(f"{level} phase, {status}")

    # -- situation reports --------------------------------------------------------------------------

    @app.callback(
        Output(Ids.SITREP_DRAFT, "children"),
        Output(Ids.SITREP_PUBLISHED, "children"),
        Output(Ids.SITREP_COMPARE_A, "options"),
        Output(Ids.SITREP_COMPARE_B, "options"),
        Output(Ids.SITREP_MESSAGE, "children"),
        *[Output(narrative_id(key), "value") for key in NARRATIVE],
        Input(Ids.SITREP_INCIDENT, "value"),
        Input(Ids.SITREP_GENERATE, "n_clicks"),
        Input(Ids.SITREP_SAVE, "n_clicks"),
        Input(Ids.SITREP_PUBLISH, "n_clicks"),
        *[State(narrative_id(key), "value") for key in NARRATIVE],
    )
    def sitrep(incident_id: str | None, _g: int, _s: int, _p: int, *texts: str | None) -> Any:
        user = current_scope_user()
        blank = [""] * len(NARRATIVE)
        if user is None or not incident_id:
            return [], [], [], [], "", *blank
        message: Any = ""
        try:
            incident = incidents.get(incident_id)
            if not may_read(user, incident):
                return [], [], [], [], refused([FieldProblem("incident", "not yours to read")]), *blank
            now = datetime.now(UTC)
            narrative = {key: text or "" for key, text in zip(NARRATIVE, texts, strict=True)}
            if ctx.triggered_id == Ids.SITREP_GENERATE:
                sitreps.generate(incident_id, user=user, now=now)
                message = done("Draft generated from the live state")
            elif ctx.triggered_id == Ids.SITREP_SAVE:
                sitreps.edit(incident_id, narrative, user=user)
                message = done("Text saved")
            elif ctx.triggered_id == Ids.SITREP_PUBLISH:
                sitreps.edit(incident_id, narrative, user=user)
                report = sitreps.publish(incident_id, user=user, now=now, origin=request.remote_addr or "")
                message = done(f"Report {report['number']} published")
        except REFUSALS as error:
            message = refused(error)
        draft = sitreps.draft(incident_id)
        published = sitreps.published(incident_id)
        numbers = [{"label": f"report {r['number']}", "value": r["number"]} for r in published]
        texts_out = [(draft or {}).get("narrative", {}).get(key, "") for key in NARRATIVE]
        return (
            figures_view(draft),
            published_view(incident_id, published),
            numbers,
            numbers,
            message,
            *texts_out,
        )

    @app.callback(
        Output(Ids.SITREP_CHANGES, "children"),
        Input(Ids.SITREP_COMPARE_A, "value"),
        Input(Ids.SITREP_COMPARE_B, "value"),
        State(Ids.SITREP_INCIDENT, "value"),
        prevent_initial_call=True,
    )
    def changes(a: int | None, b: int | None, incident_id: str) -> Any:
        user = current_scope_user()
        if (
            user is None
            or not a
            or not b
            or not incident_id
            or not may_read(user, incidents.get(incident_id))
        ):
            return []
        rows = compare(sitreps.report(incident_id, a), sitreps.report(incident_id, b))
        if not rows:
            return html.P("No change in the figures.")
        return html.Table(
            className="changes",
            children=[html.Tr([html.Th("What"), html.Th(f"report {a}"), html.Th(f"report {b}")])]
            + [
                html.Tr([html.Td(c["what"]), html.Td(str(c["before"])), html.Td(str(c["after"]))])
                for c in rows
            ],
        )


def figures_view(draft: dict[str, Any] | None) -> Any:
    if draft is None:
        return html.P("No draft. Generate one from the live state.")
    f = draft["figures"]
    units = f["units"]
    hosp = f["hospitals"]
    return html.Div(
        className="sitrep-figures",
        children=[
            html.Div("EXERCISE — EXERCISE — EXERCISE", className="exercise-banner")
            if draft["exercise"]
            else None,
            html.P(
                f"Figures at {local(draft['generated_at'])} (Brussels) · {draft['incident']['phase']} phase"
            ),
            html.H3("Units"),
            html.Table(
                [
                    html.Tr(
                        [html.Th(k) for k in units["by_discipline"]] + [html.Th("total"), html.Th("stale")]
                    ),
                    html.Tr(
                        [html.Td(v) for v in units["by_discipline"].values()]
                        + [html.Td(units["total"], **{"data-figure": "units-total"}), html.Td(units["stale"])]
                    ),
                ]
            ),
            html.H3("Hospitals"),
            html.P(
                f"{hosp['reporting']} reporting · {hosp['available']} of {hosp['baseline']} beds free "
                f"({hosp['free_pct']} %)",
                **{"data-figure": "hospitals"},
            ),
            html.Ul([html.Li(f"{h['name']}: {h['free_pct']} % free") for h in hosp["most_loaded"]]),
            html.H3("Zones"),
            html.Ul(
                [
                    html.Li(
                        f"{z['zone_type']}: {z['area_km2'] or ''} km² · {', '.join(z['municipalities'])} · "
                        f"units {sum(z['units_inside'].values())}"
                    )
                    for z in f["zones"]
                ]
                or [html.Li("none")]
            ),
            html.H3("Risk levels"),
            html.Ul([html.Li(f"{k}: {v['label']}") for k, v in f["risk"].items()] or [html.Li("none")]),
            html.H3("Alerts in force"),
            html.Ul(
                [html.Li(f"{a['headline']} · {a['severity']}") for a in f["alerts"]] or [html.Li("none")]
            ),
            html.H3("Decisions since the last report"),
            html.Ul(
                [html.Li(f"{local(d['event_time'])} {d['author']}: {d['text']}") for d in f["decisions"]]
                or [html.Li("none")]
            ),
        ],
    )


def published_view(incident_id: str, reports: list[dict[str, Any]]) -> Any:
    if not reports:
        return html.P("None yet.")
    return html.Ul(
        [
            html.Li(
                [
                    html.Strong(f"Report {r['number']}"),
                    f" · {local(r['published_at'])} by {r['published_by']}",
                    " · EXERCISE" if r["exercise"] else "",
                    " · ",
                    html.A("EDXL-SitRep", href=f"/api/v1/sitreps/{incident_id}/{r['number']}.xml"),
                    " · ",
                    html.A(
                        "printable", href=f"/api/v1/sitreps/{incident_id}/{r['number']}.html", target="_blank"
                    ),
                    html.Div(
                        NARRATIVE_TITLES["situation"] + ": " + (r["narrative"].get("situation") or "—"),
                        className="muted",
                    ),
                ],
                **{"data-report": r["number"]},
            )
            for r in reversed(reports)
        ]
    )
