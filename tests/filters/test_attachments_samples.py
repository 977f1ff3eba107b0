"""Attachments full of identity, built in code (pikepdf, Pillow, zipfile + XML).

The builders are shared by the attachment tests; the tests in this module
check that each sample really carries what the cleaning tests say disappears
(so a passing cleaning test means something was removed, not that nothing
was there to begin with).
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from functools import cache

import pikepdf
import pytest
from PIL import Image, PngImagePlugin

from filters.identities import Identity, Registry
from filters.matching import RegistryMatcher
from tests.oracle import leaked_terms, registry_terms, texts_of_bytes

REGISTRY = Registry(
    (
        Identity(
            key="1",
            names=("Alice Müller",),
            addresses=("alice@operator-a.example",),
            organisation="Operator A GmbH",
            org_domains=("operator-a.example",),
            aliases=("Operator A", "amueller"),
        ),
        Identity(
            key="2",
            names=("Bob Brown",),
            addresses=("bob@betreiber-b.example",),
            organisation="Betreiber B AG",
            org_domains=("betreiber-b.example",),
            aliases=("Betreiber B",),
        ),
    )
)
TERMS = registry_terms(REGISTRY)


@cache
def matcher() -> RegistryMatcher:
    return RegistryMatcher.compile(REGISTRY)


def leaks(data: bytes) -> set[str]:
    """Registry terms the oracle finds anywhere in `data` (zip members, PDF objects, …)."""
    return leaked_terms(texts_of_bytes(data), TERMS)


# ---------------------------------------------------------------------------
# Images


def jpeg_pixels(size: tuple[int, int] = (64, 48)) -> bytes:
    image = Image.new("RGB", size, (30, 120, 200))
    image.paste((250, 250, 0), (0, 0, size[0] // 4, size[1] // 4))  # marks the top-left corner
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


def _tiff_ifd(entries: list[tuple[int, int, int, bytes]], start: int, next_ifd: int) -> bytes:
    """One little-endian TIFF IFD at offset `start`; values over 4 bytes follow it."""
    table = struct.pack("<H", len(entries))
    data_offset = start + 2 + 12 * len(entries) + 4
    extra = b""
    for tag, kind, count, value in entries:
        if len(value) <= 4:
            table += struct.pack("<HHI", tag, kind, count) + value.ljust(4, b"\x00")
        else:
            table += struct.pack("<HHII", tag, kind, count, data_offset + len(extra))
            extra += value + (b"\x00" if len(value) % 2 else b"")
    return table + struct.pack("<I", next_ifd) + extra


def _ascii(text: str) -> tuple[int, bytes]:
    raw = text.encode("utf-8") + b"\x00"
    return len(raw), raw


def exif_block(thumbnail: bytes) -> bytes:
    """EXIF with Artist, Orientation 6, BodySerialNumber, OffsetTimeOriginal, GPS and IFD1."""
    artist_count, artist = _ascii("Alice Müller")
    serial_count, serial = _ascii("SN-AMUELLER-0042")
    offset_count, offset_time = _ascii("+02:00")
    owner_count, owner = _ascii("Operator A GmbH")
    # Layout: header(8) | IFD0 | Exif IFD | GPS IFD | IFD1 | thumbnail
    ifd0_entries = 5
    ifd0_start = 8
    ifd0_size = 2 + 12 * ifd0_entries + 4 + len(artist) + (len(artist) % 2)
    exif_start = ifd0_start + ifd0_size
    exif_entries = [
        (0x9011, 2, offset_count, offset_time),  # OffsetTimeOriginal
        (0xA430, 2, owner_count, owner),  # CameraOwnerName
        (0xA431, 2, serial_count, serial),  # BodySerialNumber
    ]
    exif_size = len(_tiff_ifd(exif_entries, exif_start, 0))
    gps_start = exif_start + exif_size
    gps_entries = [
        (0x0001, 2, 2, b"N\x00"),
        (0x0002, 5, 3, struct.pack("<6I", 52, 1, 31, 1, 12, 1)),
        (0x0003, 2, 2, b"E\x00"),
        (0x0004, 5, 3, struct.pack("<6I", 13, 1, 24, 1, 30, 1)),
    ]
    gps_size = len(_tiff_ifd(gps_entries, gps_start, 0))
    ifd1_start = gps_start + gps_size
    ifd1_size = 2 + 12 * 2 + 4
    thumbnail_start = ifd1_start + ifd1_size
    ifd0 = _tiff_ifd(
        [
            (0x0112, 3, 1, struct.pack("<H", 6)),  # Orientation: rotate 90° CW to view
            (0x013B, 2, artist_count, artist),  # Artist
            (0x0131, 2, 4, b"GIM\x00"),  # Software (short, inline)
            (0x8769, 4, 1, struct.pack("<I", exif_start)),
            (0x8825, 4, 1, struct.pack("<I", gps_start)),
        ],
        ifd0_start,
        ifd1_start,
    )
    assert len(ifd0) == ifd0_size
    ifd1 = _tiff_ifd(
        [
            (0x0201, 4, 1, struct.pack("<I", thumbnail_start)),
            (0x0202, 4, 1, struct.pack("<I", len(thumbnail))),
        ],
        ifd1_start,
        0,
    )
    tiff = (
        b"II*\x00"
        + struct.pack("<I", 8)
        + ifd0
        + _tiff_ifd(exif_entries, exif_start, 0)
        + _tiff_ifd(gps_entries, gps_start, 0)
        + ifd1
        + thumbnail
    )
    return b"Exif\x00\x00" + tiff


def _segment(marker: int, body: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(body) + 2) + body


XMP_PACKET = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/">'
    b"<dc:creator><rdf:Seq><rdf:li>Alice M\xc3\xbcller</rdf:li></rdf:Seq></dc:creator>"
    b"<dc:rights>Operator A GmbH</dc:rights></rdf:Description></rdf:RDF></x:xmpmeta>"
    b'<?xpacket end="w"?>'
)


def _iptc() -> bytes:
    def dataset(number: int, value: bytes) -> bytes:
        return b"\x1c\x02" + bytes((number,)) + struct.pack(">H", len(value)) + value

    records = dataset(80, "Alice Müller".encode()) + dataset(90, b"Bonn")  # By-line, City
    resource = b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(records)) + records
    return b"Photoshop 3.0\x00" + resource


def camera_jpeg() -> bytes:
    """A 64×48 photo (shown 48×64) with every kind of camera and editor metadata."""
    thumbnail = jpeg_pixels((16, 12))
    thumbnail = thumbnail[:2] + _segment(0xFE, b"uncropped original, Alice Muller") + thumbnail[2:]
    pixels = jpeg_pixels()
    metadata = (
        _segment(0xE1, exif_block(thumbnail))
        + _segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + XMP_PACKET)
        + _segment(0xED, _iptc())
        + _segment(0xFE, b"Edited by Bob Brown")
    )
    return pixels[:2] + metadata + pixels[2:]


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_chunk_types(data: bytes) -> list[bytes]:
    types, position = [], 8
    while position + 8 <= len(data):
        length = struct.unpack(">I", data[position : position + 4])[0]
        types.append(data[position + 4 : position + 8])
        position += 12 + length
    return types


def screenshot_png() -> bytes:
    image = Image.new("RGB", (320, 200), (240, 240, 240))
    image.paste((0, 90, 160), (0, 0, 320, 24))  # a title bar
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Alice Müller")
    info.add_text("Software", "Greenshot")
    info.add_itxt("XML:com.adobe.xmp", XMP_PACKET.decode())
    info.add_text("Comment", "window of bob@betreiber-b.example", zip=True)
    exif = Image.Exif()
    exif[0x013B] = "Alice Müller"
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info, exif=exif.tobytes())
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A 1-bit PNG of the given size whose pixel data is a few kilobytes of zlib."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    row = b"\x00" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    rows = min(height, 64)  # truncated data: a bomb never needs to be complete
    idat = compressor.compress(row * rows) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def commented_gif() -> bytes:
    frames = [Image.new("P", (24, 16), index) for index in range(3)]
    for frame in frames:
        frame.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0] + [0] * (256 * 3 - 9))
    out = io.BytesIO()
    frames[0].save(
        out,
        "GIF",
        save_all=True,
        append_images=frames[1:],
        comment=b"made by Alice Muller at Operator A",
        duration=100,
        loop=0,
    )
    return out.getvalue()


def tagged_webp() -> bytes:
    exif = Image.Exif()
    exif[0x013B] = "Alice Müller"
    exif[0x0112] = 6
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 200, 10)).save(
        out, "WEBP", exif=exif.tobytes(), xmp=XMP_PACKET, quality=80
    )
    return out.getvalue()


# ---------------------------------------------------------------------------
# PDF


def _page_with_text(pdf: pikepdf.Pdf, text: str) -> pikepdf.Page:
    pdf.add_blank_page(page_size=(612, 792))
    page = pdf.pages[-1]
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    content = f"BT /F1 14 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    page.obj.Contents = pdf.make_stream(content)
    return page


def identity_pdf(page_text: str = "Quarterly incident summary") -> bytes:
    """A one-page PDF carrying its authors in every place §2.3 lists."""
    pdf = pikepdf.new()
    page = _page_with_text(pdf, page_text)
    pdf.docinfo["/Author"] = "Alice Müller"
    pdf.docinfo["/Producer"] = "Operator A PDF Engine"
    pdf.docinfo["/Creator"] = "Word for Bob Brown"
    pdf.docinfo["/CreationDate"] = "D:20240903100107+02'00'"
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:creator"] = ["Alice Müller"]
        meta["xmp:CreatorTool"] = "Operator A Writer"
        meta["xmpMM:DocumentID"] = "uuid:5b1c0de0-0000-4000-8000-a11ce0000001"
    page.obj.Metadata = pdf.make_stream(XMP_PACKET)
    page.obj.PieceInfo = pikepdf.Dictionary(
        Illustrator=pikepdf.Dictionary(Private=pikepdf.String("layers of Alice Müller"))
    )
    page.obj.AA = pikepdf.Dictionary(
        O=pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert('Bob Brown')"))
    )
    # A photo with EXIF, drawn on the page.
    photo = jpeg_pixels()
    photo = photo[:2] + _segment(0xE1, exif_block(jpeg_pixels((8, 6)))) + photo[2:]
    image = pdf.make_stream(
        photo,
        Type=pikepdf.Name.XObject,
        Subtype=pikepdf.Name.Image,
        Width=64,
        Height=48,
        ColorSpace=pikepdf.Name.DeviceRGB,
        BitsPerComponent=8,
        Filter=pikepdf.Name.DCTDecode,
    )
    image.Metadata = pdf.make_stream(XMP_PACKET)
    page.obj.Resources.XObject = pikepdf.Dictionary(Im1=image)
    page.obj.Contents = pdf.make_stream(
        page.obj.Contents.read_bytes() + b"\nq 64 0 0 48 300 300 cm /Im1 Do Q"
    )
    # Comments: a sticky note with its pop-up, a highlight with an author.
    note = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.Text,
            Rect=[100, 100, 120, 120],
            T=pikepdf.String("Alice Müller"),
            Contents=pikepdf.String("ask Bob Brown"),
        )
    )
    popup = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Popup, Rect=[120, 100, 300, 200]
        )
    )
    popup.Parent = note
    note.Popup = popup
    highlight = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.Highlight,
            Rect=[70, 715, 300, 735],
            QuadPoints=[70, 735, 300, 735, 70, 715, 300, 715],
            T=pikepdf.String("Bob Brown"),
            Contents=pikepdf.String("checked by Operator A"),
            M=pikepdf.String("D:20240903100107+02'00'"),
        )
    )
    link = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.Link,
            Rect=[70, 600, 200, 620],
            A=pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("https://example.org/")),
        )
    )
    launch = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.Link,
            Rect=[70, 560, 200, 580],
            A=pikepdf.Dictionary(
                S=pikepdf.Name.Launch, F=pikepdf.String("C:\\Users\\amueller\\tool.exe")
            ),
        )
    )
    # An embedded file, listed in the name tree and as a FileAttachment annotation.
    spec = pikepdf.AttachedFileSpec(pdf, b"contact: alice@operator-a.example", description="x")
    pdf.attachments["contacts.txt"] = spec
    attachment = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.FileAttachment,
            Rect=[400, 100, 420, 120],
            FS=spec.obj,
            T=pikepdf.String("Alice Müller"),
        )
    )
    page.obj.Annots = pdf.make_indirect(pikepdf.Array([note, popup, highlight, link, launch]))
    page.obj.Annots.append(attachment)
    # Document JavaScript and an opening script.
    script = pdf.make_indirect(
        pikepdf.Dictionary(
            S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert('Alice Müller')")
        )
    )
    pdf.Root.Names.JavaScript = pikepdf.Dictionary(Names=[pikepdf.String("greeting"), script])
    pdf.Root.OpenAction = pikepdf.Dictionary(
        S=pikepdf.Name.JavaScript, JS=pikepdf.String("this.print('Operator A')")
    )
    # A signed signature field: the signer's name and certificate.
    signature = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Sig,
            Filter=pikepdf.Name("/Adobe.PPKLite"),
            Name=pikepdf.String("Alice Müller"),
            Reason=pikepdf.String("approved for Operator A"),
            ByteRange=[0, 10, 20, 30],
            Contents=pikepdf.String(b"0\x82CN=Alice Muller, O=Operator A"),
        )
    )
    field = pdf.make_indirect(
        pikepdf.Dictionary(
            FT=pikepdf.Name.Sig,
            T=pikepdf.String("Signature1"),
            V=signature,
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.Widget,
            Rect=[0, 0, 0, 0],
            P=page.obj,
        )
    )
    page.obj.Annots.append(field)
    pdf.Root.AcroForm = pikepdf.Dictionary(
        Fields=[field],
        SigFlags=3,
        XFA=pdf.make_stream(b"<xdp:xdp><author>Alice Muller</author></xdp:xdp>"),
    )
    pdf.Root.Perms = pikepdf.Dictionary(DocMDP=signature)
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def incrementally_updated_pdf() -> bytes:
    """A PDF whose first revision names "Operator A"; an appended update replaces it.

    The update (ISO 32000 §7.5.6) adds a new content stream, a new page object
    pointing at it and a new /Info; the old objects stay in the file, unreachable.
    """
    pdf = pikepdf.new()
    _page_with_text(pdf, "Draft by Operator A for Bob Brown")
    pdf.docinfo["/Author"] = "Operator A"
    out = io.BytesIO()
    pdf.save(
        out,
        compress_streams=False,
        object_stream_mode=pikepdf.ObjectStreamMode.disable,
        static_id=True,
    )
    base = out.getvalue()
    with pikepdf.open(io.BytesIO(base)) as reread:
        page = reread.pages[0].obj
        page_number = page.objgen[0]
        parent = page.Parent.objgen[0]
        font = page.Resources.Font.F1.objgen[0]
        root = reread.Root.objgen[0]
        size = int(reread.trailer.Size)
    previous_xref = int(base.rsplit(b"startxref", 1)[1].split()[0])
    content = b"BT /F1 14 Tf 72 720 Td (Final report) Tj ET"
    content_number, info_number = size, size + 1
    objects = {
        page_number: (
            f"<< /Type /Page /Parent {parent} 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 {font} 0 R >> >> /Contents {content_number} 0 R >>"
        ).encode(),
        content_number: b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        info_number: b"<< /Title (Final report) >>",
    }
    update = b"\n"
    offsets = {}
    for number, body in objects.items():
        offsets[number] = len(base) + len(update)
        update += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_offset = len(base) + len(update)
    update += b"xref\n0 1\n0000000000 65535 f \n"
    for number in sorted(offsets):
        update += b"%d 1\n%010d 00000 n \n" % (number, offsets[number])
    update += (
        b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n"
        % (size + 2, root, info_number, previous_xref, xref_offset)
    )
    return base + update


def pdf_with_text(text: str) -> bytes:
    pdf = pikepdf.new()
    _page_with_text(pdf, text)
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def encrypted_pdf() -> bytes:
    pdf = pikepdf.new()
    _page_with_text(pdf, "secret")
    out = io.BytesIO()
    pdf.save(out, encryption=pikepdf.Encryption(owner="o", user="u", R=6))
    return out.getvalue()


# ---------------------------------------------------------------------------
# Zip packages


def build_zip(members: dict[str, bytes | str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            data = content.encode("utf-8") if isinstance(content, str) else content
            if name == "mimetype":
                archive.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_STORED)
            else:
                archive.writestr(name, data)
    return out.getvalue()


def zip_members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PR = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
OD = "application/vnd.openxmlformats-officedocument"

CORE_XML = (
    XML + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
    'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    "<dc:title>Incident report</dc:title><dc:creator>Alice Müller</dc:creator>"
    "<cp:lastModifiedBy>Bob Brown</cp:lastModifiedBy><cp:revision>7</cp:revision>"
    "<cp:keywords>SOC-AMUELLER</cp:keywords>"
    '<dcterms:created xsi:type="dcterms:W3CDTF">2024-09-03T08:01:07Z</dcterms:created>'
    '<dcterms:modified xsi:type="dcterms:W3CDTF">2024-09-04T09:15:00Z</dcterms:modified>'
    "</cp:coreProperties>"
)
APP_XML = (
    XML + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    'extended-properties"><Template>OperatorA-Incident.dotm</Template>'
    "<TotalTime>42</TotalTime><Application>Microsoft Office Word</Application>"
    "<Company>Operator A GmbH</Company><Manager>Bob Brown</Manager>"
    "<AppVersion>16.0000</AppVersion><HyperlinkBase>https://intranet.operator-a.example/"
    "</HyperlinkBase></Properties>"
)
CUSTOM_XML = (
    XML + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    'custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/'
    'docPropsVTypes"><property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" '
    'name="Owner"><vt:lpwstr>Alice Müller</vt:lpwstr></property></Properties>'
)


def _relationships(*items: tuple[str, str, str] | tuple[str, str, str, str]) -> str:
    body = ""
    for item in items:
        mode = f' TargetMode="{item[3]}"' if len(item) == 4 else ""
        body += f'<Relationship Id="{item[0]}" Type="{RT}/{item[1]}" Target="{item[2]}"{mode}/>'
    return XML + f'<Relationships xmlns="{PR}">{body}</Relationships>'


def identity_docx(footer_text: str = "Page 1") -> bytes:
    """A .docx with authors in properties, comments, revisions, people and settings."""
    content_types = (
        XML + f'<Types xmlns="{CT}">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Default Extension="jpeg" ContentType="image/jpeg"/>'
        f'<Override PartName="/word/document.xml" ContentType="{OD}.wordprocessingml.'
        'document.main+xml"/>'
        f'<Override PartName="/word/styles.xml" ContentType="{OD}.wordprocessingml.styles+xml"/>'
        f'<Override PartName="/word/settings.xml" ContentType="{OD}.wordprocessingml.'
        'settings+xml"/>'
        f'<Override PartName="/word/comments.xml" ContentType="{OD}.wordprocessingml.'
        'comments+xml"/>'
        '<Override PartName="/word/commentsExtended.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.wordprocessingml.commentsExtended+xml"/>'
        '<Override PartName="/word/people.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.wordprocessingml.people+xml"/>'
        f'<Override PartName="/word/footer1.xml" ContentType="{OD}.wordprocessingml.footer+xml"/>'
        f'<Override PartName="/word/webSettings.xml" ContentType="{OD}.wordprocessingml.'
        'webSettings+xml"/>'
        '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-'
        'package.core-properties+xml"/>'
        f'<Override PartName="/docProps/app.xml" ContentType="{OD}.extended-properties+xml"/>'
        f'<Override PartName="/docProps/custom.xml" ContentType="{OD}.custom-properties+xml"/>'
        f'<Override PartName="/customXml/itemProps1.xml" ContentType="{OD}.'
        'customXmlProperties+xml"/>'
        "</Types>"
    )
    document = (
        XML + f'<w:document xmlns:w="{W}" xmlns:r="{R}" '
        'xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml" '
        'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
        'xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"><w:body>'
        '<w:p w:rsidR="00A1B2C3" w:rsidRDefault="00A1B2C3" w14:paraId="1A2B3C4D">'
        '<w:r w:rsidRPr="00D4E5F6"><w:t xml:space="preserve">The phishing wave used </w:t></w:r>'
        '<w:commentRangeStart w:id="0"/>'
        '<w:ins w:id="1" w:author="Alice Müller" w:date="2024-09-03T10:01:00Z">'
        "<w:r><w:t>inserted text</w:t></w:r></w:ins>"
        '<w:del w:id="2" w:author="Bob Brown" w:date="2024-09-03T11:00:00Z">'
        "<w:r><w:delText>removed sentence about Betreiber B</w:delText></w:r></w:del>"
        '<w:commentRangeEnd w:id="0"/>'
        '<w:r><w:commentReference w:id="0"/></w:r>'
        '<w:hyperlink r:id="rId8"><w:r><w:t> see the advisory</w:t></w:r></w:hyperlink>'
        "</w:p>"
        '<w:p><w:r><w:rPr><w:b/><w:rPrChange w:id="3" w:author="Bob Brown" '
        'w:date="2024-09-03T11:00:00Z"><w:rPr/></w:rPrChange></w:rPr>'
        "<w:t>Indicators: 203.0.113.7</w:t></w:r></w:p>"
        '<w:p><w:r><w:drawing><wp:inline><wp:extent cx="609600" cy="457200"/>'
        '<wp:docPr id="1" name="Picture 1"/><a:graphic><a:graphicData uri="http://schemas.'
        'openxmlformats.org/drawingml/2006/picture"><pic:pic><pic:nvPicPr>'
        '<pic:cNvPr id="0" name="image1.jpeg"/><pic:cNvPicPr/></pic:nvPicPr><pic:blipFill>'
        '<a:blip r:embed="rId7"/></pic:blipFill><pic:spPr><a:xfrm><a:off x="0" y="0"/>'
        '<a:ext cx="609600" cy="457200"/></a:xfrm><a:prstGeom prst="rect"/></pic:spPr>'
        "</pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r></w:p>"
        '<w:sectPr w:rsidR="00A1B2C3"><w:footerReference w:type="default" r:id="rId6"/>'
        "</w:sectPr></w:body></w:document>"
    )
    comments = (
        XML + f'<w:comments xmlns:w="{W}"><w:comment w:id="0" w:author="Alice Müller" '
        'w:date="2024-09-03T10:02:00Z" w:initials="AM"><w:p><w:r><w:t>Please check with '
        "Bob Brown before posting</w:t></w:r></w:p></w:comment></w:comments>"
    )
    people = (
        XML + '<w15:people xmlns:w15="http://schemas.microsoft.com/office/word/2012/wordml">'
        '<w15:person w15:author="Alice Müller"><w15:presenceInfo w15:providerId="AD" '
        'w15:userId="S::alice@operator-a.example::1234"/></w15:person></w15:people>'
    )
    comments_extended = (
        XML + '<w15:commentsEx xmlns:w15="http://schemas.microsoft.com/office/word/2012/'
        'wordml"><w15:commentEx w15:paraId="1A2B3C4E" w15:done="0"/></w15:commentsEx>'
    )
    settings = (
        XML + f'<w:settings xmlns:w="{W}" xmlns:r="{R}" '
        'xmlns:w15="http://schemas.microsoft.com/office/word/2012/wordml">'
        '<w:attachedTemplate r:id="rId1"/><w:trackRevisions/>'
        '<w:docVars><w:docVar w:name="preparedBy" w:val="AMueller"/></w:docVars>'
        '<w:rsids><w:rsidRoot w:val="00A1B2C3"/><w:rsid w:val="00A1B2C3"/>'
        '<w:rsid w:val="00D4E5F6"/></w:rsids>'
        '<w15:docId w15:val="{8C3D5E6F-1111-2222-3333-444455556666}"/></w:settings>'
    )
    footer = XML + f'<w:ftr xmlns:w="{W}"><w:p><w:r><w:t>{footer_text}</w:t></w:r></w:p></w:ftr>'
    styles = XML + f'<w:styles xmlns:w="{W}"><w:docDefaults/></w:styles>'
    web_settings = XML + f'<w:webSettings xmlns:w="{W}"><w:optimizeForBrowser/></w:webSettings>'
    return build_zip(
        {
            "[Content_Types].xml": content_types,
            "_rels/.rels": _relationships(
                ("rId1", "officeDocument", "word/document.xml"),
                ("rId2", "metadata/core-properties", "docProps/core.xml"),
                ("rId3", "extended-properties", "docProps/app.xml"),
                ("rId4", "custom-properties", "docProps/custom.xml"),
                ("rId5", "metadata/thumbnail", "docProps/thumbnail.jpeg"),
            ),
            "word/document.xml": document,
            "word/_rels/document.xml.rels": _relationships(
                ("rId1", "styles", "styles.xml"),
                ("rId2", "settings", "settings.xml"),
                ("rId3", "comments", "comments.xml"),
                ("rId4", "people", "people.xml"),
                ("rId5", "commentsExtended", "commentsExtended.xml"),
                ("rId6", "footer", "footer1.xml"),
                ("rId7", "image", "media/image1.jpeg"),
                ("rId8", "hyperlink", "https://example.org/advisory", "External"),
                ("rId9", "customXml", "../customXml/item1.xml"),
                ("rId10", "webSettings", "webSettings.xml"),
                ("rId11", "image", "file:///C:/Users/amueller/Pictures/logo.png", "External"),
            ),
            "word/_rels/settings.xml.rels": _relationships(
                (
                    "rId1",
                    "attachedTemplate",
                    "file:///C:/Users/amueller/AppData/Roaming/Microsoft/Templates/OA.dotm",
                    "External",
                ),
            ),
            "word/comments.xml": comments,
            "word/commentsExtended.xml": comments_extended,
            "word/people.xml": people,
            "word/settings.xml": settings,
            "word/styles.xml": styles,
            "word/webSettings.xml": web_settings,
            "word/footer1.xml": footer,
            "word/media/image1.jpeg": camera_jpeg(),
            "docProps/core.xml": CORE_XML,
            "docProps/app.xml": APP_XML,
            "docProps/custom.xml": CUSTOM_XML,
            "docProps/thumbnail.jpeg": camera_jpeg(),
            "customXml/item1.xml": XML + "<owner>alice@operator-a.example</owner>",
            "customXml/itemProps1.xml": XML
            + '<ds:datastoreItem xmlns:ds="http://schemas.openxmlformats.org/officeDocument/'
            '2006/customXml" ds:itemID="{11111111-2222-3333-4444-555555555555}"/>',
            "customXml/_rels/item1.xml.rels": _relationships(
                ("rId1", "customXmlProps", "itemProps1.xml")
            ),
        }
    )


S = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def identity_xlsx() -> bytes:
    """An .xlsx with threaded comments, persons, a note, the file path and a pivot author."""
    content_types = (
        XML + f'<Types xmlns="{CT}">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Default Extension="vml" ContentType="application/vnd.openxmlformats-officedocument.'
        'vmlDrawing"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{OD}.spreadsheetml.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{OD}.spreadsheetml.'
        'worksheet+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{OD}.spreadsheetml.'
        'sharedStrings+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{OD}.spreadsheetml.styles+xml"/>'
        f'<Override PartName="/xl/comments1.xml" ContentType="{OD}.spreadsheetml.comments+xml"/>'
        '<Override PartName="/xl/threadedComments/threadedComment1.xml" ContentType="'
        'application/vnd.ms-excel.threadedcomments+xml"/>'
        '<Override PartName="/xl/persons/person.xml" ContentType="application/vnd.ms-excel.'
        'person+xml"/>'
        '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-'
        'package.core-properties+xml"/>'
        f'<Override PartName="/docProps/app.xml" ContentType="{OD}.extended-properties+xml"/>'
        "</Types>"
    )
    workbook = (
        XML + f'<workbook xmlns="{S}" xmlns:r="{R}" '
        'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
        'xmlns:x15ac="http://schemas.microsoft.com/office/spreadsheetml/2010/11/ac" '
        'xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision" '
        'mc:Ignorable="x15ac xr">'
        '<fileVersion appName="xl" lastEdited="7" lowestEdited="7" rupBuild="27425"/>'
        '<fileSharing userName="Alice Müller" readOnlyRecommended="1"/>'
        "<workbookPr/>"
        '<mc:AlternateContent><mc:Choice Requires="x15"><x15ac:absPath '
        'url="C:\\Users\\amueller\\Documents\\"/></mc:Choice></mc:AlternateContent>'
        '<xr:revisionPtr revIDLastSave="0" documentId="8_{A1B2C3D4-0000-0000-0000-000000000000}"/>'
        '<sheets><sheet name="IOCs" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    sheet = (
        XML + f'<worksheet xmlns="{S}" xmlns:r="{R}" '
        'xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision" '
        'xr:uid="{00000000-0001-0000-0000-000000000000}"><sheetData>'
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
        '</sheetData><legacyDrawing r:id="rId2"/></worksheet>'
    )
    shared = (
        XML + f'<sst xmlns="{S}" count="2" uniqueCount="2"><si><t>indicator</t></si>'
        "<si><t>203.0.113.7</t></si></sst>"
    )
    comments = (
        XML + f'<comments xmlns="{S}"><authors><author>tc={{B1}}</author>'
        "<author>Alice Müller</author></authors><commentList>"
        '<comment ref="A1" authorId="1"><text><t>Alice Müller: verified</t></text></comment>'
        "</commentList></comments>"
    )
    threaded = (
        XML + '<ThreadedComments xmlns="http://schemas.microsoft.com/office/spreadsheetml/'
        '2018/threadedcomments"><threadedComment ref="A1" dT="2024-09-03T10:01:07.00" '
        'personId="{P1}" id="{T1}"><text>Bob Brown asked for the source</text>'
        "</threadedComment></ThreadedComments>"
    )
    persons = (
        XML + '<personList xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/'
        'threadedcomments"><person displayName="Alice Müller" id="{P1}" '
        'userId="alice@operator-a.example" providerId="AD"/></personList>'
    )
    vml = (
        '<xml xmlns:v="urn:schemas-microsoft-com:vml" '
        'xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel">'
        '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202"/>'
        '<v:shape id="_x0000_s1025" type="#_x0000_t202"><v:textbox><div>Alice</div>'
        '</v:textbox><x:ClientData ObjectType="Note"><x:Row>0</x:Row><x:Column>0</x:Column>'
        "</x:ClientData></v:shape></xml>"
    )
    styles = (
        XML + f'<styleSheet xmlns="{S}"><fonts count="1"><font><sz val="11"/>'
        '<name val="Calibri"/></font></fonts><fills count="1"><fill><patternFill '
        'patternType="none"/></fill></fills><borders count="1"><border/></borders>'
        '<cellStyleXfs count="1"><xf/></cellStyleXfs><cellXfs count="1"><xf xfId="0"/>'
        '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
        "</cellStyles></styleSheet>"
    )
    return build_zip(
        {
            "[Content_Types].xml": content_types,
            "_rels/.rels": _relationships(
                ("rId1", "officeDocument", "xl/workbook.xml"),
                ("rId2", "metadata/core-properties", "docProps/core.xml"),
                ("rId3", "extended-properties", "docProps/app.xml"),
            ),
            "xl/workbook.xml": workbook,
            "xl/_rels/workbook.xml.rels": _relationships(
                ("rId1", "worksheet", "worksheets/sheet1.xml"),
                ("rId2", "sharedStrings", "sharedStrings.xml"),
                ("rId3", "styles", "styles.xml"),
                ("rId4", "person", "persons/person.xml"),
            ),
            "xl/worksheets/sheet1.xml": sheet,
            "xl/worksheets/_rels/sheet1.xml.rels": _relationships(
                ("rId1", "comments", "../comments1.xml"),
                ("rId2", "vmlDrawing", "../drawings/vmlDrawing1.vml"),
                ("rId3", "threadedComment", "../threadedComments/threadedComment1.xml"),
            ),
            "xl/sharedStrings.xml": shared,
            "xl/styles.xml": styles,
            "xl/comments1.xml": comments,
            "xl/threadedComments/threadedComment1.xml": threaded,
            "xl/persons/person.xml": persons,
            "xl/drawings/vmlDrawing1.vml": vml,
            "docProps/core.xml": CORE_XML,
            "docProps/app.xml": APP_XML,
        }
    )


P = "http://schemas.openxmlformats.org/presentationml/2006/main"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"


def _slide_tree(text: str) -> str:
    return (
        '<p:cSld><p:spTree><p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/>'
        '</p:nvGrpSpPr><p:grpSpPr/><p:sp><p:nvSpPr><p:cNvPr id="2" name="Title 1"/>'
        "<p:cNvSpPr/><p:nvPr/></p:nvSpPr><p:spPr/><p:txBody><a:bodyPr/><a:p><a:r>"
        f"<a:t>{text}</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld>"
    )


def identity_pptx() -> bytes:
    """A .pptx whose speaker notes, comments and comment authors name the presenter."""
    ns = f'xmlns:p="{P}" xmlns:a="{A}" xmlns:r="{R}"'
    content_types = (
        XML + f'<Types xmlns="{CT}">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/ppt/presentation.xml" ContentType="{OD}.presentationml.'
        'presentation.main+xml"/>'
        f'<Override PartName="/ppt/slides/slide1.xml" ContentType="{OD}.presentationml.'
        'slide+xml"/>'
        f'<Override PartName="/ppt/slideLayouts/slideLayout1.xml" ContentType="{OD}.'
        'presentationml.slideLayout+xml"/>'
        f'<Override PartName="/ppt/slideMasters/slideMaster1.xml" ContentType="{OD}.'
        'presentationml.slideMaster+xml"/>'
        f'<Override PartName="/ppt/theme/theme1.xml" ContentType="{OD}.theme+xml"/>'
        f'<Override PartName="/ppt/notesSlides/notesSlide1.xml" ContentType="{OD}.'
        'presentationml.notesSlide+xml"/>'
        f'<Override PartName="/ppt/comments/comment1.xml" ContentType="{OD}.presentationml.'
        'comments+xml"/>'
        f'<Override PartName="/ppt/commentAuthors.xml" ContentType="{OD}.presentationml.'
        'commentAuthors+xml"/>'
        '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-'
        'package.core-properties+xml"/>'
        "</Types>"
    )
    presentation = (
        XML + f"<p:presentation {ns}>"
        '<p:sldMasterIdLst><p:sldMasterId id="2147483648" r:id="rId1"/></p:sldMasterIdLst>'
        '<p:sldIdLst><p:sldId id="256" r:id="rId2"/></p:sldIdLst>'
        '<p:sldSz cx="9144000" cy="6858000"/><p:notesSz cx="6858000" cy="9144000"/>'
        "</p:presentation>"
    )
    slide = (
        XML + f"<p:sld {ns}>{_slide_tree('Threat briefing')}"
        '<p:extLst><p:ext uri="{BB962C8B-B14F-4D97-AF65-F5344CB8AC3E}">'
        '<p14:creationId xmlns:p14="http://schemas.microsoft.com/office/powerpoint/2010/main" '
        'val="1234567890"/></p:ext></p:extLst></p:sld>'
    )
    notes = XML + f"<p:notes {ns}>{_slide_tree('Presented by Alice Müller, Operator A')}</p:notes>"
    comment = (
        XML + f'<p:cmLst {ns}><p:cm authorId="0" dt="2024-09-03T10:01:07.000" idx="1">'
        '<p:pos x="10" y="10"/><p:text>Bob Brown: add our logo</p:text></p:cm></p:cmLst>'
    )
    authors = (
        XML + f'<p:cmAuthorLst {ns}><p:cmAuthor id="0" name="Bob Brown" initials="BB" '
        'lastIdx="1" clrIdx="0"/></p:cmAuthorLst>'
    )
    layout = XML + f"<p:sldLayout {ns}>{_slide_tree('')}</p:sldLayout>"
    master = (
        XML + f"<p:sldMaster {ns}>{_slide_tree('')}"
        '<p:sldLayoutIdLst><p:sldLayoutId id="2147483649" r:id="rId1"/></p:sldLayoutIdLst>'
        "</p:sldMaster>"
    )
    theme = XML + f'<a:theme xmlns:a="{A}" name="Office Theme"><a:themeElements/></a:theme>'
    return build_zip(
        {
            "[Content_Types].xml": content_types,
            "_rels/.rels": _relationships(
                ("rId1", "officeDocument", "ppt/presentation.xml"),
                ("rId2", "metadata/core-properties", "docProps/core.xml"),
            ),
            "ppt/presentation.xml": presentation,
            "ppt/_rels/presentation.xml.rels": _relationships(
                ("rId1", "slideMaster", "slideMasters/slideMaster1.xml"),
                ("rId2", "slide", "slides/slide1.xml"),
                ("rId3", "commentAuthors", "commentAuthors.xml"),
                ("rId4", "theme", "theme/theme1.xml"),
            ),
            "ppt/slides/slide1.xml": slide,
            "ppt/slides/_rels/slide1.xml.rels": _relationships(
                ("rId1", "slideLayout", "../slideLayouts/slideLayout1.xml"),
                ("rId2", "notesSlide", "../notesSlides/notesSlide1.xml"),
                ("rId3", "comments", "../comments/comment1.xml"),
            ),
            "ppt/notesSlides/notesSlide1.xml": notes,
            "ppt/notesSlides/_rels/notesSlide1.xml.rels": _relationships(
                ("rId1", "slide", "../slides/slide1.xml")
            ),
            "ppt/comments/comment1.xml": comment,
            "ppt/commentAuthors.xml": authors,
            "ppt/slideLayouts/slideLayout1.xml": layout,
            "ppt/slideLayouts/_rels/slideLayout1.xml.rels": _relationships(
                ("rId1", "slideMaster", "../slideMasters/slideMaster1.xml")
            ),
            "ppt/slideMasters/slideMaster1.xml": master,
            "ppt/slideMasters/_rels/slideMaster1.xml.rels": _relationships(
                ("rId1", "slideLayout", "../slideLayouts/slideLayout1.xml"),
                ("rId2", "theme", "../theme/theme1.xml"),
            ),
            "ppt/theme/theme1.xml": theme,
            "docProps/core.xml": CORE_XML,
        }
    )


ODF_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
    'xmlns:config="urn:oasis:names:tc:opendocument:xmlns:config:1.0" '
    'xmlns:officeooo="http://openoffice.org/2009/office" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:xlink="http://www.w3.org/1999/xlink" '
    'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
)


def identity_odt(body_text: str = "Lessons learned from the outage") -> bytes:
    """An .odt with creator metadata, printer settings, a thumbnail, comments and changes."""
    manifest = (
        XML + f'<manifest:manifest {ODF_NS} manifest:version="1.3">'
        '<manifest:file-entry manifest:full-path="/" manifest:version="1.3" '
        'manifest:media-type="application/vnd.oasis.opendocument.text"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        '<manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>'
        '<manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/>'
        '<manifest:file-entry manifest:full-path="settings.xml" manifest:media-type="text/xml"/>'
        '<manifest:file-entry manifest:full-path="Thumbnails/thumbnail.png" '
        'manifest:media-type="image/png"/>'
        '<manifest:file-entry manifest:full-path="Pictures/photo.jpg" '
        'manifest:media-type="image/jpeg"/>'
        '<manifest:file-entry manifest:full-path="Configurations2/" '
        'manifest:media-type="application/vnd.sun.xml.ui.configuration"/>'
        "</manifest:manifest>"
    )
    content = (
        XML + f'<office:document-content {ODF_NS} office:version="1.3">'
        "<office:automatic-styles>"
        '<style:style style:name="P1" style:family="paragraph"><style:text-properties '
        'officeooo:rsid="0012ab34" officeooo:paragraph-rsid="0012ab34"/></style:style>'
        "</office:automatic-styles><office:body><office:text>"
        "<text:tracked-changes><text:changed-region text:id="
        '"ct1"><text:deletion><office:change-info><dc:creator>Bob Brown</dc:creator>'
        "<dc:date>2024-09-03T10:01:07</dc:date></office:change-info>"
        "<text:p>deleted words of Betreiber B</text:p></text:deletion></text:changed-region>"
        "</text:tracked-changes>"
        f'<text:p text:style-name="P1">{body_text}<text:change text:change-id="ct1"/>'
        "<office:annotation><dc:creator>Alice Müller</dc:creator>"
        "<dc:date>2024-09-03T10:05:00</dc:date><text:p>ping Bob Brown</text:p>"
        "</office:annotation> continued.</text:p>"
        "<text:p>Written by <text:author-name>Alice Müller</text:author-name>.</text:p>"
        '<text:p><draw:frame><draw:image xlink:href="Pictures/photo.jpg"/></draw:frame>'
        '<draw:frame><draw:image xlink:href="file:///home/amueller/logo.png"/></draw:frame>'
        "</text:p>"
        "</office:text></office:body></office:document-content>"
    )
    styles = (
        XML + f'<office:document-styles {ODF_NS} office:version="1.3"><office:master-styles>'
        '<style:master-page style:name="Standard"><style:footer><text:p>Page 1</text:p>'
        "</style:footer></style:master-page></office:master-styles></office:document-styles>"
    )
    meta = (
        XML + f'<office:document-meta {ODF_NS} office:version="1.3"><office:meta>'
        "<meta:initial-creator>Alice Müller</meta:initial-creator>"
        "<dc:creator>Bob Brown</dc:creator>"
        "<meta:generator>LibreOffice/7.6.4.1$Linux_X86_64</meta:generator>"
        "<meta:creation-date>2024-09-03T10:01:07</meta:creation-date>"
        "<dc:date>2024-09-04T09:00:00</dc:date><meta:editing-cycles>12</meta:editing-cycles>"
        "<meta:editing-duration>PT1H2M</meta:editing-duration>"
        "<meta:printed-by>amueller</meta:printed-by>"
        '<meta:user-defined meta:name="Department">Operator A SOC</meta:user-defined>'
        "</office:meta></office:document-meta>"
    )
    settings = (
        XML + f'<office:document-settings {ODF_NS} office:version="1.3"><office:settings>'
        '<config:config-item-set config:name="ooo:configuration-settings">'
        '<config:config-item config:name="PrinterName" config:type="string">'
        "PRN-OPERATOR-A-3OG</config:config-item>"
        '<config:config-item config:name="PrinterSetup" config:type="base64Binary">'
        "QWxpY2UgTcO8bGxlcg==</config:config-item></config:config-item-set>"
        "</office:settings></office:document-settings>"
    )
    thumbnail = io.BytesIO()
    Image.new("RGB", (32, 32), (255, 255, 255)).save(thumbnail, "PNG")
    return build_zip(
        {
            "mimetype": "application/vnd.oasis.opendocument.text",
            "META-INF/manifest.xml": manifest,
            "content.xml": content,
            "styles.xml": styles,
            "meta.xml": meta,
            "settings.xml": settings,
            "Thumbnails/thumbnail.png": thumbnail.getvalue(),
            "Pictures/photo.jpg": camera_jpeg(),
            "Configurations2/accelerator/current.xml": "",
        }
    )


# ---------------------------------------------------------------------------
# The samples really carry what the cleaning tests remove.


@pytest.mark.parametrize(
    "sample",
    [
        camera_jpeg,
        screenshot_png,
        commented_gif,
        identity_pdf,
        incrementally_updated_pdf,
        identity_docx,
        identity_xlsx,
        identity_pptx,
        identity_odt,
    ],
)
def test_sample_names_members_before_cleaning(sample: object) -> None:
    assert callable(sample)
    assert leaks(sample()), "the sample must name someone for its cleaning test to mean anything"


def test_camera_jpeg_carries_exif_gps_thumbnail_xmp_and_iptc() -> None:
    with Image.open(io.BytesIO(camera_jpeg())) as image:
        exif = image.getexif()
        assert exif[0x013B].startswith("Alice M")  # EXIF ASCII, read as Latin-1
        assert exif[0x0112] == 6
        assert exif.get_ifd(0x8769)[0xA431] == "SN-AMUELLER-0042"
        assert exif.get_ifd(0x8769)[0x9011] == "+02:00"
        assert exif.get_ifd(0x8825)[1] == "N"
        assert "xmp" in image.info or b"dc:creator" in camera_jpeg()
        assert image.size == (64, 48)
    assert b"Photoshop 3.0" in camera_jpeg()
    assert b"uncropped original" in camera_jpeg()


def test_incremental_update_hides_the_first_revision_from_readers() -> None:
    data = incrementally_updated_pdf()
    assert b"Draft by Operator A" in data
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert b"Final report" in pdf.pages[0].Contents.read_bytes()
        assert str(pdf.docinfo["/Title"]) == "Final report"


def test_screenshot_png_carries_text_chunks() -> None:
    assert {b"tEXt", b"iTXt", b"zTXt", b"eXIf"} <= set(png_chunk_types(screenshot_png()))
