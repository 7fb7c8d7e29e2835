"""The audit stream `{p}:audit`: who changed what, when, from where. Never trimmed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import redis

from cop.store.keys import Keys, as_text


def audit(
    client: redis.Redis | redis.client.Pipeline,
    keys: Keys,
    *,
    actor: str,
    action: str,
    target: str,
    origin: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one audit record (inside the caller's pipeline when given one)."""
    client.xadd(
        keys.audit,
        {
            "at": datetime.now(UTC).isoformat(),
            "actor": actor,
            "action": action,
            "target": target,
            "origin": origin,
            "detail": orjson.dumps(detail or {}),
        },
    )


def read_audit(client: redis.Redis, keys: Keys, count: int = 100) -> list[dict[str, str]]:
    """The newest audit records first."""
    rows = client.xrevrange(keys.audit, count=count) or []
    return [
        {"id": as_text(sid), **{as_text(k): as_text(v) for k, v in (fields or {}).items()}}
        for sid, fields in rows
    ]
