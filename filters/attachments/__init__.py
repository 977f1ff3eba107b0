"""Attachment cleaning for the archive form (CHATHAM_HOUSE.md §2.2, §2.3).

The archive never carries an attachment as it arrived. `clean_attachment`
takes the decoded bytes and the sender's declared Content-Type and:

1. detects the real type from the bytes (`detect`), never from the claim;
2. refuses, before parsing, anything over `max_bytes`;
3. rewrites the file per type: PDF (`pdf`), OOXML (`office`), ODF (`odf`),
   JPEG/PNG/GIF/WebP (`images`), plain text (`text`); every other type
   (HEIC, SVG, legacy OLE documents, Outlook .msg, winmail.dat, archives,
   executables, vCards, invitations, keys, signatures, encrypted blobs,
   RTF, HTML, stored messages, unknown bytes) is left out;
4. scans everything readable in the *cleaned* file for registry terms (each
   cleaner lists it: document text, attribute values, part names, PDF strings,
   names and decoded streams; a re-encoded image has none). A hit leaves the
   attachment out (rewriting a name out of a PDF or a screenshot is not
   reliable, §5.1).

It never raises: every refusal and every failure becomes "left out" with a
flag for the moderator and a one-line placeholder for the archive text, whose
reason is a fixed phrase and never contains a registry term.

Animated GIF and WebP keep their first frame only (see `images`).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image

from filters.attachments.detect import CLEANABLE, DetectedType, FileKind, detect_type
from filters.attachments.images import clean_image
from filters.attachments.odf import clean_odf
from filters.attachments.office import clean_ooxml
from filters.attachments.outcome import CleanedFile, Reason, Refused
from filters.attachments.pdf import clean_pdf
from filters.attachments.readable import RUN_SEPARATOR
from filters.attachments.text import clean_text
from filters.flags import Flag, FlagKind
from filters.matching import RegistryMatcher

__all__ = ["CleanedAttachment", "clean_attachment"]


@dataclass(frozen=True, slots=True)
class CleanedAttachment:
    data: bytes | None  # None: left out of the archive form
    content_type: str  # detected from the bytes, not the sender's claim
    extension: str  # without the dot: "pdf", "docx", "png", "bin"
    flags: tuple[Flag, ...]
    placeholder: str | None  # one line for the archive text when left out


def clean_attachment(
    data: bytes,
    declared_type: str,
    matcher: RegistryMatcher,
    *,
    where: str,
    max_bytes: int = 25 * 1024 * 1024,
) -> CleanedAttachment:
    """The archive form of one attachment: cleaned bytes, or left out with a reason."""
    detected = DetectedType(FileKind.UNKNOWN, "application/octet-stream", "bin")
    try:
        detected = detect_type(data, declared_type)
        if len(data) > max_bytes:
            raise Refused(Reason.TOO_LARGE)
        with warnings.catch_warnings():
            # Parsers warn about oddities of hostile input; the outcome is ours to
            # report. A picture past Pillow's bomb threshold is refused, not warned about.
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            cleaned = _clean(data, detected)
        if _names_anyone(cleaned, matcher):
            raise Refused(Reason.CONTENT_HIT)
    except Refused as refusal:
        return _left_out(detected, refusal, where)
    except Exception as error:  # a cleaner bug or a parser choking: fail closed (decision 5)
        return _left_out(detected, Refused(Reason.FAILED, type(error).__name__), where)
    flags = tuple(Flag(flag.kind, flag.detail, where) for flag in cleaned.flags)
    return CleanedAttachment(
        data=cleaned.data,
        content_type=detected.content_type,
        extension=detected.extension,
        flags=flags,
        placeholder=None,
    )


def _clean(data: bytes, detected: DetectedType) -> CleanedFile:
    kind = detected.kind
    if kind not in CLEANABLE:
        raise Refused(Reason.UNSUPPORTED, detected.content_type)
    if kind is FileKind.PDF:
        return clean_pdf(data)
    if kind in (FileKind.DOCX, FileKind.XLSX, FileKind.PPTX):
        return clean_ooxml(data)
    if kind in (FileKind.ODT, FileKind.ODS, FileKind.ODP, FileKind.ODG):
        return clean_odf(data, kind)
    if kind in (FileKind.JPEG, FileKind.PNG, FileKind.GIF, FileKind.WEBP):
        return clean_image(data, kind)
    return clean_text(data)


# The scan feeds the matcher pieces of bounded size, so that its cost grows
# linearly with the file. Pieces end at white space and overlap by more than
# the longest registry term, so no term is cut in two and none is found in
# the middle of a longer word.
_SCAN_PIECE = 16 * 1024
_SCAN_OVERLAP = 512
_WHITE_SPACE = re.compile(r"\s")


def _names_anyone(cleaned: CleanedFile, matcher: RegistryMatcher) -> bool:
    """Whether any text in the cleaned file names a member or a member organisation."""
    text = RUN_SEPARATOR.join(text for text in cleaned.texts if text)
    return any(matcher.contains_registry_term(piece) for piece in _scan_pieces(text))


def _scan_pieces(text: str) -> Iterator[str]:
    start = 0
    while start < len(text):
        end = min(len(text), start + _SCAN_PIECE)
        if end < len(text):
            cut = _last_white_space(text, start + _SCAN_PIECE // 2, end)
            end = cut if cut > start else end
        yield text[start:end]
        if end >= len(text):
            return
        following = _WHITE_SPACE.search(text, max(start + 1, end - _SCAN_OVERLAP), end)
        start = following.end() if following else end


def _last_white_space(text: str, low: int, high: int) -> int:
    for position in range(high - 1, low - 1, -1):
        if text[position].isspace():
            return position
    return -1


def _left_out(detected: DetectedType, refusal: Refused, where: str) -> CleanedAttachment:
    if refusal.reason is Reason.CONTENT_HIT:
        flag = Flag(FlagKind.ATTACHMENT_CONTENT_HIT, refusal.reason.value, where)
    else:
        detail = refusal.reason.value + (f": {refusal.detail}" if refusal.detail else "")
        flag = Flag(FlagKind.ATTACHMENT_DROPPED, detail, where)
    return CleanedAttachment(
        data=None,
        content_type=detected.content_type,
        extension=detected.extension,
        flags=(flag,),
        placeholder=f"[{where} removed from the archive: {refusal.reason.value}]",
    )
