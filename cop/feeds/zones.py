"""Intervention zones (stream kind `zone`): drawn, edited and deleted by coordinators, derived from
a plume's threat zones or buffered around the incident. Every change is audited."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import orjson
import shapely
import shapely.geometry
from pydantic import ValidationError

from cop.domain.envelope import Envelope
from cop.domain.errors import FieldProblem, InvalidInput, problems_from
from cop.domain.users import User
from cop.domain.zones import PERIMETERS, Origin, ZoneDraft, ZonePayload, ZoneType
from cop.geo import zones as geo
from cop.store.connection import Store
from cop.store.state import StateStore
from cop.store.streams import StreamWriter

KIND = "zone"
DEFAULT_BUFFERS_M = {"red": 300.0, "orange": 1000.0, "yellow": 2500.0}
NEAR_SOURCE_M = 100.0  # within this distance the plume model says nothing: zones include it whole


class NotAllowed(PermissionError):
    """The user may not change this incident's zones."""


@dataclass(frozen=True)
class Change:
    zone_id: str
    stream_id: str
    payload: ZonePayload


def new_zone_id() -> str:
    return f"zone-{secrets.token_hex(6)}"


class ZoneEditor:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.state = StateStore(store.client, store.keys)
        self.writer = StreamWriter(store.client, store.keys, store.settings)

    # -- reading ----------------------------------------------------------------------------------

    def incident(self, incident_id: str) -> Envelope:
        incident = self.state.get("incident", incident_id)
        if incident is None or incident.deleted:
            raise InvalidInput([FieldProblem("incident_id", f"no incident {incident_id!r}")])
        return incident

    def zone(self, zone_id: str) -> Envelope:
        zone = self.state.get(KIND, zone_id)
        if zone is None or zone.deleted:
            raise InvalidInput([FieldProblem("zone_id", f"no zone {zone_id!r}")])
        return zone

    def may_edit(self, user: User, incident_id: str) -> bool:
        try:
            incident = self.incident(incident_id)
        except InvalidInput:
            return False
        return user.can_write_province(incident.data.get("prov_code"))

    def _allowed(self, user: User, incident: Envelope) -> None:
        if not user.can_write_province(incident.data.get("prov_code")):
            raise NotAllowed(f"{user.username} may not change the zones of incident {incident.id}")

    # -- writing ----------------------------------------------------------------------------------

    def payload(self, draft: ZoneDraft, *, incident: Envelope, author: str) -> ZonePayload:
        """The stored form of a draft: what it contains, its area, the provinces it touches."""
        shape = shapely.geometry.shape(draft.geometry)
        provinces = set(geo.provinces_touched(shape))
        home = incident.data.get("prov_code")
        if home:
            provinces.add(home)
        return ZonePayload(
            **draft.model_dump(),
            author=author,
            area_km2=None if draft.zone_type is ZoneType.CP_OPS else round(geo.area_km2(shape), 4),
            inside=geo.inside(shape),
            prov_code=home,
            prov_codes=sorted(provinces),
        )

    def _write(
        self,
        zone_id: str,
        payload: ZonePayload,
        *,
        action: str,
        actor: str,
        source: str,
        now: datetime,
        exercise: bool,
        origin: str = "",
    ) -> Change:
        envelope = Envelope.build(
            kind=KIND, entity_id=zone_id, source=source, observed_at=now, data=payload, exercise=exercise
        )
        stream_id = self.writer.append_audited(
            envelope,
            actor=actor,
            action=f"zone.{action}",
            origin=origin,
            detail={
                "incident_id": payload.incident_id,
                "zone_type": payload.zone_type.value,
                "origin": payload.origin.value,
                "area_km2": payload.area_km2,
            },
        )
        return Change(zone_id, stream_id, payload)

    def _draft(self, raw: dict[str, Any]) -> ZoneDraft:
        try:
            return ZoneDraft.model_validate(raw)
        except ValidationError as error:
            raise InvalidInput(problems_from(error)) from error

    def create(
        self, raw: dict[str, Any], *, user: User, now: datetime, source: str = "web", origin: str = ""
    ) -> Change:
        """A new zone from a coordinator's draft (validated here, naming the field at fault)."""
        draft = self._draft(raw)
        incident = self.incident(draft.incident_id)
        self._allowed(user, incident)
        payload = self.payload(draft, incident=incident, author=user.username)
        return self._write(
            new_zone_id(),
            payload,
            action="create",
            actor=user.username,
            source=source,
            now=now,
            exercise=incident.exercise,
            origin=origin,
        )

    def update(
        self,
        zone_id: str,
        changes: dict[str, Any],
        *,
        user: User,
        now: datetime,
        source: str = "web",
        origin: str = "",
    ) -> Change:
        """Change a zone's geometry, type or label (its incident stays)."""
        current = self.zone(zone_id)
        unknown = set(changes) - {"geometry", "zone_type", "label"}
        if unknown:
            raise InvalidInput(
                [FieldProblem(sorted(unknown)[0], "cannot be changed (geometry, zone_type, label)")]
            )
        keep = {
            k: current.data[k]
            for k in ("incident_id", "zone_type", "geometry", "origin", "label", "radius_m")
        }
        draft = self._draft({**keep, **changes})
        incident = self.incident(draft.incident_id)
        self._allowed(user, incident)
        payload = self.payload(draft, incident=incident, author=user.username)
        return self._write(
            zone_id,
            payload,
            action="update",
            actor=user.username,
            source=source,
            now=now,
            exercise=current.exercise,
            origin=origin,
        )

    def delete(
        self, zone_id: str, *, user: User, now: datetime, source: str = "web", origin: str = ""
    ) -> Change:
        current = self.zone(zone_id)
        incident = self.incident(current.data["incident_id"])
        self._allowed(user, incident)
        payload = ZonePayload.model_validate({**current.data, "deleted": True, "author": user.username})
        return self._write(
            zone_id,
            payload,
            action="delete",
            actor=user.username,
            source=source,
            now=now,
            exercise=current.exercise,
            origin=origin,
        )

    def from_plume(
        self,
        incident_id: str,
        plume_id: str,
        *,
        user: User,
        now: datetime,
        source: str = "web",
        origin: str = "",
    ) -> list[Change]:
        """Red / orange / yellow zones from a plume's AEGL-3 / -2 / -1 threat zones (replacing
        the zones made from that plume before)."""
        incident = self.incident(incident_id)
        self._allowed(user, incident)
        return self._zones_from_plume(
            incident, plume_id, author=user.username, source=source, now=now, origin=origin
        )

    def buffers(
        self,
        incident_id: str,
        radii_m: dict[str, float],
        *,
        user: User,
        now: datetime,
        source: str = "web",
        origin: str = "",
    ) -> list[Change]:
        """Circles of the given radii (metres, measured in Belgian Lambert) around the incident,
        replacing the buffer zones made before. Red must be inside orange inside yellow."""
        incident = self.incident(incident_id)
        self._allowed(user, incident)
        problems = []
        for zone_type, radius in radii_m.items():
            if zone_type not in {z.value for z in PERIMETERS}:
                problems.append(FieldProblem(f"radii_m.{zone_type}", "unknown zone (red, orange or yellow)"))
            elif not (isinstance(radius, int | float) and 10 <= radius <= 100_000):
                problems.append(
                    FieldProblem(f"radii_m.{zone_type}", "must be a number of metres, 10 – 100,000")
                )
        ordered = [radii_m[z.value] for z in PERIMETERS if z.value in radii_m]
        if not problems and ordered != sorted(ordered):
            problems.append(FieldProblem("radii_m", "red must be the smallest and yellow the largest"))
        if not radii_m:
            problems.append(FieldProblem("radii_m", "give at least one radius"))
        if problems:
            raise InvalidInput(problems)
        rings = geo.rings(incident.data["lon"], incident.data["lat"], radii_m)
        changes = []
        for zone_type, shape in rings.items():
            draft = ZoneDraft(
                incident_id=incident.id,
                zone_type=ZoneType(zone_type),
                geometry=geo.round_geometry(shape),
                origin=Origin.BUFFER,
                label=f"{radii_m[zone_type]:g} m around the incident",
                radius_m=radii_m[zone_type],
            )
            changes.append(
                self._write(
                    f"{incident.id}/buffer/{zone_type}",
                    self.payload(draft, incident=incident, author=user.username),
                    action="buffer",
                    actor=user.username,
                    source=source,
                    now=now,
                    exercise=incident.exercise,
                    origin=origin,
                )
            )
        return changes

    def follow_plume(
        self, incident_id: str, plume_id: str, *, author: str, source: str, now: datetime
    ) -> list[Change]:
        """The simulator's zones follow the plume, until a person edits them."""
        incident = self.incident(incident_id)
        return self._zones_from_plume(
            incident, plume_id, author=author, source=source, now=now, only_if_author=author
        )

    def _zones_from_plume(
        self,
        incident: Envelope,
        plume_id: str,
        *,
        author: str,
        source: str,
        now: datetime,
        origin: str = "",
        only_if_author: str | None = None,
    ) -> list[Change]:
        plume = self.state.get("chem", plume_id)
        if plume is None or plume.deleted or plume.data.get("type") != "plume":
            raise InvalidInput([FieldProblem("plume_id", f"no plume {plume_id!r}")])
        changes = []
        for feature in plume.data["zones"]["features"]:
            zone_type = feature["properties"]["zone_type"]
            zone_id = f"{incident.id}/plume/{zone_type}"
            if only_if_author is not None:
                existing = self.state.get(KIND, zone_id)
                if existing is not None and existing.data.get("author") != only_if_author:
                    continue
            level = feature["properties"]["name"]
            # The model stops 100 m from the source; the zone must hold the source itself.
            release = plume.data["release"]
            near = geo.circle(release["lon"], release["lat"], NEAR_SOURCE_M)
            shape = shapely.union(shapely.geometry.shape(feature["geometry"]), near)
            draft = ZoneDraft(
                incident_id=incident.id,
                zone_type=ZoneType(zone_type),
                geometry=geo.round_geometry(shape),
                origin=Origin.PLUME,
                label=f"{level} ({feature['properties']['threshold_ppm']:g} ppm) from the plume",
            )
            changes.append(
                self._write(
                    zone_id,
                    self.payload(draft, incident=incident, author=author),
                    action="from_plume",
                    actor=author,
                    source=source,
                    now=now,
                    exercise=incident.exercise,
                    origin=origin,
                )
            )
        if not changes and only_if_author is None:
            raise InvalidInput([FieldProblem("plume_id", "the plume has no threat zone to make zones from")])
        return changes


@dataclass(frozen=True)
class UnitPositions:
    """The units' current positions, read once for any number of zones (a spatial join each)."""

    lons: np.ndarray
    lats: np.ndarray
    disciplines: list[str]

    @classmethod
    def from_state(cls, envelopes: Iterable[dict[str, Any]]) -> UnitPositions:
        units = [e["data"] for e in envelopes if not e["data"].get("deleted")]
        return cls(
            lons=np.fromiter((u["lon"] for u in units), dtype=float, count=len(units)),
            lats=np.fromiter((u["lat"] for u in units), dtype=float, count=len(units)),
            disciplines=[u["discipline"] for u in units],
        )

    @classmethod
    def load(cls, store: Store) -> UnitPositions:
        return cls.from_state(orjson.loads(raw) for raw in store.client.hvals(store.keys.state("position")))

    def inside(self, geometry: dict[str, Any]) -> dict[str, int]:
        """Units inside a zone now, by discipline."""
        shape = shapely.geometry.shape(geometry)
        if shape.geom_type == "Point" or not self.disciplines:
            return {}
        hits = shapely.contains_xy(shape, self.lons, self.lats)
        return dict(sorted(Counter(d for d, hit in zip(self.disciplines, hits, strict=True) if hit).items()))
