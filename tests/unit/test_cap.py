"""CAP reading against every third-party sample of ../shared/conformance, and CAP writing against
the official CAP 1.2 schema of ../shared/standards."""

from __future__ import annotations

import pytest
from lxml import etree

from cop.domain.alerts import AlertPayload
from cop.domain.errors import InvalidInput
from cop.feeds.cap import as_cap, received_payload, weather_level, weather_phenomenon
from cop.standards.cap import read_cap_document, write_atom, write_cap
from tests.conftest import SHARED

CONFORMANCE = SHARED / "conformance"

# file → (outcome, detail): "accepted" (n alerts), "rejected" (field named), "partial" (n ok, n bad),
# "links" (n links), "attack".
EXPECTED = {
    "cap-1.2/google__australia.cap": ("accepted", 1),
    "cap-1.2/google__canada.cap": ("accepted", 1),
    "cap-1.2/google__thunderstorm.cap": ("accepted", 1),
    "cap-1.2/google__invalid.cap": ("rejected", "info"),  # element order
    "cap-1.2/google__xee.cap": ("attack", None),
    "cap-1.2/kelvinn__mexico.xml": ("accepted", 1),
    "cap-1.2/kelvinn__no_info_tag.cap": ("accepted", 1),
    "cap-1.2/kelvinn__iceland_met_office.cap": ("accepted", 1),
    "cap-1.2/kelvinn__smhi.se.alerts.cap": ("rejected", "body"),  # an <alerts> wrapper is not CAP
    "cap-1.2/IBM__cap_amber_alert_example.xml": ("accepted", 1),
    "cap-1.1/google__weather.cap": ("accepted", 1),
    "cap-1.1/google__no_optional_fields.cap": ("accepted", 1),
    "cap-1.1/google__noaa_errors.cap": ("rejected", "urgency"),
    "cap-feeds/google__weather.atom": ("accepted", 1),
    "cap-feeds/kelvinn__us_nws_weather.atom": ("links", 2),
    "cap-feeds/google__no_entries.atom": ("partial", (0, 1)),
    "cap-feeds/google__xee.atom": ("attack", None),
    "edxl-de-1.0/google__bushfire_valid_small.edxlde": ("accepted", 7),
    "edxl-de-1.0/google__bushfire_invalid.edxlde": ("partial", (5, 2)),
    "edxl-de-2.0/ansforge__external-entity.xml": ("attack", None),
    "edxl-de-2.0/DRIVER-EU__CIS_Test.xml": ("rejected", "dateTimeSent"),
}


def test_every_conformance_sample_is_listed():
    files = {
        str(p.relative_to(CONFORMANCE))
        for p in CONFORMANCE.rglob("*")
        if p.is_file() and p.name != "README.md"
    }
    assert files == set(EXPECTED)


@pytest.mark.parametrize(("name", "expected"), sorted(EXPECTED.items()))
def test_conformance_sample_gets_its_outcome(name, expected):
    outcome, detail = expected
    data = (CONFORMANCE / name).read_bytes()
    if outcome in {"rejected", "attack"}:
        with pytest.raises(InvalidInput) as refused:
            read_cap_document(data)
        fields = [p.field for p in refused.value.problems]
        if outcome == "attack":
            assert fields == ["body"] and "DTD" in refused.value.problems[0].problem
        else:
            assert detail in fields, refused.value.problems
            assert all(p.problem for p in refused.value.problems)
        return
    document = read_cap_document(data)
    if outcome == "accepted":
        assert (len(document.alerts), document.rejected) == (detail, [])
    elif outcome == "partial":
        good, bad = detail
        assert (len(document.alerts), len(document.rejected)) == (good, bad)
        for rejection in document.rejected:
            assert rejection.problems and rejection.problems[0].field and rejection.problems[0].problem
    else:
        assert len(document.links) == detail and not document.alerts
        assert all(link.startswith("http://alerts.weather.gov/cap/") for link in document.links)


def test_cap_1_1_alerts_are_read_like_1_2():
    (alert,) = read_cap_document((CONFORMANCE / "cap-1.1/google__weather.cap").read_bytes()).alerts
    assert alert.version == "1.1" and alert.msg_type == "Alert"
    info = alert.infos[0]
    assert (info.event, info.urgency, info.severity) == ("Flash Flood Watch", "Expected", "Severe")


def test_areas_are_read_with_longitude_first():
    document = read_cap_document((CONFORMANCE / "cap-1.2/google__thunderstorm.cap").read_bytes())
    area = document.alerts[0].infos[0].areas[0]
    lon, lat = area.polygons[0][0]
    assert -125 < lon < -115 and 35 < lat < 42  # northern California, as the sample says


def test_our_cap_and_atom_validate_against_the_official_schemas():
    schema = etree.XMLSchema(etree.parse(str(SHARED / "standards/cap-1.2/CAP-v1.2.xsd")))
    for name in (
        "cap-1.2/google__australia.cap",
        "cap-1.1/google__weather.cap",
        "cap-1.2/kelvinn__no_info_tag.cap",
    ):
        (alert,) = read_cap_document((CONFORMANCE / name).read_bytes()).alerts
        alert.version = "1.2"
        written = etree.fromstring(write_cap(alert))
        assert schema.validate(written), (name, schema.error_log)
        # And it reads back to the same alert.
        (again,) = read_cap_document(etree.tostring(written)).alerts
        assert (again.identifier, again.sender, len(again.infos)) == (
            alert.identifier,
            alert.sender,
            len(alert.infos),
        )
    feed = etree.fromstring(
        write_atom([(alert, "http://x/1")], feed_id="x", title="t", updated=alert.sent, self_url="x")
    )
    (embedded,) = [e for e in feed.iter() if isinstance(e.tag, str) and e.tag.endswith("}alert")]
    assert schema.validate(etree.fromstring(etree.tostring(embedded)))


def meteo_alert(severity="Severe", event="Wind warning", parameters=()):
    parameter = "<parameter><valueName>{}</valueName><value>{}</value></parameter>"
    extra = "".join(parameter.format(n, v) for n, v in parameters)
    return received_payload(
        read_cap_document(
            f"""<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x1</identifier>
            <sender>meteo@example.be</sender><sent>2026-11-21T10:00:00+01:00</sent><status>Actual</status>
            <msgType>Alert</msgType><scope>Public</scope><info><category>Met</category><event>{event}</event>
            <urgency>Expected</urgency><severity>{severity}</severity><certainty>Likely</certainty>
            {extra}<area><areaDesc>Limburg</areaDesc>
            <geocode><valueName>ISO3166-2</valueName><value>BE-VLI</value></geocode></area>
            <area><areaDesc>Liège</areaDesc><circle>50.63,5.57 5</circle></area></info></alert>""".encode()
        ).alerts[0]
    )


def test_a_weather_warning_maps_to_provinces_phenomenon_and_level():
    payload = meteo_alert()
    assert payload.prov_codes == ["60000", "70000"]  # geocode and circle
    assert weather_phenomenon(payload) == "wind" and weather_level(payload) == "orange"
    meteoalarm = meteo_alert(
        "Moderate", "Gale", [("awareness_type", "10; Rain"), ("awareness_level", "4; red; Extreme")]
    )
    assert weather_phenomenon(meteoalarm) == "rain" and weather_level(meteoalarm) == "red"
    assert (
        weather_phenomenon(meteo_alert(event="Earthquake").model_copy(update={"categories": ["Geo"]})) is None
    )


def test_our_alert_becomes_one_info_per_language():
    payload = AlertPayload(
        origin="ours",
        identifier="BE-1",
        sender="cop@localhost",
        sent="2026-11-21T10:00:00+00:00",
        status="Exercise",
        msg_type="Alert",
        state="published",
        event="Chlorine",
        categories=["CBRNE"],
        urgency="Immediate",
        severity="Severe",
        certainty="Observed",
        texts=[
            {"language": "nl-BE", "headline": "Blijf binnen"},
            {"language": "fr-BE", "headline": "Restez à l'intérieur"},
        ],
        areas=[{"desc": "Province BE-VLI", "geocodes": [("ISO3166-2", "BE-VLI")]}],
    )
    cap = as_cap(payload)
    assert [i.language for i in cap.infos] == ["nl-BE", "fr-BE"] and cap.status == "Exercise"
    schema = etree.XMLSchema(etree.parse(str(SHARED / "standards/cap-1.2/CAP-v1.2.xsd")))
    assert schema.validate(etree.fromstring(write_cap(cap))), schema.error_log


def test_a_remote_schema_location_is_never_fetched():
    import http.server
    import threading

    hits: list[str] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"/>')

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        remote = f"http://127.0.0.1:{server.server_port}/cap.xsd"
        original = (SHARED / "conformance/cap-1.2/google__australia.cap").read_bytes()
        namespace = b'xmlns:cap="urn:oasis:names:tc:emergency:cap:1.2"'
        assert namespace in original
        pointed = original.replace(
            namespace,
            namespace + b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
            b' xsi:schemaLocation="urn:oasis:names:tc:emergency:cap:1.2 ' + remote.encode() + b'"',
            1,
        )
        document = read_cap_document(pointed)
        assert len(document.alerts) == 1  # validated against the shipped OASIS schema only
        assert hits == []  # and no connection was made to the schema's address
    finally:
        server.shutdown()
