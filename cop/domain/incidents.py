"""Incidents (stream kind `incident`): what happened where; zones, plumes and logbooks belong to one."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from cop.domain.envelope import Payload, register_payload


class IncidentStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class CoordinationLevel(StrEnum):
    """Who coordinates (Royal Decree of 22 May 2019)."""

    MUNICIPAL = "municipal"
    PROVINCIAL = "provincial"
    FEDERAL = "federal"


@register_payload
class IncidentPayload(Payload):
    """An incident: its title, type and place (WGS84), and who coordinates it."""

    kind: ClassVar[str] = "incident"

    title: str = Field(min_length=1, max_length=160)
    incident_type: str = Field(min_length=1, max_length=64)
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    status: IncidentStatus = IncidentStatus.OPEN
    level: CoordinationLevel = CoordinationLevel.MUNICIPAL
    nis_code: str | None = Field(default=None, pattern=r"^\d{5}$")
    disciplines: list[Literal["D1", "D2", "D3", "D4", "D5"]] = Field(default_factory=list)
    hospital_managers_may_log: bool = False  # hospital managers may write the D2 logbook
    always_open: bool = False  # the daily-operations incident


DAILY_OPERATIONS_ID = "daily-operations"


class IncidentDraft(BaseModel):
    """What a coordinator submits to open or change an incident."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1, max_length=160)
    incident_type: str = Field(min_length=1, max_length=64)
    lat: float = Field(ge=49.4, le=51.6, allow_inf_nan=False)
    lon: float = Field(ge=2.5, le=6.5, allow_inf_nan=False)
    level: CoordinationLevel = CoordinationLevel.MUNICIPAL
    status: IncidentStatus = IncidentStatus.OPEN
    disciplines: list[Literal["D1", "D2", "D3", "D4", "D5"]] = Field(default_factory=list)
    hospital_managers_may_log: bool = False
    exercise: bool = False


# -- logbooks ------------------------------------------------------------------------------------------


class LogCategory(StrEnum):
    DECISION = "decision"
    ACTION = "action"
    INFORMATION = "information"
    REQUEST = "request"


class LogPriority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    FLASH = "flash"


LOG_DISCIPLINES = ("multi", "D1", "D2", "D3", "D4", "D5")
LINK_KINDS = ("position", "hospital", "zone", "incident", "alert", "chem")


class LogLink(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["position", "hospital", "zone", "incident", "alert", "chem"]
    id: str = Field(min_length=1, max_length=128)


class LogEntryDraft(BaseModel):
    """What an author writes. The entry time, author and id are set by the server."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    discipline: Literal["multi", "D1", "D2", "D3", "D4", "D5"] = "multi"
    event_time: AwareDatetime | None = None  # when it happened; default: now
    priority: LogPriority = LogPriority.NORMAL
    category: LogCategory
    text: str = Field(min_length=1, max_length=10_000)
    lat: float | None = Field(default=None, ge=49.4, le=51.6, allow_inf_nan=False)
    lon: float | None = Field(default=None, ge=2.5, le=6.5, allow_inf_nan=False)
    links: list[LogLink] = Field(default_factory=list, max_length=20)
    corrects: str | None = Field(default=None, pattern=r"^\d+-\d+$")  # the entry this one corrects

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()
