"""PDF cleaning (CHATHAM_HOUSE.md section 6, cases 34, 35, and content hits)."""

from __future__ import annotations

import io
import zlib

import pikepdf
from pypdf import PdfReader

from filters.attachments import CleanedAttachment, clean_attachment
from filters.flags import FlagKind
from tests.filters.test_attachments_samples import (
    encrypted_pdf,
    identity_pdf,
    incrementally_updated_pdf,
    leaks,
    matcher,
    pdf_with_text,
)


def clean(data: bytes) -> CleanedAttachment:
    return clean_attachment(data, "application/pdf", matcher(), where="attachment-1")


def all_keys(pdf: pikepdf.Pdf) -> set[str]:
    keys: set[str] = set()

    def walk(obj: object, depth: int) -> None:
        if depth > 20:
            return
        if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
            for key, value in obj.items():
                keys.add(key)
                if not getattr(value, "is_indirect", False):
                    walk(value, depth + 1)
        elif isinstance(obj, pikepdf.Array):
            for item in obj:
                walk(item, depth + 1)

    for obj in pdf.objects:
        walk(obj, 0)
    return keys


REMOVED_KEYS = {
    "/Metadata", "/PieceInfo", "/JS", "/JavaScript", "/AA", "/EmbeddedFiles", "/XFA", "/Perms",
    "/SigFlags", "/FS", "/Popup", "/M", "/OpenAction",
}  # fmt: skip


def test_identity_pdf_keeps_its_page_and_loses_everything_that_names_someone() -> None:
    """Case 34: /Info, XMP, /T annotations, embedded file and JavaScript are gone."""
    result = clean(identity_pdf())
    assert result.data is not None
    assert (result.content_type, result.extension) == ("application/pdf", "pdf")
    assert not leaks(result.data)
    with pikepdf.open(io.BytesIO(result.data)) as pdf:
        assert set(pdf.trailer.keys()) == {"/Root", "/Size", "/ID"}
        assert "/Metadata" not in pdf.Root
        assert len(pdf.attachments) == 0
        keys = all_keys(pdf)
        assert not keys & REMOVED_KEYS
        page = pdf.pages[0]
        subtypes = [str(annotation.Subtype) for annotation in page.obj.Annots]
        assert subtypes == ["/Highlight", "/Link", "/Link", "/Widget"]
        for annotation in page.obj.Annots:
            if annotation.Subtype != pikepdf.Name.Widget:  # a widget's /T is its field name
                assert "/T" not in annotation
                assert "/Contents" not in annotation
        actions = [str(a.A.S) for a in page.obj.Annots if "/A" in a]
        assert actions == ["/URI"]  # the Launch action went, the web link stayed
        signature_field = page.obj.Annots[3]
        assert "/V" not in signature_field
        image = page.Resources.XObject.Im1
        assert b"Exif" not in image.read_raw_bytes()
    text = PdfReader(io.BytesIO(result.data)).pages[0].extract_text()
    assert "Quarterly incident summary" in text


def test_deterministic_id_cleaning_twice_gives_the_same_bytes() -> None:
    first = clean(identity_pdf())
    again = clean(identity_pdf())
    assert first.data is not None
    assert again.data == first.data
    second = clean(first.data)
    assert second.data == first.data
    with (
        pikepdf.open(io.BytesIO(first.data)) as pdf,
        pikepdf.open(io.BytesIO(identity_pdf())) as original,
    ):
        assert bytes(pdf.trailer.ID[0]) != bytes(original.trailer.ID[0])


def test_earlier_incremental_revision_is_gone_from_the_bytes() -> None:
    """Case 35: "Operator A" survives only in an unreachable earlier revision."""
    data = incrementally_updated_pdf()
    assert b"Operator A" in data
    result = clean(data)
    assert result.data is not None
    assert b"Operator A" not in result.data
    assert b"Draft" not in result.data
    assert not leaks(result.data)
    assert "Final report" in PdfReader(io.BytesIO(result.data)).pages[0].extract_text()
    assert result.data.count(b"%%EOF") == 1
    assert b"/Prev" not in result.data


def test_page_text_naming_a_member_leaves_the_pdf_out() -> None:
    result = clean(pdf_with_text("Prepared by Alice Mueller, Operator A"))
    assert result.data is None
    assert result.placeholder == (
        "[attachment-1 removed from the archive: names a participant or organisation]"
    )
    assert [flag.kind for flag in result.flags] == [FlagKind.ATTACHMENT_CONTENT_HIT]


def test_name_split_across_show_operators_is_still_found() -> None:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    font = pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
    )
    pdf.pages[0].obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    pdf.pages[0].obj.Contents = pdf.make_stream(
        b"BT /F1 12 Tf 72 700 Td [(Bob B) -10 (rown)] TJ ET"
    )
    out = io.BytesIO()
    pdf.save(out)
    assert clean(out.getvalue()).data is None


def test_name_in_a_form_field_value_leaves_the_pdf_out() -> None:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    field = pdf.make_indirect(
        pikepdf.Dictionary(
            FT=pikepdf.Name.Tx,
            T=pikepdf.String("reporter"),
            V=pikepdf.String("bob@betreiber-b.example"),
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.Widget,
            Rect=[0, 0, 100, 20],
        )
    )
    pdf.pages[0].obj.Annots = pikepdf.Array([field])
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=[field])
    out = io.BytesIO()
    pdf.save(out)
    result = clean(out.getvalue())
    assert result.data is None
    assert [flag.kind for flag in result.flags] == [FlagKind.ATTACHMENT_CONTENT_HIT]


def test_password_protected_pdf_is_left_out_as_encrypted() -> None:
    result = clean(encrypted_pdf())
    assert result.data is None
    assert result.placeholder == "[attachment-1 removed from the archive: encrypted]"


def test_owner_password_only_pdf_is_decrypted_and_kept() -> None:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    out = io.BytesIO()
    pdf.save(out, encryption=pikepdf.Encryption(owner="owner", user="", R=4))
    result = clean(out.getvalue())
    assert result.data is not None
    with pikepdf.open(io.BytesIO(result.data)) as cleaned:
        assert not cleaned.is_encrypted


def test_flate_bomb_stream_is_refused_without_inflating_it_all() -> None:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    bomb = zlib.compress(b"0" * (64 * 1024 * 1024), 9)
    pdf.pages[0].obj.Contents = pdf.make_stream(bomb, Filter=pikepdf.Name.FlateDecode)
    out = io.BytesIO()
    pdf.save(out, stream_decode_level=pikepdf.StreamDecodeLevel.none, compress_streams=False)
    assert len(out.getvalue()) < 200_000
    result = clean(out.getvalue())
    assert result.data is None
    assert [flag.kind for flag in result.flags] == [FlagKind.ATTACHMENT_DROPPED]


def test_bookmark_title_naming_a_member_leaves_the_pdf_out() -> None:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    with pdf.open_outline() as outline:
        outline.root.append(pikepdf.OutlineItem("Notes from Alice Müller", 0))
    out = io.BytesIO()
    pdf.save(out)
    assert clean(out.getvalue()).placeholder == (
        "[attachment-1 removed from the archive: names a participant or organisation]"
    )


def test_jpeg_in_a_stream_with_a_damaged_dictionary_is_still_stripped() -> None:
    """A JPEG whose /Filter was lost is still a JPEG to anyone reading the stream."""
    data = identity_pdf()
    damaged = data.replace(b"/BitsPerComponent 8 /", b"", 1)
    assert damaged != data
    result = clean(damaged)
    assert result.data is not None
    assert not leaks(result.data)
    assert b"Exif" not in result.data


def test_name_in_a_private_utf16_stream_is_found() -> None:
    """Text no page shows, in an object only a tool would open, still counts."""
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.pages[0].obj["/VendorData"] = pdf.make_stream("owner: Bob Brown".encode("utf-16-le"))
    out = io.BytesIO()
    pdf.save(out)
    result = clean(out.getvalue())
    assert [flag.kind for flag in result.flags] == [FlagKind.ATTACHMENT_CONTENT_HIT]
