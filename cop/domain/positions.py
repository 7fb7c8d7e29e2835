"""Resource positions: the payload of stream kind `position`."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from cop.domain.envelope import ENTITY_ID_PATTERN, Payload, register_payload

Discipline = Literal["D1", "D2", "D3", "D4", "D5"]
DISCIPLINES: tuple[str, ...] = ("D1", "D2", "D3", "D4", "D5")

DISCIPLINE_NAMES: dict[str, str] = {
    "D1": "Rescue (fire, Civil Protection)",
    "D2": "Medical",
    "D3": "Police",
    "D4": "Logistics",
    "D5": "Information",
}
# Colours commonly used per discipline (DOMAIN.md); D5's black is drawn dark grey to stay visible.
DISCIPLINE_COLOURS: dict[str, str] = {
    "D1": "#e5484d",
    "D2": "#30a46c",
    "D3": "#3e63dd",
    "D4": "#f76b15",
    "D5": "#c8c8c8",
}


class UnitStatus(StrEnum):
    """What a unit is doing; one vocabulary so the wall can count units by status."""

    AVAILABLE = "available"
    DISPATCHED = "dispatched"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    TRANSPORTING = "transporting"
    RETURNING = "returning"
    AT_STATION = "at_station"
    OUT_OF_SERVICE = "out_of_service"


class UnitReport(BaseModel):
    """What a unit reports about itself: the fields shared by the API item and the stored payload."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    callsign: str = Field(min_length=1, max_length=64)
    discipline: Discipline
    unit_type: str = Field(min_length=1, max_length=64)
    status: UnitStatus
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    speed_kmh: float | None = Field(default=None, ge=0, le=1000, allow_inf_nan=False)
    heading_deg: float | None = Field(default=None, ge=0, lt=360, allow_inf_nan=False)


@register_payload
class PositionPayload(Payload, UnitReport):
    """Where a unit is and what it is doing (WGS84 degrees), placed in its municipality."""

    kind: ClassVar[str] = "position"

    nis_code: str | None = Field(default=None, pattern=r"^\d{5}$")


class PositionObservation(UnitReport):
    """One item of `POST /api/v1/positions`, as other systems send it."""

    id: str = Field(pattern=ENTITY_ID_PATTERN)
    observed_at: AwareDatetime

    def payload(self, nis_code: str | None, prov_code: str | None) -> PositionPayload:
        return PositionPayload(
            **self.model_dump(exclude={"id", "observed_at"}), nis_code=nis_code, prov_code=prov_code
        )
