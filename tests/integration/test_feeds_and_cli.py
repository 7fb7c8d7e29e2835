"""Feed workers (heartbeat, backoff, outbox, shutdown) and the command line, against real Redis."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from click.testing import CliRunner

from cop.cli import main
from cop.domain.envelope import Envelope
from cop.feeds.base import Feed
from cop.store.connection import open_store
from cop.store.embedded import EmbeddedRedis
from cop.store.feeds import feed_health
from cop.store.streams import StreamReader
from cop.store.users import UserStore
from tests.conftest import cop_process, free_port, settings_env, wait_healthy
from tests.integration.helpers import at, position


def test_feed_process_beats_with_a_ttl_and_stops_cleanly_on_sigterm(settings, store, tmp_path):
    feed = cop_process(settings, tmp_path, "feed", "feed", "heartbeat", COP_FEED_HEARTBEAT_S="0.5").start()
    key = store.keys.feed_health("heartbeat")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not store.client.exists(key):
        time.sleep(0.05)
    assert store.client.exists(key), feed.output()
    assert 0 < store.client.pttl(key) <= 1500
    health = feed_health(store.client, store.keys, datetime.now(at(0).tzinfo), 30)
    assert health["heartbeat"]["state"] == "ok"
    assert feed.process is not None
    feed.process.send_signal(signal.SIGTERM)
    assert feed.process.wait(timeout=10) == 0
    # Its key expires: the feed is then reported down, not silently forgotten.
    time.sleep(1.7)
    health = feed_health(store.client, store.keys, datetime.now(at(0).tzinfo), 30)
    assert health["heartbeat"]["state"] == "down"


def test_unknown_feed_name_is_a_clear_error(settings, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "cop", "feed", "nope"],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "unknown feed 'nope'" in result.stderr and "heartbeat" in result.stderr


class CountingFeed(Feed):
    """Produces one position per tick, numbered, so that losses would show."""

    name: ClassVar[str] = "counting"
    interval_s: ClassVar[float] = 0.02

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.n = 0

    def tick(self, now: datetime) -> Sequence[Envelope]:
        self.n += 1
        return [position(f"u{self.n}", at(self.n))]


def test_feed_keeps_its_entries_while_redis_is_away_and_writes_them_after(settings, tmp_path):
    server = EmbeddedRedis(tmp_path / "redis")
    server.start()
    own = settings.model_copy(
        update={"redis_url": server.url, "redis_retry_max_s": 0.5, "feed_heartbeat_s": 0.2}
    )
    store = open_store(own)
    feed = CountingFeed(store)
    runner = threading.Thread(target=feed.run, daemon=True)
    runner.start()
    try:
        time.sleep(0.5)
        server.kill()
        time.sleep(1.5)  # ticks keep coming; they wait in the outbox
        assert len(feed.outbox) > 0
        server.start()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and feed.outbox:
            time.sleep(0.05)
        feed.shutdown.request()
        runner.join(timeout=10)
        assert not runner.is_alive()
        produced = feed.n
        ids = [e.id for e in StreamReader(store.client, store.keys).envelopes("position")]
        # Everything produced before the outage or during it is in the stream, in order.
        assert len(ids) == produced
        assert ids == [f"u{n}" for n in range(1, produced + 1)]
        assert feed.dropped == 0
    finally:
        store.client.close()
        server.stop()


def test_cli_user_add_hashes_the_password_and_validates_the_scope(settings, store):
    runner = CliRunner()
    env = settings_env(settings)
    result = runner.invoke(
        main,
        [
            "user",
            "add",
            "Liege.Coord",
            "--role",
            "coordinator",
            "--province",
            "60000",
            "--password",
            "a-long-password",
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    users = UserStore(store.client, store.keys)
    user = users.get("liege.coord")
    assert user is not None and user.provinces == frozenset({"60000"})
    raw = store.client.hget(store.keys.user("liege.coord"), "password")
    assert b"a-long-password" not in raw and raw.startswith(b"scrypt:")
    assert users.authenticate("liege.coord", "a-long-password") is not None

    bad = runner.invoke(
        main,
        [
            "user",
            "add",
            "x1",
            "--role",
            "coordinator",
            "--province",
            "99999",
            "--password",
            "a-long-password",
        ],
        env=env,
    )
    assert bad.exit_code != 0 and "99999" in bad.output and "--province" in bad.output
    short = runner.invoke(main, ["user", "add", "x2", "--role", "analyst", "--password", "short"], env=env)
    assert short.exit_code != 0 and "password" in short.output
    twice = runner.invoke(
        main,
        ["user", "add", "liege.coord", "--role", "analyst", "--password", "a-long-password"],
        env=env,
    )
    assert twice.exit_code != 0 and "already exists" in twice.output


def test_cli_token_add_prints_a_working_token_once_and_revoke_ends_it(settings, store):
    runner = CliRunner()
    env = settings_env(settings)
    result = runner.invoke(main, ["token", "add", "drone-7"], env=env)
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    users = UserStore(store.client, store.keys)
    assert users.check_token(token).source == "drone-7"
    assert not any(
        token.encode() in (store.client.get(k) or b"")
        for k in store.client.scan_iter(match=f"{store.keys.p}:token:*")
    )
    assert runner.invoke(main, ["token", "revoke", "drone-7"], env=env).exit_code == 0
    assert users.check_token(token) is None


def test_cop_demo_runs_everything_and_ctrl_c_stops_it(tmp_path, settings):
    port = free_port()
    env = {k: v for k, v in settings_env(settings).items() if k != "COP_REDIS_URL"}
    env["COP_DATA_DIR"] = str(tmp_path / "demo-var")
    demo = subprocess.Popen(
        [sys.executable, "-m", "cop", "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(demo.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        password = None
        while time.monotonic() < deadline and password is None:
            match = re.search(r"user: demo\s+password: (\S+)", "".join(lines))
            password = match.group(1) if match else None
            time.sleep(0.1)
        assert password, "".join(lines)
        base = f"http://127.0.0.1:{port}"
        assert wait_healthy(base, timeout=max(1.0, deadline - time.monotonic()))
        from tests.conftest import login_session

        session = login_session(base, "demo", password)
        assert session.get(f"{base}/api/v1/whoami", timeout=5).json()["role"] == "admin"
        assert (tmp_path / "demo-var" / "appendonly.aof").exists()
    finally:
        demo.send_signal(signal.SIGINT)
        code = demo.wait(timeout=40)
    reader.join(timeout=5)
    output = "".join(lines)
    assert code == 0, output
    assert "COP demo stopped." in output
    assert "stopped embedded Redis" in output
    assert not (tmp_path / "demo-var" / "redis.sock").exists()
