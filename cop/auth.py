"""Login (Flask-Login sessions), the gate in front of every page, and API token checks."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    g,
    jsonify,
    redirect,
    render_template_string,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf

from cop.domain.users import User
from cop.settings import Settings
from cop.store.audit import audit
from cop.store.connection import Store
from cop.store.users import TokenInfo, UserStore

log = logging.getLogger(__name__)

csrf = CSRFProtect()

# Paths anyone may reach: the login page itself and the liveness probe.
PUBLIC_PATHS = frozenset({"/login", "/healthz", "/readyz"})


class SessionUser(UserMixin):  # type: ignore[misc]
    """Flask-Login's view of a User; the id carries the session version so resets end sessions."""

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        return f"{self.user.username}:{self.user.session_version}"

    @property
    def is_active(self) -> bool:
        return not self.user.disabled


def client_ip() -> str:
    return request.remote_addr or "unknown"


LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>COP · sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body{margin:0;font-family:system-ui,sans-serif;background:#0f1720;color:#e6edf3;
      display:flex;min-height:100vh;align-items:center;justify-content:center}
 form{background:#17212b;padding:2rem 2.2rem;border-radius:8px;width:20rem;
      box-shadow:0 4px 24px #0008}
 h1{font-size:1.3rem;margin:0 0 .3rem} p.sub{margin:0 0 1.4rem;color:#9fb0c0;font-size:.9rem}
 label{display:block;font-size:.85rem;margin:.8rem 0 .3rem;color:#c9d5e0}
 input{width:100%;box-sizing:border-box;padding:.55rem;border-radius:4px;border:1px solid #3a4a5a;
       background:#0f1720;color:#e6edf3;font-size:1rem}
 button{margin-top:1.3rem;width:100%;padding:.6rem;border:0;border-radius:4px;background:#2f81f7;
        color:#fff;font-size:1rem;cursor:pointer}
 .error{background:#5a1d1d;color:#ffd7d7;padding:.5rem .7rem;border-radius:4px;font-size:.9rem}
</style></head><body>
<form method="post" action="{{ url_for('auth.login') }}" id="login-form">
 <h1>Common Operational Picture</h1><p class="sub">Sign in to continue</p>
 {% if error %}<div class="error" id="login-error" role="alert">{{ error }}</div>{% endif %}
 <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
 <input type="hidden" name="next" value="{{ next_path }}">
 <label for="username">Username</label>
 <input id="username" name="username" autocomplete="username" autofocus required value="{{ username }}">
 <label for="password">Password</label>
 <input id="password" name="password" type="password" autocomplete="current-password" required>
 <button type="submit" id="login-submit">Sign in</button>
</form></body></html>"""


def safe_next(target: str | None) -> str:
    """Only same-site relative paths: no open redirects after login."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def init_auth(server: Flask, store: Store, settings: Settings) -> UserStore:
    """Install Flask-Login, CSRF on forms, the login/logout views and the gate."""
    users = UserStore(store.client, store.keys)
    manager = LoginManager()
    manager.session_protection = "strong"
    manager.init_app(server)
    server.config["WTF_CSRF_CHECK_DEFAULT"] = False  # forms call csrf.protect(); see gate()
    server.config["WTF_CSRF_TIME_LIMIT"] = None  # valid for the session's lifetime
    csrf.init_app(server)

    @manager.user_loader
    def load_user(user_id: str) -> SessionUser | None:
        username, _, version = user_id.rpartition(":")
        user = users.get(username)
        if user is None or str(user.session_version) != version or user.disabled:
            return None
        return SessionUser(user)

    blueprint = Blueprint("auth", __name__)

    @blueprint.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        next_path = safe_next(request.values.get("next"))
        if request.method == "GET":
            if current_user.is_authenticated:
                return redirect(next_path)
            return render_template_string(LOGIN_PAGE, error=None, next_path=next_path, username="")
        username = request.form.get("username", "").strip().lower()
        password = request.form.get("password", "")
        who = f"{username}|{client_ip()}"
        if users.failures(who) >= settings.login_max_failures:
            log.warning("login refused for %s from %s: too many failures", username, client_ip())
            page = render_template_string(
                LOGIN_PAGE,
                error="Too many failed attempts. Try again later.",
                next_path=next_path,
                username=username,
            )
            return Response(page, status=429)
        user = users.authenticate(username, password)
        if user is None:
            users.note_failure(who, settings.login_window_s)
            audit(
                store.client,
                store.keys,
                actor=username or "-",
                action="login.failed",
                target="session",
                origin=client_ip(),
            )
            page = render_template_string(
                LOGIN_PAGE,
                error="Wrong username or password.",
                next_path=next_path,
                username=username,
            )
            return Response(page, status=401)
        users.clear_failures(who)
        session.clear()  # a fresh session on login: no session fixation
        login_user(SessionUser(user), remember=False)
        audit(
            store.client,
            store.keys,
            actor=user.username,
            action="login",
            target="session",
            origin=client_ip(),
        )
        return redirect(next_path)

    @blueprint.route("/logout", methods=["POST"])
    def logout() -> Any:
        if current_user.is_authenticated:
            audit(
                store.client,
                store.keys,
                actor=current_user.user.username,
                action="logout",
                target="session",
                origin=client_ip(),
            )
        logout_user()
        session.clear()
        return redirect(url_for("auth.login"))

    server.register_blueprint(blueprint)

    @server.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError) -> Any:
        return Response(f"Form expired or forged ({error.description}). Reload and retry.", 400)

    @server.before_request
    def gate() -> Any:
        return _gate(users)

    @server.context_processor
    def inject_csrf() -> dict[str, Any]:
        return {"csrf_token": generate_csrf}

    return users


def _same_origin() -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == request.host


def _gate(users: UserStore) -> Any:
    """Every request: public paths pass; the API checks tokens itself; pages need a session."""
    path = request.path
    if path in PUBLIC_PATHS:
        if request.method == "POST":
            csrf.protect()
        return None
    if path.startswith("/api/") or path.startswith("/socket.io") or path == "/metrics":
        return None  # token/session checks in the API blueprint; socket connect checks itself
    if request.method == "POST" and not _same_origin():
        abort(403)
    if current_user.is_authenticated:
        if request.method == "POST" and not path.startswith("/_dash"):
            csrf.protect()  # HTML forms; Dash posts JSON same-origin (checked above)
        return None
    if path.startswith(("/_dash", "/assets", "/_reload", "/_favicon")):
        return jsonify({"error": "login required"}), 401
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def current_scope_user() -> User | None:
    """The logged-in user, if the request carries a session."""
    if current_user.is_authenticated:
        user: User = current_user.user
        return user
    return None


def api_auth(users: UserStore, *, allow_session_for_reads: bool = True) -> Callable[..., Any]:
    """Decorator for API views: a valid bearer token, or a logged-in session (writes: same-origin JSON)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            header = request.headers.get("Authorization", "")
            g.token = None
            g.user = None
            if header.startswith("Bearer "):
                info: TokenInfo | None = users.check_token(header[7:].strip())
                if info is None:
                    return _unauthorized("invalid or revoked token")
                g.token = info
                return view(*args, **kwargs)
            if allow_session_for_reads and current_user.is_authenticated:
                # A session may read; it may write only from this origin with a JSON body or a
                # non-simple method (a cross-site page can send neither without a CORS
                # preflight, which is never granted).
                preflighted = request.is_json or request.method in {"PUT", "PATCH", "DELETE"}
                if request.method == "GET" or (preflighted and _same_origin()):
                    g.user = current_user.user
                    return view(*args, **kwargs)
                return _unauthorized("a session writes only JSON from this site; other systems use a token")
            return _unauthorized("a bearer token (or, for reads, a logged-in session) is required")

        return wrapped

    return decorator


def _unauthorized(message: str) -> Response:
    response = jsonify({"error": "unauthorized", "message": message})
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="cop"'
    return response
