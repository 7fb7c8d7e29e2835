"""Opening Redis: an external URL (plain, TLS, unix, Sentinel) or the embedded server."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from urllib.parse import urlparse

import redis
from redis.sentinel import Sentinel

from cop.settings import Settings
from cop.store.embedded import EmbeddedRedis
from cop.store.keys import Keys

log = logging.getLogger(__name__)

SENTINEL_SCHEMES = ("redis+sentinel", "rediss+sentinel")


# Connections one process may open. redis-py's own limit (100) makes a burst of gevent requests
# fail with "Too many connections"; here a request waits up to POOL_WAIT_S for a free one instead.
MAX_CONNECTIONS = 400
POOL_WAIT_S = 10


def client_from_url(url: str, **options: object) -> redis.Redis:
    """A redis-py client for any URL we accept, Sentinel included (master of the service)."""
    scheme = urlparse(url).scheme
    if scheme in SENTINEL_SCHEMES:
        from socketio.redis_manager import parse_redis_sentinel_url

        sentinels, service, kwargs = parse_redis_sentinel_url(url.replace("rediss+", "redis+"))
        sentinel = Sentinel(sentinels, sentinel_kwargs=dict(kwargs), **{**kwargs, **options})
        master: redis.Redis = sentinel.master_for(service or "mymaster", max_connections=MAX_CONNECTIONS)
        return master
    pool = redis.BlockingConnectionPool.from_url(
        url, max_connections=MAX_CONNECTIONS, timeout=POOL_WAIT_S, **options
    )
    return redis.Redis(connection_pool=pool)


@dataclass
class Store:
    """A connected Redis with its key names; the embedded server, when this process owns it."""

    settings: Settings
    url: str
    client: redis.Redis
    keys: Keys
    embedded: EmbeddedRedis | None = field(default=None)

    def new_client(self, **options: object) -> redis.Redis:
        """Another connection pool to the same server (for blocking readers, other threads)."""
        return client_from_url(self.url, **options)

    def close(self) -> None:
        self.client.close()
        if self.embedded is not None:
            self.embedded.stop()
            self.embedded = None


def open_store(settings: Settings, *, start_embedded: bool = True) -> Store:
    """Connect to COP_REDIS_URL, or start (or reuse) the embedded server in the data dir."""
    embedded: EmbeddedRedis | None = None
    if settings.redis_url:
        url = settings.redis_url
    elif start_embedded:
        embedded = EmbeddedRedis(settings.data_path, settings.embedded_redis_port)
        url = embedded.start()
        if not embedded.owned:
            embedded = None  # reused: its owner stops it
    else:
        url = EmbeddedRedis(settings.data_path).url
    client = client_from_url(url, socket_timeout=10, socket_connect_timeout=5, health_check_interval=30)
    return Store(
        settings=settings,
        url=url,
        client=client,
        keys=Keys(settings.redis_prefix),
        embedded=embedded,
    )
