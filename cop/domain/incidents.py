"""Incidents (stream kind `incident`): what happened where; zones, plumes and logbooks belong to one."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

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
