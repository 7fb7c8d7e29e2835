"""Shared fixtures: a real embedded Redis, settings with a unique prefix, web and hub processes."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from cop.domain.users import Role
from cop.settings import Settings
from cop.store.connection import Store, open_store
from cop.store.embedded import EmbeddedRedis
from cop.store.users import UserStore

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
OUTPUT = ROOT / "test-output"
PASSWORD = "correct-horse-battery"


def need(condition: bool, what: str) -> None:
    """Skip locally, fail in CI, when a test's real dependency is missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI", pytrace=False)
    pytest.skip(f"{what} is not available")


def wait_healthy(base_url: str, timeout: float = 60) -> bool:
    """Poll `/healthz` until the web process answers; False if it never did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base_url}/healthz", timeout=1).ok:
                return True
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    """One embedded Redis for the session; tests isolate themselves by key prefix."""
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    try:
        server.start()
    except (FileNotFoundError, RuntimeError, TimeoutError) as error:
        need(False, f"the embedded Redis ({error})")
    yield server
    server.stop()


def make_settings(redis_url: str, data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "redis_url": redis_url,
        "redis_prefix": f"t{uuid.uuid4().hex[:10]}",
        "data_dir": data_dir,
        "async_mode": "threading",
        "hub_claim_idle_ms": 300,
        "hub_block_ms": 20,
        "hub_max_tries": 3,
        "log_level": "WARNING",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(redis_server: EmbeddedRedis, tmp_path: Path) -> Settings:
    return make_settings(redis_server.url, tmp_path)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    opened = open_store(settings)
    yield opened
    for key in opened.client.scan_iter(match=f"{settings.redis_prefix}:*", count=1000):
        opened.client.delete(key)
    opened.close()


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment a child `cop` process needs to share this test's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COP_")}
    env.update(
        COP_REDIS_URL=settings.redis_url or "",
        COP_REDIS_PREFIX=settings.redis_prefix,
        COP_DATA_DIR=str(settings.data_dir),
        COP_HUB_CLAIM_IDLE_MS=str(settings.hub_claim_idle_ms),
        COP_HUB_MAX_TRIES=str(settings.hub_max_tries),
        COP_LOG_LEVEL="INFO",
    )
    return env


@dataclass
class Proc:
    """A `cop` child process with its log file."""

    argv: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> Proc:
        handle = self.log.open("ab")
        self.process = subprocess.Popen(self.argv, env=self.env, stdout=handle, stderr=handle)
        return self

    def stop(self, timeout: float = 15) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        code = self.process.returncode
        self.process = None
        return code

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def cop_process(settings: Settings, tmp_path: Path, name: str, *args: str, **env: str) -> Proc:
    return Proc(
        [sys.executable, "-m", "cop", *args],
        {**settings_env(settings), **env},
        tmp_path / f"{name}.log",
    )


@dataclass
class WebServer:
    proc: Proc
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).ok:
                    return
            except requests.ConnectionError:
                pass
            if self.proc.process is not None and self.proc.process.poll() is not None:
                raise RuntimeError(f"web exited:\n{self.proc.output()[-3000:]}")
            time.sleep(0.1)
        raise TimeoutError(f"web not ready:\n{self.proc.output()[-3000:]}")

    def start(self) -> WebServer:
        self.proc.start()
        self.wait_ready()
        return self

    def stop(self) -> None:
        self.proc.stop()


def start_web(settings: Settings, tmp_path: Path, port: int | None = None, name: str = "web") -> WebServer:
    port = port or free_port()
    proc = cop_process(settings, tmp_path, name, "web", "--port", str(port), COP_ASYNC_MODE="gevent")
    return WebServer(proc, port).start()


@pytest.fixture
def web(settings: Settings, store: Store, tmp_path: Path) -> Iterator[WebServer]:
    server = start_web(settings, tmp_path)
    yield server
    server.stop()


@pytest.fixture
def hub_proc(settings: Settings, store: Store, tmp_path: Path) -> Iterator[Proc]:
    proc = cop_process(settings, tmp_path, "hub", "hub").start()
    yield proc
    proc.stop()


@pytest.fixture
def admin(store: Store) -> str:
    UserStore(store.client, store.keys).add("admin", PASSWORD, Role.ADMIN)
    return "admin"


def login_session(base_url: str, username: str, password: str = PASSWORD) -> requests.Session:
    """A requests session logged in through the real form (CSRF token included)."""
    import re

    session = requests.Session()
    page = session.get(f"{base_url}/login", timeout=5)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "login page has no CSRF token"
    response = session.post(
        f"{base_url}/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": token.group(1),
            "next": "/",
        },
        timeout=10,
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:500]
    return session


def chromium_path() -> str | None:
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")
