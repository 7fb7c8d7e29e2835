"""create_app(settings): the Dash app, the HTTP API and Socket.IO on one Flask server."""

from __future__ import annotations

import logging
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import dash
from dash import html
from flask import Flask, Response, abort, request, send_file
from flask_socketio import SocketIO

from cop.api.ops import create_ops
from cop.api.routes import create_api
from cop.auth import current_scope_user, init_auth
from cop.callbacks.chem import register_chem_callbacks
from cop.callbacks.hospitals import register_hospital_callbacks
from cop.callbacks.logbook import register_logbook_callbacks
from cop.callbacks.map import register_map_callbacks
from cop.callbacks.risk import register_risk_callbacks
from cop.domain.users import User
from cop.feeds.hospitals import HospitalUpdates, seed_hospitals
from cop.feeds.logbook import IncidentDesk, LogBook
from cop.geo.reference import data_path
from cop.hub.worker import SocketIOEmitter
from cop.layouts.chem import IncidentChoice
from cop.layouts.hospitals import forbidden, hospital_form, hospitals_page
from cop.layouts.logbook import logbook_page, sitrep_page
from cop.layouts.map import map_page
from cop.layouts.pages import PAGES, PageSpec
from cop.layouts.risk import risk_page
from cop.layouts.shell import shell
from cop.layouts.status import status_panel
from cop.layouts.wall import wall_page
from cop.realtime.codec import OrjsonCodec
from cop.realtime.queue import PromptRedisManager
from cop.realtime.server import register_handlers
from cop.settings import Settings
from cop.store.connection import Store, open_store
from cop.store.keys import as_text
from cop.store.state import StateStore
from cop.store.users import UserStore

log = logging.getLogger(__name__)


@dataclass
class CopApp:
    """What create_app builds: one Flask server carrying Dash, the API and Socket.IO."""

    server: Flask
    dash: dash.Dash
    socketio: SocketIO
    store: Store
    users: UserStore


def assets_folder() -> Path:
    return Path(str(resources.files("cop.assets")))


def secret_key(settings: Settings, store: Store) -> str:
    """COP_SECRET_KEY, or one generated once and shared through Redis by every web process."""
    if settings.secret_key:
        return settings.secret_key
    store.client.set(store.keys.secret, secrets.token_hex(32), nx=True)
    value = store.client.get(store.keys.secret)
    assert value is not None
    return as_text(value)


def warm_logbooks(store: Store) -> None:
    """Read the open incidents' logbooks into memory at start, so the first page opens fast."""
    try:
        book = LogBook(store)
        for incident in StateStore(store.client, store.keys).all("incident").values():
            if incident.data.get("status") == "open":
                book.index(incident.id)
    except Exception:  # a warm-up only; pages read the logbook themselves
        log.exception("web: could not warm the logbooks")


def incident_choices(store: Store, user: User | None) -> list[IncidentChoice]:
    """The open incidents the user may see, newest first, and whether they may change each."""
    if user is None:
        return []
    state = StateStore(store.client, store.keys)
    found = [
        e
        for e in state.all("incident").values()
        if not e.deleted
        and e.data.get("status") == "open"
        and user.can_read_province(e.data.get("prov_code"))
    ]
    found.sort(key=lambda e: e.observed_at, reverse=True)
    return [
        IncidentChoice(e.id, e.data["title"], e.exercise, user.can_write_province(e.data.get("prov_code")))
        for e in found
    ]


def page_layout(spec: PageSpec, settings: Settings, store: Store) -> Callable[..., Any]:
    """The layout function of a page (called per request, so it can read the user)."""

    def layout(**_query: str) -> Any:
        if spec.key == "map":
            user = current_scope_user()
            return map_page(user, settings.tile_url, settings.stale_after_s, incident_choices(store, user))
        if spec.key == "wall":
            return wall_page(settings.tile_url, settings.stale_after_s)
        if spec.key == "logbook":
            user = current_scope_user()
            visible = IncidentDesk(store).visible(user) if user else []
            return logbook_page(user, visible, _query.get("incident"))
        if spec.key == "sitrep":
            user = current_scope_user()
            return sitrep_page(
                user, IncidentDesk(store).visible(user) if user else [], _query.get("incident")
            )
        if spec.key == "risk":
            return risk_page(current_scope_user())
        if spec.key == "hospitals":
            return hospitals_page(current_scope_user(), settings.hospital_stale_after_s)
        return html.Div(
            className=f"page-{spec.key}",
            children=[html.H1(spec.title), status_panel(spec.kinds)],
        )

    return layout


EDIT_PATH = re.compile(r"^/hospitals/([^/]+)/edit/?$")
GEO_FILES = frozenset(
    {"be_country.geojson", "be_provinces.geojson", "be_municipalities_2025.geojson", "be_regions.geojson"}
)


def create_app(settings: Settings, store: Store | None = None) -> CopApp:
    """Build the web app. Connects to Redis (starting the embedded one if needed)."""
    store = store or open_store(settings)
    server = Flask("cop")
    server.config.update(
        SECRET_KEY=secret_key(settings, store),
        SESSION_COOKIE_NAME="cop_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        MAX_CONTENT_LENGTH=settings.api_max_body_bytes,
    )
    users = init_auth(server, store, settings)
    seed_hospitals(store)  # first start only
    IncidentDesk(store).seed_daily_operations()  # first start only
    threading.Thread(target=warm_logbooks, args=(store,), name="warm-logbooks", daemon=True).start()
    # Logbook entries are pushed to their rooms through the same message queue as the hub's deltas.
    log_emitter = SocketIOEmitter(store.url, store.keys.socketio_channel)
    server.register_blueprint(create_api(store, users, log_emitter))
    server.register_blueprint(create_ops(store, users))

    @server.get("/healthz")
    def healthz() -> Response:
        return Response(b'{"status":"ok"}', mimetype="application/json")

    @server.get("/geo/<name>")
    def geo(name: str) -> Response:
        """Shipped boundary files for the offline basemap (behind the login gate like every page)."""
        if name not in GEO_FILES:
            return Response(b'{"error":"not_found"}', status=404, mimetype="application/json")
        response = send_file(data_path(name), mimetype="application/geo+json", max_age=86_400)
        return response

    @server.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    app = dash.Dash(
        "cop",
        server=server,  # type: ignore[arg-type]  # Dash accepts a Flask server; its hint says bool
        use_pages=True,
        pages_folder="",
        assets_folder=str(assets_folder()),
        title="COP",
        update_title=None,  # type: ignore[arg-type]  # None turns the "Updating…" title off
        suppress_callback_exceptions=True,
        serve_locally=True,
    )
    for spec in PAGES:
        dash.register_page(
            f"cop.layouts.page_{spec.key}",
            path=spec.path,
            name=spec.name,
            title=f"COP · {spec.title}",
            order=PAGES.index(spec),
            layout=page_layout(spec, settings, store),
        )
    updates = HospitalUpdates(store)

    def edit_layout(hospital_id: str = "", **_query: Any) -> Any:
        user = current_scope_user()
        if user is None or not user.can_manage_hospital(hospital_id):
            return forbidden("Only the managers of this hospital can update its bed counts.")
        current = updates.current(hospital_id)
        if current is None:
            return forbidden(f"No hospital {hospital_id!r}.")
        return hospital_form(hospital_id, *current)

    dash.register_page(
        "cop.layouts.page_hospital_edit",
        path_template="/hospitals/<hospital_id>/edit",
        name="Update beds",
        title="COP · Update bed counts",
        layout=edit_layout,
    )

    @server.before_request
    def hospital_form_scope() -> Any:
        """The edit page is only served to the hospital's managers and admins (403 otherwise)."""
        match = EDIT_PATH.match(request.path)
        if match:
            user = current_scope_user()
            if user is None or not user.can_manage_hospital(match.group(1)):
                abort(403)
        return None

    app.layout = lambda: shell(current_scope_user())

    manager = PromptRedisManager(
        store.url,
        channel=store.keys.socketio_channel,
        redis_options={"health_check_interval": 30},
        retry_max_s=settings.redis_retry_max_s,
    )
    sio = SocketIO(
        server,
        async_mode=settings.async_mode,
        client_manager=manager,
        json=OrjsonCodec,
        ping_interval=10,
        ping_timeout=10,
        max_http_buffer_size=1_000_000,
    )
    register_handlers(sio, store)
    register_map_callbacks(app)
    register_hospital_callbacks(app, updates)
    register_chem_callbacks(app, store)
    register_risk_callbacks(app, store)
    register_logbook_callbacks(app, store, log_emitter)
    return CopApp(server=server, dash=app, socketio=sio, store=store, users=users)
