"""OOXML cleaning (CHATHAM_HOUSE.md section 6, cases 36, 37, 38) and zip bombs."""

from __future__ import annotations

import io
import posixpath
import time
import zipfile

import pytest
from lxml import etree

from filters.attachments import CleanedAttachment, clean_attachment
from filters.flags import FlagKind
from tests.filters.test_attachments_samples import (
    build_zip,
    identity_docx,
    identity_pptx,
    identity_xlsx,
    leaks,
    matcher,
    zip_members,
)

CONTENT_HIT = "[attachment-1 removed from the archive: names a participant or organisation]"


def clean(data: bytes, declared: str = "application/octet-stream") -> CleanedAttachment:
    return clean_attachment(data, declared, matcher(), where="attachment-1")


def assert_valid_package(data: bytes) -> dict[str, bytes]:
    """A zip whose XML parts parse, whose content types and relationships name only parts
    that exist, with fixed timestamps and no comments."""
    members = zip_members(data)
    names = set(members)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        assert archive.comment == b""
        for info in archive.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.comment == b""
            assert info.extra == b""
    assert next(iter(members)) == "[Content_Types].xml"
    for name, content in members.items():
        if name.endswith((".xml", ".rels", ".vml")):
            etree.fromstring(content)
    types = etree.fromstring(members["[Content_Types].xml"])
    for override in types:
        if override.tag.endswith("Override"):
            assert override.get("PartName").lstrip("/") in names, override.get("PartName")
    for name, content in members.items():
        if not name.endswith(".rels"):
            continue
        owner = posixpath.dirname(posixpath.dirname(name))
        for relationship in etree.fromstring(content):
            if relationship.get("TargetMode") == "External":
                assert relationship.get("Target").startswith(("http", "mailto:"))
                continue
            target = relationship.get("Target")
            if target.startswith("/"):  # relative to the package root
                target = target[1:]
            else:
                target = posixpath.normpath(posixpath.join(owner, target))
            assert target in names, (name, target)
    return members


def xml_attribute_names(members: dict[str, bytes]) -> set[str]:
    names = set()
    for name, content in members.items():
        if name.endswith((".xml", ".rels", ".vml")):
            for element in etree.fromstring(content).iter():
                names |= {etree.QName(attribute).localname for attribute in element.attrib}
    return names


def test_docx_loses_properties_comments_revisions_people_and_thumbnail() -> None:
    """Case 36."""
    result = clean(identity_docx())
    assert result.data is not None
    assert result.extension == "docx"
    assert not leaks(result.data)
    members = assert_valid_package(result.data)
    for gone in (
        "docProps/custom.xml",
        "docProps/thumbnail.jpeg",
        "word/comments.xml",
        "word/commentsExtended.xml",
        "word/people.xml",
        "word/webSettings.xml",
        "customXml/item1.xml",
        "customXml/itemProps1.xml",
    ):
        assert gone not in members
    assert len(etree.fromstring(members["docProps/core.xml"])) == 0
    assert len(etree.fromstring(members["docProps/app.xml"])) == 0
    attributes = xml_attribute_names(members)
    assert not {"author", "initials", "date", "paraId"} & attributes
    assert not any(attribute.startswith("rsid") for attribute in attributes)
    document = members["word/document.xml"].decode()
    assert "inserted text" in document  # insertions accepted
    assert "removed sentence" not in document  # deletions dropped
    assert "commentReference" not in document
    assert "commentRange" not in document
    assert "rPrChange" not in document
    settings = members["word/settings.xml"].decode()
    for gone in ("rsids", "attachedTemplate", "docVars", "docId", "trackRevisions"):
        assert gone not in settings
    for needle in (b"2024-09-03", b"16.0000", b"OA.dotm", b"Users/", b"1A2B3C4D"):
        assert all(needle not in content for content in members.values()), needle
    assert b"Exif" not in members["word/media/image1.jpeg"]


def test_cleaned_docx_opens_in_python_docx() -> None:
    docx = pytest.importorskip("docx")
    result = clean(identity_docx())
    assert result.data is not None
    document = docx.Document(io.BytesIO(result.data))
    text = [paragraph.text for paragraph in document.paragraphs]
    assert text[:2] == [
        "The phishing wave used inserted text see the advisory",
        "Indicators: 203.0.113.7",
    ]
    assert document.core_properties.author == ""
    assert document.sections[0].footer.paragraphs[0].text == "Page 1"


def test_docx_footer_naming_an_organisation_is_left_out() -> None:
    """Case 37: content, not metadata, so the whole document is held back."""
    result = clean(identity_docx(footer_text="Operator A – intern"))
    assert result.data is None
    assert result.placeholder == CONTENT_HIT
    assert [flag.kind for flag in result.flags] == [FlagKind.ATTACHMENT_CONTENT_HIT]
    assert result.extension == "docx"


def test_name_split_across_runs_is_found() -> None:
    split = "Pa</w:t></w:r><w:r><w:t>ge 1 by Mül</w:t></w:r><w:r><w:t>ler"
    result = clean(identity_docx(footer_text=split))
    assert result.placeholder == CONTENT_HIT


def test_xlsx_loses_threaded_comments_persons_notes_and_paths() -> None:
    """Case 38 (spreadsheet)."""
    result = clean(identity_xlsx())
    assert result.data is not None
    assert result.extension == "xlsx"
    assert not leaks(result.data)
    members = assert_valid_package(result.data)
    assert not any(
        name.startswith(("xl/threadedComments/", "xl/persons/")) or name == "xl/comments1.xml"
        for name in members
    )
    workbook = members["xl/workbook.xml"].decode()
    for gone in ("absPath", "fileSharing", "revisionPtr", "lastEdited", "rupBuild"):
        assert gone not in workbook
    assert "ClientData" not in members["xl/drawings/vmlDrawing1.vml"].decode()
    assert "uid" not in xml_attribute_names(members)


def test_cleaned_xlsx_opens_in_openpyxl() -> None:
    openpyxl = pytest.importorskip("openpyxl")
    result = clean(identity_xlsx())
    assert result.data is not None
    sheet = openpyxl.load_workbook(io.BytesIO(result.data)).active
    assert (sheet["A1"].value, sheet["B1"].value) == ("indicator", "203.0.113.7")
    assert sheet["A1"].comment is None


def test_pptx_loses_speaker_notes_comments_and_comment_authors() -> None:
    """Case 38 (presentation): the notes name the presenter."""
    result = clean(identity_pptx())
    assert result.data is not None
    assert result.extension == "pptx"
    assert not leaks(result.data)
    members = assert_valid_package(result.data)
    assert not any(
        name.startswith(("ppt/notesSlides/", "ppt/comments/")) or name == "ppt/commentAuthors.xml"
        for name in members
    )
    slide = members["ppt/slides/slide1.xml"].decode()
    assert "Threat briefing" in slide
    assert "creationId" not in slide
    assert "extLst" not in slide


def test_cleaned_pptx_opens_in_python_pptx() -> None:
    pptx = pytest.importorskip("pptx")
    result = clean(identity_pptx())
    assert result.data is not None
    presentation = pptx.Presentation(io.BytesIO(result.data))
    slide = presentation.slides[0]
    assert [shape.text for shape in slide.shapes] == ["Threat briefing"]
    assert not slide.has_notes_slide


@pytest.mark.parametrize("sample", [identity_docx, identity_xlsx, identity_pptx])
def test_cleaning_ooxml_twice_gives_the_same_bytes(sample: object) -> None:
    assert callable(sample)
    first = clean(sample())
    assert first.data is not None
    assert clean(first.data).data == first.data


def test_macro_enabled_document_becomes_a_plain_docx_without_its_macros() -> None:
    members = zip_members(identity_docx())
    types = (
        members["[Content_Types].xml"]
        .decode()
        .replace(
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
            "application/vnd.ms-word.document.macroEnabled.main+xml",
        )
    )
    members["[Content_Types].xml"] = types.encode()
    members["word/vbaProject.bin"] = b"\xd0\xcf\x11\xe0 Attribute VB_Name = Alice"
    result = clean(build_zip(members))
    assert result.data is not None
    cleaned = assert_valid_package(result.data)
    assert "word/vbaProject.bin" not in cleaned
    assert b"macroEnabled" not in cleaned["[Content_Types].xml"]


def test_document_type_declaration_is_refused() -> None:
    members = zip_members(identity_docx())
    members["word/styles.xml"] = (
        b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><w:styles>&b;</w:styles>'
    )
    result = clean(build_zip(members))
    assert result.data is None
    assert [flag.kind for flag in result.flags] == [FlagKind.ATTACHMENT_DROPPED]


def test_binary_xlsb_main_part_is_unsupported() -> None:
    members = zip_members(identity_xlsx())
    members["xl/workbook.bin"] = members.pop("xl/workbook.xml")
    members["_rels/.rels"] = members["_rels/.rels"].replace(b"workbook.xml", b"workbook.bin")
    result = clean(build_zip(members))
    assert result.data is None
    assert result.placeholder == "[attachment-1 removed from the archive: unsupported type]"


# ---------------------------------------------------------------------------
# Zip bombs: refused from the central directory, before anything is inflated.


def test_zip_bomb_with_honest_sizes_is_refused_quickly() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w") as member:
            chunk = b"\x00" * (1024 * 1024)
            for _ in range(110):
                member.write(chunk)
    assert len(out.getvalue()) < 1_000_000
    started = time.monotonic()
    result = clean(out.getvalue())
    assert time.monotonic() - started < 2
    assert result.placeholder == "[attachment-1 removed from the archive: too large]"


def test_zip_whose_directory_lies_about_sizes_is_refused() -> None:
    data = bytearray(identity_docx())
    central = data.find(b"PK\x01\x02")
    data[central + 24 : central + 28] = (500 * 1024 * 1024).to_bytes(4, "little")
    result = clean(bytes(data))
    assert result.placeholder == "[attachment-1 removed from the archive: too large]"


def test_zip_with_too_many_members_is_refused() -> None:
    members: dict[str, bytes | str] = {"[Content_Types].xml": "<Types/>"}
    members.update({f"word/part{index}.xml": "<a/>" for index in range(2001)})
    result = clean(build_zip(members))
    assert result.placeholder == "[attachment-1 removed from the archive: too large]"


def test_zip_with_duplicate_member_names_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<a>clean</a>")
        with pytest.warns(UserWarning, match="Duplicate name"):
            archive.writestr("word/document.xml", "<a>Alice Müller</a>")
    result = clean(out.getvalue())
    assert result.data is None
    assert [flag.kind for flag in result.flags] == [FlagKind.ATTACHMENT_DROPPED]


@pytest.mark.parametrize(
    ("part", "old", "new"),
    [
        # Alt text of a picture: an attribute, not document text.
        ("word/document.xml", 'name="Picture 1"', 'name="Picture 1" descr="Photo: Bob Brown"'),
        # Hidden text (w:vanish) is still in the file.
        (
            "word/document.xml",
            "<w:t>Indicators: 203.0.113.7</w:t>",
            "<w:t>Indicators: 203.0.113.7</w:t></w:r><w:r><w:rPr><w:vanish/></w:rPr>"
            "<w:t>by jmueller at Operator A</w:t>",
        ),
        # A mail link to a member.
        (
            "word/_rels/document.xml.rels",
            "https://example.org/advisory",
            "mailto:alice@operator-a.example",
        ),
        # A web link into a member organisation.
        (
            "word/_rels/document.xml.rels",
            "https://example.org/advisory",
            "https://portal.soc.operator-a.example/case/1",
        ),
    ],
)
def test_names_outside_the_running_text_leave_the_docx_out(part: str, old: str, new: str) -> None:
    members = zip_members(identity_docx())
    assert old.encode() in members[part]
    members[part] = members[part].replace(old.encode(), new.encode())
    result = clean(build_zip(members))
    assert result.placeholder == CONTENT_HIT


def test_sheet_named_after_a_member_leaves_the_xlsx_out() -> None:
    members = zip_members(identity_xlsx())
    members["xl/workbook.xml"] = members["xl/workbook.xml"].replace(
        b'name="IOCs"', b'name="Betreiber B"'
    )
    assert clean(build_zip(members)).placeholder == CONTENT_HIT


def test_docx_written_by_python_docx_round_trips() -> None:
    docx = pytest.importorskip("docx")
    document = docx.Document()  # its template ships a thumbnail and customXml
    document.add_paragraph("Phishing wave summary")
    document.core_properties.author = "Alice Müller"
    out = io.BytesIO()
    document.save(out)
    result = clean(out.getvalue())
    assert result.data is not None
    assert not leaks(result.data)
    members = assert_valid_package(result.data)
    assert "docProps/thumbnail.jpeg" not in members
    reopened = docx.Document(io.BytesIO(result.data))
    assert reopened.paragraphs[0].text == "Phishing wave summary"


def test_xlsx_written_by_openpyxl_loses_its_comment() -> None:
    openpyxl = pytest.importorskip("openpyxl")
    from openpyxl.comments import Comment

    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "203.0.113.7"
    workbook.active["A1"].comment = Comment("seen at our edge", "Alice Müller")
    out = io.BytesIO()
    workbook.save(out)
    result = clean(out.getvalue())
    assert result.data is not None
    assert not leaks(result.data)
    assert_valid_package(result.data)
    sheet = openpyxl.load_workbook(io.BytesIO(result.data)).active
    assert sheet["A1"].value == "203.0.113.7"
    assert sheet["A1"].comment is None


def test_pptx_written_by_python_pptx_loses_its_notes() -> None:
    pptx = pytest.importorskip("pptx")
    presentation = pptx.Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[0])
    slide.shapes.title.text = "Threat briefing"
    slide.notes_slide.notes_text_frame.text = "Presented by Alice Müller"
    out = io.BytesIO()
    presentation.save(out)
    result = clean(out.getvalue())
    assert result.data is not None
    assert not leaks(result.data)
    assert_valid_package(result.data)
    reopened = pptx.Presentation(io.BytesIO(result.data)).slides[0]
    assert reopened.shapes.title.text == "Threat briefing"
    assert not reopened.has_notes_slide
