"""Decoding and walking a MIME tree for the archive form (CHATHAM_HOUSE.md §2.2).

The walk sorts every part of a post into what the archive form is built from:

- body texts (text/plain, or text/html when an alternative has no plain form),
  in order, per message: the post itself and each message it carries;
- nested messages (message/rfc822, text/rfc822-headers, delivery reports),
  walked with the same rules;
- attachment candidates (raw bytes and the declared type; the attachment
  cleaner decides what they really are);
- placeholders, hold reasons and flags for what cannot be archived.

Nothing here knows the registry: redaction happens later, on what the walk
returns. Signature parts, keys and certificates are dropped here because they
are never content. The walk never copies a header, a filename, a Content-ID or
a boundary: the caller builds a new message from the pieces (decision 1).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import hashlib
import quopri
import re
from dataclasses import dataclass, field
from email import errors, message_from_bytes, policy
from email.message import Message
from email.parser import HeaderParser
from typing import Literal
from urllib.parse import unquote

import lxml.html
from lxml import etree

from filters import crypto_parts
from filters.flags import Flag, FlagKind

# Deeper trees than this are not written by any mail client; they are a
# resource attack or a broken generator. The post is held (decision 5).
MAX_DEPTH = 24

# Images this small inside multipart/related are logos, icons and spacer
# pixels of signatures: dropped without a placeholder.
SMALL_INLINE_IMAGE_BYTES = 10 * 1024

ENCRYPTED_REASON = "encrypted content cannot be archived"
UNPARSEABLE_REASON = "the MIME structure cannot be parsed"
TOO_DEEP_REASON = "the MIME structure is nested too deeply"
OPAQUE_SMIME_REASON = "opaque S/MIME signed content could not be unwrapped"
COMPRESSED_SMIME_REASON = "compressed S/MIME content cannot be archived"

ENCRYPTED_PLACEHOLDER = "[encrypted content not archived]"
KEY_PLACEHOLDER = "[OpenPGP key not archived]"
UNWRAP_PLACEHOLDER = "[signed content not archived]"
EXTERNAL_PLACEHOLDER = "[external or partial message not archived]"

PLAIN_TYPES = frozenset({"text/plain", "text/markdown", "text/x-markdown"})
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# Detached signatures (RFC 1847, RFC 8551 §3.5, RFC 3156 §5): the signer's
# certificate or key id, never content.
SIGNATURE_TYPES = frozenset(
    {
        "application/pgp-signature",
        "application/pkcs7-signature",
        "application/x-pkcs7-signature",
    }
)
ENCRYPTED_TYPES = frozenset({"application/pgp-encrypted", "multipart/encrypted"})
PKCS7_MIME_TYPES = frozenset({"application/pkcs7-mime", "application/x-pkcs7-mime"})
CERTIFICATE_TYPES = frozenset(
    {"application/pkcs7-certificates", "application/x-x509-ca-cert", "application/pkix-cert"}
)
KEY_TYPES = frozenset({"application/pgp-keys"})
NESTED_MESSAGE_TYPES = frozenset({"message/rfc822", "message/global"})
HEADER_BLOCK_TYPES = frozenset({"text/rfc822-headers", "message/global-headers"})
REPORT_TYPES = frozenset(
    {
        "message/delivery-status",
        "message/global-delivery-status",
        "message/disposition-notification",
        "message/global-disposition-notification",
    }
)
UNARCHIVABLE_MESSAGE_TYPES = frozenset({"message/partial", "message/external-body"})
# How clients declare a forwarded message attached as an .eml file.
_EML_FILE_TYPES = frozenset({"application/octet-stream", "text/plain", "application/x-eml"})
# Resources of an HTML body that carry no content of their own.
STYLE_TYPES = frozenset({"text/css"})

# Defects after which the parser's idea of the tree is a guess (RFC 2046 §5.1).
_STRUCTURAL_DEFECTS = (
    errors.NoBoundaryInMultipartDefect,
    errors.StartBoundaryNotFoundDefect,
    errors.MultipartInvariantViolationDefect,
)


@dataclass(frozen=True, slots=True)
class TextPiece:
    kind: Literal["plain", "html"]
    text: str


@dataclass(frozen=True, slots=True)
class AttachmentPiece:
    data: bytes
    declared_type: str


@dataclass(slots=True)
class Entity:
    """One message's own content: its body texts and the messages it carries."""

    texts: list[TextPiece] = field(default_factory=list)
    nested: list[NestedMessage] = field(default_factory=list)


@dataclass(slots=True)
class NestedMessage:
    """A message inside the post: a forward, a header block or a delivery report."""

    kind: Literal["message", "headers", "report"]
    headers: list[tuple[str, str]]  # decoded (name, value), in their original order
    body: Entity = field(default_factory=Entity)


@dataclass(slots=True)
class Walk:
    """Everything one walk collected, across the whole tree."""

    root: Entity = field(default_factory=Entity)
    attachments: list[AttachmentPiece] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)
    hold_reasons: list[str] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)

    def hold(self, reason: str, placeholder: str | None = None) -> None:
        if reason not in self.hold_reasons:
            self.hold_reasons.append(reason)
        if placeholder and placeholder not in self.placeholders:
            self.placeholders.append(placeholder)

    def encrypted(self) -> None:
        if ENCRYPTED_REASON not in self.hold_reasons:
            self.flags.append(Flag(FlagKind.ENCRYPTED, "encrypted part not archived"))
        self.hold(ENCRYPTED_REASON, ENCRYPTED_PLACEHOLDER)

    def first_sight(self, data: bytes) -> bool:
        """False when the same bytes were already collected (alternatives repeat them)."""
        digest = hashlib.sha256(data).hexdigest()
        if digest in self._seen:
            return False
        self._seen.add(digest)
        return True


@dataclass(frozen=True, slots=True)
class _Where:
    """Where in the tree a part sits, as far as the walk cares."""

    want_text: bool = True  # False inside an alternative we did not choose
    resource: bool = False  # a non-root part of multipart/related
    signature_ids: frozenset[str] = frozenset()  # Content-IDs shown inside a signature block


_BODY = _Where()


def walk_message(message: Message) -> Walk:
    """Sort every part of `message` into texts, nested messages and attachments."""
    walk = Walk()
    _walk(message, walk.root, walk, depth=0, where=_BODY)
    return walk


# --- decoding ----------------------------------------------------------------

_SINGLE_BYTE_LATIN = frozenset(
    {"ascii", "latin-1", "iso8859-1", "iso8859-15", "iso8859-2", "cp1250", "cp1252"}
)


def codec_name(charset: str | None) -> str | None:
    """The Python codec for a MIME charset label, or None when there is none."""
    if not charset:
        return None
    label = charset.strip().strip("\"'").lower().split("*", 1)[0]  # RFC 2231 language tag
    for candidate in (label, label.removeprefix("x-"), label.replace("-", "")):
        try:
            info = codecs.lookup(candidate)
        except LookupError:
            continue
        if getattr(info, "_is_text_encoding", True):
            return info.name
    return None


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode text whatever its label says: declared charset, then UTF-8, then cp1252.

    A declared single-byte charset over bytes that are valid UTF-8 is a common
    mislabel; decoding it as labelled would turn "Müller" into "MÃ¼ller", which
    a reader still recognises and a matcher does not.
    """
    name = codec_name(charset)
    if name in _SINGLE_BYTE_LATIN and not data.isascii():
        try:
            return data.decode("utf-8")
        except UnicodeError:
            pass
    for codec in (name, "utf-8"):
        if codec is None:
            continue
        try:
            return data.decode(codec)
        except (UnicodeError, LookupError, ValueError):
            continue
    try:
        return data.decode("cp1252")
    except UnicodeError:
        return data.decode("latin-1")


def _raw_8bit(text: str) -> str:
    """Undo the parser's surrogate escapes of 8-bit header bytes (RFC 6532 or mislabelled)."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    return decode_bytes(text.encode("utf-8", "surrogateescape"), "utf-8")


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?\s]*)\?=")
_FOLD = re.compile(r"\r?\n(?=[ \t])")


def _decode_word(encoding: str, payload: str) -> bytes | None:
    try:
        if encoding.upper() == "B":
            padded = payload + "=" * (-len(payload) % 4)
            return base64.b64decode(padded.encode("ascii"), validate=False)
        return quopri.decodestring(payload.replace("_", " ").encode("ascii"), header=False)
    except (binascii.Error, ValueError, UnicodeError):
        return None


def decode_header_value(raw: str) -> str:
    """A header value as a reader sees it: unfolded, RFC 2047 words decoded.

    Written out because the stdlib's header parser replaces words in unknown
    charsets and raw 8-bit bytes with U+FFFD, which hides a name from the
    matcher but not from a reader. Adjacent encoded words in one charset are
    joined as bytes first, so a character split across two words survives
    (RFC 2047 §5, §6.2: white space between adjacent encoded words is dropped).
    """
    text = _raw_8bit(_FOLD.sub("", raw))
    pieces: list[str] = []
    pending: bytearray | None = None
    pending_charset = ""
    position = 0
    for found in _ENCODED_WORD.finditer(text):
        between = text[position : found.start()]
        decoded = _decode_word(found.group(2), found.group(3))
        if decoded is None:
            continue  # left as literal text
        if pending is not None and not between.strip():
            between = ""
        if between:
            if pending is not None:
                pieces.append(decode_bytes(bytes(pending), pending_charset))
                pending = None
            pieces.append(between)
        charset = found.group(1)
        if pending is not None and charset.lower() == pending_charset.lower():
            pending += decoded
        else:
            if pending is not None:
                pieces.append(decode_bytes(bytes(pending), pending_charset))
            pending, pending_charset = bytearray(decoded), charset
        position = found.end()
    if pending is not None:
        pieces.append(decode_bytes(bytes(pending), pending_charset))
    pieces.append(text[position:])
    return "".join(pieces)


def decoded_headers(message: Message) -> list[tuple[str, str]]:
    """Every header of `message` as (name, decoded value), in order."""
    return [(name, decode_header_value(str(value))) for name, value in message.raw_items()]


def header_text(message: Message, name: str) -> str | None:
    """The first `name` header decoded, or None."""
    for header_name, value in message.raw_items():
        if header_name.lower() == name.lower():
            return decode_header_value(str(value))
    return None


def header_texts(message: Message, name: str) -> list[str]:
    return [
        decode_header_value(str(value))
        for header_name, value in message.raw_items()
        if header_name.lower() == name.lower()
    ]


def payload_bytes(part: Message) -> bytes:
    """The decoded body of a leaf part (QP, base64, uuencode undone)."""
    try:
        payload = part.get_payload(decode=True)
    except (ValueError, TypeError, LookupError, binascii.Error):
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def part_text(part: Message) -> str:
    """A text part decoded to str, format=flowed undone (RFC 3676 §4.2)."""
    try:
        charset = part.get_content_charset()
    except (ValueError, TypeError, LookupError):
        charset = None
    text = decode_bytes(payload_bytes(part), charset)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _param(part, "format").lower() == "flowed":
        text = unflow(text, delete_space=_param(part, "delsp").lower() == "yes")
    return text


def _param(part: Message, name: str) -> str:
    try:
        value = part.get_param(name)
    except (ValueError, TypeError, LookupError):
        return ""
    if isinstance(value, tuple):  # RFC 2231 (charset, language, value)
        value = value[2]
    return str(value) if value else ""


def unflow(text: str, *, delete_space: bool = False) -> str:
    """Join RFC 3676 soft line breaks, so a name wrapped across lines is one string.

    A line ending in a space continues on the next line of the same quote depth;
    the signature separator "-- " is never a soft break (§4.3); a leading space
    is space-stuffing (§4.4).
    """
    out: list[str] = []
    current: str | None = None
    current_depth = -1
    for line in text.split("\n"):
        stripped = line.lstrip(">")
        depth = len(line) - len(stripped)
        if stripped.startswith(" "):
            stripped = stripped[1:]
        if current is not None and depth == current_depth:
            current += stripped
        else:
            if current is not None:
                out.append(">" * current_depth + (" " if current_depth else "") + current)
            current, current_depth = stripped, depth
        if current.endswith(" ") and current != "-- ":
            if delete_space:
                current = current[:-1]
            continue
        out.append(">" * current_depth + (" " if current_depth else "") + current)
        current, current_depth = None, -1
    if current is not None:
        out.append(">" * current_depth + (" " if current_depth else "") + current)
    return "\n".join(out)


# --- walking -----------------------------------------------------------------


def content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except (ValueError, TypeError, LookupError, IndexError):
        return "application/octet-stream"


def _disposition(part: Message) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except (ValueError, TypeError, LookupError, IndexError):
        return "attachment"


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or _param(part, "name")
    except (ValueError, TypeError, LookupError, IndexError):
        return ""
    return str(name or "")


def _walk(part: Message, entity: Entity, walk: Walk, *, depth: int, where: _Where) -> None:
    if depth > MAX_DEPTH:
        walk.hold(TOO_DEEP_REASON)
        return
    if any(isinstance(defect, _STRUCTURAL_DEFECTS) for defect in part.defects):
        walk.hold(UNPARSEABLE_REASON)
        return
    ctype = content_type(part)
    if ctype.startswith("multipart/"):
        children = part.get_payload()
        if not isinstance(children, list):
            walk.hold(UNPARSEABLE_REASON)
            return
        _walk_multipart(ctype, part, children, entity, walk, depth=depth, where=where)
    elif ctype in NESTED_MESSAGE_TYPES:
        _walk_nested_message(part, entity, walk, depth=depth)
    else:
        _walk_leaf(ctype, part, entity, walk, depth=depth, where=where)


def _walk_multipart(
    ctype: str,
    part: Message,
    children: list[Message],
    entity: Entity,
    walk: Walk,
    *,
    depth: int,
    where: _Where,
) -> None:
    subtype = ctype.split("/", 1)[1]
    if subtype == "encrypted":
        walk.encrypted()  # RFC 1847 §2.2: nothing inside is readable without a key
    elif subtype == "signed":
        # RFC 1847 §2.1: the first part is the content, the rest is the signature.
        if children:
            _walk(children[0], entity, walk, depth=depth + 1, where=where)
    elif subtype == "alternative":
        _walk_alternative(children, entity, walk, depth=depth, where=where)
    elif subtype == "related":
        _walk_related(part, children, entity, walk, depth=depth, where=where)
    else:  # mixed, digest, parallel, report and unknown subtypes (RFC 2046 §5.1.3)
        for child in children:
            _walk(child, entity, walk, depth=depth + 1, where=where)


def _has_plain_body(part: Message) -> bool:
    """Whether `part` would give a text/plain body (directly or as its first part)."""
    ctype = content_type(part)
    if ctype in PLAIN_TYPES:
        # Some generators send an empty plain alternative next to the real HTML one.
        return _disposition(part) != "attachment" and bool(part_text(part).strip())
    children = part.get_payload()
    if ctype.startswith("multipart/") and isinstance(children, list) and children:
        return ctype != "multipart/alternative" and _has_plain_body(children[0])
    return False


def _walk_alternative(
    children: list[Message], entity: Entity, walk: Walk, *, depth: int, where: _Where
) -> None:
    """Keep one representation (§2.4): the plain one if any, else the last (richest).

    The other alternatives are still searched for attachments and inline
    images, which Apple Mail puts only inside its HTML alternative.
    """
    if not children:
        return
    chosen = next((child for child in children if _has_plain_body(child)), children[-1])
    for child in children:
        child_where = where if child is chosen else _Where(want_text=False, resource=where.resource)
        _walk(child, entity, walk, depth=depth + 1, where=child_where)


def _walk_related(
    part: Message,
    children: list[Message],
    entity: Entity,
    walk: Walk,
    *,
    depth: int,
    where: _Where,
) -> None:
    """RFC 2387 §3.2: the root is the `start` part, else the first; the rest are resources."""
    if not children:
        return
    start = _param(part, "start").strip()
    root = next(
        (
            child
            for child in children
            if start and str(child.get("Content-ID", "")).strip() == start
        ),
        children[0],
    )
    html = _first_html(root)
    resource_where = _Where(
        want_text=where.want_text,
        resource=True,
        signature_ids=signature_content_ids(html) if html else frozenset(),
    )
    for child in children:
        _walk(
            child, entity, walk, depth=depth + 1, where=where if child is root else resource_where
        )


def _first_html(part: Message) -> str | None:
    for leaf in part.walk():
        if content_type(leaf) in HTML_TYPES and _disposition(leaf) != "attachment":
            return part_text(leaf)
    return None


# Signature containers of common clients (§2.4): Outlook div#Signature, Gmail
# .gmail_signature, Thunderbird .moz-signature, Apple Mail #AppleMailSignature.
_SIGNATURE_IMAGES = etree.XPath(
    "//*[contains(translate(@id, 'SIGNATURE', 'signature'), 'signature')"
    " or contains(translate(@class, 'SIGNATURE', 'signature'), 'signature')]//img/@src"
)


def signature_content_ids(html: str) -> frozenset[str]:
    """Content-IDs of images shown inside a signature block: logos, never content."""
    try:
        root = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return frozenset()
    sources = _SIGNATURE_IMAGES(root)
    return frozenset(
        _content_id(unquote(str(source)[4:]))
        for source in sources
        if str(source).lower().startswith("cid:")
    )


def _content_id(value: str) -> str:
    return value.strip().strip("<>").strip().lower()


def _walk_nested_message(part: Message, entity: Entity, walk: Walk, *, depth: int) -> None:
    inner = _nested_message_of(part)
    if inner is None:
        walk.hold(UNPARSEABLE_REASON)
        return
    try:
        raw = inner.as_bytes(policy=policy.compat32)
    except Exception:  # a nested message the generator cannot write is still walked
        raw = repr(list(inner.raw_items())).encode("utf-8", "surrogateescape")
    if not walk.first_sight(raw):
        return
    nested = NestedMessage(kind="message", headers=decoded_headers(inner))
    entity.nested.append(nested)
    _walk(inner, nested.body, walk, depth=depth + 1, where=_BODY)


def _nested_message_of(part: Message) -> Message | None:
    payload = part.get_payload()
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    # RFC 2046 §5.2.1 forbids encoding message/rfc822, but clients do it, and
    # the stdlib parses message/global (RFC 6532 §3.7) as a leaf.
    if isinstance(payload, list) and encoding not in ("base64", "quoted-printable"):
        inner = payload[0] if payload else None
        return inner if isinstance(inner, Message) else None
    if isinstance(payload, list):
        if not payload:
            return None
        data = payload[0].as_bytes(policy=policy.compat32)
        if encoding == "base64":
            data = base64.b64decode(re.sub(rb"[^A-Za-z0-9+/]", b"", data) + b"==", validate=False)
        else:
            data = quopri.decodestring(data)
    else:
        data = payload_bytes(part)
    return message_from_bytes(data, policy=policy.default)


def _walk_leaf(
    ctype: str, part: Message, entity: Entity, walk: Walk, *, depth: int, where: _Where
) -> None:
    filename = _filename(part).lower()
    if ctype in SIGNATURE_TYPES or ctype in CERTIFICATE_TYPES or filename.endswith(".p7s"):
        return
    if ctype in ENCRYPTED_TYPES:
        walk.encrypted()
    elif ctype in PKCS7_MIME_TYPES or filename.endswith(".p7m"):
        _walk_pkcs7(part, entity, walk, depth=depth, where=where)
    elif ctype in KEY_TYPES:
        walk.placeholders.append(KEY_PLACEHOLDER)
    elif ctype in UNARCHIVABLE_MESSAGE_TYPES:
        walk.placeholders.append(EXTERNAL_PLACEHOLDER)
    elif filename.endswith(".eml") and ctype in _EML_FILE_TYPES:
        _walk_nested_message(part, entity, walk, depth=depth)  # a forward saved as a file
    elif ctype in HEADER_BLOCK_TYPES:
        _walk_header_block(part, entity, walk)
    elif ctype in REPORT_TYPES:
        _walk_report(part, entity, walk)
    elif _param(part, "hp-legacy-display") or _param(part, "protected-headers"):
        return  # a copy of the post's own protected headers (RFC 9788 §4.5)
    elif _is_body_text(ctype, part, entity, filename):
        if where.want_text:
            kind: Literal["plain", "html"] = "html" if ctype in HTML_TYPES else "plain"
            entity.texts.append(TextPiece(kind, part_text(part)))
    else:
        _collect_attachment(ctype, part, walk, where=where)


def _is_body_text(ctype: str, part: Message, entity: Entity, filename: str) -> bool:
    if ctype not in PLAIN_TYPES and ctype not in HTML_TYPES:
        return False
    if _disposition(part) == "attachment":
        return False
    # A named text part after the first one is a text attachment: mutt and
    # Outlook name text attachments without saying "attachment".
    return not (filename and entity.texts)


def _collect_attachment(ctype: str, part: Message, walk: Walk, *, where: _Where) -> None:
    data = payload_bytes(part)
    if where.resource:
        if _content_id(str(part.get("Content-ID", ""))) in where.signature_ids:
            return  # an image inside a signature block, whatever its size
        if ctype in STYLE_TYPES or ctype.startswith("font/") or "font" in ctype:
            return
        if ctype.startswith("image/") and len(data) < SMALL_INLINE_IMAGE_BYTES:
            return  # a signature logo, an icon or a tracking pixel
    if data and walk.first_sight(data):
        walk.attachments.append(AttachmentPiece(data=data, declared_type=ctype))


def _walk_pkcs7(part: Message, entity: Entity, walk: Walk, *, depth: int, where: _Where) -> None:
    """S/MIME application/pkcs7-mime (RFC 8551 §3.2): unwrap signed data, hold the rest."""
    smime_type = _param(part, "smime-type").lower()
    if smime_type in ("enveloped-data", "authenveloped-data"):
        walk.encrypted()
        return
    if smime_type == "certs-only":
        return
    if smime_type == "compressed-data":
        walk.hold(COMPRESSED_SMIME_REASON, UNWRAP_PLACEHOLDER)
        return
    content = crypto_parts.signed_data_content(payload_bytes(part))
    if content is None:
        if smime_type == "signed-data":
            walk.hold(OPAQUE_SMIME_REASON, UNWRAP_PLACEHOLDER)
        else:
            walk.encrypted()  # unlabelled and not signed data: treat it as enveloped
        return
    inner = message_from_bytes(content, policy=policy.default)
    _walk(inner, entity, walk, depth=depth + 1, where=where)


def _walk_header_block(part: Message, entity: Entity, walk: Walk) -> None:
    if _param(part, "protected-headers"):
        return  # a legacy display of the post's own headers
    text = part_text(part)
    if not walk.first_sight(text.encode("utf-8", "surrogatepass")):
        return
    headers = HeaderParser(policy=policy.default).parsestr(text)
    entity.nested.append(NestedMessage(kind="headers", headers=decoded_headers(headers)))


def _walk_report(part: Message, entity: Entity, walk: Walk) -> None:
    """Delivery and disposition reports (RFC 3464 §2, RFC 8098 §3): blocks of fields."""
    payload = part.get_payload()
    if isinstance(payload, list):
        blocks = [block for block in payload if isinstance(block, Message)]
    else:
        parser = HeaderParser(policy=policy.default)
        chunks = re.split(r"\n\s*\n", part_text(part))
        blocks = [parser.parsestr(chunk) for chunk in chunks if chunk.strip()]
    headers = [item for block in blocks for item in decoded_headers(block)]
    if headers:
        entity.nested.append(NestedMessage(kind="report", headers=headers))
