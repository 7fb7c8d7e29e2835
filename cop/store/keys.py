"""Every Redis key and channel name, composed from one prefix in one place."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Keys:
    """Key names under the configurable prefix `p`."""

    p: str

    def stream(self, kind: str) -> str:
        return f"{self.p}:stream:{kind}"

    def state(self, kind: str) -> str:
        return f"{self.p}:state:{kind}"

    def state_order(self, kind: str) -> str:
        """Hash entity id -> order key of the stored envelope (observed time, stream id)."""
        return f"{self.p}:state:{kind}:order"

    def dlq(self, kind: str) -> str:
        return f"{self.p}:dlq:{kind}"

    def dlq_count(self, kind: str) -> str:
        return f"{self.p}:dlq:{kind}:count"

    def seq(self, kind: str, room: str) -> str:
        return f"{self.p}:seq:{kind}:{room}"

    def log(self, incident: str) -> str:
        return f"{self.p}:log:{incident}"

    def sitrep(self, incident: str) -> str:
        return f"{self.p}:sitrep:{incident}"

    def feed_health(self, name: str) -> str:
        return f"{self.p}:feed:{name}:health"

    @property
    def feeds(self) -> str:
        """Set of every feed name that ever sent a heartbeat."""
        return f"{self.p}:feeds"

    @property
    def audit(self) -> str:
        return f"{self.p}:audit"

    def user(self, username: str) -> str:
        return f"{self.p}:user:{username}"

    @property
    def users(self) -> str:
        return f"{self.p}:users"

    def token(self, token_hash: str) -> str:
        return f"{self.p}:token:{token_hash}"

    def tokens_of(self, source: str) -> str:
        return f"{self.p}:tokens:{source}"

    @property
    def token_sources(self) -> str:
        return f"{self.p}:tokens"

    def login_failures(self, who: str) -> str:
        return f"{self.p}:login-failures:{who}"

    def seeded(self, kind: str) -> str:
        """Set once when the reference entities of a kind were first written."""
        return f"{self.p}:seeded:{kind}"

    @property
    def secret(self) -> str:
        return f"{self.p}:secret-key"

    @property
    def hub_stats(self) -> str:
        return f"{self.p}:hub:stats"

    @property
    def socketio_channel(self) -> str:
        return f"{self.p}:socketio"


def as_text(value: object) -> str:
    """A Redis reply value as str (replies are bytes; tests may use decoded clients)."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, str):
        return value
    raise TypeError(f"expected a Redis string reply, got {type(value).__name__}")


def as_bytes(value: object) -> bytes:
    """A Redis reply value as bytes."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    raise TypeError(f"expected a Redis string reply, got {type(value).__name__}")
