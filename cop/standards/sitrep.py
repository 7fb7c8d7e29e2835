"""EDXL-SitRep 1.0 out. No official schema is available here: the element names and their order
follow the specification (sitRep: messageID, preparedBy, authorizedBy, reportPurpose,
reportNumber, reportVersion, forTimePeriod, reportTitle, incidentID, incidentLifecyclePhase,
originatingMessageID, precedingMessageID, urgency, reportConfidence, severity, actionPlan,
nextContact, report), with a SituationInformation report carrying the figures and narrative."""

from __future__ import annotations

from typing import Any

from lxml import etree

SITREP_NS = "urn:oasis:names:tc:emergency:EDXL:SitRep:1.0"
PHASES = {"municipal": "Response", "provincial": "Response", "federal": "Response"}


def _el(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    node = etree.SubElement(parent, f"{{{SITREP_NS}}}{name}")
    if text is not None:
        node.text = text
    return node


def _person(parent: etree._Element, name: str, who: str, when: str) -> None:
    node = _el(parent, name)
    person = _el(node, "personDetails")
    _el(person, "personName", who)
    _el(node, "timeValue", when)


def message_id(report: dict[str, Any]) -> str:
    return f"cop-sitrep-{report['incident_id']}-{report['number']}"


def write_sitrep(report: dict[str, Any], previous: dict[str, Any] | None) -> bytes:
    """A published report as EDXL-SitRep 1.0 XML."""
    root = etree.Element(f"{{{SITREP_NS}}}sitRep", nsmap={None: SITREP_NS})
    figures = report["figures"]
    _el(root, "messageID", message_id(report))
    _person(root, "preparedBy", report["generated_by"], report["generated_at"])
    _person(root, "authorizedBy", report["published_by"], report["published_at"])
    purpose = "Situation report"
    if report["exercise"]:
        purpose = "EXERCISE EXERCISE EXERCISE — situation report of an exercise"
    _el(root, "reportPurpose", purpose)
    _el(root, "reportNumber", str(report["number"]))
    _el(root, "reportVersion", "Initial" if report["number"] == 1 else "Update")
    period = _el(root, "forTimePeriod")
    _el(period, "fromDateTime", previous["generated_at"] if previous else report["generated_at"])
    _el(period, "toDateTime", report["generated_at"])
    _el(root, "reportTitle", f"{'EXERCISE · ' if report['exercise'] else ''}{report['incident']['title']}")
    _el(root, "incidentID", report["incident_id"])
    _el(root, "incidentLifecyclePhase", PHASES.get(report["incident"]["phase"], "Response"))
    _el(root, "originatingMessageID", f"cop-sitrep-{report['incident_id']}-1")
    if previous is not None:
        _el(root, "precedingMessageID", message_id(previous))
    _el(root, "urgency", "Expected")
    _el(root, "reportConfidence", "HighlyConfident")
    _el(root, "severity", "Severe" if figures["zones"] or figures["alerts"] else "Moderate")
    if report["narrative"].get("outlook"):
        _el(root, "actionPlan", report["narrative"]["outlook"])
    body = _el(root, "report")
    info = _el(body, "SituationInformation")
    _el(info, "situationSummary", report["narrative"].get("situation") or "")
    _el(info, "actionsTaken", report["narrative"].get("actions") or "")
    _el(info, "resourceNeeds", report["narrative"].get("needs") or "")
    units = _el(info, "resourceCommitted")
    for discipline, count in figures["units"]["by_discipline"].items():
        item = _el(units, "resource")
        _el(item, "resourceType", discipline)
        _el(item, "quantity", str(count))
    hospitals = _el(info, "medicalCapacity")
    _el(hospitals, "bedsAvailable", str(figures["hospitals"]["available"]))
    _el(hospitals, "bedsBaseline", str(figures["hospitals"]["baseline"]))
    for zone in figures["zones"]:
        area = _el(info, "affectedArea")
        _el(area, "areaType", zone["zone_type"])
        _el(area, "areaDescription", ", ".join(zone["municipalities"]))
    for decision in figures["decisions"]:
        item = _el(info, "decision")
        _el(item, "dateTime", decision["event_time"])
        _el(item, "description", decision["text"])
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
