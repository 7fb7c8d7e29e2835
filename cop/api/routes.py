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
from cop.domain.errors import FieldProblem, InvalidInput
from cop.domain.hospitals import BedType
from cop.domain.users import User
from cop.feeds.hospitals import HospitalUpdates
from cop.feeds.positions import ingest_positions
from cop.settings import STREAM_KINDS
from cop.standards.have import export_have
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
    hospitals = HospitalUpdates(store)

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

    @api.post("/have")
    @authenticated
    def post_have() -> Response:
        """An EDXL-HAVE 1.0 document, bare or in an EDXL-DE 1.0 envelope; several hospitals."""
        result = hospitals.import_document(
            request.get_data(cache=False), source=g.token.source, origin=request.remote_addr or ""
        )
        status = 200 if result["accepted"] or not (result["rejected"] or result["unknown"]) else 422
        return json_response(result, status)

    @api.get("/have")
    @authenticated
    def get_have() -> Response:
        """Current hospital status as EDXL-HAVE 1.0 (`?de=1` wraps it in EDXL-DE 1.0).

        Filters: `province` (repeatable NIS code), `bed_type` (a HAVE bed type).
        """
        user: User | None = g.user
        provinces = set(request.args.getlist("province"))
        if user is not None and not user.national:
            provinces = (provinces & set(user.provinces)) or set(user.provinces)
        bed_type = request.args.get("bed_type") or None
        if bed_type is not None and bed_type not in {b.value for b in BedType}:
            raise InvalidInput([FieldProblem("bed_type", f"unknown HAVE bed type {bed_type!r}")])
        records = hospitals.records(provinces=provinces or None, bed_type=bed_type)
        document = export_have(
            records,
            wrap_de=request.args.get("de") in {"1", "true", "yes"},
            sender=f"cop@{request.host}",
            sent_at=datetime.now(UTC),
            exercise=any(r.exercise for r in records),
        )
        response = Response(document, mimetype="application/xml")
        response.headers["Content-Disposition"] = "attachment; filename=hospital-status-have.xml"
        return response

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
