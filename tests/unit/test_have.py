"""EDXL-HAVE 1.0 out validates against the official schema (bare and in EDXL-DE 1.0) and reads back."""

from datetime import UTC, datetime
from functools import cache

import pytest
from lxml import etree
from pydantic import ValidationError

from cop.domain.errors import InvalidInput
from cop.domain.hospitals import BedCapacity, HospitalPayload
from cop.feeds.hospitals import seed_payload
from cop.geo.sites import emergency_hospitals
from cop.standards.have import HospitalRecord, export_have, parse_have
from cop.standards.xml import parse_xml
from tests.conftest import SHARED

T = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)


@cache
def schema(name: str) -> etree.XMLSchema:
    path = SHARED / "standards" / name
    assert path.exists(), f"{path} is needed (../shared beside the project)"
    return etree.XMLSchema(etree.parse(str(path)))


def have_schema() -> etree.XMLSchema:
    return schema("edxl-have-1.0/edxl-have.xsd")


def de_schema() -> etree.XMLSchema:
    return schema("edxl-de-1.0/EDXL-DE_Schema_v1.0.xsd")


def records(n: int = 3) -> list[HospitalRecord]:
    result = []
    for site in emergency_hospitals()[:n]:
        payload = seed_payload(site)
        beds = tuple(b.model_copy(update={"available": b.baseline // 3}) for b in payload.beds)
        payload = HospitalPayload.model_validate(
            {
                **payload.model_dump(),
                "beds": beds,
                "decon_status": "Open",
                "staffing": "Adequate",
                "updated_by": "manager.a",
            }
        )
        result.append(HospitalRecord(site.site_id, payload, T))
    return result


def test_export_validates_against_the_official_have_schema():
    document = etree.fromstring(export_have(records(), sent_at=T))
    assert have_schema().validate(document), have_schema().error_log


def test_export_in_edxl_de_validates_against_both_schemas():
    document = etree.fromstring(export_have(records(), wrap_de=True, sent_at=T, exercise=True))
    assert de_schema().validate(document), de_schema().error_log
    ns = {"de": "urn:oasis:names:tc:emergency:EDXL:DE:1.0"}
    assert document.findtext("de:distributionStatus", namespaces=ns) == "Exercise"
    (payload,) = document.findall(".//de:embeddedXMLContent/*", ns)
    assert have_schema().validate(etree.ElementTree(payload)), have_schema().error_log


def test_export_reads_back_unchanged():
    original = records(5)
    parsed = parse_have(parse_xml(export_have(original, wrap_de=True, sent_at=T)))
    assert [p.hospital_id for p in parsed] == [r.hospital_id for r in original]
    for record, hospital in zip(original, parsed, strict=True):
        assert hospital.problems == []
        assert hospital.last_update == record.last_update
        rebuilt = HospitalPayload.model_validate({**record.payload.model_dump(), **hospital.fields})
        assert rebuilt == record.payload


def test_available_above_baseline_plus_additional_is_refused_naming_the_field():
    with pytest.raises(ValidationError, match="exceeds baseline"):
        BedCapacity(bed_type="AdultICU", available=12, baseline=10, additional_24h=1)
    with pytest.raises(ValidationError) as error:
        BedCapacity(bed_type="AdultICU", available=-1, baseline=10)
    assert error.value.errors()[0]["loc"] == ("available",)
    with pytest.raises(ValidationError, match=r"bed_type"):
        BedCapacity(bed_type="ICU", baseline=10)


@pytest.mark.parametrize(
    "attack",
    [
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
        b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY l2 "&lol;&lol;">]><x>&l2;</x>',
        b'<x xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="file:///etc/passwd"/></x>',
    ],
)
def test_hostile_xml_is_refused_or_inert(attack):
    try:
        root = parse_xml(attack)
    except InvalidInput as error:
        assert error.problems[0].field == "body"
        return
    # XInclude is never processed: the include stays an inert element, nothing was read.
    assert b"root:" not in etree.tostring(root)
    assert parse_have(root) == []


def test_oversized_xml_is_refused():
    with pytest.raises(InvalidInput, match="larger than"):
        parse_xml(b"<x>" + b"a" * 2000 + b"</x>", max_bytes=1000)
