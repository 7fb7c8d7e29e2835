"""The chemical picture (stream kind `chem`): detector readings and dispersion-model runs.

Both travel in one stream kind, told apart by `data.type`: a `reading` is the latest value of one
sensor on one platform (entity id `platform/sensor`), a `plume` is the latest model run of one
release (entity id `plume/<release>`), with its threat zones already computed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from cop.domain.envelope import ENTITY_ID_PATTERN, Payload, register_payload
from cop.domain.positions import Discipline, UnitReport, UnitStatus

MOLAR_VOLUME_L = 24.45  # litres per mole at 25 °C and 1 atm: mg/m³ = ppm × MW / 24.45
PLATFORM_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$"  # no "/": the entity id joins two


class ReadingUnit(StrEnum):
    PPM = "ppm"
    PPB = "ppb"
    MG_M3 = "mg/m3"
    LEL = "%LEL"
    VOL = "%vol"


UNIT_ALIASES = {"mg/m³": "mg/m3", "mg m-3": "mg/m3", "%lel": "%LEL", "% lel": "%LEL", "%vol": "%vol"}


class SensorType(StrEnum):
    ELECTROCHEMICAL = "electrochemical"
    PID = "pid"
    CATALYTIC = "catalytic"
    INFRARED = "infrared"
    OXYGEN = "oxygen"
    OTHER = "other"


class SensorStatus(StrEnum):
    """What the detector says of itself (DOMAIN.md §4)."""

    OK = "ok"
    WARM_UP = "warm_up"
    LOW_ALARM = "low_alarm"
    HIGH_ALARM = "high_alarm"
    OVER_RANGE = "over_range"
    FAULT = "fault"
    CALIBRATION_DUE = "calibration_due"


class Alarm(StrEnum):
    NONE = "none"
    LOW = "low"
    HIGH = "high"


@dataclass(frozen=True, slots=True)
class Substance:
    key: str
    name: str
    formula: str
    cas: str | None
    mw: float | None  # g/mol
    aegl: dict[int, float | None]  # level → ppm, 60 min
    alarm_low: float | None
    alarm_high: float | None
    alarm_unit: str | None
    alarm_both_ways: bool  # oxygen: too little is an alarm as well as too much
    verify: tuple[str, ...]

    def ppm_to_g_m3(self, ppm: float) -> float:
        if self.mw is None:
            raise ValueError(f"{self.name} has no molar mass")
        return ppm * self.mw / MOLAR_VOLUME_L / 1000.0

    def g_m3_to_ppm(self, g_m3: float) -> float:
        if self.mw is None:
            raise ValueError(f"{self.name} has no molar mass")
        return g_m3 * 1000.0 * MOLAR_VOLUME_L / self.mw

    @property
    def modelled(self) -> bool:
        """Threat zones can be drawn: a molar mass and at least one AEGL level are known."""
        return self.mw is not None and any(v is not None for v in self.aegl.values())


@cache
def substances() -> dict[str, Substance]:
    """The substance table (cop/data/chem/substances.json), by key."""
    path = resources.files("cop") / "data" / "chem" / "substances.json"
    rows = json.loads(path.read_text(encoding="utf-8"))["substances"]
    table = {}
    for row in rows:
        alarm = row.get("alarm") or {}
        table[row["key"]] = Substance(
            key=row["key"],
            name=row["name"],
            formula=row["formula"],
            cas=row.get("cas"),
            mw=row.get("mw"),
            aegl={int(k): v for k, v in (row.get("aegl") or {}).items()},
            alarm_low=alarm.get("low"),
            alarm_high=alarm.get("high"),
            alarm_unit=alarm.get("unit"),
            alarm_both_ways=bool(alarm.get("both_ways")),
            verify=tuple(row.get("verify", ())),
        )
    return table


def find_substance(name: str) -> Substance | None:
    """A substance by key, name, formula or CAS number (case and spacing ignored)."""
    wanted = name.strip().lower().replace(" ", "_")
    for substance in substances().values():
        names = {substance.key, substance.name.lower().replace(" ", "_"), substance.formula.lower()}
        if substance.cas:
            names.add(substance.cas)
        if wanted in names:
            return substance
    return None


def to_ppm(value: float, unit: ReadingUnit, substance: Substance | None) -> float | None:
    """The value in ppm, or None when it cannot be known (%LEL, or mg/m³ of an unknown substance)."""
    if unit is ReadingUnit.PPM:
        return value
    if unit is ReadingUnit.PPB:
        return value / 1000.0
    if unit is ReadingUnit.VOL:
        return value * 10_000.0
    if unit is ReadingUnit.MG_M3 and substance is not None and substance.mw is not None:
        return value * MOLAR_VOLUME_L / substance.mw
    return None


def alarm_level(substance: Substance | None, value: float, unit: ReadingUnit, ppm: float | None) -> Alarm:
    """The detector's alarm for this reading, from the substance's typical set-points."""
    if substance is None or substance.alarm_low is None or substance.alarm_high is None:
        return Alarm.NONE
    if substance.alarm_unit == "ppm":
        measured = ppm
    elif substance.alarm_unit == unit.value:
        measured = value
    else:
        measured = None
    if measured is None:
        return Alarm.NONE
    if substance.alarm_both_ways:
        # Oxygen: below the low set-point is deficiency, above the high one enrichment.
        if measured < substance.alarm_low:
            return Alarm.LOW
        return Alarm.HIGH if measured > substance.alarm_high else Alarm.NONE
    if measured >= substance.alarm_high:
        return Alarm.HIGH
    if measured >= substance.alarm_low:
        return Alarm.LOW
    return Alarm.NONE


# -- readings ----------------------------------------------------------------------------------------


class DetectorReading(BaseModel):
    """What a detector reports: the fields shared by the API item and the stored payload."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    platform_id: str = Field(pattern=PLATFORM_ID_PATTERN)
    sensor_id: str = Field(pattern=PLATFORM_ID_PATTERN)
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    alt_msl_m: float | None = Field(default=None, ge=-500, le=12_000, allow_inf_nan=False)
    alt_agl_m: float | None = Field(default=None, ge=0, le=5_000, allow_inf_nan=False)
    substance: str = Field(min_length=1, max_length=64)
    value: float = Field(allow_inf_nan=False)
    unit: ReadingUnit
    sensor_type: SensorType = SensorType.OTHER
    status: SensorStatus = SensorStatus.OK

    @field_validator("unit", mode="before")
    @classmethod
    def _unit_alias(cls, value: Any) -> Any:
        if isinstance(value, str):
            return UNIT_ALIASES.get(value.strip().lower(), UNIT_ALIASES.get(value.strip(), value.strip()))
        return value

    @field_validator("value")
    @classmethod
    def _not_negative(cls, value: float) -> float:
        if value < 0:
            raise ValueError("must not be negative")
        return value


@register_payload
class ReadingPayload(Payload, DetectorReading):
    """The latest reading of one sensor, with its value in ppm (where known) and its alarm."""

    kind: ClassVar[str] = "chem"

    type: Literal["reading"] = "reading"
    substance_key: str | None = None
    value_ppm: float | None = None
    alarm: Alarm = Alarm.NONE
    nis_code: str | None = Field(default=None, pattern=r"^\d{5}$")


class ReadingObservation(DetectorReading):
    """One item of `POST /api/v1/readings`. A drone that sends its position with the reading
    adds `platform` (callsign, discipline, type, status…): the platform then also moves on the map."""

    observed_at: AwareDatetime
    platform: UnitReportWithoutPosition | None = None

    @property
    def entity_id(self) -> str:
        return reading_entity_id(self.platform_id, self.sensor_id)

    def payload(self, nis_code: str | None, prov_code: str | None) -> ReadingPayload:
        substance = find_substance(self.substance)
        ppm = to_ppm(self.value, self.unit, substance)
        return ReadingPayload(
            **self.model_dump(exclude={"observed_at", "platform"}),
            substance_key=substance.key if substance else None,
            value_ppm=ppm,
            alarm=alarm_level(substance, self.value, self.unit, ppm),
            nis_code=nis_code,
            prov_code=prov_code,
        )


class UnitReportWithoutPosition(BaseModel):
    """The platform's own report, sent with a reading: its position is the reading's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    callsign: str = Field(min_length=1, max_length=64)
    discipline: Discipline = "D1"
    unit_type: str = Field(default="drone", min_length=1, max_length=64)
    status: UnitStatus = UnitStatus.ON_SCENE
    speed_kmh: float | None = Field(default=None, ge=0, le=1000, allow_inf_nan=False)
    heading_deg: float | None = Field(default=None, ge=0, lt=360, allow_inf_nan=False)

    def at(self, lat: float, lon: float) -> UnitReport:
        return UnitReport.model_validate({**self.model_dump(), "lat": lat, "lon": lon})


ReadingObservation.model_rebuild()


def reading_entity_id(platform_id: str, sensor_id: str) -> str:
    return f"{platform_id}/{sensor_id}"


# -- plume model runs ---------------------------------------------------------------------------------

StabilityClass = Literal["A", "B", "C", "D", "E", "F"]
Terrain = Literal["rural", "urban"]
Sky = Literal["strong_sun", "moderate_sun", "slight_sun", "overcast", "night_cloudy", "night_clear"]


class Weather(BaseModel):
    """Wind and the stability class, given directly or derived from the sky (Pasquill–Gifford)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    wind_speed_ms: float = Field(gt=0, le=50, allow_inf_nan=False)
    wind_from_deg: float = Field(ge=0, lt=360, allow_inf_nan=False)
    stability: StabilityClass | None = None
    sky: Sky | None = None
    terrain: Terrain = "rural"

    @model_validator(mode="after")
    def _stability_or_sky(self) -> Weather:
        if self.stability is None and self.sky is None:
            raise ValueError("give either stability (A–F) or sky (to derive it)")
        return self


class Release(BaseModel):
    """A continuous release at a point."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lat: float = Field(ge=49.0, le=52.0, allow_inf_nan=False)  # the model works in Belgian Lambert
    lon: float = Field(ge=2.0, le=7.0, allow_inf_nan=False)
    substance: str = Field(min_length=1, max_length=64)
    rate_g_s: float | None = Field(default=None, gt=0, le=1e7, allow_inf_nan=False)
    height_m: float = Field(default=0.0, ge=0, le=500, allow_inf_nan=False)

    @field_validator("substance")
    @classmethod
    def _modelled(cls, value: str) -> str:
        substance = find_substance(value)
        if substance is None:
            known = ", ".join(sorted(s.key for s in substances().values() if s.modelled))
            raise ValueError(f"unknown substance {value!r} (known: {known})")
        if not substance.modelled:
            raise ValueError(f"{substance.name} has no toxic levels to draw threat zones from")
        return substance.key


class Fit(BaseModel):
    """How well the release rate estimated from readings explains them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    readings_used: int
    readings_outside: int
    r2: float | None
    relative_rmse: float | None


class PlumeRequest(BaseModel):
    """What a coordinator (or the simulator) asks the model for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    release_id: str = Field(pattern=PLATFORM_ID_PATTERN)
    incident_id: str = Field(pattern=ENTITY_ID_PATTERN)
    release: Release
    weather: Weather
    averaging_min: float = Field(default=10.0, ge=1, le=600, allow_inf_nan=False)
    receptor_height_m: float = Field(default=0.0, ge=0, le=100, allow_inf_nan=False)
    estimate_from_readings: bool = False
    readings_window_min: float = Field(default=10.0, gt=0, le=240, allow_inf_nan=False)

    @model_validator(mode="after")
    def _rate_or_estimate(self) -> PlumeRequest:
        if self.release.rate_g_s is None and not self.estimate_from_readings:
            raise ValueError("give release.rate_g_s, or ask to estimate it from readings")
        return self


@register_payload
class PlumePayload(Payload):
    """One model run: the release, the weather, the rate used and the threat zones it implies."""

    kind: ClassVar[str] = "chem"

    type: Literal["plume"] = "plume"
    incident_id: str = Field(pattern=ENTITY_ID_PATTERN)
    release: Release
    weather: Weather
    stability: StabilityClass
    rate_g_s: float = Field(gt=0, allow_inf_nan=False)
    rate_source: Literal["entered", "estimated"]
    fit: Fit | None = None
    averaging_min: float
    receptor_height_m: float = 0.0
    zones: dict[str, Any]  # GeoJSON FeatureCollection (WGS84), one feature per level drawn
    warnings: list[str] = Field(default_factory=list)
    prov_codes: list[str] = Field(default_factory=list)
    author: str | None = None


def plume_entity_id(release_id: str) -> str:
    return f"plume/{release_id}"
