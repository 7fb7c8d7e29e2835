"""Public alerts (stream kind `alert`): CAP alerts received, and alerts drafted, approved and
published here. One entity per alert (sender + identifier); its `state` follows CAP's msgType:
an Update supersedes the alerts it references, a Cancel cancels them."""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Any, ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cop.domain.envelope import Payload, register_payload

# CAP 1.2's vocabularies: the types validate the draft, the tuples fill the form's choices.
Category = Literal[
    "Geo",
    "Met",
    "Safety",
    "Security",
    "Rescue",
    "Fire",
    "Health",
    "Env",
    "Transport",
    "Infra",
    "CBRNE",
    "Other",
]
Urgency = Literal["Immediate", "Expected", "Future", "Past", "Unknown"]
Severity = Literal["Extreme", "Severe", "Moderate", "Minor", "Unknown"]
Certainty = Literal["Observed", "Likely", "Possible", "Unlikely", "Unknown"]
CAP_CATEGORIES: tuple[str, ...] = get_args(Category)
URGENCIES: tuple[str, ...] = get_args(Urgency)
SEVERITIES: tuple[str, ...] = get_args(Severity)
CERTAINTIES: tuple[str, ...] = get_args(Certainty)
LANGUAGES = {"nl": "nl-BE", "fr": "fr-BE", "de": "de-BE", "en": "en-GB"}


class AlertState(StrEnum):
    ACTIVE = "active"  # received (or published) and in force until it expires
    SUPERSEDED = "superseded"  # an Update replaced it
    CANCELLED = "cancelled"  # a Cancel withdrew it
    NOTICE = "notice"  # a Cancel, Ack or Error message itself
    DRAFT = "draft"  # ours, awaiting a second person's approval
    PUBLISHED = "published"  # ours, approved and published


def alert_entity_id(sender: str, identifier: str) -> str:
    """Entity ids are restricted; CAP identifiers are not. A stable digest of both."""
    return "cap-" + hashlib.sha256(f"{sender}\n{identifier}".encode()).hexdigest()[:24]


class AlertText(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    language: str
    headline: str = ""
    description: str = ""
    instruction: str = ""


class AlertArea(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    desc: str
    polygons: list[list[tuple[float, float]]] = Field(default_factory=list)  # (lon, lat)
    circles: list[tuple[float, float, float]] = Field(default_factory=list)  # lon, lat, km
    geocodes: list[tuple[str, str]] = Field(default_factory=list)


@register_payload
class AlertPayload(Payload):
    kind: ClassVar[str] = "alert"

    origin: Literal["received", "ours"]
    version: str = "1.2"
    identifier: str
    sender: str
    sent: str | None = None  # CAP dateTime as written (ours: set on publication)
    status: str
    msg_type: str
    scope: str = "Public"
    references: list[tuple[str, str, str]] = Field(default_factory=list)
    note: str = ""
    state: AlertState
    event: str = ""
    categories: list[str] = Field(default_factory=list)
    urgency: str = "Unknown"
    severity: str = "Unknown"
    certainty: str = "Unknown"
    headline: str = ""
    effective: str | None = None
    onset: str | None = None
    expires: str | None = None
    sender_name: str = ""
    texts: list[AlertText] = Field(default_factory=list)
    areas: list[AlertArea] = Field(default_factory=list)
    parameters: list[tuple[str, str]] = Field(default_factory=list)
    geometry: dict[str, Any] | None = None  # the areas as one WGS84 GeoJSON geometry, for the map
    prov_codes: list[str] = Field(default_factory=list)
    author: str | None = None
    approver: str | None = None
    superseded_by: str | None = None


class AlertDraft(BaseModel):
    """What a coordinator writes: the alert, its texts in up to four languages and its area
    (provinces, or a polygon drawn on the map)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event: str = Field(min_length=1, max_length=120)
    category: Category
    urgency: Urgency
    severity: Severity
    certainty: Certainty
    texts: dict[str, dict[str, str]]  # "nl" → {headline, description, instruction}
    provinces: list[str] = Field(default_factory=list)
    polygon: list[tuple[float, float]] | None = None  # (lon, lat), drawn on the map
    area_desc: str = Field(default="", max_length=200)
    expires_in_hours: float = Field(default=6.0, gt=0, le=24 * 7)
    exercise: bool = False

    @field_validator("texts")
    @classmethod
    def _languages(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        unknown = sorted(set(value) - set(LANGUAGES))
        if unknown:
            raise ValueError(f"unknown language {unknown[0]!r} (nl, fr, de, en)")
        # Always in the order nl, fr, de, en, whatever order they came in.
        filled = {k: value[k] for k in LANGUAGES if k in value and (value[k].get("headline") or "").strip()}
        if not filled:
            raise ValueError("a headline in at least one language (nl, fr, de, en) is required")
        for language, text in filled.items():
            extra = set(text) - {"headline", "description", "instruction"}
            if extra:
                raise ValueError(f"{language}: unknown field {sorted(extra)[0]!r}")
            if len(text.get("headline", "")) > 160:
                raise ValueError(f"{language}.headline: at most 160 characters")
        return filled

    @model_validator(mode="after")
    def _an_area(self) -> AlertDraft:
        if not self.provinces and not self.polygon:
            raise ValueError("provinces: choose provinces or draw the area on the map")
        if self.polygon is not None and len(self.polygon) < 4:
            raise ValueError("polygon: a closed ring of at least 4 points is required")
        return self
