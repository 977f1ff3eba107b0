"""OOXML (docx, xlsx, pptx) rewritten at zip and XML level (CHATHAM_HOUSE.md §2.3).

Modelled on mat2's `libmat2/office.py` omit lists, widened for our purpose:
identity, not only metadata. The package is rebuilt from what is kept on
purpose (decision 1):

- Parts named or typed as identity carriers are omitted: custom properties,
  custom XML, thumbnails, comments of every generation (legacy, extended,
  threaded, PowerPoint's), people and persons lists, comment authors, notes
  slides (speaker notes name the presenter), printer settings, glossary,
  web settings, tags, embedded objects and fonts, macros, external links and
  data connections, shared-workbook revision logs, co-authoring change logs,
  document tasks, sensitivity labels (tenant ids), signatures.
- Non-XML parts survive only as images, re-encoded by `images.clean_image`.
- `docProps/core.xml` and `docProps/app.xml` are replaced by empty ones
  (creator, lastModifiedBy, dates, revision, Company, Manager, Application,
  Template, TotalTime: none kept).
- Tracked changes are accepted (insertions kept, deletions dropped, property
  changes dropped), which also drops every `w:author`/`w:date`; comment
  anchors, `w:rsid*`, paragraph ids, `w:nsid`, the attached template path,
  mail-merge sources, document variables, `x15ac:absPath`, shared-workbook
  user names and pivot-cache `refreshedBy` are removed.
- Relationships to omitted parts, and external relationships other than web
  and mail hyperlinks (templates, linked images that fetch from a member's
  server, file paths), are removed from the `.rels` parts, references to them
  from the XML parts, and omitted parts from `[Content_Types].xml`.

Everything left is returned with all of its text for the registry scan.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from urllib.parse import unquote

from lxml import etree

from filters.attachments.detect import FileKind, detect_type
from filters.attachments.images import clean_image
from filters.attachments.outcome import CleanedFile, Reason, Refused
from filters.attachments.xml_parts import (
    local_name,
    namespace_of,
    parse_xml,
    remove_keeping_tail,
    serialize,
    texts_of,
    unwrap,
)
from filters.attachments.zip_container import read_members, write_members

CONTENT_TYPES = "[Content_Types].xml"
_REL_ATTRIBUTE_NS = frozenset(
    {
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
        "http://purl.oclc.org/ooxml/officeDocument/relationships",
    }
)
_WORD_NS = frozenset(
    {
        "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
        "http://purl.oclc.org/ooxml/wordprocessingml/main",
    }
)
_CORE_TYPE = "application/vnd.openxmlformats-package.core-properties+xml"
_APP_TYPE = "application/vnd.openxmlformats-officedocument.extended-properties+xml"

_OMITTED_PATHS = re.compile(
    r"""^(?:
        docProps/custom\.xml$ | docProps/thumbnail\. | _xmlsignatures/ | docMetadata/
      | \[trash\]/
      | (?:.*/)?(?:
            customXml/ | people\.xml$ | persons/ | comments[^/]*\.xml$ | comments/
          | threadedComments/ | commentAuthors\.xml$ | authors\.xml$ | printerSettings/ | glossary/
          | webSettings\.xml$ | notesSlides/ | tags/ | embeddings/ | activeX/
          | vbaProject\.bin$ | vbaData\.xml$ | externalLinks/ | connections\.xml$
          | queryTables/ | revisions/ | revisionInfo\.xml$ | changesInfos/ | viewProps\.xml$
          | presProps\.xml$ | webextensions/ | fonts/ | customizations\.xml$
          | keyMapCustomizations\.xml$ | documenttasks/ | intelligence\d*\.xml$ | ink/
        )
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_OMITTED_CONTENT_TYPES = re.compile(
    r"""(?:comments | commentauthors | \.people | \.person | threadedcomment
      | custom-properties | customxmlproperties | digital-signature | printersettings
      | vbaproject | vbadata | notesslide | glossary | websettings | activex | oleobject
      | classificationlabels | documenttasks | revisionheaders | revisionlog | usernames
      | externallink | connections | querytable | webextension | taskpanes | changesinfo
      | revisioninfo | presentationml\.tags | viewprops | presprops | obfuscatedfont
      | fontdata | x-font | inkml | \.authors)""",
    re.IGNORECASE | re.VERBOSE,
)

# Main-part content types of macro-enabled files and templates → the plain
# document type, so that the rewritten package opens as .docx/.xlsx/.pptx.
_MAIN_TYPE_REWRITES = {
    "application/vnd.ms-word.document.macroEnabled.main+xml": "wordprocessingml.document.main+xml",
    "application/vnd.ms-word.template.macroEnabledTemplate.main+xml": (
        "wordprocessingml.document.main+xml"
    ),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml": (
        "wordprocessingml.document.main+xml"
    ),
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml": "spreadsheetml.sheet.main+xml",
    "application/vnd.ms-excel.template.macroEnabled.main+xml": "spreadsheetml.sheet.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml": (
        "spreadsheetml.sheet.main+xml"
    ),
    "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml": (
        "presentationml.presentation.main+xml"
    ),
    "application/vnd.ms-powerpoint.slideshow.macroEnabled.main+xml": (
        "presentationml.presentation.main+xml"
    ),
    "application/vnd.openxmlformats-officedocument.presentationml.slideshow.main+xml": (
        "presentationml.presentation.main+xml"
    ),
    "application/vnd.openxmlformats-officedocument.presentationml.template.main+xml": (
        "presentationml.presentation.main+xml"
    ),
    "application/vnd.ms-powerpoint.template.macroEnabled.main+xml": (
        "presentationml.presentation.main+xml"
    ),
}
_OOXML_TYPE_PREFIX = "application/vnd.openxmlformats-officedocument."

# External relationships kept: hyperlinks to the web or to a mail address.
# Everything else external (attached templates, linked images and objects,
# frames, sub-documents, mail-merge sources) fetches from or names a path.
_KEPT_EXTERNAL_SCHEMES = ("http://", "https://", "mailto:", "ftp://")

# Elements whose only purpose is to point at a relationship: removed whole when
# it is gone. Other elements only lose the dangling attribute.
_REFERENCE_ELEMENTS = frozenset(
    {
        "attachedTemplate", "legacyDrawing", "legacyDrawingHF", "externalReference", "tags",
        "altChunk", "subDoc", "OLEObject", "oleObject", "control", "custData", "embedRegular",
        "embedBold", "embedItalic", "embedBoldItalic", "regular", "bold", "italic",
        "boldItalic", "printerSettings", "dataSource", "headerSource", "recipientData",
        "commentRel", "webExtension", "contentPart", "sourceReference", "odso",
    }
)  # fmt: skip
# Containers dropped when the removals above leave them empty.
_EMPTY_CONTAINERS = frozenset(
    {
        "externalReferences", "custDataLst", "embeddedFontLst", "controls", "oleObjects",
        "AlternateContent", "Choice", "Fallback", "ext", "extLst", "docVars", "tagLst",
    }
)  # fmt: skip

# Tracked changes (ECMA-376 part 1 §17.13.5): deletions and property changes go
# with their content, insertions are unwrapped (accepted).
_REVISION_REMOVED = frozenset(
    {
        "del", "moveFrom", "rPrChange", "pPrChange", "sectPrChange", "tblPrChange",
        "trPrChange", "tcPrChange", "tblGridChange", "numberingChange", "cellDel",
        "cellMerge", "cellIns", "moveFromRangeStart", "moveFromRangeEnd", "moveToRangeStart",
        "moveToRangeEnd", "customXmlDelRangeStart", "customXmlDelRangeEnd",
        "customXmlInsRangeStart", "customXmlInsRangeEnd", "customXmlMoveFromRangeStart",
        "customXmlMoveFromRangeEnd", "customXmlMoveToRangeStart", "customXmlMoveToRangeEnd",
        "delText", "delInstrText", "commentRangeStart", "commentRangeEnd", "commentReference",
        "annotationRef", "rsids", "nsid", "attachedTemplate", "mailMerge", "docVars",
        "docId", "saveThroughXslt", "trackRevisions", "dataBinding",
    }
)  # fmt: skip
_REVISION_ACCEPTED = frozenset({"ins", "moveTo"})

# Elements in any OOXML part that record who or where: the workbook's absolute
# path (x15ac:absPath), shared-workbook reservation (fileSharing userName),
# revision pointers, PowerPoint slide creation ids.
_IDENTITY_ELEMENTS = frozenset({"absPath", "revisionPtr", "fileSharing", "creationId", "docId"})
# Attributes, by local name in any namespace, that name a person, a time of
# editing, an editing session or an application build.
_IDENTITY_ATTRIBUTES = frozenset(
    {
        "author", "initials", "date", "dateUtc", "userId", "providerId", "userName",
        "refreshedBy", "refreshedDate", "refreshedDateIso", "lastEdited", "lowestEdited",
        "rupBuild", "paraId", "textId", "durableId", "gfxdata", "uid", "docId",
    }
)  # fmt: skip
_LOCAL_PATH = re.compile(r"^(?:file:|[A-Za-z]:[\\/]|\\\\|/(?:home|Users)/)", re.IGNORECASE)


@dataclass
class _Package:
    content_types: dict[str, str]  # casefolded part name → content type
    omitted: set[str]  # casefolded names of what is gone


def clean_ooxml(data: bytes) -> CleanedFile:
    members = read_members(data)
    if CONTENT_TYPES not in members:
        raise Refused(Reason.FAILED, "no [Content_Types].xml")
    types_root = parse_xml(members[CONTENT_TYPES])
    package = _Package(content_types=_override_types(types_root), omitted=set())
    trees: dict[str, etree._Element] = {}
    images: dict[str, bytes] = {}
    for name, content in members.items():
        if name == CONTENT_TYPES:
            continue
        part_type = package.content_types.get(name.casefold(), "")
        if _OMITTED_PATHS.search(name) or _OMITTED_CONTENT_TYPES.search(part_type):
            package.omitted.add(name.casefold())
        elif part_type == _CORE_TYPE or name.lower() == "docprops/core.xml":
            trees[name] = _empty_core()
        elif part_type == _APP_TYPE or name.lower() == "docprops/app.xml":
            trees[name] = _empty_app()
        elif name.lower().endswith((".xml", ".rels", ".vml")):
            try:
                trees[name] = parse_xml(content)
            except Refused:
                if not name.lower().endswith(".vml"):
                    raise
                # Legacy VML drawings (comment boxes, form controls) are not always
                # well-formed; the document opens without them.
                package.omitted.add(name.casefold())
        else:
            cleaned_image = _cleaned_media(content)
            if cleaned_image is None:
                package.omitted.add(name.casefold())
            else:
                images[name] = cleaned_image
    # A part's relationships go with it.
    for name in list(trees):
        if name.endswith(".rels") and _source_of_rels(name).casefold() in package.omitted:
            del trees[name]
            package.omitted.add(name.casefold())

    dead_ids = _clean_relationships(trees, package)
    _require_main_part(trees)
    texts: list[str] = []
    for name, root in trees.items():
        if not name.endswith(".rels"):
            _clean_part(root, dead_ids.get(name, set()))
        texts.append(name)
        texts.extend(texts_of(root))
    _clean_content_types(types_root, package)
    texts.extend(texts_of(types_root))
    texts.extend(images)

    parts: dict[str, bytes] = {name: serialize(root) for name, root in trees.items()}
    parts.update(images)
    ordered = [(CONTENT_TYPES, serialize(types_root))]
    ordered += sorted(parts.items())
    return CleanedFile(data=write_members(ordered, stored=frozenset()), texts=tuple(texts))


def _cleaned_media(content: bytes) -> bytes | None:
    detected = detect_type(content)
    if detected.kind not in (FileKind.JPEG, FileKind.PNG, FileKind.GIF):
        return None  # EMF/WMF/TIFF/SVG/video: metadata we cannot rewrite
    try:
        return clean_image(content, detected.kind).data
    except Refused:
        return None


def _override_types(types_root: etree._Element) -> dict[str, str]:
    types: dict[str, str] = {}
    for element in types_root:
        if local_name(element.tag) == "Override":
            part = element.get("PartName", "").lstrip("/")
            types[part.casefold()] = element.get("ContentType", "")
            types[unquote(part).casefold()] = element.get("ContentType", "")
    return types


def _empty_core() -> etree._Element:
    cp = "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
    return etree.Element(
        f"{{{cp}}}coreProperties",
        nsmap={
            "cp": cp,
            "dc": "http://purl.org/dc/elements/1.1/",
            "dcterms": "http://purl.org/dc/terms/",
            "dcmitype": "http://purl.org/dc/dcmitype/",
            "xsi": "http://www.w3.org/2001/XMLSchema-instance",
        },
    )


def _empty_app() -> etree._Element:
    ep = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
    vt = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
    return etree.Element(f"{{{ep}}}Properties", nsmap={None: ep, "vt": vt})


def _source_of_rels(rels_name: str) -> str:
    """`word/_rels/document.xml.rels` → `word/document.xml`; `_rels/.rels` → ''."""
    folder, base = posixpath.split(rels_name)
    owner_folder = posixpath.dirname(folder)
    source = base[: -len(".rels")]
    return posixpath.join(owner_folder, source) if source else ""


def _resolve_target(source: str, target: str) -> str:
    """A relationship target as a zip name (ECMA-376 part 2 §9.3), '' for a fragment."""
    target = target.split("#", 1)[0]
    if not target:
        return ""
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


def _clean_relationships(
    trees: dict[str, etree._Element], package: _Package
) -> dict[str, set[str]]:
    """Remove relationships to omitted parts and unsafe external ones.

    Returns, per source part, the ids that no longer exist.
    """
    dead: dict[str, set[str]] = {}
    for name, root in trees.items():
        if not name.endswith(".rels"):
            continue
        source = _source_of_rels(name)
        for relationship in list(root):
            if local_name(relationship.tag) != "Relationship":
                root.remove(relationship)
                continue
            target = relationship.get("Target", "")
            if relationship.get("TargetMode", "").lower() == "external":
                keep = relationship.get("Type", "").endswith(
                    "/hyperlink"
                ) and target.lower().startswith(_KEPT_EXTERNAL_SCHEMES)
            else:
                resolved = _resolve_target(source, target)
                keep = not resolved or (
                    resolved.casefold() not in package.omitted
                    and unquote(resolved).casefold() not in package.omitted
                )
            if not keep:
                dead.setdefault(source, set()).add(relationship.get("Id", ""))
                root.remove(relationship)
    return dead


def _require_main_part(trees: dict[str, etree._Element]) -> None:
    """The package's officeDocument part must have survived as XML (not .xlsb, …)."""
    root_rels = trees.get("_rels/.rels")
    if root_rels is None:
        raise Refused(Reason.FAILED, "no package relationships")
    kept = {name.casefold() for name in trees}
    for relationship in root_rels:
        if relationship.get("Type", "").endswith("/officeDocument"):
            target = _resolve_target("", relationship.get("Target", ""))
            if target.casefold() in kept or unquote(target).casefold() in kept:
                return
    raise Refused(Reason.UNSUPPORTED, "no XML main document part")


def _clean_part(root: etree._Element, dead_ids: set[str]) -> None:
    _remove_dead_references(root, dead_ids)
    word = any(namespace_of(element.tag) in _WORD_NS for element in root.iter())
    if word:
        _accept_revisions(root)
    for element in list(root.iter()):
        name = local_name(element.tag)
        if name in _IDENTITY_ELEMENTS:
            remove_keeping_tail(element)
            continue
        if name == "shape" and _is_vml_note(element):
            remove_keeping_tail(element)  # an Excel comment box in a VML drawing
            continue
        for attribute in list(element.attrib):
            attribute_name = local_name(attribute)
            if (
                attribute_name in _IDENTITY_ATTRIBUTES
                or attribute_name.startswith("rsid")
                or _LOCAL_PATH.match(element.attrib[attribute])
            ):
                del element.attrib[attribute]
    _drop_empty_containers(root)


def _remove_dead_references(root: etree._Element, dead_ids: set[str]) -> None:
    if not dead_ids:
        return
    for element in list(root.iter()):
        for attribute, value in list(element.attrib.items()):
            is_reference = namespace_of(attribute) in _REL_ATTRIBUTE_NS or (
                local_name(attribute) == "relid"
            )
            if not is_reference or value not in dead_ids:
                continue
            if local_name(element.tag) in _REFERENCE_ELEMENTS and element is not root:
                remove_keeping_tail(element)
                break
            del element.attrib[attribute]


def _accept_revisions(root: etree._Element) -> None:
    elements = [e for e in root.iter() if namespace_of(e.tag) in _WORD_NS]
    for element in elements:
        name = local_name(element.tag)
        if name == "del" and local_name(getattr(element.getparent(), "tag", "")) == "trPr":
            row = element.getparent().getparent()  # a deleted table row: w:tr/w:trPr/w:del
            if row is not None and row.getparent() is not None:
                row.getparent().remove(row)
                continue
        if name in _REVISION_REMOVED:
            remove_keeping_tail(element)
    for element in elements:
        if local_name(element.tag) in _REVISION_ACCEPTED and element.getparent() is not None:
            unwrap(element)


def _is_vml_note(shape: etree._Element) -> bool:
    return any(
        local_name(child.tag) == "ClientData" and child.get("ObjectType") == "Note"
        for child in shape
    )


def _drop_empty_containers(root: etree._Element) -> None:
    changed = True
    while changed:
        changed = False
        for element in list(root.iter()):
            if element is root or element.getparent() is None:
                continue
            if _is_empty_container(element):
                remove_keeping_tail(element)
                changed = True


def _is_empty_container(element: etree._Element) -> bool:
    name = local_name(element.tag)
    if name == "embeddedFont":  # a font entry whose embedded files are gone
        return not any(
            local_name(child.tag) in ("regular", "bold", "italic", "boldItalic")
            for child in element
        )
    if name == "ext" and "uri" not in element.attrib:
        return False  # DrawingML a:ext is an extent (cx, cy), not an extension
    return name in _EMPTY_CONTAINERS and len(element) == 0 and not (element.text or "").strip()


def _clean_content_types(types_root: etree._Element, package: _Package) -> None:
    for element in list(types_root):
        kind = local_name(element.tag)
        if kind not in ("Override", "Default"):
            types_root.remove(element)
            continue
        if kind != "Override":
            continue
        part = element.get("PartName", "").lstrip("/")
        if part.casefold() in package.omitted or unquote(part).casefold() in package.omitted:
            types_root.remove(element)
            continue
        rewritten = _MAIN_TYPE_REWRITES.get(element.get("ContentType", ""))
        if rewritten:
            element.set("ContentType", _OOXML_TYPE_PREFIX + rewritten)
