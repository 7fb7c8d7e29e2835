"""The push path with real processes: hub → Redis message queue → web processes → Socket.IO clients."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
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
            assert delta_items(client.subscribe("position")["snapshots"][0]) == []
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
        assert [i["id"] for i in delta_items(snapshot)] == ["liege-0"]
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


def test_every_kind_and_the_logbooks_stay_within_scope(settings, store, web, admin):
    """A Liège coordinator receives nothing of a Limburg incident: not its zone, reading,
    indicator or alert, and cannot join its logbook room; a Limburg coordinator gets all of it."""
    from datetime import UTC, datetime

    from cop.domain.envelope import Envelope
    from cop.domain.incidents import IncidentPayload
    from cop.feeds.chem import ingest_readings
    from cop.feeds.indicators import indicator_envelopes
    from cop.feeds.logbook import LogBook
    from cop.feeds.zones import ZoneEditor

    users = UserStore(store.client, store.keys)
    users.add("liege", PASSWORD, Role.COORDINATOR, provinces=frozenset({"60000"}))
    limburg_user = users.add("limburg", PASSWORD, Role.COORDINATOR, provinces=frozenset({"70000"}))
    writer = StreamWriter(store.client, store.keys, settings)
    now = datetime.now(UTC)
    incident = IncidentPayload(title="L", incident_type="fire", lat=50.93, lon=5.33, prov_code="70000")
    writer.append(
        [Envelope.build(kind="incident", entity_id="inc-l", source="t", observed_at=now, data=incident)]
    )
    hub = Hub(store, SocketIOEmitter(store.url, store.keys.socketio_channel), consumer="c")
    drain(hub, "incident")
    kinds = ("zone", "chem", "indicator", "alert")
    liege, limburg = LiveClient(web.url, "liege"), LiveClient(web.url, "limburg")
    logs: dict[str, list[Any]] = {"liege": [], "limburg": []}
    try:
        for name, client in (("liege", liege), ("limburg", limburg)):
            client.subscribe(*kinds)
            client.client.on("log", lambda entry, name=name: logs[name].append(entry), namespace="/live")
        joined = {
            name: client.client.call("subscribe_log", {"incidents": ["inc-l"]}, namespace="/live", timeout=10)
            for name, client in (("liege", liege), ("limburg", limburg))
        }
        assert joined == {"liege": {"joined": []}, "limburg": {"joined": ["inc-l"]}}
        square = {
            "type": "Polygon",
            "coordinates": [[[5.32, 50.92], [5.34, 50.92], [5.34, 50.94], [5.32, 50.94], [5.32, 50.92]]],
        }
        ZoneEditor(store).create(
            {"incident_id": "inc-l", "zone_type": "red", "geometry": square}, user=limburg_user, now=now
        )
        reading = {
            "platform_id": "d1",
            "sensor_id": "s",
            "observed_at": now.isoformat(),
            "lat": 50.93,
            "lon": 5.33,
            "substance": "chlorine",
            "value": 1.0,
            "unit": "ppm",
        }
        ingest_readings(writer, [reading], source="t", now=now, max_skew=timedelta(seconds=30))
        envelopes, _ = indicator_envelopes(
            [
                {
                    "indicator": "kmi_warning",
                    "scope": "province",
                    "scope_id": "70000",
                    "phenomenon": "wind",
                    "level": "orange",
                    "observed_at": now.isoformat(),
                }
            ],
            source="t",
            now=now,
            max_skew=timedelta(seconds=30),
        )
        writer.append(envelopes)
        from cop.feeds.cap import AlertBook
        from tests.integration.test_risk_api import cap

        AlertBook(store).import_document(cap("scope-1", now.replace(microsecond=0)), source="t", now=now)
        LogBook(store, emitter=SocketIOEmitter(store.url, store.keys.socketio_channel)).append(
            "inc-l", {"category": "information", "text": "only for Limburg"}, user=limburg_user, now=now
        )
        for kind in kinds:
            drain(hub, kind)
        received = lambda client: {d["kind"] for d in client.deltas}  # noqa: E731
        assert limburg.wait(lambda: received(limburg) >= set(kinds) and len(logs["limburg"]) == 1)
        time.sleep(0.5)  # anything else would have arrived by now
        assert liege.deltas == [] and logs["liege"] == []
    finally:
        liege.close()
        limburg.close()
