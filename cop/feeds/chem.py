"""The chemical picture (stream kind `chem`): reading ingest, reading history, plume runs, simulator."""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import numpy as np

from cop.api.ingest import BatchResult, validate_observations
from cop.domain.chem import (
    PlumePayload,
    PlumeRequest,
    ReadingObservation,
    find_substance,
    plume_entity_id,
)
from cop.domain.envelope import Envelope
from cop.domain.errors import InvalidInput
from cop.domain.incidents import CoordinationLevel, IncidentPayload
from cop.domain.positions import PositionPayload, UnitStatus
from cop.domain.users import Role, User
from cop.feeds.base import Feed, register_feed
from cop.feeds.logbook import LogBook
from cop.feeds.positions import DEMO_INCIDENT
from cop.feeds.zones import ZoneEditor
from cop.geo.boundaries import municipalities
from cop.geo.crs import to_wgs84
from cop.geo.plume import Scenario, concentration
from cop.geo.threats import Sample, run_plume
from cop.hub.worker import SocketIOEmitter
from cop.store.connection import Store
from cop.store.state import StateStore
from cop.store.streams import StreamWriter, stream_history

log = logging.getLogger(__name__)

KIND = "chem"
HISTORY_LIMIT = 20_000  # entries scanned back for one history request


def ingest_readings(
    writer: StreamWriter,
    items: list[Any],
    *,
    source: str,
    now: datetime,
    max_skew: timedelta,
    exercise: bool = False,
) -> BatchResult:
    """Validate each reading, place it in its municipality, XADD the good ones. A reading sent
    with its platform's report (`platform`) also moves that platform on the map (`position`)."""
    envelopes, result = reading_envelopes(items, source=source, now=now, max_skew=max_skew, exercise=exercise)
    if envelopes:
        result.stream_ids = writer.append(envelopes)
    return result


def reading_envelopes(
    items: list[Any], *, source: str, now: datetime, max_skew: timedelta, exercise: bool = False
) -> tuple[list[Envelope], BatchResult]:
    """The envelopes of the good readings (and their platforms' positions), and the batch result."""
    fresh, rejected = validate_observations(
        items, ReadingObservation, now=now, max_skew=max_skew, item_id=lambda r: r.entity_id
    )
    result = BatchResult(rejected=rejected)
    if not fresh:
        return [], result
    lons = np.fromiter((r.lon for _, r in fresh), dtype=float, count=len(fresh))
    lats = np.fromiter((r.lat for _, r in fresh), dtype=float, count=len(fresh))
    nis_codes, prov_codes = municipalities().locate(lons, lats)
    envelopes = []
    for (_, reading), nis, prov in zip(fresh, nis_codes, prov_codes, strict=True):
        observed = reading.observed_at
        envelopes.append(
            Envelope.build(
                kind=KIND,
                entity_id=reading.entity_id,
                source=source,
                observed_at=observed,
                received_at=now,
                exercise=exercise,
                data=reading.payload(nis, prov),
            )
        )
        if reading.platform is not None:
            unit = reading.platform.at(reading.lat, reading.lon)
            envelopes.append(
                Envelope.build(
                    kind="position",
                    entity_id=reading.platform_id,
                    source=source,
                    observed_at=observed,
                    received_at=now,
                    exercise=exercise,
                    data=PositionPayload(**unit.model_dump(), nis_code=nis, prov_code=prov),
                )
            )
    result.accepted = [reading.entity_id for _, reading in fresh]
    return envelopes, result


@dataclass(frozen=True)
class ReadingHistory:
    """Readings read back from the `chem` stream (newest last), for tracks, charts and estimates."""

    store: Store

    def recent(
        self,
        *,
        since: datetime,
        platform_id: str | None = None,
        substance_key: str | None = None,
        can_read: Callable[[str | None], bool] = lambda _p: True,
        limit: int = 5000,
    ) -> list[dict[str, Any]]:
        """Readings received since `since`, optionally of one platform or substance, within the
        reader's scope: envelopes as dicts, oldest first, at most `limit` (the newest)."""

        def wanted(envelope: dict[str, Any]) -> bool:
            data = envelope["data"]
            return (
                data.get("type") == "reading"
                and not data.get("deleted")
                and (platform_id is None or data["platform_id"] == platform_id)
                and (substance_key is None or data.get("substance_key") == substance_key)
            )

        return stream_history(
            self.store, KIND, since=since, can_read=can_read, keep=wanted, limit=limit, scan=HISTORY_LIMIT
        )

    def samples(self, substance_key: str, since: datetime) -> list[Sample]:
        """Readings of one substance with a value in ppm, as the rate estimate needs them."""
        samples = []
        for envelope in self.recent(since=since, substance_key=substance_key, limit=HISTORY_LIMIT):
            data = envelope["data"]
            if data.get("value_ppm") is None or data.get("status") in {"fault", "warm_up", "over_range"}:
                continue
            samples.append(Sample(data["lon"], data["lat"], data.get("alt_agl_m") or 0.0, data["value_ppm"]))
        return samples


class PlumeRuns:
    """Runs the plume model for a request and stores the result (entity `plume/<release>`)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.writer = StreamWriter(store.client, store.keys, store.settings)
        self.state = StateStore(store.client, store.keys)
        self.history = ReadingHistory(store)

    def compute(self, request: PlumeRequest, *, now: datetime, author: str | None = None) -> PlumePayload:
        samples: list[Sample] = []
        if request.estimate_from_readings:
            substance = find_substance(request.release.substance)
            assert substance is not None
            since = now - timedelta(minutes=request.readings_window_min)
            samples = self.history.samples(substance.key, since)
        return run_plume(request, samples, author=author)

    def save(
        self,
        request: PlumeRequest,
        *,
        actor: str,
        source: str,
        now: datetime,
        exercise: bool = False,
        origin: str = "",
    ) -> tuple[str, PlumePayload]:
        """Compute, XADD and audit; returns (entity id, payload) once it is in Redis."""
        payload = self.compute(request, now=now, author=actor)
        entity_id = plume_entity_id(request.release_id)
        envelope = Envelope.build(
            kind=KIND, entity_id=entity_id, source=source, observed_at=now, data=payload, exercise=exercise
        )
        self.writer.append_audited(
            envelope,
            actor=actor,
            action="plume.run",
            origin=origin,
            detail={
                "incident_id": request.incident_id,
                "rate_g_s": payload.rate_g_s,
                "rate_source": payload.rate_source,
            },
        )
        return entity_id, payload

    def delete(self, entity_id: str, *, actor: str, source: str, now: datetime, origin: str = "") -> None:
        current = self.state.get(KIND, entity_id)
        if current is None or current.data.get("type") != "plume":
            raise KeyError(entity_id)
        data = {**current.data, "deleted": True}
        envelope = Envelope.build(
            kind=KIND,
            entity_id=entity_id,
            source=source,
            observed_at=now,
            data=data,
            exercise=current.exercise,
        )
        self.writer.append_audited(envelope, actor=actor, action="plume.delete", origin=origin)


# -- the simulator ----------------------------------------------------------------------------------

DEMO_INCIDENT_ID = "demo-tessenderlo"
DEMO_RELEASE_ID = "demo-tessenderlo-cl2"
DRONE_ID = "DRONE-LIM-01"
SIM_AUTHOR = "simulator"
TRANSECTS_M = (500.0, 900.0, 1500.0, 2300.0, 3200.0)  # downwind distances the drone sweeps
SWEEP_HALF_WIDTH_M = 700.0
DRONE_SPEED_MS = 12.0
DRONE_AGL_M = 30.0


SIM_DIRECTOR = User(
    username="dir-cp-ops-sim",
    display_name="Dir-CP-Ops (simulated)",
    role=Role.COORDINATOR,
    created_at=datetime(2026, 1, 1, tzinfo=UTC),
)
DEMO_LOG: tuple[tuple[Any, ...], ...] = (
    (
        "D1",
        "information",
        "Chlorine leak reported at the chemical site, transfer line ruptured; gas cloud visible.",
    ),
    (
        "multi",
        "decision",
        "Provincial phase triggered by the governor; CP-Ops at the fire station upwind.",
        (51.058, 5.066),
    ),
    ("D1", "action", "Two fire engines and the hazmat unit on scene; water curtain set up downwind."),
    ("D3", "decision", "Perimeter closed: E313 exit 25 Tessenderlo, N141 and N174 blocked.", (51.048, 5.094)),
    ("D2", "request", "PIT and two ambulances to the medical post at the sports hall.", (51.061, 5.062)),
    ("D5", "action", "BE-Alert sent to residents within 2 km: stay inside, close windows and doors."),
    ("D1", "information", "Drone LIM 01 measuring downwind; chlorine above 1 ppm up to 2 km."),
    ("D2", "information", "Three workers with respiratory symptoms transported to Heusden-Zolder."),
    ("D4", "action", "Civil Protection bringing decontamination unit from Brasschaat."),
    ("multi", "decision", "Shelter-in-place extended to the yellow zone following the plume model."),
)


@dataclass
class ChemScenario:
    """The demo release: chlorine at the Tessenderlo site, a wind turning slowly."""

    rate_g_s: float = 900.0
    height_m: float = 2.0
    wind_speed_ms: float = 3.5
    wind_base_deg: float = 240.0
    wind_swing_deg: float = 20.0
    wind_period_s: float = 3 * 3600.0

    def wind_from_deg(self, elapsed_s: float) -> float:
        return (
            self.wind_base_deg + self.wind_swing_deg * math.sin(2 * math.pi * elapsed_s / self.wind_period_s)
        ) % 360

    def scenario(self, elapsed_s: float) -> Scenario:
        lat, lon = DEMO_INCIDENT
        return Scenario(
            lon=lon,
            lat=lat,
            rate_g_s=self.rate_g_s,
            height_m=self.height_m,
            wind_speed_ms=self.wind_speed_ms,
            wind_from_deg=self.wind_from_deg(elapsed_s),
            stability="D",
        )


def drone_plume_xy(elapsed_s: float) -> tuple[float, float, float]:
    """Where the drone is in the plume frame (x, y) and its heading across the wind (±1).

    It flies crosswind sweeps at each transect distance in turn, a lawnmower pattern downwind."""
    sweep_s = 2 * SWEEP_HALF_WIDTH_M / DRONE_SPEED_MS
    index = int(elapsed_s // sweep_s)
    x = TRANSECTS_M[index % len(TRANSECTS_M)]
    progress = (elapsed_s % sweep_s) / sweep_s
    direction = 1.0 if index % 2 == 0 else -1.0
    y = direction * (-SWEEP_HALF_WIDTH_M + 2 * SWEEP_HALF_WIDTH_M * progress)
    return x, y, direction


@register_feed
class ChemFeed(Feed):
    """Simulated chemical incident for `cop demo`: the incident, a drone's chlorine readings
    computed from the plume plus noise, the plume re-estimated from them, and zones that follow
    it until a coordinator takes them over."""

    name: ClassVar[str] = "chem"
    interval_s: ClassVar[float] = 1.0
    plume_every_s: ClassVar[float] = 30.0
    zones_every_s: ClassVar[float] = 60.0

    def __init__(self, store: Store, **kwargs: Any) -> None:
        super().__init__(store, **kwargs)
        self.rng = random.Random(self.settings.sim_seed + 5)
        self.release = ChemScenario()
        self.readings_sent = 0
        self.last_plume: datetime | None = None
        self.last_zones: datetime | None = None
        self.plumes = PlumeRuns(store)
        self.zones = ZoneEditor(store)
        self.logbook = LogBook(store, emitter=SocketIOEmitter(store.url, store.keys.socketio_channel))
        self.logged = -1

    def info(self) -> dict[str, Any]:
        return {"readings": self.readings_sent, "simulate": self.simulate}

    def elapsed(self, now: datetime) -> float:
        return (now - self.started_at).total_seconds()

    def tick(self, now: datetime) -> Sequence[Envelope]:
        if not self.simulate:
            return []
        out: list[Envelope] = []
        if self.ticks == 0:
            out.append(self.incident(now))
        out.extend(self.drone(now))
        if self.last_plume is None or (now - self.last_plume).total_seconds() >= self.plume_every_s:
            # Written directly (the plume run reads the readings already in the stream).
            self.writer.append(out)
            out = []
            self.run_plume(now)
            self.last_plume = now
        self.write_logbook(now)
        due = self.last_zones is None or (now - self.last_zones).total_seconds() >= self.zones_every_s
        if due and self.follow_zones(now):
            self.last_zones = now
        return out

    def incident(self, now: datetime) -> Envelope:
        lat, lon = DEMO_INCIDENT
        nis, prov = municipalities().locate(np.array([lon]), np.array([lat]))
        payload = IncidentPayload(
            title="Chlorine release, Tessenderlo chemical site",
            incident_type="chemical release",
            lat=lat,
            lon=lon,
            level=CoordinationLevel.PROVINCIAL,
            nis_code=nis[0],
            prov_code=prov[0],
            disciplines=["D1", "D2", "D3", "D4", "D5"],
            hospital_managers_may_log=True,
        )
        return Envelope.build(
            kind="incident",
            entity_id=DEMO_INCIDENT_ID,
            source="sim:chem",
            observed_at=now,
            data=payload,
            exercise=True,
        )

    def drone(self, now: datetime) -> list[Envelope]:
        elapsed = self.elapsed(now)
        scenario = self.release.scenario(elapsed)
        x, y, direction = drone_plume_xy(elapsed)
        frame = scenario.frame
        e, n = frame.to_lambert(x, y)
        lon, lat = (float(v) for v in to_wgs84(e, n))
        ppm = self.model_ppm(scenario, x, y)
        heading = (
            math.degrees(math.atan2(frame.crosswind[0] * direction, frame.crosswind[1] * direction)) % 360
        )
        item = {
            "platform_id": DRONE_ID,
            "sensor_id": "cl2",
            "observed_at": now.isoformat(),
            "lat": lat,
            "lon": lon,
            "alt_msl_m": 40.0 + DRONE_AGL_M,
            "alt_agl_m": DRONE_AGL_M,
            "substance": "chlorine",
            "value": round(ppm, 3),
            "unit": "ppm",
            "sensor_type": "electrochemical",
            "status": "ok",
            "platform": {
                "callsign": "DRONE LIM 01",
                "discipline": "D1",
                "unit_type": "drone (gas detection)",
                "status": UnitStatus.ON_SCENE.value,
                "speed_kmh": round(DRONE_SPEED_MS * 3.6, 1),
                "heading_deg": round(heading, 1),
            },
        }
        envelopes, _ = reading_envelopes(
            [item], source="sim:chem", now=now, max_skew=timedelta(seconds=30), exercise=True
        )
        self.readings_sent += 1
        return envelopes

    def model_ppm(self, scenario: Scenario, x: float, y: float) -> float:
        chlorine = find_substance("chlorine")
        assert chlorine is not None
        c = concentration(
            x,
            y,
            DRONE_AGL_M,
            rate_g_s=scenario.rate_g_s,
            wind_speed_ms=scenario.wind_speed_ms,
            height_m=scenario.height_m,
            stability=scenario.stability,
        )
        noise = math.exp(self.rng.gauss(0.0, 0.12))
        return max(0.0, chlorine.g_m3_to_ppm(float(c)) * noise + self.rng.uniform(0.0, 0.02))

    def plume_request(self, now: datetime) -> PlumeRequest:
        lat, lon = DEMO_INCIDENT
        have_readings = self.readings_sent >= 120
        return PlumeRequest.model_validate(
            {
                "release_id": DEMO_RELEASE_ID,
                "incident_id": DEMO_INCIDENT_ID,
                "release": {
                    "lat": lat,
                    "lon": lon,
                    "substance": "chlorine",
                    "rate_g_s": None if have_readings else 1000.0,  # first guess of the Dir-CP-Ops
                    "height_m": self.release.height_m,
                },
                "weather": {
                    "wind_speed_ms": self.release.wind_speed_ms,
                    "wind_from_deg": round(self.release.wind_from_deg(self.elapsed(now)), 1),
                    "sky": "overcast",
                },
                "estimate_from_readings": have_readings,
                "readings_window_min": 5,
                "receptor_height_m": 0.0,
            }
        )

    def run_plume(self, now: datetime) -> None:
        self.plumes.save(self.plume_request(now), actor=SIM_AUTHOR, source="sim:chem", now=now, exercise=True)

    def write_logbook(self, now: datetime) -> None:
        """The demo's logbook: the disciplines' entries of the first hour, one every 20 s."""
        index = int(self.elapsed(now) // 20)
        if index >= len(DEMO_LOG) or index == self.logged:
            return
        discipline, category, text, *place = DEMO_LOG[index]
        where = {"lat": place[0][0], "lon": place[0][1]} if place else {}
        try:
            self.logbook.append(
                DEMO_INCIDENT_ID,
                {"discipline": discipline, "category": category, "text": text, **where},
                user=SIM_DIRECTOR,
                now=now,
            )
        except InvalidInput as error:  # the incident is not in the state yet: next tick
            log.info("chem simulator: logbook waits (%s)", error)
            return
        self.logged = index

    def follow_zones(self, now: datetime) -> bool:
        """Redraw the zones from the current plume; False until the hub has both in its state."""
        try:
            self.zones.follow_plume(
                DEMO_INCIDENT_ID,
                plume_entity_id(DEMO_RELEASE_ID),
                author=SIM_AUTHOR,
                source="sim:chem",
                now=now,
            )
        except InvalidInput as error:
            log.info("chem simulator: zones wait (%s)", error)
            return False
        return True
