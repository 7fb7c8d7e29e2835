"""Hospital capacity (stream kind `hospital`): seeding, the update rules, HAVE import/export, simulator."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import orjson
from pydantic import ValidationError

from cop.domain.envelope import Envelope
from cop.domain.errors import FieldProblem, InvalidInput, problems_from
from cop.domain.hospitals import (
    BedCapacity,
    BedType,
    CapacityStatus,
    ClinicalStatus,
    EMSTrafficStatus,
    HospitalPayload,
    changed_fields,
)
from cop.feeds.base import Feed, register_feed
from cop.feeds.positions import DEMO_INCIDENT, KM_PER_DEG_LAT
from cop.geo.sites import HospitalSite, emergency_hospitals
from cop.standards.have import HospitalRecord, ParsedHospital, parse_have
from cop.standards.xml import parse_xml
from cop.store.connection import Store
from cop.store.state import StateStore
from cop.store.streams import StreamWriter

KIND = "hospital"
SEED_TIME = datetime(2020, 2, 1, tzinfo=UTC)  # reference date of the shipped hospital list
MATCH_RADIUS_KM = 0.5


def baseline_beds(site: HospitalSite) -> tuple[BedCapacity, ...]:
    """Plausible baselines from the licensed bed count (the shipped data has no per-type split)."""
    beds = site.beds
    plan = [
        (BedType.EMERGENCY_DEPARTMENT, max(8, round(beds * 0.04))),
        (BedType.ADULT_ICU, max(4, round(beds * 0.05))),
        (BedType.MEDICAL_SURGICAL, round(beds * 0.6)),
        (BedType.PEDIATRICS, round(beds * 0.05)),
        (BedType.NEGATIVE_FLOW_ISOLATION, max(1, round(beds * 0.01))),
        (BedType.OPERATING_ROOMS, max(2, round(beds * 0.015))),
    ]
    if beds >= 600:
        plan.append((BedType.PEDIATRIC_ICU, round(beds * 0.008)))
    return tuple(BedCapacity(bed_type=t, baseline=n) for t, n in plan)


def seed_payload(site: HospitalSite) -> HospitalPayload:
    return HospitalPayload(
        name=site.name,
        site_name=site.site_name,
        city=site.city.title(),
        lat=site.lat,
        lon=site.lon,
        nis_code=site.nis_code,
        prov_code=site.prov_code,
        beds=baseline_beds(site),
        comments=("Seeded from the FPS Public Health hospital list (2020); no report received yet",),
        updated_by="seed",
    )


def seed_hospitals(store: Store) -> int:
    """Write the 129 emergency hospitals once (first start); returns how many were written."""
    if not store.client.set(store.keys.seeded(KIND), datetime.now(UTC).isoformat(), nx=True):
        return 0
    envelopes = [
        Envelope.build(
            kind=KIND, entity_id=site.site_id, source="seed", observed_at=SEED_TIME, data=seed_payload(site)
        )
        for site in emergency_hospitals()
    ]
    StreamWriter(store.client, store.keys, store.settings).append(envelopes)
    return len(envelopes)


@dataclass(frozen=True, slots=True)
class ReportedBeds:
    """One hospital's free and baseline beds, over the bed types it reports counts for."""

    name: str
    prov_code: str | None
    available: int
    baseline: int

    @property
    def free_pct(self) -> float:
        return round(100 * self.available / self.baseline, 1)


def reported_beds(store: Store) -> list[ReportedBeds]:
    """Every hospital that has reported bed counts (seeded ones without counts are left out)."""
    found = []
    for raw in store.client.hvals(store.keys.state(KIND)):
        data = orjson.loads(raw)["data"]
        beds = [b for b in data.get("beds", []) if b.get("available") is not None and b.get("baseline")]
        if beds and not data.get("deleted"):
            found.append(
                ReportedBeds(
                    name=data["name"],
                    prov_code=data.get("prov_code"),
                    available=sum(b["available"] for b in beds),
                    baseline=sum(b["baseline"] for b in beds),
                )
            )
    return found


def known_hospitals() -> dict[str, HospitalSite]:
    return {site.site_id: site for site in emergency_hospitals()}


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    dy = (lat2 - lat1) * KM_PER_DEG_LAT
    dx = (lon2 - lon1) * KM_PER_DEG_LAT * math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot(dx, dy)


def match_hospital(parsed: ParsedHospital) -> HospitalSite | None:
    """By site id, else by name and location (within 500 m)."""
    sites = known_hospitals()
    if parsed.hospital_id and parsed.hospital_id in sites:
        return sites[parsed.hospital_id]
    if parsed.name and parsed.lat is not None and parsed.lon is not None:
        name = parsed.name.casefold()
        for site in sites.values():
            if (
                site.name.casefold() == name
                and distance_km(site.lat, site.lon, parsed.lat, parsed.lon) <= MATCH_RADIUS_KM
            ):
                return site
    return None


def name_beds_by_type(problems: list[FieldProblem], beds: list[Any]) -> list[FieldProblem]:
    """`beds.3.available` -> `beds.AdultICU.available`: users know bed types, not list positions."""
    named = []
    for problem in problems:
        parts = problem.field.split(".")
        if len(parts) >= 2 and parts[0] == "beds" and parts[1].isdigit() and int(parts[1]) < len(beds):
            bed = beds[int(parts[1])]
            bed_type = bed.get("bed_type") if isinstance(bed, dict) else getattr(bed, "bed_type", None)
            parts[1] = str(getattr(bed_type, "value", bed_type))
        named.append(FieldProblem(".".join(parts), problem.problem))
    return named


@dataclass
class HospitalUpdates:
    """Applies the rules to hospital updates and writes the accepted ones."""

    store: Store
    writer: StreamWriter = field(init=False)
    state: StateStore = field(init=False)

    def __post_init__(self) -> None:
        self.writer = StreamWriter(self.store.client, self.store.keys, self.store.settings)
        self.state = StateStore(self.store.client, self.store.keys)

    def current(self, hospital_id: str) -> tuple[HospitalPayload, datetime] | None:
        stored = self.state.get(KIND, hospital_id)
        if stored is None:
            return None
        return HospitalPayload.model_validate(stored.data), stored.observed_at

    def build(
        self, hospital_id: str, changes: dict[str, Any], *, actor: str, observed_at: datetime
    ) -> tuple[Envelope, HospitalPayload | None]:
        """Validate an update against the rules; raises InvalidInput naming the field."""
        site = known_hospitals().get(hospital_id)
        if site is None:
            raise InvalidInput([FieldProblem("hospital", f"unknown hospital {hospital_id!r}")])
        current = self.current(hospital_id)
        base = current[0] if current else seed_payload(site)
        if current and observed_at < current[1]:
            raise InvalidInput(
                [
                    FieldProblem(
                        "last_update",
                        f"{observed_at.isoformat()} is older than the stored status "
                        f"({current[1].isoformat()})",
                    )
                ]
            )
        # A report may carry only some bed types, or only some counts of one: the rest is kept.
        if "beds" in changes:
            beds = {bed.bed_type.value: bed.model_dump(mode="json") for bed in base.beds}
            for bed in changes["beds"]:
                update = bed.model_dump(mode="json") if isinstance(bed, BedCapacity) else dict(bed)
                key = str(update.get("bed_type"))
                beds[key] = {**beds.get(key, {}), **update}
            changes = {**changes, "beds": list(beds.values())}
        # Identity and location always come from our reference data, never from the update.
        merged = {
            **base.model_dump(),
            **changes,
            "updated_by": actor,
            "name": site.name,
            "site_name": site.site_name,
            "lat": site.lat,
            "lon": site.lon,
            "nis_code": site.nis_code,
            "prov_code": site.prov_code,
        }
        try:
            payload = HospitalPayload.model_validate(merged)
        except ValidationError as error:
            raise InvalidInput(name_beds_by_type(problems_from(error), merged.get("beds", []))) from error
        envelope = Envelope.build(
            kind=KIND, entity_id=hospital_id, source=actor, observed_at=observed_at, data=payload
        )
        return envelope, current[0] if current else None

    def save(
        self,
        hospital_id: str,
        changes: dict[str, Any],
        *,
        actor: str,
        observed_at: datetime,
        origin: str = "",
    ) -> str:
        """Validate, XADD and audit one update; returns its stream id once it is in Redis."""
        envelope, before = self.build(hospital_id, changes, actor=actor, observed_at=observed_at)
        return self.writer.append_audited(
            envelope,
            actor=actor,
            action="hospital.update",
            origin=origin,
            detail={"changes": changed_fields(before, HospitalPayload.model_validate(envelope.data))},
        )

    def import_document(self, data: bytes, *, source: str, origin: str = "") -> dict[str, Any]:
        """A HAVE document (bare or in EDXL-DE 1.0): each hospital accepted or reported on its own."""
        root = parse_xml(data)
        parsed = parse_have(root)
        if not parsed:
            raise InvalidInput([FieldProblem("body", "no EDXL-HAVE HospitalStatus/Hospital found")])
        accepted, rejected, unknown = [], [], []
        for hospital in parsed:
            site = match_hospital(hospital)
            label = {"index": hospital.index, "id": hospital.hospital_id, "name": hospital.name}
            if site is None:
                unknown.append(
                    {**label, "problem": "no hospital with this id, or this name at this location"}
                )
                continue
            if hospital.problems or hospital.last_update is None:
                rejected.append({**label, "errors": [p.as_dict() for p in hospital.problems]})
                continue
            try:
                self.save(
                    site.site_id,
                    hospital.fields,
                    actor=source,
                    observed_at=hospital.last_update,
                    origin=origin,
                )
                accepted.append(site.site_id)
            except InvalidInput as error:
                rejected.append({**label, "errors": error.as_dicts()})
        return {"accepted": accepted, "rejected": rejected, "unknown": unknown}

    def records(
        self, *, provinces: set[str] | None = None, bed_type: str | None = None
    ) -> list[HospitalRecord]:
        """Current status of all (or filtered) hospitals, for export."""
        records = []
        for hospital_id, envelope in sorted(self.state.all(KIND).items()):
            payload = HospitalPayload.model_validate(envelope.data)
            if provinces and payload.prov_code not in provinces:
                continue
            if bed_type and payload.bed(bed_type) is None:
                continue
            records.append(HospitalRecord(hospital_id, payload, envelope.observed_at, envelope.exercise))
        return records


# -- the simulator ------------------------------------------------------------------------------


@register_feed
class HospitalsFeed(Feed):
    """Simulated bed counts for `cop demo`: drift, a surge near the incident, one silent hospital."""

    name: ClassVar[str] = "hospitals"
    interval_s: ClassVar[float] = 5.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rng = random.Random(self.settings.sim_seed + 1)
        self.sites = list(emergency_hospitals())
        self.silent = self.sites[self.rng.randrange(len(self.sites))].site_id
        self.free: dict[tuple[str, BedType], int] = {}
        self.started = datetime.now(UTC)

    def tick(self, now: datetime) -> Sequence[Envelope]:
        if not self.simulate:
            return []
        surge = min(1.0, (now - self.started) / timedelta(minutes=10))
        envelopes = []
        for site in self.rng.sample(self.sites, k=12):
            if site.site_id == self.silent and now - self.started > timedelta(seconds=30):
                continue  # stopped reporting: the table shows it going stale
            near_incident = distance_km(site.lat, site.lon, *DEMO_INCIDENT) < 30
            beds = []
            for bed in baseline_beds(site):
                key = (site.site_id, bed.bed_type)
                free = self.free.get(key, round(bed.baseline * self.rng.uniform(0.1, 0.35)))
                free += self.rng.randint(-2, 2)
                if near_incident and bed.bed_type in (BedType.EMERGENCY_DEPARTMENT, BedType.ADULT_ICU):
                    free -= round(self.rng.uniform(0, 3) * surge)
                free = max(0, min(free, bed.baseline + bed.additional_24h))
                self.free[key] = free
                beds.append(
                    bed.model_copy(
                        update={
                            "available": free,
                            "status": CapacityStatus.VACANT_AVAILABLE
                            if free
                            else CapacityStatus.NOT_AVAILABLE,
                        }
                    )
                )
            full = sum(b.available or 0 for b in beds) == 0
            strained = near_incident and surge > 0.5
            payload = seed_payload(site).model_copy(
                update={
                    "beds": tuple(beds),
                    "ems_traffic": EMSTrafficStatus.ADVISORY if strained else EMSTrafficStatus.NORMAL,
                    "clinical_status": ClinicalStatus.FULL if full else ClinicalStatus.NORMAL,
                    "comments": ("Mass-casualty plan activated",) if strained else (),
                    "updated_by": "simulator",
                }
            )
            envelopes.append(
                Envelope.build(
                    kind=KIND,
                    entity_id=site.site_id,
                    source="simulator",
                    observed_at=now,
                    exercise=True,
                    data=payload,
                )
            )
        return envelopes
