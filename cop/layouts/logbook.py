"""The logbook page: one incident's multidisciplinary and per-discipline logbooks, with filters,
search, exports, the entry form (for those who may write), and the situation-report page."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dash import dcc, html

from cop.domain.envelope import Envelope
from cop.domain.incidents import LOG_DISCIPLINES, CoordinationLevel, IncidentStatus, LogCategory, LogPriority
from cop.domain.positions import DISCIPLINE_COLOURS, DISCIPLINE_NAMES
from cop.domain.users import Role, User
from cop.feeds.logbook import may_log, may_write_incident
from cop.feeds.sitreps import NARRATIVE, NARRATIVE_TITLES
from cop.layouts.chem import field
from cop.layouts.ids import Ids, narrative_id

BRUSSELS = ZoneInfo("Europe/Brussels")
DISCIPLINE_LABELS = {"multi": "Multidisciplinary", **{d: f"{d} {n}" for d, n in DISCIPLINE_NAMES.items()}}


def local(value: str) -> str:
    return datetime.fromisoformat(value).astimezone(BRUSSELS).strftime("%d/%m %H:%M:%S")


def incident_label(incident: Envelope) -> str:
    d = incident.data
    closed = " (closed)" if d.get("status") == "closed" else ""
    return f"{d['title']}{closed}{' · EXERCISE' if incident.exercise else ''}"


def exercise_banner(incident: Envelope | None) -> html.Div | None:
    if incident is None or not incident.exercise:
        return None
    return html.Div("EXERCISE — EXERCISE — EXERCISE", className="exercise-banner", role="note")


def incident_header(incident: Envelope | None) -> list[Any]:
    if incident is None:
        return [html.P("No incident visible to you.")]
    d = incident.data
    return [
        *([banner] if (banner := exercise_banner(incident)) is not None else []),
        html.Div(
            className="incident-facts",
            children=[
                html.Span(f"{d['incident_type']}", className="fact"),
                html.Span(f"{d['level']} phase", className=f"fact phase phase-{d['level']}"),
                html.Span(d["status"], className=f"fact status-{d['status']}"),
                html.Span(" ".join(d.get("disciplines") or []) or "no discipline engaged", className="fact"),
            ],
        ),
    ]


def entry_row(entry: dict[str, Any], *, can_correct: bool) -> html.Li:
    """One entry; a corrected one is struck through and links to its correction."""
    discipline = entry["discipline"]
    notes: list[Any] = []
    if entry.get("corrects"):
        notes.append(
            html.Span(
                ["corrects ", html.A(f"#{entry['corrects']}", href=f"#e{entry['corrects']}")],
                className="note",
            )
        )
    if entry.get("corrected_by"):
        notes.append(
            html.Span(
                ["corrected by ", html.A(f"#{entry['corrected_by']}", href=f"#e{entry['corrected_by']}")],
                className="note",
            )
        )
    return html.Li(
        id=f"e{entry['id']}",
        className=f"log-entry priority-{entry['priority']}"
        + (" corrected" if entry.get("corrected_by") else ""),
        **{"data-entry": entry["id"]},
        children=[
            html.Div(
                className="log-meta",
                children=[
                    html.Span(
                        discipline if discipline != "multi" else "MULTI",
                        className="badge",
                        style={"background": DISCIPLINE_COLOURS.get(discipline, "#8aa0b6")},
                    ),
                    html.Span(entry["category"], className=f"category category-{entry['category']}"),
                    html.Span(entry["priority"].upper(), className="priority")
                    if entry["priority"] in {"high", "flash"}
                    else None,
                    html.Span(
                        f"event {local(entry['event_time'])}", className="time", title="when it happened"
                    ),
                    html.Span(
                        f"entered {local(entry['entry_time'])}", className="time", title="when it was written"
                    ),
                    html.Span(entry["author"], className="author"),
                    html.Span(f"#{entry['id']}", className="entry-id"),
                    html.Span("EXERCISE", className="exercise-chip") if entry.get("exercise") else None,
                ],
            ),
            html.Div(entry["text"], className="log-text"),
            html.Div(
                className="log-extra",
                children=[
                    *notes,
                    html.Span(f"📍 {entry['lat']:.4f}, {entry['lon']:.4f}", className="note")
                    if entry.get("lat") is not None
                    else None,
                    *[
                        html.Span(f"{link['kind']}: {link['id']}", className="note link")
                        for link in entry.get("links", [])
                    ],
                    html.Button(
                        "Correct",
                        id={"type": "cop-log-correct", "entry": entry["id"]},
                        className="button small",
                        n_clicks=0,
                    )
                    if can_correct and not entry.get("corrected_by")
                    else None,
                ],
            ),
        ],
    )


def entry_form(user: User, incident: Envelope) -> html.Section | None:
    disciplines = [d for d in LOG_DISCIPLINES if may_log(user, incident, d)]
    if not disciplines:
        return None
    return html.Section(
        id=Ids.LOG_FORM,
        className="log-form",
        children=[
            html.H2("New entry"),
            html.Div(
                className="log-form-grid",
                children=[
                    field(
                        "Logbook",
                        dcc.Dropdown(
                            id=Ids.LOG_NEW_DISCIPLINE,
                            options=[{"label": DISCIPLINE_LABELS[d], "value": d} for d in disciplines],
                            value=disciplines[0],
                            clearable=False,
                        ),
                    ),
                    field(
                        "Category",
                        dcc.Dropdown(
                            id=Ids.LOG_NEW_CATEGORY,
                            options=[c.value for c in LogCategory],
                            value="information",
                            clearable=False,
                        ),
                    ),
                    field(
                        "Priority",
                        dcc.Dropdown(
                            id=Ids.LOG_NEW_PRIORITY,
                            options=[p.value for p in LogPriority],
                            value="normal",
                            clearable=False,
                        ),
                    ),
                    field(
                        "Event time (Brussels; empty = now)",
                        dcc.Input(id=Ids.LOG_NEW_EVENT_TIME, type="datetime-local"),
                    ),
                    field("Latitude", dcc.Input(id=Ids.LOG_NEW_LAT, type="number", placeholder="optional")),
                    field("Longitude", dcc.Input(id=Ids.LOG_NEW_LON, type="number", placeholder="optional")),
                ],
            ),
            field("Text", dcc.Textarea(id=Ids.LOG_NEW_TEXT, className="log-text-input")),
            html.Div(
                className="log-form-grid",
                children=[
                    field(
                        "Links (kind:id, e.g. zone:zone-1a2b hospital:BE-123)",
                        dcc.Input(id=Ids.LOG_NEW_LINKS, type="text"),
                    ),
                    field(
                        "Corrects entry",
                        dcc.Input(
                            id=Ids.LOG_NEW_CORRECTS, type="text", placeholder="click Correct on an entry"
                        ),
                    ),
                ],
            ),
            html.Button("Add to the logbook", id=Ids.LOG_SUBMIT, className="button"),
            html.Div(id=Ids.LOG_MESSAGE, className="form-message", role="status"),
        ],
    )


def incident_controls(user: User, incident: Envelope) -> html.Div | None:
    if not may_write_incident(user, incident.data.get("prov_code")):
        return None
    return html.Div(
        className="incident-controls",
        children=[
            dcc.Dropdown(
                id=Ids.LOG_PHASE,
                options=[lv.value for lv in CoordinationLevel],
                value=incident.data["level"],
                clearable=False,
            ),
            dcc.Dropdown(
                id=Ids.LOG_STATUS,
                options=[s.value for s in IncidentStatus],
                value=incident.data["status"],
                clearable=False,
                disabled=bool(incident.data.get("always_open")),
            ),
            html.Button("Change phase / status", id=Ids.LOG_INCIDENT_SAVE, className="button small"),
            html.Span(id=Ids.LOG_INCIDENT_MESSAGE, className="form-message"),
        ],
    )


def logbook_page(user: User | None, incidents: list[Envelope], chosen: str | None) -> html.Div:
    incident = next((i for i in incidents if i.id == chosen), incidents[0] if incidents else None)
    writer = (
        user is not None and incident is not None and any(may_log(user, incident, d) for d in LOG_DISCIPLINES)
    )
    return html.Div(
        id=Ids.LOG_PAGE,
        className="log-page",
        **{"data-incident": incident.id if incident else ""},
        children=[
            html.H1("Logbooks"),
            html.Div(
                className="log-top",
                children=[
                    dcc.Dropdown(
                        id=Ids.LOG_INCIDENT,
                        options=[{"label": incident_label(i), "value": i.id} for i in incidents],
                        value=incident.id if incident else None,
                        clearable=False,
                        className="log-incident",
                    ),
                    *(
                        [c]
                        if user and incident and (c := incident_controls(user, incident)) is not None
                        else []
                    ),
                ],
            ),
            html.Div(id=Ids.LOG_HEADER, children=incident_header(incident)),
            *([f] if user and incident and (f := entry_form(user, incident)) is not None else []),
            html.Div(
                className="log-filters",
                children=[
                    dcc.RadioItems(
                        id=Ids.LOG_DISCIPLINE,
                        options=[{"label": "All", "value": "all"}]
                        + [{"label": DISCIPLINE_LABELS[d], "value": d} for d in LOG_DISCIPLINES],
                        value="all",
                        inline=True,
                        className="log-tabs",
                    ),
                    dcc.Dropdown(
                        id=Ids.LOG_CATEGORY,
                        options=[c.value for c in LogCategory],
                        multi=True,
                        placeholder="Category",
                    ),
                    dcc.Dropdown(id=Ids.LOG_AUTHOR, options=[], placeholder="Author"),
                    dcc.Dropdown(
                        id=Ids.LOG_HOURS,
                        options=[{"label": f"last {h} h", "value": h} for h in (1, 6, 24, 72)]
                        + [{"label": "all", "value": 0}],
                        value=0,
                        clearable=False,
                    ),
                    dcc.Input(id=Ids.LOG_SEARCH, type="search", placeholder="Search the text", debounce=True),
                    html.A("CSV", id=Ids.LOG_EXPORT_CSV, className="button small", href="#", target="_blank"),
                    html.A(
                        "Printable",
                        id=Ids.LOG_EXPORT_HTML,
                        className="button small",
                        href="#",
                        target="_blank",
                    ),
                ],
            ),
            html.Div(id=Ids.LOG_COUNT, className="log-count"),
            html.Ul(id=Ids.LOG_ENTRIES, className="log-entries"),
            dcc.Store(id=Ids.LOG_VERSION, data=0),
            dcc.Store(id="cop-log-writer", data=writer),
        ],
    )


# -- situation reports -------------------------------------------------------------------------------


def sitrep_page(user: User | None, incidents: list[Envelope], chosen: str | None = None) -> html.Div:
    writer = user is not None and user.role in {Role.COORDINATOR, Role.ADMIN}
    ids = [i.id for i in incidents]
    chosen = chosen if chosen in ids else (ids[0] if ids else None)
    return html.Div(
        id=Ids.SITREP_PAGE,
        className="sitrep-page",
        children=[
            html.H1("Situation reports"),
            html.Div(
                className="log-top",
                children=[
                    dcc.Dropdown(
                        id=Ids.SITREP_INCIDENT,
                        options=[{"label": incident_label(i), "value": i.id} for i in incidents],
                        value=chosen,
                        clearable=False,
                        className="log-incident",
                    ),
                    html.Button(
                        "Generate a draft from the live state",
                        id=Ids.SITREP_GENERATE,
                        className="button",
                        hidden=not writer,
                    ),
                ],
            ),
            html.Div(id=Ids.SITREP_MESSAGE, className="form-message", role="status"),
            html.Div(
                className="sitrep-columns",
                children=[
                    html.Section(
                        className="sitrep-draft",
                        children=[
                            html.H2("Draft"),
                            html.Div(id=Ids.SITREP_DRAFT),
                            # Present for everyone (the callbacks need them); only writers see them.
                            html.Div(
                                hidden=not writer,
                                children=[
                                    *[
                                        field(
                                            NARRATIVE_TITLES[key],
                                            dcc.Textarea(id=narrative_id(key), className="narrative"),
                                        )
                                        for key in NARRATIVE
                                    ],
                                    html.Button("Save the text", id=Ids.SITREP_SAVE, className="button"),
                                    html.Button(
                                        "Publish (final, numbered)",
                                        id=Ids.SITREP_PUBLISH,
                                        className="button danger",
                                    ),
                                ],
                            ),
                        ],
                    ),
                    html.Section(
                        className="sitrep-published",
                        children=[
                            html.H2("Published"),
                            html.Div(id=Ids.SITREP_PUBLISHED),
                            html.H3("Compare"),
                            html.Div(
                                className="compare-row",
                                children=[
                                    dcc.Dropdown(id=Ids.SITREP_COMPARE_A, placeholder="earlier"),
                                    dcc.Dropdown(id=Ids.SITREP_COMPARE_B, placeholder="later"),
                                ],
                            ),
                            html.Div(id=Ids.SITREP_CHANGES),
                        ],
                    ),
                ],
            ),
        ],
    )
