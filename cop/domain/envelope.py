"""The one envelope every stream entry travels in, and the registry of payload models per kind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar, Literal, Self, Union

import orjson
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from cop.domain.errors import InvalidInput, problems_from

ENVELOPE_VERSION = 1
STORED = {"stored": True}  # validation context: an entry read back from Redis
PROV_CODE_PATTERN = r"^\d{5}$"
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ZERO = timedelta(0)
MICROSECOND = timedelta(microseconds=1)
ENTITY_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@/-]{0,127}$"


class Payload(BaseModel):
    """Base of every per-kind payload. `prov_code` routes the entity to its province room."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prov_code: str | None = Field(default=None, pattern=PROV_CODE_PATTERN)
    deleted: bool = False

    kind: ClassVar[str] = ""


class PayloadVariants:
    """Several payload models sharing one stream kind, told apart by their `type` field."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.models: dict[str, type[Payload]] = {}
        self._adapter: TypeAdapter[Any] | None = None

    def add(self, model: type[Payload]) -> None:
        tag = model.model_fields["type"].default
        self.models[tag] = model
        members = tuple(self.models.values())
        union = members[0] if len(members) == 1 else Union[members]  # noqa: UP007
        self._adapter = TypeAdapter(Annotated[union, Field(discriminator="type")])  # type: ignore[arg-type]

    def model_validate(self, data: Any) -> Payload:
        assert self._adapter is not None
        result: Payload = self._adapter.validate_python(data)
        return result


PAYLOAD_MODELS: dict[str, type[Payload] | PayloadVariants] = {}


def register_payload(model: type[Payload]) -> type[Payload]:
    """Class decorator: declare the payload model of a stream kind. Models with a `type` field
    (a Literal with a default) are variants of their kind, told apart by that field."""
    if not model.kind:
        raise ValueError(f"{model.__name__} has no kind")
    if "type" in model.model_fields:
        variants = PAYLOAD_MODELS.setdefault(model.kind, PayloadVariants(model.kind))
        assert isinstance(variants, PayloadVariants)
        variants.add(model)
    else:
        PAYLOAD_MODELS[model.kind] = model
    return model


def utc_now() -> datetime:
    return datetime.now(UTC)


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


class StoredEnvelope(BaseModel):
    """An envelope read back from a stream. Its payload was validated by its model when it was
    written (the only way in is `Envelope`), so here `data` stays opaque: the hub needs only the
    envelope fields to order and route an entry, and parses thousands per second."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = 1
    kind: str
    id: str = Field(pattern=ENTITY_ID_PATTERN)
    source: str = Field(min_length=1, max_length=128)
    observed_at: AwareDatetime
    received_at: AwareDatetime
    exercise: bool = False
    data: dict[str, Any]

    @property
    def prov_code(self) -> str | None:
        value = self.data.get("prov_code")
        return value if isinstance(value, str) else None

    @property
    def prov_codes(self) -> tuple[str, ...]:
        """Every province an entity that spans several (a zone, a plume) touches."""
        value = self.data.get("prov_codes")
        return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()

    @property
    def deleted(self) -> bool:
        return bool(self.data.get("deleted", False))

    @property
    def observed_us(self) -> int:
        """Observation time as integer microseconds since the epoch (the monotonic order key)."""
        return (self.observed_at - EPOCH) // MICROSECOND

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> Self:
        """Parse an envelope read back from Redis; raises InvalidInput naming the field."""
        try:
            return cls.model_validate_json(raw, context=STORED)
        except ValidationError as error:
            raise InvalidInput(problems_from(error)) from error


class Envelope(StoredEnvelope):
    """A validated stream entry: who says what about which entity, observed when.

    The payload is validated by its kind's model; this is the boundary every input crosses.
    """

    @field_validator("observed_at", "received_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.utcoffset() != ZERO:
            value = _to_utc(value)
        if value < EARLIEST:
            raise ValueError(f"must not be before {EARLIEST.isoformat()}")
        return value

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in PAYLOAD_MODELS:
            known = ", ".join(sorted(PAYLOAD_MODELS)) or "none"
            raise ValueError(f"unknown kind {value!r} (known: {known})")
        return value

    @model_validator(mode="after")
    def _validate_payload(self, info: ValidationInfo) -> Envelope:
        model = PAYLOAD_MODELS[self.kind]
        try:
            payload = model.model_validate(self.data)
        except ValidationError as error:
            # Re-raise with the payload's field paths under `data` so messages name them fully.
            raise ValidationError.from_exception_data(
                "Envelope",
                [
                    {
                        "type": item["type"],
                        "loc": ("data", *_without_tag(model, item["loc"]), *_tag_field(item["type"])),
                        "input": item["input"],
                        "ctx": item.get("ctx", {}),
                    }
                    for item in error.errors(include_url=False)
                ],
            ) from error
        if not (info.context and info.context.get("stored")):
            # Keep the normalised payload (defaults filled, types coerced) so that readers see
            # exactly what the model accepted. Stored entries were normalised when written.
            object.__setattr__(self, "data", payload.model_dump(mode="json"))
        return self

    @property
    def payload(self) -> Payload:
        return PAYLOAD_MODELS[self.kind].model_validate(self.data)

    @classmethod
    def build(
        cls,
        *,
        kind: str,
        entity_id: str,
        source: str,
        observed_at: datetime,
        data: dict[str, Any] | Payload,
        exercise: bool = False,
        received_at: datetime | None = None,
    ) -> Envelope:
        """Validate a new entry at the boundary; raises InvalidInput naming the field."""
        raw = data.model_dump(mode="json") if isinstance(data, Payload) else data
        try:
            return cls(
                kind=kind,
                id=entity_id,
                source=source,
                observed_at=observed_at,
                received_at=received_at or utc_now(),
                exercise=exercise,
                data=raw,
            )
        except ValidationError as error:
            raise InvalidInput(problems_from(error)) from error


def _without_tag(model: type[Payload] | PayloadVariants, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """A variant's error path starts with its tag (`reading.lat`); users know it as `lat`."""
    if isinstance(model, PayloadVariants) and loc and loc[0] in model.models:
        return loc[1:]
    return loc


def _tag_field(error_type: str) -> tuple[str, ...]:
    """A missing or unknown variant tag is a problem of the `type` field."""
    return ("type",) if error_type in {"union_tag_invalid", "union_tag_not_found"} else ()


def dumps(value: Any) -> bytes:
    """The project's JSON encoder (orjson): UTC datetimes, numpy-free, compact."""
    return orjson.dumps(value)


def loads(raw: bytes | str) -> Any:
    return orjson.loads(raw)
