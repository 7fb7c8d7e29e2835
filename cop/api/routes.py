"""The /api/v1 blueprint: JSON errors, size limits, state export."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import orjson
import redis
from flask import Blueprint, Response, g, jsonify, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import HTTPException

from cop.api.ingest import BatchResult, read_batch
from cop.api.ops import API_ITEMS
from cop.auth import api_auth
from cop.domain.chem import PlumeRequest
from cop.domain.envelope import Envelope
from cop.domain.errors import FieldProblem, InvalidInput, problems_from
from cop.domain.hospitals import BedType
from cop.domain.indicators import scales
from cop.domain.users import User
from cop.feeds.cap import AlertBook
from cop.feeds.chem import PlumeRuns, ReadingHistory, ingest_readings
from cop.feeds.hospitals import HospitalUpdates
from cop.feeds.indicators import ingest_indicators
from cop.feeds.logbook import Emitter, IncidentDesk, LogBook, LogQuery, may_read, since_text, to_csv, to_html
from cop.feeds.logbook import public as public_entry
from cop.feeds.positions import ingest_positions
from cop.feeds.sitreps import SitReps, compare, sitrep_html
from cop.feeds.zones import NotAllowed, UnitPositions, ZoneEditor
from cop.settings import STREAM_KINDS
from cop.standards.have import export_have
from cop.standards.sitrep import write_sitrep
from cop.store.connection import Store
from cop.store.state import StateStore
from cop.store.streams import StreamWriter, stream_history
from cop.store.users import UserStore

log = logging.getLogger(__name__)
ModelT = TypeVar("ModelT", bound=BaseModel)
BRUSSELS = ZoneInfo("Europe/Brussels")


def json_response(value: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(value), status=status, mimetype="application/json")


def brussels(value: str) -> str:
    """An ISO time as Brussels wall-clock time, for printable pages."""
    return datetime.fromisoformat(value).astimezone(BRUSSELS).strftime("%Y-%m-%d %H:%M:%S")


def create_api(store: Store, users: UserStore, emitter: Emitter | None = None) -> Blueprint:
    api = Blueprint("api", __name__, url_prefix="/api/v1")
    authenticated = api_auth(users)
    settings = store.settings
    state_store = StateStore(store.client, store.keys)
    writer = StreamWriter(store.client, store.keys, settings)
    hospitals = HospitalUpdates(store)
    plumes = PlumeRuns(store)
    zones = ZoneEditor(store)
    history = ReadingHistory(store)
    alerts = AlertBook(store)
    incidents = IncidentDesk(store)
    logbook = LogBook(store, emitter=emitter)
    sitreps = SitReps(store)

    def log_query() -> LogQuery:
        return LogQuery(
            disciplines=tuple(request.args.getlist("discipline")),
            categories=tuple(request.args.getlist("category")),
            author=request.args.get("author") or None,
            since=since_text(request.args.get("since")),
            until=since_text(request.args.get("until")),
            text=request.args.get("q") or None,
            limit=int(_number_arg("limit", default=500.0, low=1.0, high=5000.0)),
        )

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

    @api.errorhandler(NotAllowed)
    def not_allowed(error: NotAllowed) -> Response:
        return json_response({"error": "forbidden", "message": str(error)}, 403)

    @api.errorhandler(InvalidInput)
    def invalid(error: InvalidInput) -> Response:
        return json_response({"error": "invalid", "errors": error.as_dicts()}, 400)

    def ingest_batch(name: str, ingest: Callable[..., BatchResult], target: object) -> Response:
        """A batch endpoint: read the items, validate each on its own, answer per item."""
        items = read_batch(request.get_data(cache=False), settings.api_max_batch)
        result = ingest(
            target,
            items,
            source=_source(),
            now=datetime.now(UTC),
            max_skew=timedelta(seconds=settings.max_clock_skew_s),
        )
        count_items(name, result)
        return json_response(result.as_dict(), result.status)

    @api.post("/positions")
    @authenticated
    def post_positions() -> Response:
        """A batch of unit positions; each item is accepted or rejected on its own."""
        return ingest_batch("positions", ingest_positions, writer)

    @api.post("/readings")
    @authenticated
    def post_readings() -> Response:
        """A batch of detector readings; each is accepted or rejected on its own. A reading may
        carry its platform's report (`platform`), which then also moves on the map."""
        return ingest_batch("readings", ingest_readings, writer)

    @api.post("/indicators")
    @authenticated
    def post_indicators() -> Response:
        """A batch of risk-indicator readings; each accepted or rejected on its own."""
        return ingest_batch("indicators", ingest_indicators, store)

    @api.get("/indicators/scales")
    @authenticated
    def indicator_scales() -> Response:
        """Every indicator's official scale: levels, labels, colours, severities."""
        return json_response({"scales": [scale.as_dict() for scale in scales().values()]})

    @api.get("/indicators/history")
    @authenticated
    def indicator_history() -> Response:
        """Indicator readings of the last `hours` (default 72, ≤ 720), oldest first, in scope."""
        hours = _number_arg("hours", default=72.0, low=0.1, high=720.0)
        user: User | None = g.user
        items = stream_history(
            store,
            "indicator",
            since=datetime.now(UTC) - timedelta(hours=hours),
            can_read=user.can_read_province if user else _everything,
            limit=int(_number_arg("limit", default=20000.0, low=1.0, high=50000.0)),
        )
        return json_response({"count": len(items), "items": items})

    @api.post("/cap")
    @authenticated
    def post_cap() -> Response:
        """CAP 1.2/1.1, EDXL-DE 1.0/2.0 carrying CAP, or an Atom/RSS feed; each alert on its own.
        Links in an index feed are reported, not fetched (the cap feed fetches configured sources)."""
        result = alerts.import_document(
            request.get_data(cache=False),
            source=_source(),
            now=datetime.now(UTC),
            origin=request.remote_addr or "",
        )
        status = 200 if result["accepted"] or not result["rejected"] else 422
        return json_response(result, status)

    @api.get("/cap/feed")
    @authenticated
    def cap_feed() -> Response:
        """Our published alerts as an Atom feed, each entry carrying its CAP 1.2 document."""
        body = alerts.atom(base_url=request.host_url.rstrip("/"), now=datetime.now(UTC))
        return Response(body, mimetype="application/atom+xml")

    @api.get("/cap/<alert_id>")
    @authenticated
    def cap_document(alert_id: str) -> Response:
        """One of our published alerts as CAP 1.2."""
        body = alerts.cap_document(alert_id)
        if body is None:
            return json_response(
                {"error": "not_found", "field": "alert_id", "message": f"no published alert {alert_id!r}"},
                404,
            )
        return Response(body, mimetype="application/cap+xml")

    @api.post("/alerts/drafts")
    @authenticated
    def draft_alert() -> Response:
        """A coordinator's draft alert (published only after a second person approves it)."""
        alert_id = alerts.draft(_json_object(), user=_person(), now=datetime.now(UTC), origin=_origin())
        return json_response({"id": alert_id, "state": "draft"}, 201)

    @api.post("/alerts/<alert_id>/approve")
    @authenticated
    def approve_alert(alert_id: str) -> Response:
        """A second person approves a draft: it is published as CAP 1.2 and in the Atom feed."""
        published = alerts.approve(alert_id, user=_person(), now=datetime.now(UTC), origin=_origin())
        return json_response(
            {"id": alert_id, "state": published.state.value, "cap": f"/api/v1/cap/{alert_id}"}
        )

    # -- incidents, logbooks, situation reports ------------------------------------------------

    def readable_incident(incident_id: str) -> Envelope:
        incident = incidents.get(incident_id)
        user: User | None = g.user
        if user is not None and not may_read(user, incident):
            raise NotAllowed(f"{user.username} may not read incident {incident_id}")
        return incident

    @api.get("/incidents")
    @authenticated
    def get_incidents() -> Response:
        user: User | None = g.user
        found = incidents.visible(user) if user else list(state_store.all("incident").values())
        return json_response({"items": [orjson.loads(e.to_json()) for e in found]})

    @api.post("/incidents")
    @authenticated
    def post_incident() -> Response:
        incident_id = incidents.save(_json_object(), user=_person(), now=datetime.now(UTC), origin=_origin())
        return json_response({"id": incident_id}, 201)

    @api.patch("/incidents/<incident_id>")
    @authenticated
    def patch_incident(incident_id: str) -> Response:
        current = readable_incident(incident_id)
        fields = {
            k: current.data[k]
            for k in ("title", "incident_type", "lat", "lon", "level", "status", "disciplines")
        }
        fields["hospital_managers_may_log"] = current.data.get("hospital_managers_may_log", False)
        incidents.save(
            {**fields, **_json_object()},
            user=_person(),
            now=datetime.now(UTC),
            incident_id=incident_id,
            origin=_origin(),
        )
        return json_response({"id": incident_id})

    @api.post("/logbooks/<incident_id>/entries")
    @authenticated
    def post_log_entry(incident_id: str) -> Response:
        """Append an entry. There is no way to change or delete one: correct it with a new entry."""
        readable_incident(incident_id)
        entry = logbook.append(
            incident_id, _json_object(), user=_person(), now=datetime.now(UTC), origin=_origin()
        )
        return json_response(entry, 201)

    @api.get("/logbooks/<incident_id>/entries")
    @authenticated
    def get_log_entries(incident_id: str) -> Response:
        """Entries, newest first: `discipline`, `category` (repeatable), `author`, `since`, `until`, `q`."""
        readable_incident(incident_id)
        total, entries = logbook.query(incident_id, log_query())
        return json_response({"total": total, "items": entries})

    @api.get("/logbooks/<incident_id>/entries/<entry_id>")
    @authenticated
    def get_log_entry(incident_id: str, entry_id: str) -> Response:
        """One entry. (PUT, PATCH and DELETE do not exist here, or anywhere: 405.)"""
        readable_incident(incident_id)
        entry = logbook.entry(incident_id, entry_id)
        if entry is None:
            return json_response(
                {"error": "not_found", "field": "entry_id", "message": f"no entry {entry_id}"}, 404
            )
        return json_response(public_entry(entry))

    @api.get("/logbooks/<incident_id>/export.csv")
    @authenticated
    def export_log_csv(incident_id: str) -> Response:
        incident = readable_incident(incident_id)
        marker = "-EXERCISE" if incident.exercise else ""
        response = Response(to_csv(logbook.all_entries(incident_id)), mimetype="text/csv")
        response.headers["Content-Disposition"] = f"attachment; filename=logbook-{incident_id}{marker}.csv"
        return response

    @api.get("/logbooks/<incident_id>/export.html")
    @authenticated
    def export_log_html(incident_id: str) -> Response:
        incident = readable_incident(incident_id)
        return Response(
            to_html(incident, logbook.all_entries(incident_id), to_local=brussels), mimetype="text/html"
        )

    @api.get("/sitreps/<incident_id>")
    @authenticated
    def get_sitreps(incident_id: str) -> Response:
        readable_incident(incident_id)
        return json_response(
            {"draft": sitreps.draft(incident_id), "published": sitreps.published(incident_id)}
        )

    @api.post("/sitreps/<incident_id>/generate")
    @authenticated
    def generate_sitrep(incident_id: str) -> Response:
        readable_incident(incident_id)
        return json_response(sitreps.generate(incident_id, user=_person(), now=datetime.now(UTC)), 201)

    @api.patch("/sitreps/<incident_id>/draft")
    @authenticated
    def edit_sitrep(incident_id: str) -> Response:
        readable_incident(incident_id)
        body = _json_object()
        narrative = body.get("narrative")
        if not isinstance(narrative, dict) or not all(isinstance(v, str) for v in narrative.values()):
            raise InvalidInput(
                [FieldProblem("narrative", "an object of texts (situation, actions, outlook, needs)")]
            )
        return json_response(sitreps.edit(incident_id, narrative, user=_person()))

    @api.post("/sitreps/<incident_id>/publish")
    @authenticated
    def publish_sitrep(incident_id: str) -> Response:
        readable_incident(incident_id)
        return json_response(
            sitreps.publish(incident_id, user=_person(), now=datetime.now(UTC), origin=_origin()), 201
        )

    @api.get("/sitreps/<incident_id>/<int:number>.xml")
    @authenticated
    def sitrep_xml(incident_id: str, number: int) -> Response:
        readable_incident(incident_id)
        report = sitreps.report(incident_id, number)
        previous = sitreps.report(incident_id, number - 1) if number > 1 else None
        response = Response(write_sitrep(report, previous), mimetype="application/xml")
        marker = "-EXERCISE" if report["exercise"] else ""
        response.headers["Content-Disposition"] = (
            f"attachment; filename=sitrep-{incident_id}-{number}{marker}.xml"
        )
        return response

    @api.get("/sitreps/<incident_id>/<int:number>.html")
    @authenticated
    def sitrep_page(incident_id: str, number: int) -> Response:
        readable_incident(incident_id)
        return Response(
            sitrep_html(sitreps.report(incident_id, number), to_local=brussels), mimetype="text/html"
        )

    @api.get("/sitreps/<incident_id>/compare")
    @authenticated
    def sitrep_compare(incident_id: str) -> Response:
        readable_incident(incident_id)
        a = int(_number_arg("a", default=0.0, low=1.0, high=1e6))
        b = int(_number_arg("b", default=0.0, low=1.0, high=1e6))
        return json_response(
            {
                "a": a,
                "b": b,
                "changes": compare(sitreps.report(incident_id, a), sitreps.report(incident_id, b)),
            }
        )

    @api.get("/readings")
    @authenticated
    def get_readings() -> Response:
        """Recent readings, oldest first: `platform`, `substance`, `minutes` (default 30, ≤ 1440)."""
        minutes = _number_arg("minutes", default=30.0, low=0.1, high=1440.0)
        user: User | None = g.user
        items = history.recent(
            since=datetime.now(UTC) - timedelta(minutes=minutes),
            platform_id=request.args.get("platform") or None,
            substance_key=request.args.get("substance") or None,
            can_read=user.can_read_province if user else _everything,
            limit=int(_number_arg("limit", default=5000.0, low=1.0, high=20000.0)),
        )
        return json_response({"count": len(items), "items": items})

    @api.post("/plumes")
    @authenticated
    def post_plume() -> Response:
        """Run the plume model for a release and publish its threat zones."""
        plume_request = _model_body(PlumeRequest)
        user: User | None = g.user
        if user is not None and not zones.may_edit(user, plume_request.incident_id):
            raise NotAllowed(f"{user.username} may not run plumes for incident {plume_request.incident_id}")
        incident = zones.incident(plume_request.incident_id)
        entity_id, payload = plumes.save(
            plume_request,
            actor=user.username if user else f"token:{g.token.source}",
            source=g.token.source if g.token is not None else "web",
            now=datetime.now(UTC),
            exercise=incident.exercise,
            origin=request.remote_addr or "",
        )
        return json_response({"id": entity_id, "data": payload.model_dump(mode="json")}, 201)

    @api.get("/zones")
    @authenticated
    def get_zones() -> Response:
        """Zones within the caller's scope (`incident` filters), each with the units inside it now."""
        user: User | None = g.user
        wanted = request.args.get("incident")
        items = [
            z
            for z in state_store.visible("zone", user.can_read_province if user else _everything)
            if not z["data"].get("deleted") and (wanted is None or z["data"]["incident_id"] == wanted)
        ]
        positions = UnitPositions.load(store)  # once, for every zone listed
        for item in items:
            item["units_inside"] = positions.inside(item["data"]["geometry"])
        return json_response({"count": len(items), "items": items})

    @api.post("/zones")
    @authenticated
    def post_zone() -> Response:
        change = zones.create(_json_object(), user=_person(), now=datetime.now(UTC), origin=_origin())
        return json_response({"id": change.zone_id, "data": change.payload.model_dump(mode="json")}, 201)

    @api.patch("/zones/<path:zone_id>")
    @authenticated
    def patch_zone(zone_id: str) -> Response:
        change = zones.update(
            zone_id, _json_object(), user=_person(), now=datetime.now(UTC), origin=_origin()
        )
        return json_response({"id": change.zone_id, "data": change.payload.model_dump(mode="json")})

    @api.delete("/zones/<path:zone_id>")
    @authenticated
    def delete_zone(zone_id: str) -> Response:
        change = zones.delete(zone_id, user=_person(), now=datetime.now(UTC), origin=_origin())
        return json_response({"id": change.zone_id, "deleted": True})

    @api.post("/zones/from-plume")
    @authenticated
    def zones_from_plume() -> Response:
        body = _json_object()
        changes = zones.from_plume(
            _text_field(body, "incident_id"),
            _text_field(body, "plume_id"),
            user=_person(),
            now=datetime.now(UTC),
            origin=_origin(),
        )
        return json_response({"ids": [c.zone_id for c in changes]}, 201)

    @api.post("/zones/buffers")
    @authenticated
    def zones_buffers() -> Response:
        body = _json_object()
        radii = body.get("radii_m")
        if not isinstance(radii, dict):
            raise InvalidInput([FieldProblem("radii_m", 'an object such as {"red": 300, "orange": 1000}')])
        changes = zones.buffers(
            _text_field(body, "incident_id"), radii, user=_person(), now=datetime.now(UTC), origin=_origin()
        )
        return json_response({"ids": [c.zone_id for c in changes]}, 201)

    @api.post("/have")
    @authenticated
    def post_have() -> Response:
        """An EDXL-HAVE 1.0 document, bare or in an EDXL-DE 1.0 envelope; several hospitals."""
        result = hospitals.import_document(
            request.get_data(cache=False), source=_source(), origin=request.remote_addr or ""
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


def count_items(endpoint: str, result: BatchResult) -> None:
    API_ITEMS.labels(endpoint, "accepted").inc(len(result.accepted))
    API_ITEMS.labels(endpoint, "rejected").inc(len(result.rejected))


def _everything(_prov_code: str | None) -> bool:
    return True


def _source() -> str:
    """Who sent it: the token's source, or the logged-in person."""
    return g.token.source if g.token is not None else f"user:{g.user.username}"


def _origin() -> str:
    return request.remote_addr or ""


def _person() -> User:
    """Zones and our own alerts are changed by a person, named in the audit: API tokens may not."""
    user: User | None = g.user
    if user is None:
        raise NotAllowed("this is changed by a logged-in person, not by an API token")
    return user


def _json_object() -> dict[str, Any]:
    try:
        body = orjson.loads(request.get_data(cache=False) or b"")
    except orjson.JSONDecodeError as error:
        raise InvalidInput([FieldProblem("body", f"not valid JSON ({error})")]) from None
    if not isinstance(body, dict):
        raise InvalidInput([FieldProblem("body", "must be a JSON object")])
    return body


def _model_body(model: type[ModelT]) -> ModelT:
    try:
        return model.model_validate(_json_object())
    except ValidationError as error:
        raise InvalidInput(problems_from(error)) from error


def _text_field(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidInput([FieldProblem(name, "required (a text)")])
    return value


def _number_arg(name: str, *, default: float, low: float, high: float) -> float:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise InvalidInput([FieldProblem(name, f"must be a number, not {raw!r}")]) from None
    if not (low <= value <= high):
        raise InvalidInput([FieldProblem(name, f"must be between {low:g} and {high:g}")])
    return value
