"""OpenDocument (odt, ods, odp, odg) rewritten at zip and XML level (§2.3).

Modelled on mat2's LibreOffice parser, widened:

- `meta.xml` (initial creator, creator, generator, dates, editing cycles and
  duration, user-defined fields, printed-by) is replaced by an empty one.
- `settings.xml` (printer name and the base64 printer set-up, window layout,
  configuration keys that fingerprint the installation), `Thumbnails/`,
  `Configurations2/`, `layout-cache`, `ObjectReplacements/`, macros and
  signatures under `META-INF/` are omitted; the manifest is updated.
- In `content.xml` and `styles.xml` (and those of embedded objects): comments
  (`office:annotation`, with their `dc:creator`/`dc:date`), tracked changes
  (`text:tracked-changes`, `office:change-info`, change marks; insertions
  stay, deletions go), fields that print the author, sender or printer, and
  LibreOffice's `officeooo:rsid` session ids are removed; links to local files
  lose their target.
- Pictures are re-encoded by `images.clean_image`; other binary members go.
- `mimetype` stays the first member, stored uncompressed (ODF 1.3 part 2 §3.3).
"""

from __future__ import annotations

import re

from lxml import etree

from filters.attachments.detect import ODF_TYPES, FileKind, detect_type
from filters.attachments.images import clean_image
from filters.attachments.outcome import CleanedFile, Reason, Refused
from filters.attachments.xml_parts import (
    local_name,
    namespace_of,
    parse_xml,
    remove_keeping_tail,
    serialize,
    texts_of,
)
from filters.attachments.zip_container import read_members, write_members

_OFFICE_NS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_MANIFEST_NS = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
_DC_NS = "http://purl.org/dc/elements/1.1/"
_OOO_NS = "http://openoffice.org/2009/office"
_XLINK_NS = "http://www.w3.org/1999/xlink"
MANIFEST = "META-INF/manifest.xml"

_OMITTED_PATHS = re.compile(
    r"""^(?: Thumbnails/ | Configurations2/ | layout-cache$ | ObjectReplacements/ | Basic/
      | Scripts/ | META-INF/(?!manifest\.xml$) | (?:.*/)?settings\.xml$ )""",
    re.IGNORECASE | re.VERBOSE,
)

_REMOVED_ELEMENTS = frozenset(
    {
        (_OFFICE_NS, "annotation"),
        (_OFFICE_NS, "annotation-end"),
        (_OFFICE_NS, "change-info"),
        (_TEXT_NS, "tracked-changes"),
        (_TABLE_NS, "tracked-changes"),
        (_TEXT_NS, "change"),
        (_TEXT_NS, "change-start"),
        (_TEXT_NS, "change-end"),
        (_DC_NS, "creator"),
        (_DC_NS, "date"),
        # Fields that print document metadata about people and editing sessions
        # (ODF 1.3 part 3 §7.3.6, §7.5).
        (_TEXT_NS, "author-name"),
        (_TEXT_NS, "author-initials"),
        (_TEXT_NS, "initial-creator"),
        (_TEXT_NS, "creator"),
        (_TEXT_NS, "printed-by"),
        (_TEXT_NS, "user-defined"),
        (_TEXT_NS, "creation-date"),
        (_TEXT_NS, "creation-time"),
        (_TEXT_NS, "modification-date"),
        (_TEXT_NS, "modification-time"),
        (_TEXT_NS, "print-date"),
        (_TEXT_NS, "print-time"),
        (_TEXT_NS, "editing-cycles"),
        (_TEXT_NS, "editing-duration"),
    }
)
_LOCAL_PATH = re.compile(r"^(?:file:|[A-Za-z]:[\\/]|\\\\|/(?:home|Users)/)", re.IGNORECASE)
_RSID_ATTRIBUTES = ("rsid", "paragraph-rsid")
_ODF_VERSION = re.compile(r"^\d\.\d$")


def clean_odf(data: bytes, kind: FileKind) -> CleanedFile:
    members = read_members(data)
    if "mimetype" not in members:
        raise Refused(Reason.FAILED, "no mimetype member")
    trees: dict[str, etree._Element] = {}
    if MANIFEST in members:
        trees[MANIFEST] = parse_xml(members[MANIFEST])
        if any(local_name(e.tag) == "encryption-data" for e in trees[MANIFEST].iter()):
            raise Refused(Reason.ENCRYPTED)
    images: dict[str, bytes] = {}
    for name, content in members.items():
        if name in ("mimetype", MANIFEST) or _OMITTED_PATHS.search(name):
            continue
        lowered = name.lower()
        if lowered == "meta.xml" or lowered.endswith("/meta.xml"):
            trees[name] = _empty_meta(content)
        elif lowered.endswith((".xml", ".rdf")):
            root = parse_xml(content)
            _clean_part(root)
            trees[name] = root
        else:
            cleaned_image = _cleaned_picture(content)
            if cleaned_image is not None:
                images[name] = cleaned_image
    media_type = ODF_TYPES[kind]
    if MANIFEST in trees:
        _clean_manifest(trees[MANIFEST], kept={*trees, *images}, media_type=media_type)

    texts: list[str] = []
    for name, root in trees.items():
        texts.append(name)
        texts.extend(texts_of(root))
    texts.extend(images)
    parts = {name: serialize(root, standalone=None) for name, root in trees.items()}
    parts.update(images)
    ordered = [("mimetype", media_type.encode("ascii")), *sorted(parts.items())]
    return CleanedFile(
        data=write_members(ordered, stored=frozenset({"mimetype"})), texts=tuple(texts)
    )


def _cleaned_picture(content: bytes) -> bytes | None:
    detected = detect_type(content)
    if detected.kind not in (FileKind.JPEG, FileKind.PNG, FileKind.GIF):
        return None  # SVM/EMF/WMF/SVG/TIFF previews and media: not rewritable
    try:
        return clean_image(content, detected.kind).data
    except Refused:
        return None


def _empty_meta(original: bytes) -> etree._Element:
    version = "1.3"
    try:
        found = parse_xml(original).get(f"{{{_OFFICE_NS}}}version", "")
    except Refused:
        found = ""
    if _ODF_VERSION.match(found):
        version = found
    root = etree.Element(f"{{{_OFFICE_NS}}}document-meta", nsmap={"office": _OFFICE_NS})
    root.set(f"{{{_OFFICE_NS}}}version", version)
    etree.SubElement(root, f"{{{_OFFICE_NS}}}meta")
    return root


def _clean_part(root: etree._Element) -> None:
    for element in list(root.iter()):
        if (namespace_of(element.tag), local_name(element.tag)) in _REMOVED_ELEMENTS:
            remove_keeping_tail(element)
            continue
        for attribute, value in list(element.attrib.items()):
            namespace = namespace_of(attribute)
            session_id = namespace == _OOO_NS and local_name(attribute) in _RSID_ATTRIBUTES
            if session_id or (namespace == _XLINK_NS and _LOCAL_PATH.match(value)):
                del element.attrib[attribute]


def _clean_manifest(root: etree._Element, *, kept: set[str], media_type: str) -> None:
    for entry in list(root):
        if local_name(entry.tag) != "file-entry":
            continue
        path = entry.get(f"{{{_MANIFEST_NS}}}full-path", "")
        if path == "/":
            entry.set(f"{{{_MANIFEST_NS}}}media-type", media_type)
            continue
        present = path in kept or (path.endswith("/") and any(n.startswith(path) for n in kept))
        if not present:
            root.remove(entry)
