"""The page shell: navigation, data freshness, clock and user; the page goes in the middle."""

from __future__ import annotations

import dash
from dash import dcc, html
from flask_wtf.csrf import generate_csrf

from cop.domain.users import User
from cop.layouts.ids import Ids, nav_link_id
from cop.layouts.pages import PAGES


def freshness_indicator() -> html.Div:
    """Connection and data freshness; assets/cop-live.js keeps it current from the socket."""
    return html.Div(
        id=Ids.FRESHNESS,
        className="freshness",
        **{"data-state": "connecting", "aria-live": "polite"},
        children=[
            html.Span("CONNECTING", id=Ids.FRESHNESS_LABEL, className="freshness-label"),
            html.Span("", id=Ids.FRESHNESS_DETAIL, className="freshness-detail"),
        ],
    )


def user_menu(user: User | None) -> html.Div:
    if user is None:
        return html.Div(id=Ids.USER)
    return html.Div(
        id=Ids.USER,
        className="user",
        children=[
            html.Span(f"{user.username} · {user.role.value.replace('_', ' ')}"),
            html.Form(
                method="post",
                action="/logout",
                children=[
                    dcc.Input(type="hidden", name="csrf_token", value=generate_csrf()),
                    html.Button("Sign out", id=Ids.LOGOUT, type="submit", className="link-button"),
                ],
            ),
        ],
    )


def shell(user: User | None) -> html.Div:
    return html.Div(
        id=Ids.SHELL,
        children=[
            html.Header(
                id=Ids.HEADER,
                className="header",
                children=[
                    html.Div("COP", className="brand", title="Common Operational Picture"),
                    html.Nav(
                        id=Ids.NAV,
                        className="nav",
                        children=[
                            dcc.Link(page.name, href=page.path, id=nav_link_id(page.key)) for page in PAGES
                        ],
                    ),
                    html.Div(className="spacer"),
                    freshness_indicator(),
                    html.Div("--:--:--", id=Ids.CLOCK, className="clock", title="Europe/Brussels"),
                    user_menu(user),
                ],
            ),
            html.Div(
                id=Ids.EXERCISE_BANNER, className="exercise-banner shell-exercise", hidden=True, role="note"
            ),
            html.Main(id=Ids.PAGE, className="page", children=dash.page_container),
        ],
    )
