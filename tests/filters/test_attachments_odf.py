"""OpenDocument cleaning (CHATHAM_HOUSE.md section 6, case 38: ODT meta.xml, settings.xml)."""

from __future__ import annotations

import io
import zipfile

from lxml import etree

from filters.attachments import CleanedAttachment, clean_attachment
from filters.flags import FlagKind
from tests.filters.test_attachments_samples import (
    build_zip,
    identity_odt,
    leaks,
    matcher,
    zip_members,
)

MANIFEST = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"


def clean(data: bytes) -> CleanedAttachment:
    return clean_attachment(data, "application/octet-stream", matcher(), where="attachment-1")


def test_odt_loses_creator_generator_printer_thumbnail_comments_and_changes() -> None:
    result = clean(identity_odt())
    assert result.data is not None
    assert (result.content_type, result.extension) == (
        "application/vnd.oasis.opendocument.text",
        "odt",
    )
    assert not leaks(result.data)
    with zipfile.ZipFile(io.BytesIO(result.data)) as archive:
        first = archive.infolist()[0]
        assert (first.filename, first.compress_type) == ("mimetype", zipfile.ZIP_STORED)
        assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in archive.infolist())
    members = zip_members(result.data)
    assert members["mimetype"] == b"application/vnd.oasis.opendocument.text"
    assert not any(name.startswith(("Thumbnails/", "Configurations2/")) for name in members)
    assert "settings.xml" not in members
    meta = etree.fromstring(members["meta.xml"])
    assert [len(child) for child in meta] == [0]  # one empty office:meta
    for needle in (b"LibreOffice", b"PRN-", b"2024-09", b"editing", b"PrinterSetup", b"rsid",
                   b"/home/"):  # fmt: skip
        assert all(needle not in content for content in members.values()), needle
    content = members["content.xml"].decode()
    assert "Lessons learned from the outage continued." in content
    assert "deleted words" not in content
    assert "annotation" not in content
    assert "tracked-changes" not in content
    assert "author-name" not in content
    for name, data in members.items():
        if name.endswith(".xml"):
            etree.fromstring(data)
    manifest = etree.fromstring(members["META-INF/manifest.xml"])
    listed = {entry.get(f"{{{MANIFEST}}}full-path") for entry in manifest}
    assert listed == {"/", "content.xml", "styles.xml", "meta.xml", "Pictures/photo.jpg"}
    assert b"Exif" not in members["Pictures/photo.jpg"]


def test_cleaning_odt_twice_gives_the_same_bytes() -> None:
    first = clean(identity_odt())
    assert first.data is not None
    assert clean(first.data).data == first.data


def test_odt_body_naming_a_member_is_left_out() -> None:
    result = clean(identity_odt(body_text="Outage at Betreiber B"))
    assert result.data is None
    assert [flag.kind for flag in result.flags] == [FlagKind.ATTACHMENT_CONTENT_HIT]


def test_encrypted_odt_is_left_out_as_encrypted() -> None:
    members = zip_members(identity_odt())
    members["META-INF/manifest.xml"] = members["META-INF/manifest.xml"].replace(
        b'manifest:media-type="text/xml"/>',
        b'manifest:media-type="text/xml"><manifest:encryption-data '
        b'manifest:checksum-type="SHA1/1K" manifest:checksum="x"/></manifest:file-entry>',
        1,
    )
    members["content.xml"] = b"\x8a\x13 encrypted bytes"
    result = clean(build_zip(members))
    assert result.placeholder == "[attachment-1 removed from the archive: encrypted]"


def test_odf_template_is_archived_as_the_document_type() -> None:
    members = zip_members(identity_odt())
    members["mimetype"] = b"application/vnd.oasis.opendocument.text-template"
    result = clean(build_zip(members))
    assert result.data is not None
    assert result.extension == "odt"
    assert zip_members(result.data)["mimetype"] == b"application/vnd.oasis.opendocument.text"
