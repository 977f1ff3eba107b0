"""Parsing XML parts of office documents safely, and reading all their text.

The parser never fetches anything, never expands entities and refuses any
document type declaration (OOXML and ODF parts have none; a DTD in an
attachment is an XXE or billion-laughs attempt). Comments and processing
instructions are dropped while parsing: both can carry text no reader sees.

`texts_of` returns what the registry scan reads: the character data joined
with nothing (a name split over runs, "Mül</w:t><w:t>ler", is whole again),
joined with spaces (two paragraphs "Alice" / "Müller" stay two words), and
every attribute value (sheet names, hyperlink targets, alt texts).
"""

from __future__ import annotations

from lxml import etree

from filters.attachments.limits import MAX_XML_PART
from filters.attachments.outcome import Reason, Refused


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


def parse_xml(data: bytes) -> etree._Element:
    """The root element of `data`; Refused when it is not plain, safe XML."""
    if len(data) > MAX_XML_PART:
        raise Refused(Reason.TOO_LARGE, "XML part")
    try:
        tree = etree.ElementTree(etree.fromstring(data, _parser()))
    except (etree.XMLSyntaxError, ValueError) as error:
        raise Refused(Reason.FAILED, "malformed XML part") from error
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise Refused(Reason.FAILED, "XML part with a document type declaration")
    return tree.getroot()


def serialize(root: etree._Element, *, standalone: bool | None = True) -> bytes:
    """UTF-8 with an XML declaration, as Office and LibreOffice write their parts."""
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=standalone)


def texts_of(root: etree._Element) -> list[str]:
    pieces = [piece for piece in root.itertext() if isinstance(piece, str)]
    attributes = [str(value) for element in root.iter() for value in element.attrib.values()]
    return ["".join(pieces), " ".join(pieces), "\n".join(attributes)]


def local_name(tag: object) -> str:
    """`w:author` → `author`; comments and other non-elements give ''."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def namespace_of(tag: object) -> str:
    if not isinstance(tag, str) or not tag.startswith("{"):
        return ""
    return tag[1:].split("}", 1)[0]


def remove_keeping_tail(element: etree._Element) -> None:
    """Remove `element` and its content; the text after it stays in the document."""
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail
    if tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


def unwrap(element: etree._Element) -> None:
    """Replace `element` by its children (accepting a tracked insertion)."""
    parent = element.getparent()
    if parent is None:
        return
    index = parent.index(element)
    if element.text:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.text
        else:
            parent.text = (parent.text or "") + element.text
    children = list(element)
    for offset, child in enumerate(children):
        parent.insert(index + offset, child)
    tail = element.tail
    parent.remove(element)
    if tail:
        if children:
            children[-1].tail = (children[-1].tail or "") + tail
        else:
            previous = parent[index - 1] if index > 0 else None
            if previous is not None:
                previous.tail = (previous.tail or "") + tail
            else:
                parent.text = (parent.text or "") + tail
