"""CAP (Common Alerting Protocol) 1.2 and 1.1: reading alerts out of bare CAP, EDXL-DE 1.0/2.0
envelopes and Atom/RSS feeds, validating them, and writing CAP 1.2 and an Atom feed of our own.

CAP 1.2 alerts are validated against the OASIS schema (shipped in cop/data/standards). No CAP 1.1
schema is available here: a 1.1 alert is validated against the 1.2 schema after renaming its
namespace, with its one retired value ("Very Likely" certainty) read as "Likely" — the 1.2 schema
otherwise accepts every valid 1.1 alert. Each alert of a feed or envelope is judged on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

from lxml import etree

from cop.domain.errors import FieldProblem, InvalidInput
from cop.standards.xml import local, parse_xml

CAP12 = "urn:oasis:names:tc:emergency:cap:1.2"
CAP11 = "urn:oasis:names:tc:emergency:cap:1.1"
CAP_NAMESPACES = (CAP12, CAP11)
DE10 = "urn:oasis:names:tc:emergency:EDXL:DE:1.0"
DE20 = "urn:oasis:names:tc:emergency:EDXL:DE:2.0"
ATOM = "http://www.w3.org/2005/Atom"
OFFSET = re.compile(r"(Z|[+-]\d\d:\d\d)$")


@cache
def cap12_schema() -> etree.XMLSchema:
    path = resources.files("cop") / "data" / "standards" / "cap-1.2" / "CAP-v1.2.xsd"
    return etree.XMLSchema(etree.fromstring(path.read_bytes(), parser=etree.XMLParser(no_network=True)))


@dataclass
class Area:
    desc: str
    polygons: list[list[tuple[float, float]]] = field(default_factory=list)  # (lon, lat) rings
    circles: list[tuple[float, float, float]] = field(default_factory=list)  # lon, lat, radius km
    geocodes: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Info:
    language: str
    categories: list[str]
    event: str
    urgency: str
    severity: str
    certainty: str
    headline: str = ""
    description: str = ""
    instruction: str = ""
    effective: str | None = None
    onset: str | None = None
    expires: str | None = None
    sender_name: str = ""
    web: str = ""
    event_codes: list[tuple[str, str]] = field(default_factory=list)
    parameters: list[tuple[str, str]] = field(default_factory=list)
    areas: list[Area] = field(default_factory=list)


@dataclass
class CapAlert:
    version: str  # "1.2" or "1.1"
    identifier: str
    sender: str
    sent: str
    status: str
    msg_type: str
    scope: str
    references: list[tuple[str, str, str]] = field(default_factory=list)  # sender, identifier, sent
    note: str = ""
    incidents: str = ""
    infos: list[Info] = field(default_factory=list)


@dataclass
class Rejection:
    where: str  # "alert", "entry 3", "contentObject 2"
    identifier: str | None
    problems: list[FieldProblem]

    def as_dict(self) -> dict[str, Any]:
        return {
            "where": self.where,
            "identifier": self.identifier,
            "errors": [p.as_dict() for p in self.problems],
        }


@dataclass
class CapDocument:
    """What one document carried: valid alerts, refused ones (with why), links to fetch."""

    kind: str  # "cap", "edxl-de-1.0", "edxl-de-2.0", "atom", "rss"
    alerts: list[CapAlert] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    links: list[str] = field(default_factory=list)


# -- reading ------------------------------------------------------------------------------------------


def read_cap_document(data: bytes) -> CapDocument:
    """Every CAP alert a document carries. Raises InvalidInput when the document itself is refused
    (not XML, a DTD, not a CAP-carrying format); an invalid alert inside is reported, not raised."""
    root = parse_xml(data)
    name = etree.QName(root)
    if name.localname == "alert" and name.namespace in CAP_NAMESPACES:
        document = CapDocument("cap")
        _judge(document, root, "alert")
        if document.rejected:
            raise InvalidInput(document.rejected[0].problems)
        return document
    if name.localname == "alerts" and name.namespace in CAP_NAMESPACES:
        raise InvalidInput(
            [FieldProblem("body", "not a CAP document: an <alerts> wrapper is not CAP; send each <alert>")]
        )
    if name.namespace == DE10 and name.localname == "EDXLDistribution":
        document = CapDocument("edxl-de-1.0")
        _check_sent(root, DE10, "dateTimeSent")
        for index, content in enumerate(root.iterfind(f"{{{DE10}}}contentObject"), start=1):
            for alert in content.iterfind(f"{{{DE10}}}xmlContent/{{{DE10}}}embeddedXMLContent/*"):
                _judge(document, alert, f"contentObject {index}")
        return document
    if name.namespace == DE20 and name.localname == "edxlDistribution":
        document = CapDocument("edxl-de-2.0")
        _check_sent(root, DE20, "dateTimeSent")
        for index, embedded in enumerate(root.iter(f"{{{DE20}}}embeddedXMLContent"), start=1):
            for alert in embedded:
                if isinstance(alert.tag, str):
                    _judge(document, alert, f"content {index}")
        return document
    if name.namespace == ATOM and name.localname == "feed":
        document = CapDocument("atom")
        # An alert outside any entry is foreign markup to Atom, but it is still an alert: judge it.
        for alert in root:
            if isinstance(alert.tag, str) and local(alert.tag) == "alert":
                _judge(document, alert, "feed")
        for index, entry in enumerate(root.iterfind(f"{{{ATOM}}}entry"), start=1):
            embedded = [
                e
                for e in entry.iter()
                if isinstance(e.tag, str) and local(e.tag) == "alert" and e is not entry
            ]
            if embedded:
                for alert in embedded:
                    _judge(document, alert, f"entry {index}")
                continue
            for link in entry.iterfind(f"{{{ATOM}}}link"):
                href = link.get("href")
                kind = (link.get("type") or "").lower()
                if href and (not kind or "cap" in kind or "xml" in kind):
                    document.links.append(href.strip())
                    break
        return document
    if name.localname == "rss":
        document = CapDocument("rss")
        for item in root.iterfind("channel/item"):
            link = item.findtext("link")
            if link:
                document.links.append(link.strip())
        return document
    raise InvalidInput(
        [
            FieldProblem(
                "body", f"not a CAP alert, EDXL-DE envelope, Atom or RSS feed (root <{name.localname}>)"
            )
        ]
    )


def _check_sent(root: etree._Element, namespace: str, element: str) -> None:
    value = (root.findtext(f"{{{namespace}}}{element}") or "").strip()
    if not OFFSET.search(value):
        raise InvalidInput([FieldProblem(element, f"{value!r} has no time-zone offset")])


def _judge(document: CapDocument, element: etree._Element, where: str) -> None:
    """Validate one alert element; add it to the alerts or to the rejections."""
    identifier = _text(element, "identifier", _ns(element)) or None
    try:
        document.alerts.append(parse_alert(element))
    except InvalidInput as error:
        document.rejected.append(Rejection(where, identifier, error.problems))


def _ns(element: etree._Element) -> str:
    return etree.QName(element).namespace or ""


def parse_alert(element: etree._Element) -> CapAlert:
    """Validate a CAP 1.2 or 1.1 <alert> element and read it. Raises InvalidInput naming fields."""
    namespace = _ns(element)
    if local(element.tag) != "alert" or namespace not in CAP_NAMESPACES:
        raise InvalidInput(
            [
                FieldProblem(
                    "alert", f"not a CAP alert (<{local(element.tag)}> in {namespace or 'no namespace'})"
                )
            ]
        )
    candidate = _as_cap12(element) if namespace == CAP11 else element
    schema = cap12_schema()
    if not schema.validate(candidate):
        raise InvalidInput([_schema_problem(e) for e in schema.error_log][:5])
    ns = CAP12
    alert = CapAlert(
        version="1.1" if namespace == CAP11 else "1.2",
        identifier=_text(candidate, "identifier", ns),
        sender=_text(candidate, "sender", ns),
        sent=_text(candidate, "sent", ns),
        status=_text(candidate, "status", ns),
        msg_type=_text(candidate, "msgType", ns),
        scope=_text(candidate, "scope", ns),
        note=_text(candidate, "note", ns),
        incidents=_text(candidate, "incidents", ns),
        references=_references(_text(candidate, "references", ns)),
    )
    for info in candidate.iterfind(f"{{{ns}}}info"):
        alert.infos.append(_info(info, ns))
    return alert


def _as_cap12(element: etree._Element) -> etree._Element:
    """A copy of a CAP 1.1 alert in the 1.2 namespace, its retired values mapped."""
    copy = etree.fromstring(etree.tostring(element))
    for node in copy.iter():
        if isinstance(node.tag, str) and etree.QName(node).namespace == CAP11:
            node.tag = f"{{{CAP12}}}{etree.QName(node).localname}"
            if node.tag == f"{{{CAP12}}}certainty" and (node.text or "").strip() == "Very Likely":
                node.text = "Likely"
    etree.cleanup_namespaces(copy)
    return copy


NAMESPACE_IN_MESSAGE = re.compile(r"\{(?:urn|https?):[^}]*\}")
ELEMENT_IN_MESSAGE = re.compile(r"^Element '([^']+)'")


def _schema_problem(error: Any) -> FieldProblem:
    message = NAMESPACE_IN_MESSAGE.sub("", str(error.message))
    element = ELEMENT_IN_MESSAGE.match(message)
    name = element.group(1) if element else "alert"
    text = ELEMENT_IN_MESSAGE.sub("", message).lstrip(": ").strip()
    return FieldProblem(name, f"{text} (line {error.line})")


def _text(element: etree._Element, name: str, ns: str) -> str:
    return (element.findtext(f"{{{ns}}}{name}") or "").strip()


def _references(value: str) -> list[tuple[str, str, str]]:
    found = []
    for item in value.split():
        parts = item.split(",")
        if len(parts) == 3:
            found.append((parts[0], parts[1], parts[2]))
    return found


def _pairs(element: etree._Element, name: str, ns: str) -> list[tuple[str, str]]:
    return [(_text(e, "valueName", ns), _text(e, "value", ns)) for e in element.iterfind(f"{{{ns}}}{name}")]


def _info(info: etree._Element, ns: str) -> Info:
    # One pass over the children (the schema has already checked which may appear, and how often).
    texts: dict[str, str] = {}
    categories = []
    for child in info:
        if not isinstance(child.tag, str):
            continue
        name = child.tag[len(ns) + 2 :]
        if name == "category":
            categories.append((child.text or "").strip())
        elif name not in texts:
            texts[name] = (child.text or "").strip()
    result = Info(
        language=texts.get("language") or "en-US",
        categories=categories,
        event=texts.get("event", ""),
        urgency=texts.get("urgency", ""),
        severity=texts.get("severity", ""),
        certainty=texts.get("certainty", ""),
        headline=texts.get("headline", ""),
        description=texts.get("description", ""),
        instruction=texts.get("instruction", ""),
        effective=texts.get("effective") or None,
        onset=texts.get("onset") or None,
        expires=texts.get("expires") or None,
        sender_name=texts.get("senderName", ""),
        web=texts.get("web", ""),
        event_codes=_pairs(info, "eventCode", ns),
        parameters=_pairs(info, "parameter", ns),
    )
    for area in info.iterfind(f"{{{ns}}}area"):
        parsed = Area(desc=_text(area, "areaDesc", ns), geocodes=_pairs(area, "geocode", ns))
        for polygon in area.iterfind(f"{{{ns}}}polygon"):
            ring = _points(polygon.text or "")
            if ring:
                parsed.polygons.append(ring)
        for circle in area.iterfind(f"{{{ns}}}circle"):
            centre, _, radius = (circle.text or "").strip().partition(" ")
            points = _points(centre)
            try:
                if points:
                    parsed.circles.append((points[0][0], points[0][1], float(radius)))
            except ValueError:
                pass
        result.areas.append(parsed)
    return result


def _points(text: str) -> list[tuple[float, float]]:
    """CAP "lat,lon lat,lon …" as (lon, lat) pairs; [] if unreadable."""
    points = []
    for pair in text.split():
        lat, _, lon = pair.partition(",")
        try:
            points.append((float(lon), float(lat)))
        except ValueError:
            return []
    return points


# -- writing ------------------------------------------------------------------------------------------


def _el(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    node = etree.SubElement(parent, f"{{{CAP12}}}{name}")
    if text is not None:
        node.text = text
    return node


def cap_time(value: datetime) -> str:
    """CAP's dateTime: seconds and an explicit offset ("+00:00", never "Z")."""
    return value.isoformat(timespec="seconds")


def write_cap(alert: CapAlert) -> bytes:
    """A CAP 1.2 document (valid against the OASIS schema)."""
    root = etree.Element(f"{{{CAP12}}}alert", nsmap={None: CAP12})
    for name, value in (
        ("identifier", alert.identifier),
        ("sender", alert.sender),
        ("sent", alert.sent),
        ("status", alert.status),
        ("msgType", alert.msg_type),
        ("scope", alert.scope),
    ):
        _el(root, name, value)
    if alert.note:
        _el(root, "note", alert.note)
    if alert.references:
        _el(root, "references", " ".join(",".join(r) for r in alert.references))
    if alert.incidents:
        _el(root, "incidents", alert.incidents)
    for info in alert.infos:
        node = _el(root, "info")
        _el(node, "language", info.language)
        for category in info.categories:
            _el(node, "category", category)
        _el(node, "event", info.event)
        _el(node, "urgency", info.urgency)
        _el(node, "severity", info.severity)
        _el(node, "certainty", info.certainty)
        for name, value in info.event_codes:
            code = _el(node, "eventCode")
            _el(code, "valueName", name)
            _el(code, "value", value)
        for name, when in (("effective", info.effective), ("onset", info.onset), ("expires", info.expires)):
            if when:
                _el(node, name, when)
        for name, value in (
            ("senderName", info.sender_name),
            ("headline", info.headline),
            ("description", info.description),
            ("instruction", info.instruction),
            ("web", info.web),
        ):
            if value:
                _el(node, name, value)
        for name, value in info.parameters:
            parameter = _el(node, "parameter")
            _el(parameter, "valueName", name)
            _el(parameter, "value", value)
        for area in info.areas:
            area_node = _el(node, "area")
            _el(area_node, "areaDesc", area.desc)
            for ring in area.polygons:
                _el(area_node, "polygon", " ".join(f"{lat:.5f},{lon:.5f}" for lon, lat in ring))
            for lon, lat, radius in area.circles:
                _el(area_node, "circle", f"{lat:.5f},{lon:.5f} {radius:g}")
            for name, value in area.geocodes:
                geocode = _el(area_node, "geocode")
                _el(geocode, "valueName", name)
                _el(geocode, "value", value)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def write_atom(
    entries: list[tuple[CapAlert, str]], *, feed_id: str, title: str, updated: str, self_url: str
) -> bytes:
    """An Atom feed of published alerts: each entry links to its CAP document and embeds it."""
    nsmap = {None: ATOM}
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap=nsmap)
    etree.SubElement(feed, f"{{{ATOM}}}id").text = feed_id
    etree.SubElement(feed, f"{{{ATOM}}}title").text = title
    etree.SubElement(feed, f"{{{ATOM}}}updated").text = updated
    etree.SubElement(feed, f"{{{ATOM}}}link", href=self_url, rel="self")
    author = etree.SubElement(feed, f"{{{ATOM}}}author")
    etree.SubElement(author, f"{{{ATOM}}}name").text = "COP"
    for alert, url in entries:
        entry = etree.SubElement(feed, f"{{{ATOM}}}entry")
        etree.SubElement(entry, f"{{{ATOM}}}id").text = url
        info = alert.infos[0] if alert.infos else None
        etree.SubElement(entry, f"{{{ATOM}}}title").text = (
            (info.headline or info.event) if info else alert.identifier
        )
        etree.SubElement(entry, f"{{{ATOM}}}updated").text = alert.sent
        etree.SubElement(entry, f"{{{ATOM}}}link", href=url, rel="alternate", type="application/cap+xml")
        content = etree.SubElement(entry, f"{{{ATOM}}}content", type="application/cap+xml")
        content.append(etree.fromstring(write_cap(alert)))
    return bytes(etree.tostring(feed, xml_declaration=True, encoding="UTF-8", pretty_print=True))
