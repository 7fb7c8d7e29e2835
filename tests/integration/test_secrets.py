"""Secure cookies, and no secret (password, token, session key) in logs, audit records or error pages."""

from __future__ import annotations

import logging

import pytest

from cop.app import create_app
from cop.domain.users import Role
from cop.store.audit import read_audit
from cop.store.users import UserStore
from tests.conftest import PASSWORD
from tests.integration.helpers import login


@pytest.fixture
def users(store):
    return UserStore(store.client, store.keys)


def test_behind_https_the_session_cookie_is_secure_httponly_and_samesite(settings, store, users):
    app = create_app(settings.model_copy(update={"session_cookie_secure": True}), store)
    users.add("ops1", PASSWORD, Role.ANALYST)
    client = app.server.test_client()
    response = login(client, "ops1")
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("cop_session=")
    assert {"Secure", "HttpOnly", "SameSite=Lax"} <= {part.strip() for part in cookie.split(";")}
    assert "remember_token" not in str(response.headers)  # no long-lived "remember me" cookie


def test_no_secret_reaches_the_logs_the_audit_or_an_answer(settings, store, users, caplog):
    app = create_app(settings, store)
    secret_key = app.server.config["SECRET_KEY"]
    users.add("ops1", PASSWORD, Role.ADMIN)
    token = users.add_token("kmi-feed")
    wrong_password = "not-the-password-9f3c"
    wrong_token = "cop_wrongwrongwrongwrongwrongwrongwrong00"
    answers = []
    with caplog.at_level(logging.DEBUG):
        client = app.server.test_client()
        answers.append(login(client, "ops1", wrong_password))
        answers.append(login(client, "ops1"))
        answers.append(client.get("/api/v1/whoami"))
        api = app.server.test_client()
        for bearer in (token, wrong_token):
            headers = {"Authorization": f"Bearer {bearer}"}
            answers.append(api.post("/api/v1/positions", json=[{"id": "x", "lat": 99}], headers=headers))
            answers.append(api.post("/api/v1/positions", data=b"{not json", headers=headers))
            answers.append(api.get("/api/v1/nowhere", headers=headers))
    texts = [record.getMessage() + (record.exc_text or "") for record in caplog.records]
    texts += [str(record) for record in read_audit(store.client, store.keys)]
    texts += [answer.get_data(as_text=True) + str(answer.headers) for answer in answers]
    everything = "\n".join(texts)
    assert [a.status_code for a in answers[:3]] == [401, 302, 200]
    for secret in (PASSWORD, wrong_password, token, wrong_token, secret_key):
        assert secret not in everything
    # Tokens are stored hashed: the raw value is nowhere in Redis either.
    for key in store.client.scan_iter(match=f"{settings.redis_prefix}:*"):
        if store.client.type(key) == b"hash":
            assert token.encode() not in b"".join(store.client.hgetall(key).values())


def test_an_internal_error_answers_without_a_traceback(settings, store, users):
    app = create_app(settings, store)

    @app.server.get("/api/v1/boom")
    def boom():
        raise RuntimeError(f"internal detail {app.server.config['SECRET_KEY']}")

    users.add("ops1", PASSWORD, Role.ADMIN)
    client = app.server.test_client()
    login(client, "ops1")
    app.server.config["PROPAGATE_EXCEPTIONS"] = False  # as in production (the test client would re-raise)
    response = client.get("/api/v1/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Traceback" not in body and "internal detail" not in body and "RuntimeError" not in body
    assert app.server.config["SECRET_KEY"] not in body
