"""The /api/v1 blueprint: JSON errors, size limits, state export."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Blueprint, Response, g, jsonify
from werkzeug.exceptions import HTTPException

from cop.auth import api_auth
from cop.domain.users import User
from cop.settings import STREAM_KINDS
from cop.store.connection import Store
from cop.store.state import StateStore
from cop.store.users import UserStore


def json_response(value: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(value), status=status, mimetype="application/json")


def create_api(store: Store, users: UserStore) -> Blueprint:
    api = Blueprint("api", __name__, url_prefix="/api/v1")
    authenticated = api_auth(users)
    state_store = StateStore(store.client, store.keys)

    @api.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        return json_response(
            {"error": error.name.lower().replace(" ", "_"), "message": error.description},
            error.code or 500,
        )

    @api.get("/whoami")
    @authenticated
    def whoami() -> Response:
        if g.token is not None:
            return jsonify({"token_source": g.token.source})
        user: User = g.user
        return jsonify(
            {
                "username": user.username,
                "role": user.role.value,
                "provinces": sorted(user.provinces),
                "hospitals": sorted(user.hospitals),
            }
        )

    @api.get("/state/<kind>")
    @authenticated
    def state(kind: str) -> Response:
        """The current state of one kind, within the caller's scope (tokens read nationally)."""
        if kind not in STREAM_KINDS:
            return json_response(
                {
                    "error": "not_found",
                    "field": "kind",
                    "message": f"unknown kind {kind!r}; known: {', '.join(STREAM_KINDS)}",
                },
                404,
            )
        user: User | None = g.user
        items = state_store.visible(kind, user.can_read_province if user else _everything)
        return json_response({"kind": kind, "count": len(items), "items": items})

    return api


def _everything(_prov_code: str | None) -> bool:
    return True
