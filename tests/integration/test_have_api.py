"""EDXL-HAVE in and out over HTTP, against real Redis: matching, rules, round trip, hostile XML."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

from cop.app import create_app
from cop.domain.hospitals import HospitalPayload
from cop.feeds.hospitals import HospitalUpdates
from cop.hub.worker import Hub
from cop.store.audit import read_audit
from cop.store.state import StateStore
from cop.store.users import UserStore
from tests.integration.helpers import Recorder, drain

LIEGE_CHU = "2110"  # an emergency hospital of the shipped list, looked up below


@pytest.fixture
def token(store):
    return UserStore(store.client, store.keys).add_token("medops-gateway")


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def applied(store):
    drain(Hub(store, Recorder(), consumer="c"), kind="hospital")
    return StateStore(store.client, store.keys).all("hospital")


def test_first_start_seeds_the_129_emergency_hospitals_once(app, store, settings):
    state = applied(store)
    assert len(state) == 129
    create_app(settings, store)  # a second start seeds nothing more
    assert store.client.xlen(store.keys.stream("hospital")) == 129


HAND_WRITTEN = """<?xml version="1.0" encoding="UTF-8"?>
<HospitalStatus xmlns="urn:oasis:names:tc:emergency:EDXL:HAVE:1.0"
  xmlns:xnl="urn:oasis:names:tc:ciq:xnl:3" xmlns:xpil="urn:oasis:names:tc:ciq:xpil:3"
  xmlns:gml="http://www.opengis.net/gml">
 <Hospital>
  <Organization><OrganizationInformation>
    <xnl:OrganisationName><xnl:NameElement>Whatever they call it</xnl:NameElement></xnl:OrganisationName>
    <xpil:Identifiers><xpil:Identifier><xpil:IdentifierElement>{first_id}</xpil:IdentifierElement></xpil:Identifier></xpil:Identifiers>
  </OrganizationInformation></Organization>
  <EmergencyDepartmentStatus><EMSTraffic><EMSTrafficStatus>Advisory</EMSTrafficStatus></EMSTraffic></EmergencyDepartmentStatus>
  <HospitalBedCapacityStatus><BedCapacity><BedType>AdultICU</BedType>
   <Capacity><CapacityStatus>Vacant/Available</CapacityStatus><AvailableCount>3</AvailableCount><BaselineCount>20</BaselineCount></Capacity>
  </BedCapacity></HospitalBedCapacityStatus>
  <LastUpdateTime>{when}</LastUpdateTime>
 </Hospital>
 <Hospital>
  <Organization><OrganizationInformation>
    <xnl:OrganisationName><xnl:NameElement>{second_name}</xnl:NameElement></xnl:OrganisationName>
  </OrganizationInformation>
  <OrganizationGeoLocation><gml:Point><gml:pos>{second_pos}</gml:pos></gml:Point></OrganizationGeoLocation></Organization>
  <HospitalBedCapacityStatus><BedCapacity><BedType>EmergencyDepartment</BedType>
   <Capacity><AvailableCount>0</AvailableCount><BaselineCount>15</BaselineCount></Capacity>
  </BedCapacity></HospitalBedCapacityStatus>
  <LastUpdateTime>{when}</LastUpdateTime>
 </Hospital>
 <Hospital>
  <Organization><OrganizationInformation>
    <xnl:OrganisationName><xnl:NameElement>Saint Nowhere</xnl:NameElement></xnl:OrganisationName>
  </OrganizationInformation></Organization>
  <LastUpdateTime>{when}</LastUpdateTime>
 </Hospital>
</HospitalStatus>"""


def test_a_hand_written_document_updates_two_hospitals_and_reports_the_unknown(app, token, store):
    from cop.geo.sites import emergency_hospitals

    first, second = emergency_hospitals()[0], emergency_hospitals()[1]
    when = datetime.now(UTC).isoformat(timespec="seconds")
    body = HAND_WRITTEN.format(
        first_id=first.site_id,
        second_name=second.name,
        second_pos=f"{second.lat + 0.001} {second.lon}",
        when=when,
    )
    response = app.server.test_client().post(
        "/api/v1/have", data=body.encode(), headers=auth(token), content_type="application/xml"
    )
    assert response.status_code == 200, response.json
    assert sorted(response.json["accepted"]) == sorted([first.site_id, second.site_id])
    assert [u["name"] for u in response.json["unknown"]] == ["Saint Nowhere"]
    state = applied(store)
    assert len(state) == 129  # nothing created for the unknown hospital
    one = HospitalPayload.model_validate(state[first.site_id].data)
    assert one.bed("AdultICU").available == 3 and one.ems_traffic.value == "Advisory"
    assert one.name == first.name  # identity comes from our reference data
    two = HospitalPayload.model_validate(state[second.site_id].data)
    assert two.bed("EmergencyDepartment").available == 0
    actions = [(r["action"], r["target"]) for r in read_audit(store.client, store.keys)]
    assert ("hospital.update", first.site_id) in actions


def test_our_own_export_imports_back_unchanged(app, token, store):
    client = app.server.test_client()
    updates = HospitalUpdates(store)
    site_id = next(iter(applied(store)))
    updates.save(
        site_id,
        {"beds": [{"bed_type": "AdultICU", "available": 5, "baseline": 10}]},
        actor="manager.a",
        observed_at=datetime.now(UTC),
    )
    before = applied(store)
    exported = client.get("/api/v1/have?de=1", headers=auth(token))
    assert exported.status_code == 200
    assert b"EDXLDistribution" in exported.data
    response = client.post(
        "/api/v1/have", data=exported.data, headers=auth(token), content_type="application/xml"
    )
    assert response.status_code == 200
    assert response.json["rejected"] == [] and response.json["unknown"] == []
    assert len(response.json["accepted"]) == 129
    after = applied(store)
    for hospital_id, envelope in before.items():
        assert after[hospital_id].data == {**envelope.data, "updated_by": "medops-gateway"}
        assert after[hospital_id].observed_at == envelope.observed_at


def test_export_filters_by_province_and_bed_type(app, token, store):
    applied(store)
    client = app.server.test_client()
    document = etree.fromstring(client.get("/api/v1/have?province=60000", headers=auth(token)).data)
    hospitals = document.findall("{urn:oasis:names:tc:emergency:EDXL:HAVE:1.0}Hospital")
    assert 0 < len(hospitals) < 129
    bad = client.get("/api/v1/have?bed_type=Spaceship", headers=auth(token))
    assert bad.status_code == 400 and bad.json["errors"][0]["field"] == "bed_type"


def test_an_update_older_than_the_stored_one_is_refused(store):
    updates = HospitalUpdates(store)
    site_id = "1470"
    now = datetime.now(UTC)
    updates.save(site_id, {}, actor="a", observed_at=now)
    drain(Hub(store, Recorder(), consumer="c"), kind="hospital")
    with pytest.raises(Exception) as error:
        updates.save(site_id, {}, actor="a", observed_at=now - timedelta(minutes=5))
    assert error.value.problems[0].field == "last_update"


def test_counts_breaking_the_rules_are_refused_naming_the_field(store):
    updates = HospitalUpdates(store)
    with pytest.raises(Exception) as error:
        updates.save(
            "1470",
            {"beds": [{"bed_type": "AdultICU", "available": 30, "baseline": 10}]},
            actor="a",
            observed_at=datetime.now(UTC),
        )
    assert error.value.problems[0].field == "beds.AdultICU"
    assert "exceeds baseline" in error.value.problems[0].problem
    with pytest.raises(Exception) as negative:
        updates.save(
            "1470",
            {"beds": [{"bed_type": "AdultICU", "available": -1, "baseline": 10}]},
            actor="a",
            observed_at=datetime.now(UTC),
        )
    assert negative.value.problems[0].field == "beds.AdultICU.available"


@pytest.mark.parametrize("name", ["cap-1.2/google__xee.cap", "edxl-de-2.0/ansforge__external-entity.xml"])
def test_attack_documents_are_refused(app, token, store, name):
    from tests.conftest import SHARED

    data = (SHARED / "conformance" / name).read_bytes()
    response = app.server.test_client().post(
        "/api/v1/have", data=data, headers=auth(token), content_type="application/xml"
    )
    assert response.status_code == 400
    assert response.json["errors"][0]["field"] == "body"


def test_oversized_documents_are_refused(app, token, settings):
    data = b"<x>" + b"a" * (settings.api_max_body_bytes + 10) + b"</x>"
    response = app.server.test_client().post(
        "/api/v1/have", data=data, headers=auth(token), content_type="application/xml"
    )
    assert response.status_code == 413
