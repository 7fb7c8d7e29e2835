"""The `cop` command line: demo, web, hub, feed, user and token management."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import click

from cop.logs import configure
from cop.settings import Settings

log = logging.getLogger("cop.cli")


def load_settings(**overrides: object) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**values)  # type: ignore[arg-type]


@click.group()
def main() -> None:
    """COP: a real-time common operational picture for national crisis management."""


# -- processes ------------------------------------------------------------------------------------


@main.command()
@click.option("--host", default=None, help="address to listen on (COP_HOST)")
@click.option("--port", type=int, default=None, help="port to listen on (COP_PORT)")
def web(host: str | None, port: int | None) -> None:
    """Serve the Dash app, the HTTP API and Socket.IO (one process, gevent)."""
    settings = load_settings(host=host, port=port)
    if settings.async_mode == "gevent":
        from gevent import monkey

        monkey.patch_all()
    configure(settings.log_level, "web", settings.log_format)
    from cop.app import create_app

    app = create_app(settings)
    log.info("web listening on http://%s:%d", settings.host, settings.port)

    def stop(_signum: int, _frame: object) -> None:
        app.socketio.stop()

    signal.signal(signal.SIGTERM, stop)
    try:
        app.socketio.run(
            app.server,
            host=settings.host,
            port=settings.port,
            log_output=False,
            allow_unsafe_werkzeug=settings.async_mode == "threading",
        )
    finally:
        app.store.close()


@main.command()
def hub() -> None:
    """Consume the streams, keep the current state, push batched deltas."""
    settings = load_settings()
    configure(settings.log_level, "hub", settings.log_format)
    from cop.hub.worker import Hub, SocketIOEmitter
    from cop.shutdown import Shutdown
    from cop.store.connection import open_store

    store = open_store(settings)
    try:
        emitter = SocketIOEmitter(store.url, store.keys.socketio_channel)
        code = Hub(store, emitter, shutdown=Shutdown().install()).run()
    finally:
        store.close()
    sys.exit(code)


@main.command()
@click.argument("name")
@click.option("--simulate", is_flag=True, help="invent believable data (demo, exercises)")
def feed(name: str, simulate: bool) -> None:
    """Run one feed worker."""
    settings = load_settings()
    configure(settings.log_level, f"feed:{name}", settings.log_format)
    from cop.feeds.registry import load_feeds
    from cop.shutdown import Shutdown
    from cop.store.connection import open_store

    feeds = load_feeds()
    if name not in feeds:
        raise click.BadParameter(
            f"unknown feed {name!r}; known: {', '.join(sorted(feeds))}", param_hint="NAME"
        )
    store = open_store(settings)
    try:
        worker = feeds[name](store, shutdown=Shutdown().install(), simulate=simulate)
        code = worker.run()
    finally:
        store.close()
    sys.exit(code)


# -- users and tokens -------------------------------------------------------------------------------


@main.group()
def user() -> None:
    """Manage users."""


@user.command("add")
@click.argument("username")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["viewer", "analyst", "coordinator", "hospital_manager", "admin"]),
)
@click.option("--province", "provinces", multiple=True, help="NIS code of a province (coordinator)")
@click.option("--hospital", "hospitals", multiple=True, help="hospital site id (hospital_manager)")
@click.option("--name", "display_name", default="", help="full name shown in logbooks")
@click.option("--password", default=None, help="read from a prompt if not given")
@click.option("--replace", is_flag=True, help="reset an existing user (ends their sessions)")
def user_add(
    username: str,
    role: str,
    provinces: tuple[str, ...],
    hospitals: tuple[str, ...],
    display_name: str,
    password: str | None,
    replace: bool,
) -> None:
    """Create a user with a hashed password."""
    from pydantic import ValidationError

    from cop.domain.users import Role
    from cop.geo.reference import provinces as known_provinces
    from cop.store.audit import audit
    from cop.store.connection import open_store
    from cop.store.users import UserExists, UserStore

    settings = load_settings()
    configure(settings.log_level, "cli", settings.log_format)
    unknown = [p for p in provinces if p not in known_provinces()]
    if unknown:
        raise click.BadParameter(
            f"unknown province code(s) {', '.join(unknown)}; known: {', '.join(known_provinces())}",
            param_hint="--province",
        )
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    store = open_store(settings)
    try:
        created = UserStore(store.client, store.keys).add(
            username.lower(),
            password,
            Role(role),
            provinces=frozenset(provinces),
            hospitals=frozenset(hospitals),
            display_name=display_name,
            replace=replace,
        )
        audit(
            store.client,
            store.keys,
            actor="cli",
            action="user.add",
            target=created.username,
            detail={"role": role, "provinces": sorted(provinces), "hospitals": sorted(hospitals)},
        )
    except (UserExists, ValueError, ValidationError) as error:
        raise click.ClickException(str(error)) from error
    finally:
        store.close()
    click.echo(f"user {created.username} ({created.role.value}) saved")


@main.group()
def token() -> None:
    """Manage API tokens for machine sources."""


@token.command("add")
@click.argument("source")
def token_add(source: str) -> None:
    """Create an API token for SOURCE; it is printed once and stored only as a hash."""
    import re

    from cop.store.audit import audit
    from cop.store.connection import open_store
    from cop.store.users import TOKEN_SOURCE_PATTERN, UserStore

    if not re.match(TOKEN_SOURCE_PATTERN, source):
        raise click.BadParameter("lower-case letters, digits, '.', '_' or '-'", param_hint="SOURCE")
    settings = load_settings()
    configure(settings.log_level, "cli", settings.log_format)
    store = open_store(settings)
    try:
        value = UserStore(store.client, store.keys).add_token(source)
        audit(store.client, store.keys, actor="cli", action="token.add", target=source)
    finally:
        store.close()
    click.echo(value)


@token.command("revoke")
@click.argument("source")
def token_revoke(source: str) -> None:
    """Revoke every token of SOURCE."""
    from cop.store.audit import audit
    from cop.store.connection import open_store
    from cop.store.users import UserStore

    settings = load_settings()
    configure(settings.log_level, "cli", settings.log_format)
    store = open_store(settings)
    try:
        count = UserStore(store.client, store.keys).revoke_tokens(source)
        audit(store.client, store.keys, actor="cli", action="token.revoke", target=source)
    finally:
        store.close()
    click.echo(f"revoked {count} token(s) of {source}")


# -- the demo -----------------------------------------------------------------------------------------

DEMO_USER = "demo"


def demo_processes(simulated_feeds: list[str]) -> list[tuple[str, list[str]]]:
    """The processes of `cop demo`, as (name, argv)."""
    python = sys.executable
    processes = [("hub", [python, "-m", "cop", "hub"])]
    processes += [
        (f"feed:{name}", [python, "-m", "cop", "feed", name, "--simulate"]) for name in simulated_feeds
    ]
    processes.append(("web", [python, "-m", "cop", "web"]))
    return processes


@main.command()
@click.option("--port", type=int, default=None, help="web port (COP_PORT, default 8050)")
def demo(port: int | None) -> None:
    """Embedded Redis + hub + simulated feeds + web, in one command. Ctrl-C stops everything."""
    from cop.domain.users import Role
    from cop.feeds.registry import load_feeds
    from cop.store.connection import open_store
    from cop.store.users import UserStore

    settings = load_settings(port=port)
    configure(settings.log_level, "demo", settings.log_format)
    store = open_store(settings)  # starts the embedded Redis (or uses COP_REDIS_URL)
    password = secrets.token_urlsafe(12)
    UserStore(store.client, store.keys).add(
        DEMO_USER, password, Role.ADMIN, display_name="Demo operator", replace=True
    )
    env = {**os.environ, "COP_REDIS_URL": store.url, "COP_PORT": str(settings.port)}
    feeds = [name for name, cls in load_feeds().items() if cls.in_demo]
    children: list[tuple[str, subprocess.Popen[bytes]]] = []
    stopping = False

    def request_stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        for name, argv in demo_processes(feeds):
            # Own process group: Ctrl-C reaches the demo only, which then stops the children in order.
            children.append((name, subprocess.Popen(argv, env=env, start_new_session=True)))  # noqa: S603
        url = f"http://{settings.host}:{settings.port}/"
        click.echo(
            "\n"
            f"  COP demo is starting: open {url}\n"
            f"  sign in as   user: {DEMO_USER}   password: {password}\n"
            f"  data: {Path(settings.data_path)}   Redis: {store.url}\n"
            "  Ctrl-C stops everything.\n"
        )
        while not stopping:
            for name, process in children:
                if process.poll() is not None:
                    log.error("%s exited with code %s; stopping the demo", name, process.returncode)
                    stopping = True
            time.sleep(0.3)
    finally:
        for _name, process in reversed(children):
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 15
        for name, process in reversed(children):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in time; killing it", name)
                process.kill()
        store.close()  # stops the embedded Redis if this process started it
        click.echo("COP demo stopped.")
