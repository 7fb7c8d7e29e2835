"""A live panel of what data the browser holds and how fresh each feed is."""

from __future__ import annotations

from dash import html

from cop.layouts.ids import Ids, count_id

KIND_LABELS = {
    "position": "Resources",
    "hospital": "Hospitals",
    "chem": "Chemical readings",
    "indicator": "Risk indicators",
    "alert": "Alerts",
    "zone": "Intervention zones",
    "incident": "Incidents",
}


def status_panel(kinds: tuple[str, ...]) -> html.Section:
    """Entity counts per kind (live from the socket) and the feeds' heartbeats."""
    return html.Section(
        id=Ids.STATUS_PANEL,
        className="panel",
        children=[
            html.H2("Live data"),
            html.Div(
                className="counts",
                children=[
                    html.Div(
                        className="count",
                        children=[
                            html.Span(
                                "…",
                                id=count_id(kind),
                                className="count-value",
                                **{"data-cop-count": kind},
                            ),
                            html.Span(KIND_LABELS.get(kind, kind), className="count-label"),
                        ],
                    )
                    for kind in kinds
                ],
            ),
            html.H2("Feeds"),
            html.Table(id=Ids.FEEDS, className="feeds"),
        ],
    )
