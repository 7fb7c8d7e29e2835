"""Safe XML parsing for everything that comes from outside: no DTDs, no entities, no network."""

from __future__ import annotations

from lxml import etree

from cop.domain.errors import FieldProblem, InvalidInput

MAX_XML_BYTES = 10 * 1024 * 1024


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,  # never expand entities (billion laughs, XXE)
        load_dtd=False,  # never fetch or read a DTD
        dtd_validation=False,
        no_network=True,  # never open a connection
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,  # drops xml-stylesheet and friends
    )


def parse_xml(data: bytes, *, max_bytes: int = MAX_XML_BYTES) -> etree._Element:
    """Parse untrusted XML; refuses DOCTYPEs outright. XInclude is never processed."""
    if len(data) > max_bytes:
        raise InvalidInput([FieldProblem("body", f"larger than {max_bytes} bytes")])
    head = data[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in head:
        raise InvalidInput([FieldProblem("body", "DTDs and entity declarations are not accepted")])
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as error:
        raise InvalidInput([FieldProblem("body", f"not well-formed XML ({error})")]) from None
    if root.getroottree().docinfo.doctype:
        raise InvalidInput([FieldProblem("body", "DTDs and entity declarations are not accepted")])
    return root


def local(tag: object) -> str:
    """An element's name without its namespace."""
    return etree.QName(tag).localname if isinstance(tag, str) else ""
