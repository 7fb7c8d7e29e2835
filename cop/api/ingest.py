"""Batch ingest: parse a JSON batch, validate each item on its own, report accepted and rejected."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from cop.domain.envelope import EARLIEST
from cop.domain.errors import FieldProblem, InvalidInput, problems_from

Item = TypeVar("Item", bound=BaseModel)


def read_batch(body: bytes, max_items: int) -> list[Any]:
    """The items of a batch body: a JSON array, or an object with an `items` array."""
    if not body:
        raise InvalidInput([FieldProblem("body", "empty; send a JSON array of items")])
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        # orjson also refuses NaN and Infinity, which are not JSON.
        raise InvalidInput([FieldProblem("body", f"not valid JSON ({error})")]) from None
    if isinstance(document, dict) and "items" in document:
        document = document["items"]
    if not isinstance(document, list):
        raise InvalidInput(
            [FieldProblem("body", "must be a JSON array of items, or an object with an 'items' array")]
        )
    if len(document) > max_items:
        raise InvalidInput(
            [FieldProblem("items", f"at most {max_items} items per batch (got {len(document)})")]
        )
    return document


@dataclass
class Rejected:
    index: int
    id: str | None
    problems: list[FieldProblem]

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "id": self.id, "errors": [p.as_dict() for p in self.problems]}


@dataclass
class BatchResult:
    """What happened to each item of a batch."""

    accepted: list[str] = field(default_factory=list)  # entity ids, in input order
    rejected: list[Rejected] = field(default_factory=list)
    stream_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": len(self.accepted),
            "rejected": [r.as_dict() for r in self.rejected],
        }

    @property
    def status(self) -> int:
        """200 if anything was accepted (or the batch was empty), 422 if every item was refused."""
        return 422 if self.rejected and not self.accepted else 200


def item_id(item: Any) -> str | None:
    if isinstance(item, dict):
        value = item.get("id")
        return value if isinstance(value, str) else None
    return None


def validate_items(items: list[Any], model: type[Item]) -> tuple[list[tuple[int, Item]], list[Rejected]]:
    """Validate every item on its own: a bad item never blocks the good ones."""
    good: list[tuple[int, Item]] = []
    rejected: list[Rejected] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            rejected.append(Rejected(index, None, [FieldProblem("(item)", "must be a JSON object")]))
            continue
        try:
            good.append((index, model.model_validate(item)))
        except ValidationError as error:
            rejected.append(Rejected(index, item_id(item), problems_from(error)))
    return good, rejected


def validate_observations(
    items: list[Any], model: type[Item], *, now: datetime, max_skew: timedelta, item_id: Callable[[Item], str]
) -> tuple[list[tuple[int, Item]], list[Rejected]]:
    """Validate every item on its own and refuse those observed in the future (beyond the
    allowed clock skew); the rejections come sorted by their index in the batch."""
    good, rejected = validate_items(items, model)
    fresh: list[tuple[int, Item]] = []
    for index, observation in good:
        observed = observation.observed_at  # type: ignore[attr-defined]
        if observed > now + max_skew:
            problem = FieldProblem("observed_at", f"is in the future (more than {max_skew.seconds} s ahead)")
            rejected.append(Rejected(index, item_id(observation), [problem]))
        elif observed < EARLIEST:
            problem = FieldProblem("observed_at", f"is before {EARLIEST.date().isoformat()}")
            rejected.append(Rejected(index, item_id(observation), [problem]))
        else:
            fresh.append((index, observation))
    rejected.sort(key=lambda r: r.index)
    return fresh, rejected
