"""Risk indicators (stream kind `indicator`): HTTP ingest, the hospital-capacity indicator derived
from the hospital status, and a simulator for `cop demo`."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any, ClassVar

import numpy as np

from cop.api.ingest import BatchResult, Rejected, validate_observations
from cop.domain.envelope import Envelope
from cop.domain.errors import FieldProblem
from cop.domain.indicators import IndicatorObservation, belaqi_index
from cop.feeds.base import Feed, register_feed
from cop.feeds.hospitals import reported_beds
from cop.geo.boundaries import municipalities
from cop.geo.reference import load_geojson, provinces
from cop.store.connection import Store
from cop.store.streams import StreamWriter

KIND = "indicator"
NATIONAL_ID = "BE"


@cache
def regions() -> dict[str, list[str]]:
    """Region code → its provinces (Brussels-Capital is a region without provinces: its own code)."""
    result: dict[str, list[str]] = {}
    for feature in load_geojson("be_provinces.geojson")["features"]:
        props = feature["properties"]
        result.setdefault(props["reg_code"], []).append(props["prov_code"])
    return {code: sorted(provs) for code, provs in sorted(result.items())}


def place(observation: IndicatorObservation) -> tuple[str | None, list[str], FieldProblem | None]:
    """The province an indicator belongs to, every province it covers, or what is wrong with its area."""
    scope, scope_id = observation.scope, observation.scope_id
    if scope == "national":
        if scope_id != NATIONAL_ID:
            return None, [], FieldProblem("scope_id", f"a national indicator has scope_id {NATIONAL_ID!r}")
        return None, [], None
    if scope == "region":
        known = regions()
        if scope_id not in known:
            return None, [], FieldProblem("scope_id", f"unknown region {scope_id!r} ({', '.join(known)})")
        return None, known[scope_id], None
    if scope == "province":
        if scope_id not in provinces():
            return None, [], FieldProblem("scope_id", f"unknown province NIS code {scope_id!r}")
        return scope_id, [scope_id], None
    towns = municipalities()
    if scope == "municipality":
        hits = np.flatnonzero(towns.nis_codes == scope_id)
        if not len(hits):
            return None, [], FieldProblem("scope_id", f"unknown municipality NIS code {scope_id!r}")
        prov = str(towns.prov_codes[hits[0]])
        return prov, [prov], None
    # A station: where it is.
    assert observation.lat is not None and observation.lon is not None
    _, provs = towns.locate(np.array([observation.lon]), np.array([observation.lat]))
    return provs[0], [p for p in provs if p], None


def indicator_envelopes(
    items: list[Any], *, source: str, now: datetime, max_skew: timedelta, exercise: bool = False
) -> tuple[list[Envelope], BatchResult]:
    fresh, rejected = validate_observations(
        items, IndicatorObservation, now=now, max_skew=max_skew, item_id=lambda o: o.entity_id
    )
    envelopes = []
    accepted = []
    for index, observation in fresh:
        prov, provs, problem = place(observation)
        if problem is not None:
            rejected.append(Rejected(index, observation.entity_id, [problem]))
            continue
        envelopes.append(
            Envelope.build(
                kind=KIND,
                entity_id=observation.entity_id,
                source=source,
                observed_at=observation.observed_at,
                received_at=now,
                exercise=exercise,
                data=observation.payload(prov, provs),
            )
        )
        accepted.append(observation.entity_id)
    rejected.sort(key=lambda r: r.index)
    return envelopes, BatchResult(accepted=accepted, rejected=rejected)


def ingest_indicators(
    store: Store, items: list[Any], *, source: str, now: datetime, max_skew: timedelta
) -> BatchResult:
    """Validate each reading (scale, scope, area), XADD the good ones."""
    envelopes, result = indicator_envelopes(items, source=source, now=now, max_skew=max_skew)
    if envelopes:
        result.stream_ids = StreamWriter(store.client, store.keys, store.settings).append(envelopes)
    return result


def hospital_capacity(store: Store, now: datetime) -> list[dict[str, Any]]:
    """The hospital-capacity indicator per province and nationally, from the hospital state: the
    free share of baseline beds over every hospital that reports counts."""
    free: dict[str, list[int]] = {}
    for hospital in reported_beds(store):
        totals = free.setdefault(hospital.prov_code or "", [0, 0])
        totals[0] += hospital.available
        totals[1] += hospital.baseline
    items = []
    national = [0, 0]
    for prov, (available, baseline) in sorted(free.items()):
        national[0] += available
        national[1] += baseline
        if prov and baseline:
            items.append(_capacity_item("province", prov, available, baseline, now))
    if national[1]:
        items.append(_capacity_item("national", NATIONAL_ID, national[0], national[1], now))
    return items


def _capacity_item(scope: str, scope_id: str, available: int, baseline: int, now: datetime) -> dict[str, Any]:
    return {
        "indicator": "hospital_capacity",
        "scope": scope,
        "scope_id": scope_id,
        "value": round(100.0 * available / baseline, 1),
        "unit": "% free",
        "observed_at": now.isoformat(),
    }


# -- the feed -----------------------------------------------------------------------------------------

# The demo's stations (positions approximate): a river gauge on the Demer, a TELERAD station near Mol.
RIVER_STATION = {"id": "demer-diest", "name": "Demer at Diest", "lat": 50.986, "lon": 5.05}
GAMMA_STATION = {"id": "telerad-mol", "name": "TELERAD Mol", "lat": 51.218, "lon": 5.09}
AIR_STATIONS = (
    {"id": "41R001", "name": "Brussels (Molenbeek)", "lat": 50.849, "lon": 4.323},
    {"id": "42R010", "name": "Antwerp (Linkeroever)", "lat": 51.236, "lon": 4.385},
    {"id": "43N063", "name": "Liège (Jemeppe)", "lat": 50.616, "lon": 5.497},
)
SIM_METEO_SENDER = "kmi-sim@meteo.example.be"
# The orange wind warning moves across the country, west to east, one province step at a time.
WIND_PATH = (
    ("30000", "10000"),
    ("40000", "20001", "21000"),
    ("20002", "70000", "50000"),
    ("60000", "80000", "90000"),
)


@register_feed
class IndicatorsFeed(Feed):
    """Derives the hospital-capacity indicator every minute; in `cop demo` also simulates an
    orange wind warning crossing the provinces, BelAQI drifting, a river reaching pre-alert, the
    OCAM level and a dose-rate station."""

    name: ClassVar[str] = "indicators"
    interval_s: ClassVar[float] = 5.0
    capacity_every_s: ClassVar[float] = 60.0
    wind_step_s: ClassVar[float] = 180.0

    def __init__(self, store: Store, **kwargs: Any) -> None:
        super().__init__(store, **kwargs)
        self.rng = random.Random(self.settings.sim_seed + 6)
        self.last_capacity: datetime | None = None
        self.wind_step = -1
        self.last_warning: tuple[str, str] | None = None
        self.sent = 0

    def info(self) -> dict[str, Any]:
        return {"indicators": self.sent, "simulate": self.simulate}

    def tick(self, now: datetime) -> Sequence[Envelope]:
        items: list[dict[str, Any]] = []
        if self.last_capacity is None or (now - self.last_capacity).total_seconds() >= self.capacity_every_s:
            items += hospital_capacity(self.store, now)
            self.last_capacity = now
        if self.simulate:
            items += self.simulated(now)
        envelopes, result = indicator_envelopes(
            items,
            source="sim:indicators" if self.simulate else "indicators",
            now=now,
            max_skew=timedelta(seconds=30),
            exercise=False,
        )
        assert not result.rejected, result.as_dict()
        self.sent += len(envelopes)
        return envelopes

    def simulated(self, now: datetime) -> list[dict[str, Any]]:
        elapsed = (now - self.started_at).total_seconds()
        stamp = now.isoformat()
        items: list[dict[str, Any]] = []
        step = int(elapsed // self.wind_step_s) % (len(WIND_PATH) + 1)
        if step != self.wind_step:
            self.wind_step = step
            active = set(WIND_PATH[step - 1]) if step > 0 else set()
            ahead = set(WIND_PATH[step]) if step < len(WIND_PATH) else set()
            self.publish_wind_warning(now, sorted(active))
            for prov in provinces():
                if prov in active:
                    continue  # set by the CAP warning itself (cop.feeds.cap)
                level = "yellow" if prov in ahead else "green"
                items.append(
                    {
                        "indicator": "kmi_warning",
                        "scope": "province",
                        "scope_id": prov,
                        "phenomenon": "wind",
                        "level": level,
                        "value": 90.0 if level == "yellow" else 45.0,
                        "unit": "km/h gusts",
                        "valid_from": stamp,
                        "valid_to": (now + timedelta(hours=6)).isoformat(),
                        "observed_at": stamp,
                    }
                )
            items.append(
                {
                    "indicator": "ocam",
                    "scope": "national",
                    "scope_id": NATIONAL_ID,
                    "level": 3,
                    "observed_at": stamp,
                }
            )
            items.append(
                {
                    "indicator": "nuclear",
                    "scope": "national",
                    "scope_id": NATIONAL_ID,
                    "level": "normal",
                    "observed_at": stamp,
                }
            )
        if int(elapsed) % 30 < self.interval_s:
            for i, station in enumerate(AIR_STATIONS):
                drift = math.sin(elapsed / 900.0 + i)
                index = belaqi_index(
                    pm10=max(0.0, 28 + 14 * drift + self.rng.uniform(-3, 3)),
                    pm25=max(0.0, 9 + 6 * drift + self.rng.uniform(-1, 1)),
                    no2=max(0.0, 22 + 8 * drift + self.rng.uniform(-2, 2)),
                )
                items.append(self.station("belaqi", station, stamp, level=index, unit="index"))
            # The Demer rises for an hour and reaches pre-waak (pre-alert) after ~20 minutes.
            height = 2.1 + min(1.0, elapsed / 3600.0) * 1.4 + self.rng.uniform(-0.02, 0.02)
            level = "waak" if height > 3.3 else "pre-waak" if height > 2.6 else "normal"
            items.append(
                self.station("river_flanders", RIVER_STATION, stamp, level=level, value=round(height, 2))
            )
            dose = 95 + 12 * math.sin(elapsed / 600.0) + self.rng.uniform(-4, 4)
            items.append(self.station("gamma", GAMMA_STATION, stamp, value=round(dose, 1), unit="nSv/h"))
        return items

    def publish_wind_warning(self, now: datetime, active: list[str]) -> None:
        """The orange wind warning as KMI would send it: a CAP alert updating the previous one
        (or cancelling it once the storm has passed), through the CAP import."""
        from cop.feeds.cap import AlertBook
        from cop.standards.cap import Area, CapAlert, Info, cap_time, write_cap

        iso = {
            f["properties"]["prov_code"]: f["properties"]["iso_3166_2"]
            for f in load_geojson("be_provinces.geojson")["features"]
        }
        sent = cap_time(now.replace(microsecond=0))
        previous = self.last_warning
        if not active and previous is None:
            return
        identifier = f"KMI-SIM-WIND-{now:%Y%m%dT%H%M%S}"
        alert = CapAlert(
            version="1.2",
            identifier=identifier,
            sender=SIM_METEO_SENDER,
            sent=sent,
            status="Exercise",
            msg_type="Cancel" if not active else ("Update" if previous else "Alert"),
            scope="Public",
            references=[(SIM_METEO_SENDER, previous[0], previous[1])] if previous else [],
            note="Simulated for the COP demo",
            infos=[
                Info(
                    language="en-GB",
                    categories=["Met"],
                    event="Wind",
                    urgency="Expected",
                    severity="Severe",
                    certainty="Likely",
                    headline="Orange warning: severe gusts 100–130 km/h",
                    description="A storm crosses the country from the west; gusts up to 120 km/h.",
                    instruction="Be prepared: secure loose objects, avoid woods and parks.",
                    effective=sent,
                    expires=cap_time((now + timedelta(hours=3)).replace(microsecond=0)),
                    sender_name="KMI/IRM (simulated)",
                    parameters=[("awareness_type", "1; Wind"), ("awareness_level", "3; orange; Severe")],
                    areas=[
                        Area(
                            desc="Provinces under the storm", geocodes=[("ISO3166-2", iso[p]) for p in active]
                        )
                    ]
                    if active
                    else [],
                )
            ],
        )
        AlertBook(self.store).import_document(write_cap(alert), source="sim:kmi", now=now)
        self.last_warning = (identifier, sent) if active else None

    @staticmethod
    def station(indicator: str, station: dict[str, Any], stamp: str, **extra: Any) -> dict[str, Any]:
        return {
            "indicator": indicator,
            "scope": "station",
            "scope_id": station["id"],
            "name": station["name"],
            "lat": station["lat"],
            "lon": station["lon"],
            "observed_at": stamp,
            **extra,
        }
