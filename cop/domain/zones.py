"""Intervention zones (stream kind `zone`): red / orange / yellow perimeters and the CP-Ops point.

Drawn by the Dir-CP-Ops (DOMAIN.md §1), derived from a plume's threat zones, or buffered around
the incident. Geometry is GeoJSON in WGS84 (longitude first); it is checked here, and what lies
inside is computed when the zone is written.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar, Literal

import shapely
import shapely.geometry
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from cop.domain.envelope import ENTITY_ID_PATTERN, Payload, register_payload

MAX_VERTICES = 20_000
BELGIUM_AND_AROUND = (1.5, 48.8, 7.5, 52.2)  # lon/lat box: zones are drawn in and near Belgium


class ZoneType(StrEnum):
    RED = "red"
    ORANGE = "orange"
    YELLOW = "yellow"
    CP_OPS = "cp_ops"


ZONE_COLOURS = {"red": "#e5484d", "orange": "#f76b15", "yellow": "#ffd60a", "cp_ops": "#3e63dd"}
ZONE_NAMES = {
    "red": "Red zone (exclusion)",
    "orange": "Orange zone (isolation)",
    "yellow": "Yellow zone (deterrence)",
    "cp_ops": "CP-Ops",
}
PERIMETERS = (ZoneType.RED, ZoneType.ORANGE, ZoneType.YELLOW)


class Origin(StrEnum):
    DRAWN = "drawn"
    PLUME = "plume"
    BUFFER = "buffer"


def check_geometry(value: Any, zone_type: ZoneType) -> shapely.Geometry:
    """The geometry as shapely, or ValueError saying what is wrong with it."""
    if not isinstance(value, dict) or "type" not in value or "coordinates" not in value:
        raise ValueError("must be a GeoJSON geometry with 'type' and 'coordinates'")
    allowed = ("Point",) if zone_type is ZoneType.CP_OPS else ("Polygon", "MultiPolygon")
    if value["type"] not in allowed:
        raise ValueError(f"a {zone_type.value} zone needs a {' or '.join(allowed)}, not {value['type']!r}")
    try:
        shape = shapely.geometry.shape(value)
    except (ValueError, TypeError, IndexError, AttributeError) as error:
        raise ValueError(f"coordinates are not a valid {value['type']} ({error})") from None
    if shape.is_empty:
        raise ValueError("is empty")
    if shapely.get_num_coordinates(shape) > MAX_VERTICES:
        raise ValueError(f"has more than {MAX_VERTICES} vertices")
    coords = shapely.get_coordinates(shape)
    west, south, east, north = BELGIUM_AND_AROUND
    lons, lats = coords[:, 0], coords[:, 1]
    if not ((lons >= west) & (lons <= east) & (lats >= south) & (lats <= north)).all():
        raise ValueError("lies outside Belgium and its surroundings (longitude first: [lon, lat])")
    if not shape.is_valid:
        raise ValueError(f"is not a valid shape ({shapely.is_valid_reason(shape)})")
    return shape


class Named(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    category: str | None = None


class Inside(BaseModel):
    """What a zone contains, computed from the shipped reference data when it is written."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    municipalities: list[Named] = Field(default_factory=list)
    hospitals: list[Named] = Field(default_factory=list)
    sites: list[Named] = Field(default_factory=list)


class ZoneDraft(BaseModel):
    """What a coordinator submits for a zone."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    incident_id: str = Field(pattern=ENTITY_ID_PATTERN)
    zone_type: ZoneType
    geometry: dict[str, Any]
    origin: Origin = Origin.DRAWN
    label: str = Field(default="", max_length=120)
    radius_m: float | None = Field(default=None, gt=0, le=100_000, allow_inf_nan=False)

    @field_validator("geometry")
    @classmethod
    def _geometry_fits_type(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        zone_type = info.data.get("zone_type")
        if zone_type is not None:
            check_geometry(value, zone_type)
        return value

    @field_validator("label")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()


@register_payload
class ZonePayload(Payload, ZoneDraft):
    """A zone as stored: the draft, who last changed it, its area and what lies inside."""

    kind: ClassVar[str] = "zone"

    author: str = Field(min_length=1, max_length=64)
    area_km2: float | None = None
    inside: Inside = Field(default_factory=Inside)
    prov_codes: list[str] = Field(default_factory=list)
    pre_planned: Literal[False] = False
