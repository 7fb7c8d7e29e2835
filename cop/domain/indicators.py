"""Risk indicators (stream kind `indicator`): one reading per indicator, area and phenomenon, on the
indicator's official scale. The scales are data: cop/data/risk/indicators.json."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from cop.domain.envelope import Payload, register_payload

Scope = Literal["national", "region", "province", "municipality", "station"]
SCOPE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
SEVERITY_NAMES = ("green", "yellow", "orange", "red")


@dataclass(frozen=True, slots=True)
class Level:
    level: int
    code: str
    label: str
    colour: str
    severity: int  # 0 green … 3 red: compares scales on one map
    lower: float | None  # the value from which this level applies (for scales driven by a value)


@dataclass(frozen=True, slots=True)
class Scale:
    key: str
    name: str
    scopes: tuple[str, ...]
    phenomena: tuple[str, ...]
    unit: str | None
    levels: tuple[Level, ...]
    descending: bool  # a lower value is worse (free hospital beds)
    sub_indices: dict[str, tuple[float, ...]]

    def find(self, value: int | str) -> Level | None:
        """A level by its number or its code ("orange", "pre-waak", 3, "3")."""
        for level in self.levels:
            if value == level.level or (
                isinstance(value, str) and value.strip().lower() == level.code.lower()
            ):
                return level
        return None

    def for_value(self, value: float) -> Level | None:
        """The level a raw value falls in, for scales with thresholds (None otherwise)."""
        banded = [lv for lv in self.levels if lv.lower is not None]
        if not banded:
            return None
        if self.descending:
            return next((lv for lv in banded if value >= (lv.lower or 0.0)), banded[-1])
        chosen = None
        for lv in sorted(banded, key=lambda lv: lv.lower or 0.0):
            if value >= (lv.lower or 0.0):
                chosen = lv
        return chosen

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "unit": self.unit,
            "levels": [
                {
                    "level": lv.level,
                    "code": lv.code,
                    "label": lv.label,
                    "colour": lv.colour,
                    "severity": lv.severity,
                }
                for lv in self.levels
            ],
        }


@cache
def scales() -> dict[str, Scale]:
    path = resources.files("cop") / "data" / "risk" / "indicators.json"
    rows = json.loads(path.read_text(encoding="utf-8"))["indicators"]
    result = {}
    for row in rows:
        levels = tuple(
            Level(
                level=int(lv["level"]),
                code=str(lv["code"]),
                label=lv["label"],
                colour=lv["colour"],
                severity=int(lv["severity"]),
                lower=lv.get("from", lv.get("from_free")),
            )
            for lv in row["levels"]
        )
        result[row["key"]] = Scale(
            key=row["key"],
            name=row["name"],
            scopes=tuple(row["scopes"]),
            phenomena=tuple(row.get("phenomena", ())),
            unit=row.get("unit"),
            levels=levels,
            descending=any("from_free" in lv for lv in row["levels"]),
            sub_indices={k: tuple(v) for k, v in row.get("sub_indices_ug_m3", {}).items()},
        )
    return result


def belaqi_index(**concentrations: float | None) -> int:
    """The BelAQI (2022) index: the maximum of the PM10, PM2.5, O₃ and NO₂ sub-indices, each the
    first class whose upper bound the concentration (µg/m³) does not exceed; above the 9th, 10."""
    bounds = scales()["belaqi"].sub_indices
    indices = []
    for pollutant, value in concentrations.items():
        if value is None:
            continue
        if pollutant not in bounds:
            raise ValueError(f"{pollutant}: unknown pollutant (known: {', '.join(bounds)})")
        if value < 0 or not math.isfinite(value):
            raise ValueError(f"{pollutant}: must be a non-negative number")
        indices.append(1 + sum(1 for upper in bounds[pollutant] if value > upper))
    if not indices:
        raise ValueError("give at least one of pm10, pm25, o3, no2")
    return max(indices)


class IndicatorObservation(BaseModel):
    """One item of `POST /api/v1/indicators`: a level (number or code), or a raw value that a
    thresholded scale turns into a level."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    indicator: str
    scope: Scope
    scope_id: str = Field(pattern=SCOPE_ID_PATTERN)
    phenomenon: str | None = None
    level: int | str | None = None
    value: float | None = Field(default=None, allow_inf_nan=False)
    unit: str | None = Field(default=None, max_length=16)
    name: str | None = Field(default=None, max_length=120)
    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    lon: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    valid_from: AwareDatetime | None = None
    valid_to: AwareDatetime | None = None
    observed_at: AwareDatetime
    reference: str | None = Field(default=None, max_length=256)  # e.g. the CAP alert it came from

    @model_validator(mode="after")
    def _on_the_scale(self) -> IndicatorObservation:
        scale = scales().get(self.indicator)
        if scale is None:
            raise ValueError(f"indicator: unknown {self.indicator!r} (known: {', '.join(scales())})")
        if self.scope not in scale.scopes:
            raise ValueError(f"scope: {scale.name} is given per {', '.join(scale.scopes)}, not {self.scope}")
        if scale.phenomena and self.phenomenon not in scale.phenomena:
            raise ValueError(f"phenomenon: one of {', '.join(scale.phenomena)} is required")
        if not scale.phenomena and self.phenomenon is not None:
            raise ValueError(f"phenomenon: {scale.name} has none")
        if self.level is None and self.value is None:
            raise ValueError("level: give the level (or a value the scale turns into one)")
        if self.level is not None and scale.find(self.level) is None:
            codes = ", ".join(lv.code for lv in scale.levels)
            raise ValueError(f"level: {self.level!r} is not on the {scale.name} scale ({codes})")
        if self.level is None and self.value is not None and scale.for_value(self.value) is None:
            raise ValueError(f"level: {scale.name} has no thresholds to derive a level from a value")
        if self.scope == "station" and (self.lat is None or self.lon is None):
            raise ValueError("lat: a station needs its position (lat, lon)")
        if self.valid_from and self.valid_to and self.valid_to <= self.valid_from:
            raise ValueError("valid_to: must be after valid_from")
        return self

    @property
    def entity_id(self) -> str:
        base = f"{self.indicator}/{self.scope}/{self.scope_id}"
        return f"{base}/{self.phenomenon}" if self.phenomenon else base

    def resolved_level(self) -> Level:
        scale = scales()[self.indicator]
        found = scale.find(self.level) if self.level is not None else scale.for_value(self.value or 0.0)
        assert found is not None  # checked by the validator
        return found

    def payload(self, prov_code: str | None, prov_codes: list[str]) -> IndicatorPayload:
        level = self.resolved_level()
        return IndicatorPayload(
            **self.model_dump(exclude={"observed_at", "level"}),
            level=level.level,
            code=level.code,
            label=level.label,
            colour=level.colour,
            severity=level.severity,
            prov_code=prov_code,
            prov_codes=prov_codes,
        )


@register_payload
class IndicatorPayload(Payload):
    """The latest reading of one indicator for one area (and phenomenon), with its level resolved."""

    kind: ClassVar[str] = "indicator"

    indicator: str
    scope: Scope
    scope_id: str
    phenomenon: str | None = None
    level: int
    code: str
    label: str
    colour: str
    severity: int = Field(ge=0, le=3)
    value: float | None = None
    unit: str | None = None
    name: str | None = None
    lat: float | None = None
    lon: float | None = None
    valid_from: AwareDatetime | None = None
    valid_to: AwareDatetime | None = None
    reference: str | None = None
    prov_codes: list[str] = Field(default_factory=list)
