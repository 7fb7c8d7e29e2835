"""The push path with real processes: hub → Redis message queue → web processes → Socket.IO clients."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import socketio

from cop.domain.users import Role
from cop.hub.deltas import delta_items
from cop.hub.worker import Hub, SocketIOEmitter
from cop.store.streams import StreamWriter
from cop.store.users import UserStore
from tests.conftest import PASSWORD, login_session, start_web
from tests.integration.helpers import at, drain, position


class LiveClient:
    """A python-socketio client logged in through the web form, recording what it receives."""

    def __init__(self, base_url: str, username: str) -> None:
        self.session = login_session(base_url, username)
        self.client = socketio.Client(reconnection=False)
        self.deltas: list[dict[str, Any]] = []
        self.hello: dict[str, Any] | None = None
        self.got = threading.Event()
        self.client.on("delta", self._on_delta, namespace="/live")
        self.client.on("hello", self._on_hello, namespace="/live")
        cookie = "; ".join(f"{k}={v}" for k, v in self.session.cookies.items())
        # Same User-Agent as the login: "strong" session protection ties the session to it.
        headers = {"Cookie": cookie, "User-Agent": self.session.headers["User-Agent"]}
        self.client.connect(
            base_url,
            namespaces=["/live"],
            transports=["websocket"],
            headers=headers,
            wait_timeout=10,
        )

    def _on_delta(self, data: dict[str, Any]) -> None:
        self.deltas.append(data)
        self.got.set()

    def _on_hello(self, data: dict[str, Any]) -> None:
        self.hello = data

    def subscribe(self, *kinds: str) -> dict[str, Any]:
        reply: dict[str, Any] = self.client.call(
            "subscribe", {"kinds": list(kinds)}, namespace="/live", timeout=10
        )
        return reply

    def items(self) -> list[str]:
        return sorted(i["id"] for d in self.deltas for i in delta_items(d))

    def wait(self, predicate, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return predicate()

    def close(self) -> None:
        self.client.disconnect()


def test_two_web_processes_share_the_message_queue(settings, store, tmp_path, admin):
    first = start_web(settings, tmp_path, name="web1")
    second = start_web(settings, tmp_path, name="web2")
    clients = []
    try:
        clients = [LiveClient(first.url, admin), LiveClient(second.url, admin)]
        for client in clients:
            assert client.subscribe("position")["snapshots"][0]["items"] == []
        StreamWriter(store.client, store.keys, settings).append(
            [position("amb-1", at(1)), position("amb-2", at(2), prov_code="10000")]
        )
        hub = Hub(store, SocketIOEmitter(store.url, store.keys.socketio_channel), consumer="c")
        drain(hub)
        for client in clients:
            assert client.wait(lambda c=client: c.items() == ["amb-1", "amb-2"]), client.deltas
        national = [[d for d in c.deltas if d["room"] == "national"] for c in clients]
        assert national[0] == national[1]
        assert national[0][0]["seq"] == 1
    finally:
        for client in clients:
            client.close()
        first.stop()
        second.stop()


def test_clients_receive_only_their_scope(settings, store, web, admin):
    users = UserStore(store.client, store.keys)
    users.add("liege", PASSWORD, Role.COORDINATOR, provinces=frozenset({"60000"}))
    writer = StreamWriter(store.client, store.keys, settings)
    writer.append(
        [
            position("liege-0", at(0), prov_code="60000"),
            position("antwerp-0", at(0), prov_code="10000"),
        ]
    )
    hub = Hub(store, SocketIOEmitter(store.url, store.keys.socketio_channel), consumer="c")
    drain(hub)
    coordinator = LiveClient(web.url, "liege")
    national = LiveClient(web.url, admin)
    try:
        snapshot = coordinator.subscribe("position")["snapshots"][0]
        assert [i["id"] for i in snapshot["items"]] == ["liege-0"]
        assert coordinator.hello and coordinator.hello["rooms"] == ["global", "province:60000"]
        national.subscribe("position")
        writer.append(
            [
                position("liege-1", at(1), prov_code="60000"),
                position("antwerp-1", at(1), prov_code="10000"),
            ]
        )
        drain(hub)
        assert national.wait(lambda: national.items() == ["antwerp-1", "liege-1"])
        assert coordinator.wait(lambda: coordinator.items() == ["liege-1"])
        time.sleep(0.5)  # anything else would have arrived by now
        assert coordinator.items() == ["liege-1"]
        assert {d["room"] for d in coordinator.deltas} == {"province:60000"}
    finally:
        coordinator.close()
        national.close()


def test_anonymous_socket_is_refused(web):
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(web.url, namespaces=["/live"], transports=["websocket"], wait_timeout=5)
