"""Resource positions: the payload of stream kind `position`."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from cop.domain.envelope import Payload, register_payload

Discipline = Literal["D1", "D2", "D3", "D4", "D5"]
DISCIPLINES: tuple[str, ...] = ("D1", "D2", "D3", "D4", "D5")


@register_payload
class PositionPayload(Payload):
    """Where a unit is and what it is doing (WGS84 degrees)."""

    kind: ClassVar[str] = "position"

    callsign: str = Field(min_length=1, max_length=64)
    discipline: Discipline
    unit_type: str = Field(min_length=1, max_length=64)
    status: str = Field(min_length=1, max_length=32)
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    speed_kmh: float | None = Field(default=None, ge=0, le=1000, allow_inf_nan=False)
    heading_deg: float | None = Field(default=None, ge=0, lt=360, allow_inf_nan=False)
    nis_code: str | None = Field(default=None, pattern=r"^\d{5}$")
