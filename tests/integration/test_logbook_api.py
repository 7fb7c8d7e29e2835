"""Incidents, logbooks and situation reports through the API, against real Redis and the hub."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

from cop.domain.envelope import Envelope
from cop.domain.incidents import DAILY_OPERATIONS_ID
from cop.domain.users import Role
from cop.feeds.hospitals import seed_payload
from cop.geo.sites import emergency_hospitals
from cop.store.streams import StreamWriter
from cop.store.users import UserStore
from tests.conftest import PASSWORD
from tests.integration.helpers import drain, position
from tests.integration.helpers import login as form_login

LIMBURG, LIEGE = "70000", "60000"
SITREP = "{urn:oasis:names:tc:emergency:EDXL:SitRep:1.0}"


@pytest.fixture
def users(store):
    users = UserStore(store.client, store.keys)
    users.add("limburg", PASSWORD, Role.COORDINATOR, provinces=frozenset({LIMBURG}))
    users.add("liege", PASSWORD, Role.COORDINATOR, provinces=frozenset({LIEGE}))
    users.add("analyst", PASSWORD, Role.ANALYST)
    users.add("ziekenhuis", PASSWORD, Role.HOSPITAL_MANAGER, hospitals=frozenset({"x"}))
    return users


def login(app, username):
    client = app.server.test_client()
    assert form_login(client, username).status_code == 302
    return client


def open_incident(client, hub, **extra):
    body = {
        "title": "Chlorine release Tessenderlo",
        "incident_type": "chemical release",
        "lat": 51.065,
        "lon": 5.08,
        "level": "provincial",
        "disciplines": ["D1", "D2", "D3"],
        "exercise": True,
        **extra,
    }
    response = client.post("/api/v1/incidents", json=body)
    assert response.status_code == 201, response.json
    drain(hub, "incident")
    return response.json["id"]


def entry(client, incident, **extra):
    body = {"category": "information", "text": "Wind from the south-west, 3 m/s", **extra}
    return client.post(f"/api/v1/logbooks/{incident}/entries", json=body)


def test_daily_operations_is_always_there_and_always_open(app, hub, users):
    drain(hub, "incident")
    limburg = login(app, "limburg")
    ids = [i["id"] for i in limburg.get("/api/v1/incidents").json["items"]]
    assert ids[0] == DAILY_OPERATIONS_ID
    closing = limburg.patch(f"/api/v1/incidents/{DAILY_OPERATIONS_ID}", json={"status": "closed"})
    assert closing.status_code == 400 and closing.json["errors"][0]["field"] == "status"
    assert entry(limburg, DAILY_OPERATIONS_ID).status_code == 201  # every coordinator may log there


def test_entries_are_ordered_append_only_and_corrected_by_new_entries(app, store, hub, users):
    limburg = login(app, "limburg")
    incident = open_incident(limburg, hub)
    first = entry(limburg, incident, category="decision", text="Evacuate Schoonhees", discipline="D1")
    assert first.status_code == 201
    first_id = first.json["id"]
    later = datetime.now(UTC) - timedelta(minutes=30)
    second = entry(limburg, incident, text="CP-Ops set up at the fire station", event_time=later.isoformat())
    assert second.json["event_time"] < second.json["entry_time"]  # both kept, and shown
    bad = [
        ({"category": "gossip", "text": "x"}, "category"),
        ({"category": "decision", "text": "   "}, "text"),
        ({"category": "decision", "text": "x", "discipline": "D7"}, "discipline"),
        ({"category": "decision", "text": "x", "corrects": "1-1"}, "corrects"),
        (
            {
                "category": "decision",
                "text": "x",
                "event_time": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
            },
            "event_time",
        ),
        ({"category": "decision", "text": "x", "lat": 52.9, "lon": 5.0}, "lat"),
    ]
    length = store.client.xlen(store.keys.log(incident))
    for body, field in bad:
        response = limburg.post(f"/api/v1/logbooks/{incident}/entries", json=body)
        assert response.status_code == 400 and response.json["errors"][0]["field"] == field, (
            body,
            response.json,
        )
    assert store.client.xlen(store.keys.log(incident)) == length

    # No path changes or deletes an entry.
    url = f"/api/v1/logbooks/{incident}/entries/{first_id}"
    for method in ("put", "patch", "delete"):
        assert getattr(limburg, method)(url, json={"text": "changed"}).status_code == 405
        assert (
            getattr(limburg, method)(f"/api/v1/logbooks/{incident}/entries", json={"text": "x"}).status_code
            == 405
        )
        assert getattr(limburg, method)(f"/api/v1/logbooks/{incident}/export.csv").status_code == 405
    assert limburg.get(url).json["text"] == "Evacuate Schoonhees"

    correction = entry(
        limburg, incident, category="decision", text="Evacuate Schoonhees and Engsbergen", corrects=first_id
    )
    assert correction.status_code == 201
    items = limburg.get(f"/api/v1/logbooks/{incident}/entries").json["items"]
    assert [i["text"] for i in items] == [
        "Evacuate Schoonhees and Engsbergen",
        "CP-Ops set up at the fire station",
        "Evacuate Schoonhees",
    ]  # newest first, by entry time
    assert items[2]["corrected_by"] == correction.json["id"] and items[0]["corrects"] == first_id
    raw = store.client.xrange(store.keys.log(incident))
    assert len(raw) == 3 and store.client.xinfo_stream(store.keys.log(incident))["length"] == 3


def test_who_may_write_which_logbook(app, hub, users):
    limburg = login(app, "limburg")
    incident = open_incident(limburg, hub)
    assert entry(login(app, "liege"), incident).status_code == 403
    assert entry(login(app, "analyst"), incident).status_code == 403
    manager = login(app, "ziekenhuis")
    assert entry(manager, incident, discipline="D2").status_code == 403  # not allowed by this incident
    allowing = open_incident(limburg, hub, hospital_managers_may_log=True)
    assert entry(manager, allowing, discipline="D2").status_code == 201
    assert entry(manager, allowing, discipline="D1").status_code == 403
    assert entry(manager, allowing, discipline="multi").status_code == 403
    # Reading follows scope: Liège does not see a Limburg incident's logbook.
    assert login(app, "liege").get(f"/api/v1/logbooks/{incident}/entries").status_code == 403
    assert login(app, "analyst").get(f"/api/v1/logbooks/{incident}/entries").status_code == 200


def test_filters_search_and_exports_say_exercise(app, hub, users):
    limburg = login(app, "limburg")
    incident = open_incident(limburg, hub)
    entry(
        limburg, incident, category="decision", discipline="D1", text="Close the E313 between Ham and Diest"
    )
    entry(
        limburg, incident, category="request", discipline="D2", text="Two more ambulances to Heusden-Zolder"
    )
    entry(limburg, incident, category="action", discipline="D3", text="Perimeter closed at the E313 exit")
    found = limburg.get(f"/api/v1/logbooks/{incident}/entries?q=e313").json
    assert found["total"] == 2
    found = limburg.get(f"/api/v1/logbooks/{incident}/entries?q=e313 exit&discipline=D3").json
    assert [i["category"] for i in found["items"]] == ["action"]
    found = limburg.get(f"/api/v1/logbooks/{incident}/entries?category=request&category=decision").json
    assert found["total"] == 2
    bad = limburg.get(f"/api/v1/logbooks/{incident}/entries?since=yesterday")
    assert bad.status_code == 400 and bad.json["errors"][0]["field"] == "since"

    exported = limburg.get(f"/api/v1/logbooks/{incident}/export.csv")
    assert "EXERCISE" in exported.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert [r["discipline"] for r in rows] == ["D1", "D2", "D3"] and {r["exercise"] for r in rows} == {
        "EXERCISE"
    }
    page = limburg.get(f"/api/v1/logbooks/{incident}/export.html").get_data(as_text=True)
    assert page.count("EXERCISE — EXERCISE") == 2 and "Two more ambulances" in page


def test_a_sitrep_from_a_scripted_state_has_the_right_figures(app, store, settings, hub, users):
    limburg = login(app, "limburg")
    incident = open_incident(limburg, hub)
    writer = StreamWriter(store.client, store.keys, settings)
    # Scripted state: 3 D1 and 2 D2 units (one D2 stale), two hospitals reporting.
    now = datetime.now(UTC)
    units = [
        position(f"u{i}", now, lat=51.06, lon=5.08 + i * 0.001, prov_code=LIMBURG, discipline=d)
        for i, d in enumerate(["D1", "D1", "D1", "D2"])
    ]
    units.append(
        position("old", now - timedelta(minutes=30), lat=51.06, lon=5.09, prov_code=LIMBURG, discipline="D2")
    )
    writer.append(units)
    sites = emergency_hospitals()[:2]
    reports = []
    for site, share in zip(sites, (0.5, 0.1), strict=True):
        seed = seed_payload(site)
        beds = tuple(b.model_copy(update={"available": int(b.baseline * share)}) for b in seed.beds)
        reports.append(
            Envelope.build(
                kind="hospital",
                entity_id=site.site_id,
                source="t",
                observed_at=now,
                data=seed.model_copy(update={"beds": beds}),
            )
        )
    writer.append(reports)
    drain(hub, "position")
    drain(hub, "hospital")
    entry(limburg, incident, category="decision", text="Shelter in place within 2 km")
    entry(limburg, incident, category="information", text="Not a decision")

    draft = limburg.post(f"/api/v1/sitreps/{incident}/generate", json={}).json
    figures = draft["figures"]
    assert figures["units"]["by_discipline"] == {"D1": 3, "D2": 2} and figures["units"]["stale"] == 1
    baseline = [sum(b.baseline for b in seed_payload(s).beds) for s in sites]
    available = [
        sum(int(b.baseline * share) for b in seed_payload(s).beds)
        for s, share in zip(sites, (0.5, 0.1), strict=True)
    ]
    assert figures["hospitals"]["available"] == sum(available) and figures["hospitals"]["baseline"] == sum(
        baseline
    )
    assert figures["hospitals"]["most_loaded"][0]["name"] == sites[1].name
    assert [d["text"] for d in figures["decisions"]] == ["Shelter in place within 2 km"]
    assert draft["exercise"] is True

    refused = limburg.post(f"/api/v1/sitreps/{incident}/publish", json={})
    assert refused.status_code == 400 and refused.json["errors"][0]["field"] == "narrative.situation"
    limburg.patch(
        f"/api/v1/sitreps/{incident}/draft", json={"narrative": {"situation": "Chlorine cloud moving NE."}}
    )
    first = limburg.post(f"/api/v1/sitreps/{incident}/publish", json={}).json
    assert first["number"] == 1 and first["published_by"] == "limburg"

    # Later: two more units, a new decision; report 2 compares with report 1.
    later = datetime.now(UTC)
    writer.append(
        [position("u9", later, prov_code=LIMBURG, discipline="D1"), position("u10", later, discipline="D3")]
    )
    drain(hub, "position")
    entry(limburg, incident, category="decision", text="Lift the shelter order east of the canal")
    second_draft = limburg.post(f"/api/v1/sitreps/{incident}/generate", json={}).json
    assert second_draft["narrative"]["situation"] == ""  # a published report does not pass on its draft
    assert [d["text"] for d in second_draft["figures"]["decisions"]] == [
        "Lift the shelter order east of the canal"
    ]
    limburg.patch(f"/api/v1/sitreps/{incident}/draft", json={"narrative": {"situation": "Cloud dispersing."}})
    second = limburg.post(f"/api/v1/sitreps/{incident}/publish", json={}).json
    assert second["number"] == 2
    changes = {
        c["what"]: (c["before"], c["after"])
        for c in limburg.get(f"/api/v1/sitreps/{incident}/compare?a=1&b=2").json["changes"]
    }
    assert changes["units"] == (5, 7) and changes["units D1"] == (3, 4) and changes["units D3"] == (0, 1)
    assert login(app, "liege").post(f"/api/v1/sitreps/{incident}/generate", json={}).status_code == 403

    # Published reports are immutable: nothing rewrites them, and the list keeps both as they were.
    published = limburg.get(f"/api/v1/sitreps/{incident}").json["published"]
    assert [(r["number"], r["narrative"]["situation"]) for r in published] == [
        (1, "Chlorine cloud moving NE."),
        (2, "Cloud dispersing."),
    ]

    xml = etree.fromstring(limburg.get(f"/api/v1/sitreps/{incident}/2.xml").data)
    assert xml.tag == f"{SITREP}sitRep"
    names = [etree.QName(c).localname for c in xml]
    assert names[:10] == [
        "messageID",
        "preparedBy",
        "authorizedBy",
        "reportPurpose",
        "reportNumber",
        "reportVersion",
        "forTimePeriod",
        "reportTitle",
        "incidentID",
        "incidentLifecyclePhase",
    ]
    assert xml.findtext(f"{SITREP}reportNumber") == "2" and xml.findtext(f"{SITREP}reportVersion") == "Update"
    assert xml.findtext(f"{SITREP}precedingMessageID") == f"cop-sitrep-{incident}-1"
    assert "EXERCISE" in xml.findtext(f"{SITREP}reportPurpose") and "EXERCISE" in xml.findtext(
        f"{SITREP}reportTitle"
    )
    quantities = {
        r.findtext(f"{SITREP}resourceType"): r.findtext(f"{SITREP}quantity")
        for r in xml.iter(f"{SITREP}resource")
    }
    assert quantities == {"D1": "4", "D2": "2", "D3": "1"}
    page = limburg.get(f"/api/v1/sitreps/{incident}/2.html").get_data(as_text=True)
    assert "EXERCISE — EXERCISE" in page and "Cloud dispersing." in page
