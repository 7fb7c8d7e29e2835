"""The /api/v1 blueprint: JSON errors, size limits, state export."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import redis
from flask import Blueprint, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from cop.api.ingest import read_batch
from cop.auth import api_auth
from cop.domain.errors import InvalidInput
from cop.domain.users import User
from cop.feeds.positions import ingest_positions
from cop.settings import STREAM_KINDS
from cop.store.connection import Store
from cop.store.state import StateStore
from cop.store.streams import StreamWriter
from cop.store.users import UserStore

log = logging.getLogger(__name__)


def json_response(value: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(value), status=status, mimetype="application/json")


def create_api(store: Store, users: UserStore) -> Blueprint:
    api = Blueprint("api", __name__, url_prefix="/api/v1")
    authenticated = api_auth(users)
    settings = store.settings
    state_store = StateStore(store.client, store.keys)
    writer = StreamWriter(store.client, store.keys, settings)

    @api.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        return json_response(
            {"error": error.name.lower().replace(" ", "_"), "message": error.description},
            error.code or 500,
        )

    @api.errorhandler(redis.ConnectionError)
    @api.errorhandler(redis.TimeoutError)
    def store_away(error: Exception) -> Response:
        log.error("API: Redis unavailable: %s", error)
        response = json_response(
            {"error": "unavailable", "message": "the store is unreachable; nothing was saved, retry"},
            503,
        )
        response.headers["Retry-After"] = "5"
        return response

    @api.errorhandler(InvalidInput)
    def invalid(error: InvalidInput) -> Response:
        return json_response({"error": "invalid", "errors": error.as_dicts()}, 400)

    @api.post("/positions")
    @authenticated
    def post_positions() -> Response:
        """A batch of unit positions; each item is accepted or rejected on its own."""
        items = read_batch(request.get_data(cache=False), settings.api_max_batch)
        result = ingest_positions(
            writer,
            items,
            source=g.token.source,
            now=datetime.now(UTC),
            max_skew=timedelta(seconds=settings.max_clock_skew_s),
        )
        return json_response(result.as_dict(), result.status)

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
