"""EDXL-HAVE 1.0: hospital status out (validates against the official schema) and in (safe parse).

Identifiers: a hospital's site id travels as an xPIL `Identifier` of type `RegistrationID`; its
name as an xNL `OrganisationName`; its location as a GML point (latitude longitude).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree
from pydantic import ValidationError

from cop.domain.errors import FieldProblem, problems_from
from cop.domain.hospitals import BedCapacity, HospitalPayload
from cop.standards import edxl_de
from cop.standards.xml import local

HAVE_NS = "urn:oasis:names:tc:emergency:EDXL:HAVE:1.0"
XPIL_NS = "urn:oasis:names:tc:ciq:xpil:3"
XNL_NS = "urn:oasis:names:tc:ciq:xnl:3"
GML_NS = "http://www.opengis.net/gml"
NSMAP = {"have": HAVE_NS, "xpil": XPIL_NS, "xnl": XNL_NS, "gml": GML_NS}


def _h(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{HAVE_NS}}}{name}")
    if text is not None:
        element.text = text
    return element


@dataclass(frozen=True)
class HospitalRecord:
    """One hospital's status as exchanged: its id, status payload and last update time."""

    hospital_id: str | None
    payload: HospitalPayload
    last_update: datetime
    exercise: bool = False


# -- out ------------------------------------------------------------------------------------------


def hospital_element(record: HospitalRecord) -> etree._Element:
    p = record.payload
    hospital = etree.Element(f"{{{HAVE_NS}}}Hospital", nsmap=NSMAP)
    organization = _h(hospital, "Organization")
    info = _h(organization, "OrganizationInformation")
    name = etree.SubElement(info, f"{{{XNL_NS}}}OrganisationName")
    etree.SubElement(name, f"{{{XNL_NS}}}NameElement").text = p.name
    if p.site_name:
        etree.SubElement(name, f"{{{XNL_NS}}}SubDivisionName").text = p.site_name
    if record.hospital_id:
        identifiers = etree.SubElement(info, f"{{{XPIL_NS}}}Identifiers")
        identifier = etree.SubElement(
            identifiers, f"{{{XPIL_NS}}}Identifier", {f"{{{XPIL_NS}}}Type": "RegistrationID"}
        )
        etree.SubElement(identifier, f"{{{XPIL_NS}}}IdentifierElement").text = record.hospital_id
    where = _h(organization, "OrganizationGeoLocation")
    point = etree.SubElement(where, f"{{{GML_NS}}}Point")
    etree.SubElement(point, f"{{{GML_NS}}}pos").text = f"{p.lat:.6f} {p.lon:.6f}"
    for comment in p.comments:
        _h(organization, "CommentText", comment)

    ed = _h(hospital, "EmergencyDepartmentStatus")
    traffic = _h(ed, "EMSTraffic")
    _h(traffic, "EMSTrafficStatus", p.ems_traffic.value)
    if p.ems_traffic_reason:
        _h(traffic, "EMSTrafficReason", p.ems_traffic_reason)

    if p.beds:
        capacity_status = _h(hospital, "HospitalBedCapacityStatus")
        for bed in p.beds:
            bed_capacity = _h(capacity_status, "BedCapacity")
            _h(bed_capacity, "BedType", bed.bed_type.value)
            capacity = _h(bed_capacity, "Capacity")
            _h(capacity, "CapacityStatus", bed.status.value)
            if bed.available is not None:
                _h(capacity, "AvailableCount", str(bed.available))
            _h(capacity, "BaselineCount", str(bed.baseline))
            _h(capacity, "AdditionalCapacityCount24Hr", str(bed.additional_24h))
            _h(capacity, "AdditionalCapacityCount72Hr", str(bed.additional_72h))

    facility = _h(hospital, "HospitalFacilityStatus")
    _h(facility, "ClinicalStatus", p.clinical_status.value)
    if p.decon_status is not None:
        _h(_h(facility, "DeconCapacity"), "DeconCapacityStatus", p.decon_status.value)
    _h(facility, "FacilityStatus", p.facility_status.value)

    if p.staffing or p.facility_operations or p.clinical_operations or p.updated_by:
        resources = _h(hospital, "HospitalResourcesStatus")
        if p.staffing:
            _h(resources, "Staffing", p.staffing.value)
        if p.facility_operations:
            _h(resources, "FacilityOperations", p.facility_operations.value)
        if p.clinical_operations:
            _h(resources, "ClinicalOperations", p.clinical_operations.value)
        if p.updated_by:
            _h(resources, "CommentText", f"updated by {p.updated_by}")
    _h(hospital, "LastUpdateTime", record.last_update.isoformat())  # full precision: round trips
    return hospital


def export_have(
    records: list[HospitalRecord],
    *,
    wrap_de: bool = False,
    sender: str = "cop",
    sent_at: datetime,
    exercise: bool = False,
) -> bytes:
    """A HAVE HospitalStatus document (optionally inside an EDXL-DE 1.0 envelope)."""
    status = etree.Element(f"{{{HAVE_NS}}}HospitalStatus", nsmap=NSMAP)
    for record in records:
        status.append(hospital_element(record))
    root = status
    if wrap_de:
        root = edxl_de.wrap(
            [status],
            sender=sender,
            sent_at=sent_at,
            exercise=exercise,
            description="EDXL-HAVE 1.0 hospital status",
        )
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


# -- in -------------------------------------------------------------------------------------------


@dataclass
class ParsedHospital:
    """A hospital read from a document, before it is matched to one of ours."""

    index: int
    hospital_id: str | None
    name: str
    lat: float | None
    lon: float | None
    last_update: datetime | None
    fields: dict[str, Any] = field(default_factory=dict)
    problems: list[FieldProblem] = field(default_factory=list)


def _text(element: etree._Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    return element.text.strip() or None


def _int(element: etree._Element | None, path: str, problems: list[FieldProblem]) -> int | None:
    value = _text(element)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        problems.append(FieldProblem(path, f"{value!r} is not an integer"))
        return None


def hospital_status_elements(root: etree._Element) -> list[etree._Element]:
    """HospitalStatus elements of a bare HAVE document or of an EDXL-DE 1.0 envelope."""
    if edxl_de.is_distribution(root):
        return [p for p in edxl_de.payloads(root) if etree.QName(p).namespace == HAVE_NS]
    if etree.QName(root).namespace == HAVE_NS and local(root.tag) == "HospitalStatus":
        return [root]
    return []


def parse_hospital(index: int, element: etree._Element) -> ParsedHospital:
    problems: list[FieldProblem] = []
    where = f"Hospital[{index}]"
    ns = {"h": HAVE_NS, "xpil": XPIL_NS, "xnl": XNL_NS, "gml": GML_NS}
    org = element.find("h:Organization", ns)
    name = (
        _text(org.find("h:OrganizationInformation/xnl:OrganisationName/xnl:NameElement", ns))
        if org is not None
        else None
    )
    site_name = (
        _text(org.find("h:OrganizationInformation/xnl:OrganisationName/xnl:SubDivisionName", ns))
        if org is not None
        else None
    )
    identifier = (
        _text(org.find(".//xpil:Identifiers/xpil:Identifier/xpil:IdentifierElement", ns))
        if org is not None
        else None
    )
    lat = lon = None
    pos = _text(org.find("h:OrganizationGeoLocation/gml:Point/gml:pos", ns)) if org is not None else None
    if pos:
        try:
            lat, lon = (float(v) for v in pos.split()[:2])
        except ValueError:
            problems.append(
                FieldProblem(f"{where}.Organization.OrganizationGeoLocation", f"{pos!r} is not 'lat lon'")
            )
    comments = [
        c for c in (_text(e) for e in (org.findall("h:CommentText", ns) if org is not None else [])) if c
    ]
    last_update = None
    raw_time = _text(element.find("h:LastUpdateTime", ns))
    if raw_time is None:
        problems.append(FieldProblem(f"{where}.LastUpdateTime", "is required"))
    else:
        try:
            last_update = datetime.fromisoformat(raw_time.replace("Z", "+00:00"))
            if last_update.tzinfo is None:
                problems.append(FieldProblem(f"{where}.LastUpdateTime", "needs a time-zone offset"))
                last_update = None
        except ValueError:
            problems.append(FieldProblem(f"{where}.LastUpdateTime", f"{raw_time!r} is not a date-time"))
    fields: dict[str, Any] = {"comments": tuple(comments)}
    if site_name:
        fields["site_name"] = site_name
    traffic = _text(element.find("h:EmergencyDepartmentStatus/h:EMSTraffic/h:EMSTrafficStatus", ns))
    if traffic:
        fields["ems_traffic"] = traffic
    reason = _text(element.find("h:EmergencyDepartmentStatus/h:EMSTraffic/h:EMSTrafficReason", ns))
    if reason:
        fields["ems_traffic_reason"] = reason
    beds = []
    for n, bed in enumerate(element.findall("h:HospitalBedCapacityStatus/h:BedCapacity", ns)):
        path = f"{where}.BedCapacity[{n}]"
        capacity = bed.find("h:Capacity", ns)
        record: dict[str, Any] = {"bed_type": _text(bed.find("h:BedType", ns))}
        if capacity is not None:
            status = _text(capacity.find("h:CapacityStatus", ns))
            if status:
                record["status"] = status
            for key, tag in (
                ("available", "AvailableCount"),
                ("baseline", "BaselineCount"),
                ("additional_24h", "AdditionalCapacityCount24Hr"),
                ("additional_72h", "AdditionalCapacityCount72Hr"),
            ):
                count = _int(capacity.find(f"h:{tag}", ns), f"{path}.{tag}", problems)
                if count is not None:
                    record[key] = count
        record.setdefault("baseline", record.get("available") or 0)
        try:
            beds.append(BedCapacity.model_validate(record))
        except ValidationError as error:
            problems.extend(problems_from(error, prefix=path))
    fields["beds"] = tuple(beds)
    facility = element.find("h:HospitalFacilityStatus", ns)
    if facility is not None:
        for key, tag in (("clinical_status", "ClinicalStatus"), ("facility_status", "FacilityStatus")):
            value = _text(facility.find(f"h:{tag}", ns))
            if value:
                fields[key] = value
        decon = _text(facility.find("h:DeconCapacity/h:DeconCapacityStatus", ns))
        if decon:
            fields["decon_status"] = decon
    resources = element.find("h:HospitalResourcesStatus", ns)
    if resources is not None:
        for key, tag in (
            ("staffing", "Staffing"),
            ("facility_operations", "FacilityOperations"),
            ("clinical_operations", "ClinicalOperations"),
        ):
            value = _text(resources.find(f"h:{tag}", ns))
            if value:
                fields[key] = value
        for comment in resources.findall("h:CommentText", ns):
            text = _text(comment)
            if text and text.startswith("updated by "):
                fields["updated_by"] = text.removeprefix("updated by ")
    if not name and not identifier:
        problems.append(FieldProblem(f"{where}.Organization", "needs an OrganisationName or an Identifier"))
    return ParsedHospital(index, identifier, name or "", lat, lon, last_update, fields, problems)


def parse_have(root: etree._Element) -> list[ParsedHospital]:
    """Every Hospital of a HAVE document (bare or in EDXL-DE), each with its own problems."""
    hospitals: list[ParsedHospital] = []
    for status in hospital_status_elements(root):
        for element in status.findall(f"{{{HAVE_NS}}}Hospital"):
            hospitals.append(parse_hospital(len(hospitals), element))
    return hospitals
