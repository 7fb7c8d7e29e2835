"""The one Settings object, read from COP_* environment variables and passed down explicitly."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

STREAM_KINDS: tuple[str, ...] = (
    "position",
    "hospital",
    "chem",
    "indicator",
    "alert",
    "zone",
    "incident",
)

# Trimming bounds per stream (XADD MAXLEN ~). Positions arrive thousands per second, the others
# are rare; the approximate trim keeps memory bounded without O(N) cost per XADD.
DEFAULT_STREAM_MAXLEN: dict[str, int] = {
    "position": 500_000,
    "hospital": 100_000,
    "chem": 200_000,
    "indicator": 100_000,
    "alert": 50_000,
    "zone": 50_000,
    "incident": 50_000,
}


class Settings(BaseSettings):
    """Everything configurable; nothing else in the code reads the environment."""

    model_config = SettingsConfigDict(env_prefix="COP_", extra="ignore", frozen=True)

    redis_url: str | None = Field(
        default=None,
        description="redis://, rediss://, unix:// or redis+sentinel:// URL; unset = embedded Redis",
    )
    redis_prefix: str = Field(default="cop", pattern=r"^[A-Za-z0-9_.-]{1,40}$")
    data_dir: Path = Path("./var")
    embedded_redis_port: int = Field(default=0, ge=0, le=65535, description="0 = unix socket only")

    host: str = "127.0.0.1"
    port: int = Field(default=8050, ge=1, le=65535)
    secret_key: str | None = Field(
        default=None, description="session signing key; unset = generated once into data_dir"
    )
    session_cookie_secure: bool = False
    async_mode: Literal["gevent", "threading"] = "gevent"
    web_workers_connections: int = 1000

    stale_after_s: float = Field(default=120.0, gt=0)
    feed_stale_after_s: float = Field(default=30.0, gt=0)
    hospital_stale_after_s: float = Field(default=3600.0, gt=0, description="a bed report this old is stale")
    tile_url: str | None = None
    cap_sender: str = Field(default="cop@localhost", description="the CAP <sender> of alerts published here")
    cap_feed_urls: list[str] = Field(
        default_factory=list, description="CAP, EDXL-DE, Atom or RSS URLs the cap feed polls (JSON list)"
    )
    cap_poll_s: float = Field(default=60.0, ge=5)
    cap_max_bytes: int = Field(default=5_000_000, ge=10_000)

    stream_maxlen: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_STREAM_MAXLEN))
    hub_group: str = "hub"
    hub_consumer: str | None = None
    hub_batch: int = Field(default=2000, ge=1, le=100_000)
    hub_block_ms: int = Field(default=50, ge=1, le=5_000)
    hub_flush_ms: int = Field(default=100, ge=100, le=250)
    hub_claim_idle_ms: int = Field(default=5_000, ge=100)
    hub_max_tries: int = Field(default=5, ge=1, le=100)
    hub_status_every_s: float = Field(default=1.0, gt=0)

    feed_heartbeat_s: float = Field(default=5.0, gt=0)
    redis_retry_max_s: float = Field(
        default=2.0, gt=0, description="longest wait between attempts to reach Redis again (hub, feeds, push)"
    )

    api_max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    login_max_failures: int = Field(default=10, ge=1)
    login_window_s: int = Field(default=900, ge=1)

    max_clock_skew_s: float = Field(default=30.0, ge=0, description="observations ahead of now")
    api_max_batch: int = Field(default=10_000, ge=1)

    sim_units: int = Field(default=2000, ge=0, le=100_000)
    sim_seed: int = 2026

    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"

    @field_validator("stream_maxlen")
    @classmethod
    def _maxlen_known_kinds(cls, value: dict[str, int]) -> dict[str, int]:
        merged = dict(DEFAULT_STREAM_MAXLEN)
        for kind, maxlen in value.items():
            if kind not in STREAM_KINDS:
                raise ValueError(f"unknown stream kind {kind!r}")
            if maxlen < 1000:
                raise ValueError(f"maxlen for {kind!r} must be at least 1000")
            merged[kind] = maxlen
        return merged

    @property
    def data_path(self) -> Path:
        return self.data_dir.expanduser().resolve()
