"""Public alerts (stream kind `alert`): CAP in (HTTP, and a poller over configured feeds), the
msgType rules, weather warnings feeding the KMI indicator, and CAP out (draft, second-person
approval, publication as CAP 1.2 and Atom)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, ClassVar

import numpy as np
import requests
import shapely
import shapely.geometry
from pydantic import ValidationError

from cop.domain.alerts import (
    LANGUAGES,
    AlertArea,
    AlertDraft,
    AlertPayload,
    AlertState,
    AlertText,
    alert_entity_id,
)
from cop.domain.envelope import Envelope
from cop.domain.errors import FieldProblem, InvalidInput, problems_from
from cop.domain.users import Role, User
from cop.feeds.base import Feed, register_feed
from cop.feeds.indicators import indicator_envelopes
from cop.feeds.zones import NotAllowed
from cop.geo.boundaries import municipalities
from cop.geo.reference import load_geojson
from cop.geo.zones import circle, provinces_touched
from cop.standards.cap import Area, CapAlert, Info, cap_time, read_cap_document, write_atom, write_cap
from cop.store.audit import audit
from cop.store.connection import Store
from cop.store.state import StateStore
from cop.store.streams import StreamWriter

log = logging.getLogger(__name__)

KIND = "alert"
MICROSECOND = timedelta(microseconds=1)
# MeteoAlarm's awareness_type numbers, and words in an event name, to KMI phenomena.
AWARENESS_TYPES = {
    "1": "wind",
    "2": "snow",
    "3": "thunderstorm",
    "5": "heat",
    "6": "cold",
    "7": "storm_surge",
    "10": "rain",
}
EVENT_WORDS = (
    ("thunder", "thunderstorm"),
    ("storm surge", "storm_surge"),
    ("coastal", "storm_surge"),
    ("wind", "wind"),
    ("gale", "wind"),
    ("storm", "wind"),
    ("rain", "rain"),
    ("snow", "snow"),
    ("ice", "ice"),
    ("frost", "ice"),
    ("glaze", "ice"),
    ("heat", "heat"),
    ("cold", "cold"),
)
SEVERITY_LEVEL = {"Minor": "yellow", "Moderate": "yellow", "Severe": "orange", "Extreme": "red"}
AWARENESS_LEVELS = {"1": "green", "2": "yellow", "3": "orange", "4": "red"}


def parse_cap_time(value: str) -> datetime:
    return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))


@dataclass(frozen=True)
class ProvinceCodes:
    by_iso: dict[str, str]
    by_nuts: dict[str, str]


@cache
def province_codes() -> ProvinceCodes:
    by_iso, by_nuts = {}, {}
    for feature in load_geojson("be_provinces.geojson")["features"]:
        props = feature["properties"]
        by_iso[props["iso_3166_2"].upper()] = props["prov_code"]
        by_nuts[props["nuts2"].upper()] = props["prov_code"]
    return ProvinceCodes(by_iso, by_nuts)


def area_geometry(areas: Sequence[Area | AlertArea]) -> shapely.Geometry | None:
    """The union of an alert's polygons and circles (WGS84), or None if it has none."""
    shapes = []
    for area in areas:
        for ring in area.polygons:
            if len(ring) >= 4:
                polygon = shapely.Polygon(ring)
                shapes.append(polygon if polygon.is_valid else shapely.make_valid(polygon))
        for lon, lat, radius_km in area.circles:
            if -90 <= lat <= 90 and -180 <= lon <= 180 and radius_km > 0:
                shapes.append(circle(lon, lat, radius_km * 1000.0))
    if not shapes:
        return None
    return shapely.simplify(shapely.unary_union(shapes), 0.0005)


def geocode_provinces(areas: Sequence[Area | AlertArea]) -> set[str]:
    """Provinces named by geocodes: NIS municipality or province codes, ISO 3166-2, NUTS 2."""
    codes = province_codes()
    towns = municipalities()
    found: set[str] = set()
    for area in areas:
        for name, value in area.geocodes:
            key, value = name.strip().upper(), value.strip().upper()
            if key in {"NIS", "NIS5", "NIS_CODE", "INS"}:
                hits = np.flatnonzero(towns.nis_codes == value)
                if len(hits):
                    found.add(str(towns.prov_codes[hits[0]]))
                elif value in codes.by_iso.values():
                    found.add(value)
            elif key in {"ISO3166-2", "ISO 3166-2", "ISO_3166_2"} and value in codes.by_iso:
                found.add(codes.by_iso[value])
            elif key in {"NUTS2", "NUTS", "NUTS-2"} and value in codes.by_nuts:
                found.add(codes.by_nuts[value])
    return found


def received_payload(alert: CapAlert) -> AlertPayload:
    info = alert.infos[0] if alert.infos else None
    areas = [
        AlertArea(desc=a.desc, polygons=a.polygons, circles=a.circles, geocodes=a.geocodes)
        for i in alert.infos
        for a in i.areas
    ]
    geometry = area_geometry(areas)
    provinces = set(geocode_provinces(areas))
    if geometry is not None:
        provinces.update(provinces_touched(geometry))
    state = AlertState.ACTIVE if alert.msg_type in {"Alert", "Update"} else AlertState.NOTICE
    return AlertPayload(
        origin="received",
        version=alert.version,
        identifier=alert.identifier,
        sender=alert.sender,
        sent=alert.sent,
        status=alert.status,
        msg_type=alert.msg_type,
        scope=alert.scope,
        references=alert.references,
        note=alert.note,
        state=state,
        event=info.event if info else "",
        categories=info.categories if info else [],
        urgency=info.urgency if info else "Unknown",
        severity=info.severity if info else "Unknown",
        certainty=info.certainty if info else "Unknown",
        headline=(info.headline or info.event) if info else alert.note[:160],
        effective=info.effective if info else None,
        onset=info.onset if info else None,
        expires=info.expires if info else None,
        sender_name=info.sender_name if info else "",
        texts=[
            AlertText(
                language=i.language, headline=i.headline, description=i.description, instruction=i.instruction
            )
            for i in alert.infos
        ],
        areas=areas,
        parameters=info.parameters if info else [],
        geometry=shapely.geometry.mapping(geometry) if geometry is not None else None,
        prov_code=sorted(provinces)[0] if len(provinces) == 1 else None,
        prov_codes=sorted(provinces),
    )


def weather_phenomenon(payload: AlertPayload) -> str | None:
    if "Met" not in payload.categories:
        return None
    for name, value in payload.parameters:
        if name.lower() == "awareness_type":
            number = value.split(";")[0].strip()
            if number in AWARENESS_TYPES:
                return AWARENESS_TYPES[number]
    event = payload.event.lower()
    return next((phenomenon for word, phenomenon in EVENT_WORDS if word in event), None)


def weather_level(payload: AlertPayload) -> str:
    for name, value in payload.parameters:
        if name.lower() == "awareness_level":
            number = value.split(";")[0].strip()
            if number in AWARENESS_LEVELS:
                return AWARENESS_LEVELS[number]
    return SEVERITY_LEVEL.get(payload.severity, "yellow")


class AlertBook:
    """Reads, writes and publishes alerts."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.settings = store.settings
        self.state = StateStore(store.client, store.keys)
        self.writer = StreamWriter(store.client, store.keys, store.settings)

    # -- CAP in -------------------------------------------------------------------------------------

    def import_document(self, data: bytes, *, source: str, now: datetime, origin: str = "") -> dict[str, Any]:
        """Validate and store every alert a document carries; each judged on its own."""
        document = read_cap_document(data)
        envelopes: list[Envelope] = []
        accepted = []
        rejected = [r.as_dict() for r in document.rejected]
        for alert in document.alerts:
            try:
                envelopes += self.envelopes_for(alert, source=source, now=now)
                accepted.append(
                    {"identifier": alert.identifier, "id": alert_entity_id(alert.sender, alert.identifier)}
                )
            except (InvalidInput, ValueError) as error:
                problems = (
                    error.problems if isinstance(error, InvalidInput) else [FieldProblem("sent", str(error))]
                )
                rejected.append(
                    {
                        "where": "alert",
                        "identifier": alert.identifier,
                        "errors": [p.as_dict() for p in problems],
                    }
                )
        if envelopes:
            self.writer.append(envelopes)
            audit(
                self.store.client,
                self.store.keys,
                actor=source,
                action="cap.import",
                target=document.kind,
                origin=origin,
                detail={"accepted": [a["id"] for a in accepted], "rejected": len(rejected)},
            )
        return {"kind": document.kind, "accepted": accepted, "rejected": rejected, "links": document.links}

    def envelopes_for(self, alert: CapAlert, *, source: str, now: datetime) -> list[Envelope]:
        """The alert, the alerts it updates or cancels, and the weather indicators it sets."""
        payload = received_payload(alert)
        entity_id = alert_entity_id(alert.sender, alert.identifier)
        sent = parse_cap_time(alert.sent)
        exercise = alert.status == "Exercise"
        envelopes = [
            Envelope.build(
                kind=KIND,
                entity_id=entity_id,
                source=source,
                observed_at=sent,
                received_at=now,
                data=payload,
                exercise=exercise,
            )
        ]
        if alert.msg_type in {"Update", "Cancel"}:
            new_state = AlertState.SUPERSEDED if alert.msg_type == "Update" else AlertState.CANCELLED
            for ref_sender, ref_identifier, _ref_sent in alert.references:
                referenced = self.state.get(KIND, alert_entity_id(ref_sender, ref_identifier))
                if referenced is None or referenced.data.get("state") in {
                    new_state.value,
                    AlertState.CANCELLED.value,
                }:
                    continue
                data = {**referenced.data, "state": new_state.value, "superseded_by": entity_id}
                envelopes.append(
                    Envelope.build(
                        kind=KIND,
                        entity_id=referenced.id,
                        source=source,
                        observed_at=max(sent, referenced.observed_at + MICROSECOND),
                        received_at=now,
                        data=data,
                        exercise=referenced.exercise,
                    )
                )
                if alert.msg_type == "Cancel":
                    envelopes += self.weather_indicators(
                        AlertPayload.model_validate(referenced.data), referenced.id, sent, now, cancelled=True
                    )
        if payload.state is AlertState.ACTIVE:
            envelopes += self.weather_indicators(payload, entity_id, sent, now)
        return envelopes

    def weather_indicators(
        self, payload: AlertPayload, entity_id: str, sent: datetime, now: datetime, *, cancelled: bool = False
    ) -> list[Envelope]:
        """A weather warning in CAP sets the KMI indicator of each province it covers."""
        phenomenon = weather_phenomenon(payload)
        if phenomenon is None or not payload.prov_codes:
            return []
        level = "green" if cancelled else weather_level(payload)
        items = [
            {
                "indicator": "kmi_warning",
                "scope": "province",
                "scope_id": prov,
                "phenomenon": phenomenon,
                "level": level,
                "valid_from": None if cancelled else (payload.onset or payload.effective or payload.sent),
                "valid_to": None if cancelled else payload.expires,
                "observed_at": sent.isoformat(),
                "reference": entity_id,
            }
            for prov in payload.prov_codes
        ]
        envelopes, result = indicator_envelopes(items, source="cap", now=now, max_skew=timedelta(days=3650))
        if result.rejected:
            log.info(
                "cap: weather indicator not derived from %s: %s", entity_id, result.as_dict()["rejected"][:1]
            )
        return envelopes

    # -- CAP out ------------------------------------------------------------------------------------

    def _may_write(self, user: User, provinces: Sequence[str]) -> None:
        if user.role is Role.ADMIN:
            return
        if user.role is not Role.COORDINATOR:
            raise NotAllowed(f"{user.username} may not draft or approve public alerts")
        outside = [p for p in provinces if not user.can_write_province(p)]
        if outside or not provinces:
            raise NotAllowed(
                f"{user.username} may not alert provinces outside their scope ({', '.join(outside)})"
            )

    def draft(self, raw: dict[str, Any], *, user: User, now: datetime, origin: str = "") -> str:
        """A new draft alert; it is published only once a second person approves it."""
        try:
            draft = AlertDraft.model_validate(raw)
        except ValidationError as error:
            raise InvalidInput(problems_from(error)) from error
        areas = []
        provinces = set(draft.provinces)
        unknown = provinces - set(province_codes().by_iso.values())
        if unknown:
            raise InvalidInput([FieldProblem("provinces", f"unknown province code {sorted(unknown)[0]!r}")])
        if draft.polygon:
            ring = list(draft.polygon)
            if ring[0] != ring[-1]:
                ring.append(ring[0])
            shape = shapely.Polygon(ring)
            if not shape.is_valid:
                raise InvalidInput(
                    [FieldProblem("polygon", f"not a valid shape ({shapely.is_valid_reason(shape)})")]
                )
            touched = provinces_touched(shape)
            if not touched:
                raise InvalidInput([FieldProblem("polygon", "does not cover any part of Belgium")])
            provinces.update(touched)
            areas.append(AlertArea(desc=draft.area_desc or "Area drawn on the map", polygons=[ring]))
        codes = province_codes()
        iso_of = {v: k for k, v in codes.by_iso.items()}
        for prov in sorted(draft.provinces):
            areas.append(AlertArea(desc=f"Province {iso_of[prov]}", geocodes=[("ISO3166-2", iso_of[prov])]))
        self._may_write(user, sorted(provinces))
        identifier = f"BE-COP-{now:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
        geometry = area_geometry(areas)
        payload = AlertPayload(
            origin="ours",
            identifier=identifier,
            sender=self.settings.cap_sender,
            status="Exercise" if draft.exercise else "Actual",
            msg_type="Alert",
            state=AlertState.DRAFT,
            event=draft.event,
            categories=[draft.category],
            urgency=draft.urgency,
            severity=draft.severity,
            certainty=draft.certainty,
            headline=next(iter(draft.texts.values()))["headline"],
            expires=None,
            texts=[
                AlertText(language=LANGUAGES[lang], **{k: v.strip() for k, v in text.items()})
                for lang, text in draft.texts.items()
            ],
            areas=areas,
            parameters=[("expires_in_hours", f"{draft.expires_in_hours:g}")],
            geometry=shapely.geometry.mapping(geometry) if geometry is not None else None,
            prov_code=sorted(provinces)[0] if len(provinces) == 1 else None,
            prov_codes=sorted(provinces),
            author=user.username,
        )
        entity_id = alert_entity_id(payload.sender, identifier)
        self._write(
            entity_id,
            payload,
            now=now,
            exercise=draft.exercise,
            actor=user.username,
            action="draft",
            origin=origin,
        )
        return entity_id

    def approve(self, entity_id: str, *, user: User, now: datetime, origin: str = "") -> AlertPayload:
        """A second person approves a draft: it is published now."""
        current = self.state.get(KIND, entity_id)
        if current is None or current.data.get("origin") != "ours":
            raise InvalidInput([FieldProblem("alert_id", f"no draft {entity_id!r}")])
        payload = AlertPayload.model_validate(current.data)
        if payload.state is not AlertState.DRAFT:
            raise InvalidInput([FieldProblem("alert_id", f"already {payload.state.value}")])
        if payload.author == user.username:
            raise NotAllowed("a second person must approve an alert: its author may not")
        self._may_write(user, payload.prov_codes)
        hours = float(dict(payload.parameters).get("expires_in_hours", "6"))
        sent = now.replace(microsecond=0)
        published = payload.model_copy(
            update={
                "state": AlertState.PUBLISHED,
                "approver": user.username,
                "sent": cap_time(sent),
                "effective": cap_time(sent),
                "expires": cap_time(sent + timedelta(hours=hours)),
                "parameters": [],
            }
        )
        self._write(
            entity_id,
            published,
            now=now,
            exercise=current.exercise,
            actor=user.username,
            action="publish",
            origin=origin,
        )
        return published

    def _write(
        self,
        entity_id: str,
        payload: AlertPayload,
        *,
        now: datetime,
        exercise: bool,
        actor: str,
        action: str,
        origin: str,
    ) -> None:
        envelope = Envelope.build(
            kind=KIND, entity_id=entity_id, source="web", observed_at=now, data=payload, exercise=exercise
        )
        self.writer.append_audited(
            envelope,
            actor=actor,
            action=f"alert.{action}",
            origin=origin,
            detail={"identifier": payload.identifier, "status": payload.status},
        )

    def published(self) -> list[AlertPayload]:
        found = []
        for envelope in self.state.all(KIND).values():
            data = envelope.data
            if data.get("origin") == "ours" and data.get("state") == AlertState.PUBLISHED.value:
                found.append(AlertPayload.model_validate(data))
        return sorted(found, key=lambda p: p.sent or "", reverse=True)

    def cap_document(self, entity_id: str) -> bytes | None:
        current = self.state.get(KIND, entity_id)
        if (
            current is None
            or current.data.get("origin") != "ours"
            or current.data.get("state") != "published"
        ):
            return None
        return write_cap(as_cap(AlertPayload.model_validate(current.data)))

    def atom(self, *, base_url: str, now: datetime) -> bytes:
        entries = [
            (as_cap(p), f"{base_url}/api/v1/cap/{alert_entity_id(p.sender, p.identifier)}")
            for p in self.published()
        ]
        return write_atom(
            entries,
            feed_id=f"{base_url}/api/v1/cap/feed",
            title="COP public alerts",
            updated=cap_time(now.replace(microsecond=0)),
            self_url=f"{base_url}/api/v1/cap/feed",
        )


def as_cap(payload: AlertPayload) -> CapAlert:
    """One of our published alerts as CAP 1.2: an <info> per language, every area in each."""
    areas = [
        Area(desc=a.desc, polygons=a.polygons, circles=a.circles, geocodes=a.geocodes) for a in payload.areas
    ]
    return CapAlert(
        version="1.2",
        identifier=payload.identifier,
        sender=payload.sender,
        sent=payload.sent or "",
        status=payload.status,
        msg_type=payload.msg_type,
        scope=payload.scope,
        references=payload.references,
        note="Exercise" if payload.status == "Exercise" else payload.note,
        infos=[
            Info(
                language=text.language,
                categories=payload.categories,
                event=payload.event,
                urgency=payload.urgency,
                severity=payload.severity,
                certainty=payload.certainty,
                headline=text.headline,
                description=text.description,
                instruction=text.instruction,
                effective=payload.effective,
                expires=payload.expires,
                sender_name="COP",
                areas=areas,
            )
            for text in payload.texts
        ],
    )


# -- the poller --------------------------------------------------------------------------------------


@register_feed
class CapFeed(Feed):
    """Polls the configured CAP sources (COP_CAP_FEED_URLS): bare CAP, EDXL-DE, Atom or RSS; the
    alerts an index feed links to are fetched once each."""

    name: ClassVar[str] = "cap"
    interval_s: ClassVar[float] = 5.0
    in_demo: ClassVar[bool] = False  # the demo's weather warnings come from the indicators feed
    max_links: ClassVar[int] = 50

    def __init__(self, store: Store, **kwargs: Any) -> None:
        super().__init__(store, **kwargs)
        self.book = AlertBook(store)
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "COP CAP poller"
        self.seen_links: set[str] = set()
        self.last_poll: datetime | None = None
        self.imported = 0
        self.failures: dict[str, str] = {}

    def info(self) -> dict[str, Any]:
        return {
            "alerts": self.imported,
            "sources": len(self.settings.cap_feed_urls),
            "failing": self.failures,
        }

    def fetch(self, url: str) -> bytes:
        response = self.session.get(url, timeout=10, stream=True)
        response.raise_for_status()
        body = response.raw.read(self.settings.cap_max_bytes + 1, decode_content=True)
        if len(body) > self.settings.cap_max_bytes:
            raise ValueError(f"larger than {self.settings.cap_max_bytes} bytes")
        return bytes(body)

    def tick(self, now: datetime) -> Sequence[Envelope]:
        if self.last_poll and (now - self.last_poll).total_seconds() < self.settings.cap_poll_s:
            return []
        self.last_poll = now
        for url in self.settings.cap_feed_urls:
            self.poll(url, now)
        return []

    def poll(self, url: str, now: datetime) -> None:
        try:
            result = self.book.import_document(self.fetch(url), source=f"cap:{url}", now=now)
        except (requests.RequestException, InvalidInput, ValueError) as error:
            self.failures[url] = str(error)[:200]
            log.warning("cap: %s refused or unreachable: %s", url, error)
            return
        self.failures.pop(url, None)
        self.imported += len(result["accepted"])
        fresh = [link for link in result["links"] if link not in self.seen_links][: self.max_links]
        for link in fresh:
            self.seen_links.add(link)
            try:
                linked = self.book.import_document(self.fetch(link), source=f"cap:{url}", now=now)
                self.imported += len(linked["accepted"])
            except (requests.RequestException, InvalidInput, ValueError) as error:
                log.info("cap: linked alert %s refused or unreachable: %s", link, error)
