"""PDF rewritten without identity or active content (CHATHAM_HOUSE.md §2.3).

pikepdf (qpdf) opens the file, every object is visited, and the document is
written again in full:

- The trailer keeps only /Root and /Size (no /Info: Author, Creator,
  Producer, dates); /ID is regenerated from the content (`deterministic_id`).
- The catalog keeps an allowlist of entries; `/Names` keeps destinations and
  named appearances only (no /JavaScript, /EmbeddedFiles, /Renditions).
- In every object: /Metadata (XMP on the document, pages, images, fonts),
  /PieceInfo and /LastModified (private application data), /AA and /JS,
  embedded and associated files (/AF, /FS, /EF) and media, /Thumb (page
  thumbnails, which can show an earlier page), /OPI (prepress file paths),
  /XFA, digital signatures (the signer's certificate) and actions that run
  code, open files or fetch things (JavaScript, Launch, GoToR, GoToE,
  SubmitForm, ImportData, multimedia).
- Comment annotations (sticky notes, pop-ups, file attachments, sound and
  movie) are removed; the other markup annotations lose their author (/T),
  reply chain, comment text, unique name and dates.
- JPEG images lose their EXIF/XMP/ICC/IPTC segments (losslessly).
- Writing in full keeps only objects reachable from the new trailer, so the
  earlier revisions an incremental update leaves in the file are gone.

Then the text of the cleaned file is collected for the registry scan: the page
text as pypdf extracts it, every key, string and name in every object, and the
decoded content of every stream (bounded, see `limits`; of images only JPEG
headers and small pixel buffers, see `_decoded`).
"""

from __future__ import annotations

import base64
import binascii
import io
import string
import zlib

import pikepdf
from pikepdf import Array, Dictionary, Name, Stream
from pypdf import PdfReader

from filters.attachments.jpeg_segments import strip_jpeg_metadata
from filters.attachments.limits import (
    MAX_PDF_DECODED_TOTAL,
    MAX_PDF_EXOTIC_ENCODED,
    MAX_PDF_STREAM_DECODED,
)
from filters.attachments.outcome import CleanedFile, Reason, Refused
from filters.attachments.readable import readable_strings

_CATALOG_KEPT = frozenset(
    {
        "/Type", "/Pages", "/PageLabels", "/Names", "/Dests", "/ViewerPreferences",
        "/PageLayout", "/PageMode", "/Outlines", "/Threads", "/OpenAction", "/URI",
        "/AcroForm", "/StructTreeRoot", "/MarkInfo", "/Lang", "/OutputIntents",
        "/OCProperties", "/Version", "/Extensions",
    }
)  # fmt: skip
_NAMES_KEPT = frozenset({"/Dests", "/AP"})
_REMOVED_KEYS = frozenset(
    {
        "/Metadata", "/PieceInfo", "/LastModified", "/AA", "/JS", "/JavaScript",
        "/EmbeddedFiles", "/AF", "/Thumb", "/OPI", "/XFA", "/NeedsRendering", "/SpiderInfo",
        "/Perms", "/DSS", "/Collection", "/Legal", "/SigFlags", "/Renditions",
        # Embedded files and media, wherever a file specification or an annotation
        # still reachable from the structure tree would carry them.
        "/FS", "/EF", "/RF", "/Sound", "/Movie", "/RichMediaContent", "/3DD",
    }
)  # fmt: skip
_ACTION_KEYS = frozenset({"/A", "/OpenAction", "/PA", "/Next"})
_UNSAFE_ACTIONS = frozenset(
    {
        "/JavaScript", "/Launch", "/ImportData", "/SubmitForm", "/GoToE", "/GoToR",
        "/Rendition", "/Sound", "/Movie", "/RichMediaExecute", "/GoTo3DView",
    }
)  # fmt: skip
_ANNOTATION_SUBTYPES = frozenset(
    {
        "/Text", "/Link", "/FreeText", "/Line", "/Square", "/Circle", "/Polygon", "/PolyLine",
        "/Highlight", "/Underline", "/Squiggly", "/StrikeOut", "/Stamp", "/Caret", "/Ink",
        "/Popup", "/FileAttachment", "/Sound", "/Movie", "/Widget", "/Screen", "/PrinterMark",
        "/TrapNet", "/Watermark", "/3D", "/Redact", "/Projection", "/RichMedia",
    }
)  # fmt: skip
# Comments and media: removed from the pages.
_REMOVED_ANNOTATIONS = frozenset(
    {"/Text", "/Popup", "/FileAttachment", "/Sound", "/Movie", "/Screen", "/RichMedia", "/3D"}
)
# Who wrote an annotation and when, its reply chain, and its comment text.
_ANNOTATION_AUTHOR_KEYS = ("/T", "/Popup", "/IRT", "/RT", "/NM", "/M", "/CreationDate", "/Subj")
_COMMENT_TEXT_KEYS = ("/Contents", "/RC")
_MAX_DEPTH = 64
# Decoded image data up to this size is scanned as if it were text.
_SCANNED_IMAGE_BYTES = 64 * 1024


def clean_pdf(data: bytes) -> CleanedFile:
    cleaned = _rewrite(data)
    return CleanedFile(data=cleaned, texts=tuple(_texts_of(cleaned)))


def _rewrite(data: bytes) -> bytes:
    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError as error:
        raise Refused(Reason.ENCRYPTED) from error
    except (pikepdf.PdfError, ValueError, RuntimeError) as error:
        raise Refused(Reason.FAILED, "damaged PDF") from error
    with pdf:
        _strip(pdf)
        out = io.BytesIO()
        pdf.save(
            out,
            deterministic_id=True,
            encryption=False,
            fix_metadata_version=False,
            preserve_pdfa=False,
            # Streams are copied as they are, never inflated: a Flate bomb
            # stays a few bytes long instead of growing inside qpdf.
            stream_decode_level=pikepdf.StreamDecodeLevel.none,
            # Nor compressed on the way out: qpdf would add /Filter after the
            # sorted keys, and a second pass would sort them, changing bytes.
            compress_streams=False,
            object_stream_mode=pikepdf.ObjectStreamMode.preserve,
            linearize=False,
        )
    return out.getvalue()


def _strip(pdf: pikepdf.Pdf) -> None:
    trailer = pdf.trailer
    for key in list(trailer.keys()):
        if key not in ("/Root", "/Size"):
            del trailer[key]
    root = pdf.Root
    for key in list(root.keys()):
        if key not in _CATALOG_KEPT:
            del root[key]
    names = root.get("/Names")
    if isinstance(names, Dictionary):
        for key in list(names.keys()):
            if key not in _NAMES_KEPT:
                del names[key]
        if not names.keys():
            del root["/Names"]
    for obj in list(pdf.objects):
        if isinstance(obj, Dictionary | Stream):
            _clean_dictionary(obj, 0)
        elif isinstance(obj, Array):
            _clean_array(obj, 0)
        if isinstance(obj, Stream):
            _strip_jpeg(obj)
    for page in pdf.pages:
        _drop_comment_annotations(page.obj)


def _clean_dictionary(dictionary: Dictionary | Stream, depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise Refused(Reason.FAILED, "PDF objects nested too deeply")
    for key, value in _items(dictionary):
        if (
            key in _REMOVED_KEYS
            or _is_signature(value)
            or (key in _ACTION_KEYS and _without_unsafe_actions(value) is None)
        ):
            del dictionary[key]
        elif key == "/Next" and isinstance(value, Array):
            dictionary[key] = _without_unsafe_actions(value)
    if _is_annotation(dictionary):
        subtype = _name_of(dictionary.get("/Subtype"))
        if subtype != "/Widget":
            for key in _ANNOTATION_AUTHOR_KEYS:
                if key in dictionary:
                    del dictionary[key]
        if subtype not in ("/Widget", "/Link", "/FreeText"):
            for key in _COMMENT_TEXT_KEYS:  # a comment attached to a highlight, a shape, …
                if key in dictionary:
                    del dictionary[key]
    for _, value in _items(dictionary):
        if isinstance(value, Dictionary) and not value.is_indirect:
            _clean_dictionary(value, depth + 1)
        elif isinstance(value, Array) and not value.is_indirect:
            _clean_array(value, depth + 1)


def _clean_array(array: Array, depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise Refused(Reason.FAILED, "PDF objects nested too deeply")
    for item in array:
        if isinstance(item, Dictionary) and not item.is_indirect:
            _clean_dictionary(item, depth + 1)
        elif isinstance(item, Array) and not item.is_indirect:
            _clean_array(item, depth + 1)


def _is_unsafe_action(value: object) -> bool:
    return isinstance(value, Dictionary | Stream) and _name_of(value.get("/S")) in _UNSAFE_ACTIONS


def _without_unsafe_actions(value: object) -> object | None:
    """`value` with unsafe actions removed; None if nothing is left of it."""
    if isinstance(value, Array):
        kept = [item for item in value if not _is_unsafe_action(item)]
        return Array(kept) if kept else None
    return None if _is_unsafe_action(value) else value


def _is_signature(value: object) -> bool:
    """A signature dictionary: the signer's certificate chain in /Contents."""
    if not isinstance(value, Dictionary):
        return False
    return _name_of(value.get("/Type")) in ("/Sig", "/DocTimeStamp") or (
        "/ByteRange" in value and "/Contents" in value
    )


def _is_annotation(dictionary: Dictionary | Stream) -> bool:
    if _name_of(dictionary.get("/Type")) == "/Annot":
        return True
    return "/Rect" in dictionary and _name_of(dictionary.get("/Subtype")) in _ANNOTATION_SUBTYPES


def _drop_comment_annotations(page: Dictionary) -> None:
    annotations = page.get("/Annots")
    if not isinstance(annotations, Array):
        return
    kept = [
        annotation
        for annotation in annotations
        if not (
            isinstance(annotation, Dictionary)
            and _name_of(annotation.get("/Subtype")) in _REMOVED_ANNOTATIONS
        )
    ]
    if kept:
        page["/Annots"] = Array(kept)
    else:
        del page["/Annots"]


def _strip_jpeg(stream: Stream) -> None:
    """Cut the metadata segments out of a JPEG stored in a stream (an image XObject)."""
    if _filters(stream) not in ([], ["/DCTDecode"], ["/DCT"]):
        return
    raw = stream.read_raw_bytes()
    if not raw.startswith(b"\xff\xd8\xff"):
        return
    stripped = strip_jpeg_metadata(raw)
    if stripped is not None and stripped != raw:
        stream.write(
            stripped, filter=stream.get("/Filter"), decode_parms=stream.get("/DecodeParms")
        )


def _items(dictionary: Dictionary | Stream) -> list[tuple[str, object]]:
    """The entries of `dictionary`; keys that are not UTF-8 cannot be edited safely."""
    try:
        return [(key, dictionary.get(key)) for key in list(dictionary.keys())]
    except (TypeError, UnicodeError) as error:
        raise Refused(Reason.FAILED, "malformed PDF dictionary key") from error


def _name_of(value: object) -> str:
    """A PDF name as text; names are bytes (#xx escapes), not always UTF-8."""
    if not isinstance(value, Name):
        return ""
    try:
        return str(value)
    except UnicodeDecodeError:
        return value.unparse().decode("latin-1")


def _text_of_string(value: pikepdf.String, raw: bytes) -> str:
    """A PDF text string (PDFDocEncoding or UTF-16BE with a BOM, ISO 32000 §7.9.2.2)."""
    try:
        return str(value)
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _filters(stream: Stream) -> list[str]:
    value = stream.get("/Filter")
    if value is None:
        return []
    if isinstance(value, Array):
        return [_name_of(item) for item in value]
    return [_name_of(value)]


# ---------------------------------------------------------------------------
# Everything readable in the cleaned file, for the registry scan.


def _texts_of(cleaned: bytes) -> list[str]:
    texts = _page_texts(cleaned)
    budget = [MAX_PDF_DECODED_TOTAL]
    with pikepdf.open(io.BytesIO(cleaned)) as pdf:
        for obj in pdf.objects:
            _collect(obj, texts, 0)
            if isinstance(obj, Stream):
                texts.extend(readable_strings(_decoded(obj, budget)))
    return texts


def _page_texts(cleaned: bytes) -> list[str]:
    try:
        reader = PdfReader(io.BytesIO(cleaned), strict=False)
        return [page.extract_text() or "" for page in reader.pages]
    except Exception as error:  # pypdf raises many types on hostile input
        raise Refused(Reason.FAILED, "PDF text could not be read") from error


def _collect(obj: object, texts: list[str], depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise Refused(Reason.FAILED, "PDF objects nested too deeply")
    if isinstance(obj, pikepdf.String):
        raw = bytes(obj)
        texts.append(_text_of_string(obj, raw))
        texts.extend(readable_strings(raw))
    elif isinstance(obj, Name):
        texts.append(_name_of(obj))
    elif isinstance(obj, Dictionary | Stream):
        for key, value in _items(obj):
            texts.append(key)
            if not getattr(value, "is_indirect", False):
                _collect(value, texts, depth + 1)
    elif isinstance(obj, Array):
        for item in obj:
            if not getattr(item, "is_indirect", False):
                _collect(item, texts, depth + 1)


def _decoded(stream: Stream, budget: list[int]) -> bytes:
    """The stream's data as a reader would see it, within the decode budget.

    The filters are applied here first, Flate with a bound, so that pikepdf
    (which has none) only decodes a stream whose decoded size is known to be
    acceptable; its result is what is scanned, as it is what readers see.
    LZW and RunLength, whose expansion we do not measure, are decoded only when
    their input is tiny. Image data is pixels, not text: of a JPEG only the
    segments before the scan are read (where EXIF and XMP live), of other
    images only small ones (where text could pose as pixels).
    """
    if _name_of(stream.get("/Type")) == "/XRef":
        return b""
    filters = _filters(stream)
    raw = stream.read_raw_bytes()
    measured = raw
    for name in filters:
        if name in ("/FlateDecode", "/Fl"):
            measured = _inflate(measured, budget)
        elif name in ("/ASCIIHexDecode", "/AHx"):
            measured = _unhex(measured)
        elif name in ("/ASCII85Decode", "/A85"):
            measured = _un85(measured)
        elif name in ("/LZWDecode", "/LZW", "/RunLengthDecode", "/RL"):
            if len(measured) > MAX_PDF_EXOTIC_ENCODED:
                raise Refused(Reason.FAILED, "PDF stream that cannot be scanned")
        else:
            break  # image codecs: what follows is pixels
    try:
        data = stream.read_bytes() if filters else raw
    except pikepdf.PdfError:
        data = measured + b"\n" + raw
    _spend(budget, len(data))
    if data.startswith(b"\xff\xd8\xff"):
        scan = data.find(b"\xff\xda")
        return data if strip_jpeg_metadata(data) is None or scan < 0 else data[:scan]
    if _name_of(stream.get("/Subtype")) == "/Image" and len(data) > _SCANNED_IMAGE_BYTES:
        return b""
    return data


def _unhex(data: bytes) -> bytes:
    digits = bytes(byte for byte in data.split(b">", 1)[0] if chr(byte) in string.hexdigits)
    if len(digits) % 2:
        digits += b"0"
    return binascii.unhexlify(digits)


def _un85(data: bytes) -> bytes:
    body = data.split(b"~>", 1)[0].strip()
    body = body.removeprefix(b"<~")
    try:
        return base64.a85decode(body, ignorechars=b" \t\n\r\x0b\x0c\x00")
    except ValueError:
        return data


def _inflate(data: bytes, budget: list[int]) -> bytes:
    """zlib-inflate at most the budget; a damaged stream gives what inflated before the damage."""
    limit = min(MAX_PDF_STREAM_DECODED, budget[0]) + 1
    inflater = zlib.decompressobj()
    try:
        inflated = inflater.decompress(data, limit)
    except zlib.error:
        inflated = b""
        inflater = zlib.decompressobj()
        for offset in range(0, len(data), 4096):
            try:
                inflated += inflater.decompress(data[offset : offset + 4096], limit - len(inflated))
            except zlib.error:
                break
            if len(inflated) >= limit:
                break
    if len(inflated) >= limit:
        raise Refused(Reason.TOO_LARGE, "PDF stream")
    _spend(budget, len(inflated))
    return inflated


def _spend(budget: list[int], amount: int) -> None:
    budget[0] -= amount
    if budget[0] < 0:
        raise Refused(Reason.TOO_LARGE, "PDF content")
