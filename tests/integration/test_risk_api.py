"""Risk indicators and CAP alerts through the API, against real Redis and the hub."""

from __future__ import annotations

import socket
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

from cop.domain.alerts import alert_entity_id
from cop.domain.users import Role
from cop.feeds.indicators import IndicatorsFeed
from cop.store.audit import read_audit
from cop.store.state import StateStore
from cop.store.users import UserStore
from tests.conftest import PASSWORD, SHARED
from tests.integration.helpers import drain
from tests.integration.helpers import login as form_login

LIMBURG, LIEGE = "70000", "60000"


@pytest.fixture
def token(store):
    return UserStore(store.client, store.keys).add_token("meteo-gateway")


@pytest.fixture
def users(store):
    users = UserStore(store.client, store.keys)
    users.add("limburg", PASSWORD, Role.COORDINATOR, provinces=frozenset({LIMBURG}))
    users.add("limburg2", PASSWORD, Role.COORDINATOR, provinces=frozenset({LIMBURG}))
    users.add("liege", PASSWORD, Role.COORDINATOR, provinces=frozenset({LIEGE}))
    return users


def login(app, username):
    client = app.server.test_client()
    assert form_login(client, username).status_code == 302
    return client


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def now_iso(minutes: float = 0) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


def test_indicators_are_checked_against_their_scale_and_area(app, token, store, hub):
    client = app.server.test_client()
    body = [
        {"indicator": "ocam", "scope": "national", "scope_id": "BE", "level": 3, "observed_at": now_iso()},
        {
            "indicator": "kmi_warning",
            "scope": "province",
            "scope_id": LIMBURG,
            "phenomenon": "wind",
            "level": "orange",
            "observed_at": now_iso(),
        },
        {
            "indicator": "gamma",
            "scope": "station",
            "scope_id": "mol-1",
            "lat": 51.2,
            "lon": 5.1,
            "value": 450.0,
            "unit": "nSv/h",
            "observed_at": now_iso(),
        },
        {"indicator": "ocam", "scope": "national", "scope_id": "BE", "level": 5, "observed_at": now_iso()},
        {
            "indicator": "kmi_warning",
            "scope": "province",
            "scope_id": LIMBURG,
            "level": "red",
            "observed_at": now_iso(),
        },
        {
            "indicator": "kmi_warning",
            "scope": "province",
            "scope_id": "99999",
            "phenomenon": "wind",
            "level": "red",
            "observed_at": now_iso(),
        },
        {
            "indicator": "belaqi",
            "scope": "province",
            "scope_id": LIMBURG,
            "level": 3,
            "observed_at": now_iso(),
        },
        {"indicator": "tsunami", "scope": "national", "scope_id": "BE", "level": 1, "observed_at": now_iso()},
        {"indicator": "ocam", "scope": "national", "scope_id": "BE", "level": 1, "observed_at": now_iso(60)},
    ]
    response = client.post("/api/v1/indicators", json=body, headers=bearer(token))
    assert response.status_code == 200
    assert response.json["accepted"] == 3
    assert [(r["index"], r["errors"][0]["field"]) for r in response.json["rejected"]] == [
        (3, "level"),
        (4, "phenomenon"),
        (5, "scope_id"),
        (6, "scope"),
        (7, "indicator"),
        (8, "observed_at"),
    ]
    drain(hub, "indicator")
    state = StateStore(store.client, store.keys)
    gamma = state.get("indicator", "gamma/station/mol-1").data
    assert (gamma["code"], gamma["severity"], gamma["prov_code"]) == (
        "alarm",
        3,
        "10000",
    )  # Mol is in Antwerp
    wind = state.get("indicator", f"kmi_warning/province/{LIMBURG}/wind").data
    assert (wind["label"], wind["colour"]) == ("orange: be prepared", "#f76b15")
    history = client.get("/api/v1/indicators/history?hours=1", headers=bearer(token)).json
    assert history["count"] == 3


def test_hospital_capacity_is_derived_from_the_hospital_status(store, hub, settings):
    from cop.domain.envelope import Envelope
    from cop.feeds.hospitals import seed_payload
    from cop.geo.sites import emergency_hospitals
    from cop.store.streams import StreamWriter

    feed = IndicatorsFeed(store, simulate=False)
    assert feed.tick(datetime.now(UTC)) == []  # no hospital has reported counts: no indicator
    reports = []
    for site in emergency_hospitals():
        seed = seed_payload(site)
        beds = [b.model_copy(update={"available": b.baseline // 4}) for b in seed.beds]
        reports.append(
            Envelope.build(
                kind="hospital",
                entity_id=site.site_id,
                source="test",
                observed_at=datetime.now(UTC),
                data=seed.model_copy(update={"beds": tuple(beds)}),
            )
        )
    StreamWriter(store.client, store.keys, settings).append(reports)
    drain(hub, "hospital")
    feed.last_capacity = None
    by_id = {e.id: e.data for e in feed.tick(datetime.now(UTC))}
    national = by_id["hospital_capacity/national/BE"]
    assert 20 <= national["value"] <= 25 and national["code"] == "tight"  # about a quarter free
    assert len([i for i in by_id if i.startswith("hospital_capacity/province/")]) == 11


WIND_CAP = """<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier><sender>meteo@example.be</sender><sent>{sent}</sent>
  <status>Actual</status><msgType>{msg_type}</msgType><scope>Public</scope>{references}
  <info><category>Met</category><event>Wind</event><urgency>Expected</urgency><severity>Severe</severity>
    <certainty>Likely</certainty><expires>{expires}</expires><headline>Orange wind warning</headline>
    <area><areaDesc>Limburg</areaDesc><geocode><valueName>ISO3166-2</valueName><value>BE-VLI</value></geocode></area>
  </info>
</alert>"""


def cap(identifier, sent, msg_type="Alert", references=""):
    expires = (sent + timedelta(hours=6)).isoformat(timespec="seconds")
    refs = f"<references>{references}</references>" if references else ""
    return WIND_CAP.format(
        identifier=identifier,
        sent=sent.isoformat(timespec="seconds"),
        msg_type=msg_type,
        references=refs,
        expires=expires,
    ).encode()


def test_cap_alert_update_and_cancel_follow_msgtype_and_set_the_kmi_indicator(app, token, store, hub):
    client = app.server.test_client()
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    first = client.post("/api/v1/cap", data=cap("w1", t0), headers=bearer(token))
    assert first.status_code == 200 and first.json["accepted"][0]["identifier"] == "w1"
    drain(hub, "alert")
    drain(hub, "indicator")
    state = StateStore(store.client, store.keys)
    w1 = alert_entity_id("meteo@example.be", "w1")
    assert state.get("alert", w1).data["state"] == "active"
    assert state.get("alert", w1).data["prov_codes"] == [LIMBURG]
    assert state.get("indicator", f"kmi_warning/province/{LIMBURG}/wind").data["code"] == "orange"

    t1 = t0 + timedelta(minutes=5)
    update = client.post(
        "/api/v1/cap",
        data=cap("w2", t1, "Update", f"meteo@example.be,w1,{t0.isoformat()}"),
        headers=bearer(token),
    )
    assert update.status_code == 200
    drain(hub, "alert")
    assert state.get("alert", w1).data["state"] == "superseded"
    w2 = alert_entity_id("meteo@example.be", "w2")
    assert state.get("alert", w1).data["superseded_by"] == w2

    t2 = t1 + timedelta(minutes=5)
    cancel = client.post(
        "/api/v1/cap",
        data=cap("w3", t2, "Cancel", f"meteo@example.be,w2,{t1.isoformat()}"),
        headers=bearer(token),
    )
    assert cancel.status_code == 200
    drain(hub, "alert")
    drain(hub, "indicator")
    assert state.get("alert", w2).data["state"] == "cancelled"
    assert state.get("indicator", f"kmi_warning/province/{LIMBURG}/wind").data["code"] == "green"


@pytest.mark.parametrize(
    "name",
    ["cap-1.2/google__xee.cap", "cap-feeds/google__xee.atom", "edxl-de-2.0/ansforge__external-entity.xml"],
)
def test_attack_fixtures_are_refused_without_reading_a_file_or_connecting(app, token, store, name):
    """The fixtures point at localhost:8080 and file:///etc/passwd: listen there, watch file opens."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("127.0.0.1", 8080))
    except OSError:
        pytest.fail("port 8080 is taken: the attack fixtures' target cannot be watched")
    listener.listen(5)
    listener.settimeout(0.2)
    connections = []

    def watch():
        while not stop.is_set():
            try:
                connections.append(listener.accept())
            except OSError:
                continue

    stop = threading.Event()
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    opened = []

    def audit_hook(event, args):
        if event == "open" and args and "passwd" in str(args[0]):
            opened.append(args[0])

    sys.addaudithook(audit_hook)
    try:
        before = store.client.xlen(store.keys.stream("alert"))
        response = app.server.test_client().post(
            "/api/v1/cap", data=(SHARED / "conformance" / name).read_bytes(), headers=bearer(token)
        )
        assert response.status_code == 400
        assert (
            response.json["errors"][0]["field"] == "body" and "DTD" in response.json["errors"][0]["problem"]
        )
        assert store.client.xlen(store.keys.stream("alert")) == before
    finally:
        stop.set()
        watcher.join(2)
        listener.close()
    assert connections == [] and opened == []


def test_a_draft_is_published_only_after_a_second_person_approves_it(app, store, users, hub):
    limburg = login(app, "limburg")
    draft = {
        "event": "Chlorine release",
        "category": "CBRNE",
        "urgency": "Immediate",
        "severity": "Severe",
        "certainty": "Observed",
        "texts": {
            "nl": {
                "headline": "Blijf binnen, sluit ramen en deuren",
                "description": "Chloorlek in Tessenderlo.",
            },
            "fr": {"headline": "Restez à l'intérieur", "description": "Fuite de chlore à Tessenderlo."},
        },
        "provinces": [LIMBURG],
        "polygon": [[5.30, 50.91], [5.36, 50.91], [5.36, 50.95], [5.30, 50.95], [5.30, 50.91]],  # Hasselt
        "exercise": True,
    }
    bad = limburg.post("/api/v1/alerts/drafts", json={**draft, "texts": {"nl": {"headline": ""}}})
    assert bad.status_code == 400 and bad.json["errors"][0]["field"] == "texts"
    outside = login(app, "liege").post("/api/v1/alerts/drafts", json=draft)
    assert outside.status_code == 403
    made = limburg.post("/api/v1/alerts/drafts", json=draft)
    assert made.status_code == 201
    alert_id = made.json["id"]
    drain(hub, "alert")
    assert app.server.test_client().get(f"/api/v1/cap/{alert_id}").status_code == 401
    assert limburg.get(f"/api/v1/cap/{alert_id}").status_code == 404  # a draft is not published

    assert limburg.post(f"/api/v1/alerts/{alert_id}/approve", json={}).status_code == 403  # not its author
    assert login(app, "liege").post(f"/api/v1/alerts/{alert_id}/approve", json={}).status_code == 403
    approved = login(app, "limburg2").post(f"/api/v1/alerts/{alert_id}/approve", json={})
    assert approved.status_code == 200 and approved.json["state"] == "published"
    drain(hub, "alert")

    document = limburg.get(f"/api/v1/cap/{alert_id}")
    assert document.status_code == 200 and document.mimetype == "application/cap+xml"
    schema = etree.XMLSchema(etree.parse(str(SHARED / "standards/cap-1.2/CAP-v1.2.xsd")))
    root = etree.fromstring(document.data)
    assert schema.validate(root), schema.error_log
    ns = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
    assert root.findtext("cap:status", namespaces=ns) == "Exercise"
    assert [i.findtext("cap:language", namespaces=ns) for i in root.findall("cap:info", ns)] == [
        "nl-BE",
        "fr-BE",
    ]
    assert root.find("cap:info/cap:area/cap:polygon", ns) is not None

    feed = etree.fromstring(limburg.get("/api/v1/cap/feed").data)
    atom = {"a": "http://www.w3.org/2005/Atom"}
    (entry,) = feed.findall("a:entry", atom)
    assert entry.find("a:link", atom).get("href").endswith(f"/api/v1/cap/{alert_id}")
    actions = [
        (a["actor"], a["action"]) for a in read_audit(store.client, store.keys, 10) if a["target"] == alert_id
    ]
    assert actions == [("limburg2", "alert.publish"), ("limburg", "alert.draft")]


def test_conformance_feed_and_envelope_are_stored_alert_by_alert(app, token, store, hub):
    client = app.server.test_client()
    response = client.post(
        "/api/v1/cap",
        data=(SHARED / "conformance/edxl-de-1.0/google__bushfire_invalid.edxlde").read_bytes(),
        headers=bearer(token),
    )
    assert response.status_code == 200
    assert len(response.json["accepted"]) == 5 and len(response.json["rejected"]) == 2
    assert response.json["rejected"][1]["errors"][0]["field"] == "urgency"
    drain(hub, "alert")
    assert StateStore(store.client, store.keys).count("alert") == 5
    index = client.post(
        "/api/v1/cap",
        data=(SHARED / "conformance/cap-feeds/kelvinn__us_nws_weather.atom").read_bytes(),
        headers=bearer(token),
    )
    assert index.status_code == 200 and len(index.json["links"]) == 2 and index.json["accepted"] == []


def test_the_cap_poller_fetches_configured_feeds_and_the_alerts_they_link(store, hub, settings):
    """An Atom index feed on a local server links two alerts; the poller fetches each once."""
    import http.server

    from cop.feeds.cap import CapFeed

    sent = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=3)
    pages: dict[str, bytes] = {"/a1.cap": cap("p1", sent), "/a2.cap": cap("p2", sent + timedelta(minutes=1))}
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            body = pages.get(self.path)
            self.send_response(200 if body else 404)
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    stamp = sent.isoformat()
    entries = "".join(
        f'<entry><id>{n}</id><title>t</title><updated>{stamp}</updated><link href="{base}/{n}.cap"/></entry>'
        for n in ("a1", "a2")
    )
    pages["/feed.atom"] = (
        f'<feed xmlns="http://www.w3.org/2005/Atom"><id>x</id><title>t</title><updated>{stamp}</updated>'
        f"{entries}</feed>"
    ).encode()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        poller = CapFeed(
            store,
            settings=settings.model_copy(update={"cap_feed_urls": [f"{base}/feed.atom", f"{base}/gone"]}),
        )
        poller.tick(datetime.now(UTC))
        poller.last_poll = None
        poller.tick(datetime.now(UTC))  # a second poll fetches the feed again, not the alerts
    finally:
        server.shutdown()
    assert sorted(hits) == ["/a1.cap", "/a2.cap", "/feed.atom", "/feed.atom", "/gone", "/gone"]
    assert poller.imported == 2 and "404" in poller.failures[f"{base}/gone"]
    drain(hub, "alert")
    state = StateStore(store.client, store.keys)
    assert state.get("alert", alert_entity_id("meteo@example.be", "p2")).data["state"] == "active"
