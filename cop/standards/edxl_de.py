"""EDXL-DE 1.0 envelopes: wrap our payloads, and unwrap the XML payloads of incoming ones."""

from __future__ import annotations

import uuid
from datetime import datetime

from lxml import etree

DE_NS = "urn:oasis:names:tc:emergency:EDXL:DE:1.0"


def _sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{DE_NS}}}{name}")
    if text is not None:
        element.text = text
    return element


def wrap(
    payloads: list[etree._Element],
    *,
    sender: str,
    sent_at: datetime,
    exercise: bool,
    description: str,
    distribution_id: str | None = None,
) -> etree._Element:
    """An EDXLDistribution carrying each payload as embedded XML content."""
    root = etree.Element(f"{{{DE_NS}}}EDXLDistribution", nsmap={None: DE_NS})
    _sub(root, "distributionID", distribution_id or f"cop-{uuid.uuid4()}")
    _sub(root, "senderID", sender)
    _sub(root, "dateTimeSent", sent_at.isoformat(timespec="seconds"))
    _sub(root, "distributionStatus", "Exercise" if exercise else "Actual")
    _sub(root, "distributionType", "Report")
    _sub(root, "combinedConfidentiality", "UNCLASSIFIED AND NOT SENSITIVE")
    for payload in payloads:
        content = _sub(root, "contentObject")
        _sub(content, "contentDescription", description)
        xml = _sub(content, "xmlContent")
        _sub(xml, "embeddedXMLContent").append(payload)
    return root


def is_distribution(root: etree._Element) -> bool:
    name = etree.QName(root)
    return bool(name.namespace == DE_NS and name.localname == "EDXLDistribution")


def payloads(root: etree._Element) -> list[etree._Element]:
    """Every element carried as keyXMLContent or embeddedXMLContent, in document order."""
    found: list[etree._Element] = []
    for content in root.iterfind(f"{{{DE_NS}}}contentObject/{{{DE_NS}}}xmlContent/*"):
        found.extend(child for child in content if isinstance(child.tag, str))
    return found
