"""Resource positions (stream kind `position`): HTTP ingest, province assignment, and a simulator."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

import numpy as np

from cop.api.ingest import BatchResult, validate_observations
from cop.domain.envelope import Envelope
from cop.domain.positions import DISCIPLINES, PositionObservation, UnitStatus
from cop.feeds.base import Feed, register_feed
from cop.geo.boundaries import country, municipalities
from cop.store.streams import StreamWriter

KIND = "position"


def ingest_positions(
    writer: StreamWriter,
    items: list[Any],
    *,
    source: str,
    now: datetime,
    max_skew: timedelta,
    exercise: bool = False,
) -> BatchResult:
    """Validate each observation, place it in its municipality and province, XADD the good ones."""
    fresh, rejected = validate_observations(
        items, PositionObservation, now=now, max_skew=max_skew, item_id=lambda o: o.id
    )
    result = BatchResult(rejected=rejected)
    if not fresh:
        return result
    lons = np.fromiter((o.lon for _, o in fresh), dtype=float, count=len(fresh))
    lats = np.fromiter((o.lat for _, o in fresh), dtype=float, count=len(fresh))
    nis_codes, prov_codes = municipalities().locate(lons, lats)
    envelopes = [
        Envelope.build(
            kind=KIND,
            entity_id=observation.id,
            source=source,
            observed_at=observation.observed_at,
            received_at=now,
            exercise=exercise,
            data=observation.payload(nis, prov),
        )
        for (_, observation), nis, prov in zip(fresh, nis_codes, prov_codes, strict=True)
    ]
    result.stream_ids = writer.append(envelopes)
    result.accepted = [e.id for e in envelopes]
    return result


# -- the simulator ---------------------------------------------------------------------------------

# Where the demo incident is: a chlorine release at the Tessenderlo chemical site (Limburg).
DEMO_INCIDENT = (51.0650, 5.0800)  # lat, lon
DISCIPLINE_SHARE = {"D1": 0.34, "D2": 0.30, "D3": 0.26, "D4": 0.07, "D5": 0.03}
UNIT_TYPES = {
    "D1": ("fire engine", "ladder truck", "rescue van", "CP-Ops vehicle"),
    "D2": ("ambulance", "MUG/SMUR", "PIT"),
    "D3": ("patrol car", "motorcycle", "van"),
    "D4": ("Civil Protection truck", "water tanker", "logistics van"),
    "D5": ("information team",),
}
CALLSIGN_PREFIX = {"D1": "BRW", "D2": "AMB", "D3": "POL", "D4": "CP", "D5": "INFO"}
KM_PER_DEG_LAT = 111.32


@dataclass
class SimUnit:
    id: str
    callsign: str
    discipline: str
    unit_type: str
    lat: float
    lon: float
    home: tuple[float, float]
    target: tuple[float, float] | None
    speed_kmh: float
    status: UnitStatus
    report_every_s: float
    next_report: float
    silent: bool = False
    heading_deg: float = 0.0


def random_point_in_belgium(rng: random.Random) -> tuple[float, float]:
    shape = country()
    west, south, east, north = shape.bounds
    import shapely

    while True:
        lat, lon = rng.uniform(south, north), rng.uniform(west, east)
        if shapely.contains_xy(shape, lon, lat):
            return lat, lon


def near(rng: random.Random, point: tuple[float, float], km: float) -> tuple[float, float]:
    lat, lon = point
    angle = rng.uniform(0, 2 * math.pi)
    distance = km * math.sqrt(rng.random())
    dlat = distance * math.cos(angle) / KM_PER_DEG_LAT
    dlon = distance * math.sin(angle) / (KM_PER_DEG_LAT * math.cos(math.radians(lat)))
    return lat + dlat, lon + dlon


def make_units(n: int, rng: random.Random, silent_share: float = 0.01) -> list[SimUnit]:
    """N units spread over Belgium: most patrol or wait, ~10 % converge on the incident."""
    units = []
    disciplines = rng.choices(list(DISCIPLINE_SHARE), weights=list(DISCIPLINE_SHARE.values()), k=n)
    counters = dict.fromkeys(DISCIPLINES, 0)
    for discipline in disciplines:
        counters[discipline] += 1
        home = random_point_in_belgium(rng)
        role = rng.random()
        if role < 0.10:
            status, target = UnitStatus.EN_ROUTE, near(rng, DEMO_INCIDENT, 0.5)
            speed = rng.uniform(60, 90)
        elif role < 0.45:
            status, target, speed = UnitStatus.AT_STATION, None, 0.0
        else:
            status, target = UnitStatus.AVAILABLE, near(rng, home, 15)
            speed = rng.uniform(25, 55)
        units.append(
            SimUnit(
                id=f"sim-{discipline.lower()}-{counters[discipline]:05d}",
                callsign=f"{CALLSIGN_PREFIX[discipline]} {counters[discipline]:04d}",
                discipline=discipline,
                unit_type=rng.choice(UNIT_TYPES[discipline]),
                lat=home[0],
                lon=home[1],
                home=home,
                target=target,
                speed_kmh=speed,
                status=status,
                report_every_s=rng.uniform(3, 8) if speed else 30.0,
                next_report=rng.uniform(0, 5),
                silent=rng.random() < silent_share,
            )
        )
    return units


def move(unit: SimUnit, dt_s: float, rng: random.Random) -> None:
    """Advance a unit towards its target; pick the next target or change status on arrival."""
    if unit.target is None or unit.speed_kmh <= 0:
        return
    lat, lon = unit.target
    dy_km = (lat - unit.lat) * KM_PER_DEG_LAT
    dx_km = (lon - unit.lon) * KM_PER_DEG_LAT * math.cos(math.radians(unit.lat))
    distance = math.hypot(dx_km, dy_km)
    step = unit.speed_kmh * dt_s / 3600
    unit.heading_deg = math.degrees(math.atan2(dx_km, dy_km)) % 360
    if distance <= step:
        unit.lat, unit.lon = lat, lon
        if unit.status is UnitStatus.EN_ROUTE:
            unit.status, unit.target, unit.speed_kmh = UnitStatus.ON_SCENE, None, 0.0
        else:
            unit.target = near(rng, unit.home, 15)
        return
    unit.lat += dy_km / distance * step / KM_PER_DEG_LAT
    unit.lon += dx_km / distance * step / (KM_PER_DEG_LAT * math.cos(math.radians(unit.lat)))


@register_feed
class PositionsFeed(Feed):
    """Simulated resources for `cop demo` (real positions arrive through the HTTP API)."""

    name: ClassVar[str] = "positions"
    interval_s: ClassVar[float] = 1.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rng = random.Random(self.settings.sim_seed)
        self.units = make_units(self.settings.sim_units, self.rng) if self.simulate else []
        self.elapsed_s = 0.0
        self.last_tick: datetime | None = None

    def tick(self, now: datetime) -> Sequence[Envelope]:
        if not self.simulate:
            return []
        dt = (now - self.last_tick).total_seconds() if self.last_tick else 0.0
        self.last_tick = now
        self.elapsed_s += dt
        due = []
        for unit in self.units:
            move(unit, dt, self.rng)
            if unit.silent and self.elapsed_s > 20:
                continue  # went quiet: the map shows it fading as stale
            if self.elapsed_s >= unit.next_report:
                unit.next_report = self.elapsed_s + unit.report_every_s
                due.append(unit)
        if not due:
            return []
        nis_codes, prov_codes = municipalities().locate(
            np.array([u.lon for u in due]), np.array([u.lat for u in due])
        )
        return [
            Envelope.build(
                kind=KIND,
                entity_id=unit.id,
                source="simulator",
                observed_at=now,
                received_at=now,
                exercise=True,
                data={
                    "callsign": unit.callsign,
                    "discipline": unit.discipline,
                    "unit_type": unit.unit_type,
                    "status": unit.status.value,
                    "lat": round(unit.lat, 6),
                    "lon": round(unit.lon, 6),
                    "speed_kmh": round(unit.speed_kmh, 1) if unit.target else 0.0,
                    "heading_deg": round(unit.heading_deg, 1) % 360,
                    "nis_code": nis,
                    "prov_code": prov,
                },
            )
            for unit, nis, prov in zip(due, nis_codes, prov_codes, strict=True)
        ]

    def info(self) -> dict[str, Any]:
        return {"units": len(self.units)}
