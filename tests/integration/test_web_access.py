"""Every page needs a login, every API call a token; sessions, CSRF, rate limits and scoped sockets."""

from __future__ import annotations

import re

import pytest

from cop.domain.users import Role
from cop.layouts.pages import PAGES
from cop.store.audit import read_audit
from cop.store.streams import StreamWriter
from cop.store.users import UserStore
from tests.conftest import PASSWORD
from tests.integration.helpers import Recorder, at, drain, login, position


@pytest.fixture
def users(store):
    return UserStore(store.client, store.keys)


def find_prop(tree, name: str):
    """The `value` of the component named `name` in a Dash layout tree (the logout form's token)."""
    if isinstance(tree, dict):
        props = tree.get("props", {})
        if props.get("name") == name:
            return props.get("value")
        for child in [*tree.values()]:
            found = find_prop(child, name)
            if found:
                return found
    elif isinstance(tree, list):
        for child in tree:
            found = find_prop(child, name)
            if found:
                return found
    return None


def api_rules(app):
    return [rule for rule in app.server.url_map.iter_rules() if rule.rule.startswith("/api/")]


def test_every_page_redirects_to_login_without_a_session(app):
    client = app.server.test_client()
    for page in PAGES:
        response = client.get(page.path)
        assert response.status_code == 302, page.path
        assert response.headers["Location"].startswith("/login?next=")
    for path in ("/_dash-layout", "/_dash-dependencies", "/assets/cop.css"):
        assert client.get(path).status_code == 401, path


def test_every_api_call_gets_401_without_a_token(app):
    client = app.server.test_client()
    rules = api_rules(app)
    assert len(rules) >= 2
    for rule in rules:
        path = rule.rule.replace("<kind>", "position")
        path = re.sub(r"<int:[^>]+>", "1", path)
        path = re.sub(r"<(?:path:)?[^>]+>", "x", path)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method)
            assert response.status_code == 401, (method, path)
            assert response.json["error"] == "unauthorized"
    assert client.get("/api/v1/whoami", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_login_opens_the_pages_and_the_cookie_is_protected(app, users):
    users.add("ops1", PASSWORD, Role.ANALYST)
    client = app.server.test_client()
    response = login(client, "ops1")
    assert response.status_code == 302 and response.headers["Location"] == "/risk"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    for page in PAGES:
        assert client.get(page.path).status_code == 200, page.path
    assert client.get("/api/v1/whoami").json["role"] == "analyst"


def test_wrong_password_is_refused_and_audited(app, users, store):
    users.add("ops1", PASSWORD, Role.ANALYST)
    client = app.server.test_client()
    response = login(client, "ops1", "wrong-password-here")
    assert response.status_code == 401
    assert "Wrong username or password" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    actions = [r["action"] for r in read_audit(store.client, store.keys)]
    assert "login.failed" in actions


def test_login_without_csrf_token_is_refused(app, users):
    users.add("ops1", PASSWORD, Role.ANALYST)
    client = app.server.test_client()
    response = client.post("/login", data={"username": "ops1", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_repeated_failures_lock_the_login_even_with_the_right_password(app, users, settings):
    users.add("ops1", PASSWORD, Role.ANALYST)
    client = app.server.test_client()
    for _ in range(settings.login_max_failures):
        assert login(client, "ops1", "wrong-password-here").status_code == 401
    assert login(client, "ops1").status_code == 429


def test_logout_needs_a_csrf_token_and_ends_the_session(app, users):
    users.add("ops1", PASSWORD, Role.ANALYST)
    client = app.server.test_client()
    login(client, "ops1")
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200
    page = client.get("/login?next=/").status_code  # logged in: login redirects away
    assert page == 302
    value = find_prop(client.get("/_dash-layout").json, "csrf_token")
    assert value
    assert client.post("/logout", data={"csrf_token": value}).status_code == 302
    assert client.get("/").status_code == 302


def test_resetting_a_user_ends_their_existing_sessions(app, users):
    users.add("ops1", PASSWORD, Role.ANALYST)
    client = app.server.test_client()
    login(client, "ops1")
    assert client.get("/").status_code == 200
    users.add("ops1", "a-new-password-1", Role.ANALYST, replace=True)
    assert client.get("/").status_code == 302


def test_cross_origin_dash_posts_are_refused(app, users):
    users.add("ops1", PASSWORD, Role.ANALYST)
    client = app.server.test_client()
    login(client, "ops1")
    response = client.post("/_dash-update-component", json={}, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403


def test_tokens_open_the_api_until_revoked(app, users):
    token = users.add_token("kmi-feed")
    client = app.server.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/whoami", headers=headers).json == {"token_source": "kmi-feed"}
    assert users.revoke_tokens("kmi-feed") == 1
    assert client.get("/api/v1/whoami", headers=headers).status_code == 401


def test_state_api_answers_within_scope(app, users, store, settings):
    writer = StreamWriter(store.client, store.keys, settings)
    writer.append(
        [
            position("liege-1", at(1), prov_code="60000"),
            position("antwerp-1", at(1), prov_code="10000"),
        ]
    )
    drain(__import__("cop.hub.worker", fromlist=["Hub"]).Hub(store, Recorder(), consumer="c"))
    users.add("liege", PASSWORD, Role.COORDINATOR, provinces=frozenset({"60000"}))
    client = app.server.test_client()
    login(client, "liege")
    body = client.get("/api/v1/state/position").json
    assert [i["id"] for i in body["items"]] == ["liege-1"]
    unknown = client.get("/api/v1/state/weather")
    assert unknown.status_code == 404 and unknown.json["field"] == "kind"
