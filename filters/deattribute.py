"""The archive form of a post: a new message built from an allowlist.

CHATHAM_HOUSE.md decision 1: the archive copy is never the original with
headers removed. `archive_form` reads the post and writes a new message with
exactly these header fields, and nothing else:

    From: Participant A <participant@archive.invalid>   (the poster's thread label)
    To: List name <list@domain>
    Subject: normalised and scrubbed (filters.subject)
    Date: list receipt time in UTC, rounded down to the hour or day
    Message-ID / In-Reply-To / References: keyed ids (filters.archive_ids),
        only of archived posts
    TLP: AMBER
    MIME-Version, Content-Type, Content-Transfer-Encoding, and per attachment
    Content-Disposition: attachment; filename="attachment-N.ext"

The body is one text/plain part in UTF-8: the post's text (the plain
alternative, or the HTML one turned into text), then each nested message
(filters.rfc822_forward), then one line per part that was not archived; each
piece goes through filters.text_scrub. Attachments go through
filters.attachments. Boundaries are derived from a hash of the content, so the
same post and context always give the same bytes.

Fail closed (decision 5): when anything cannot be archived safely (encrypted
content, an unparseable tree, registry terms left after scrubbing, TLP:RED),
`hold_reason` is set and the caller must not store the form.
`archive_form_or_hold` never raises and never returns the raw input.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.utils import format_datetime
from typing import Literal
from urllib.parse import quote

from filters import tlp
from filters.archive_ids import keyed_message_id, normalise_message_id, referenced_ids
from filters.attachments import clean_attachment
from filters.crypto_parts import strip_inline_pgp
from filters.flags import Flag, FlagKind
from filters.html_text import html_to_text
from filters.matching import HitAction, RegistryMatcher
from filters.mime_parts import (
    KEY_PLACEHOLDER,
    Entity,
    TextPiece,
    Walk,
    header_text,
    walk_message,
)
from filters.rfc822_forward import (
    Block,
    Layout,
    join_layout,
    marker_of,
    nested_header_lines,
    split_layout,
    tidy_line,
)
from filters.subject import archive_subject
from filters.text_scrub import scrub_text


@dataclass(frozen=True, slots=True)
class ArchiveContext:
    """Everything the archive form depends on besides the message itself."""

    list_address: str  # "ciso@lists.example"
    list_name: str  # "CISO reference group"
    list_key: bytes  # keys archive ids (filters.archive_ids)
    received_at: datetime  # list receipt time, timezone-aware
    label: str  # canonical TLP label, e.g. "TLP:AMBER"
    author_key: str | None  # identity key of the poster, None when not a member
    participants: Mapping[str, str] = field(default_factory=dict)  # identity key → "Participant A"
    archived_references: frozenset[str] = frozenset()  # keyed ids already archived
    date_rounding: Literal["hour", "day"] = "hour"
    our_url_prefixes: tuple[str, ...] = ()  # our own web links quoted back are removed


@dataclass(frozen=True, slots=True)
class ArchivedAttachment:
    filename: str  # "attachment-1.pdf"
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class ArchiveForm:
    message: bytes  # the archive form, serialised (RFC 5322, LF line ends)
    message_id: str  # keyed id
    in_reply_to: str | None  # keyed id of an archived parent, or None
    references: tuple[str, ...]  # keyed ids of archived ancestors, oldest first
    subject: str  # normalised and scrubbed
    date: datetime  # rounded UTC
    text: str  # the single scrubbed text representation
    attachments: tuple[ArchivedAttachment, ...]
    flags: tuple[Flag, ...]
    hold_reason: str | None = None  # set: never store; hold the archive copy for a moderator


PARTICIPANT_ADDRESS = "participant@archive.invalid"
ANONYMOUS_LABEL = "A participant"

# Header fields of the archive form (decision 1). Parts carry only the MIME ones.
ARCHIVE_HEADERS = (
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "TLP",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
)
PART_HEADERS = ("Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "MIME-Version")

RED_REASON = "TLP:RED is never archived"
LEFTOVER_REASON = "registry terms remain after scrubbing"
FAILED_REASON = "the archive form could not be built"

# Kinds of file that describe people rather than carry content (§2.2): never
# attached, whatever a cleaner made of them.
_NEVER_ATTACHED = frozenset(
    {
        "application/pgp-keys",
        "application/ms-tnef",
        "application/vnd.ms-tnef",
        "application/vnd.ms-outlook",
        "text/vcard",
        "text/x-vcard",
        "text/directory",
        "application/pkcs7-signature",
        "application/x-pkcs7-signature",
        "application/pgp-signature",
    }
)
_MIME_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
_EXTENSION = re.compile(r"[^a-z0-9]")


def archive_form(message: Message, matcher: RegistryMatcher, ctx: ArchiveContext) -> ArchiveForm:
    """Build the archive form of `message`. May raise on hopeless input (see the wrapper)."""
    date = archive_date(ctx.received_at, ctx.date_rounding)
    list_domain = ctx.list_address.rpartition("@")[2]
    message_id = _archive_message_id(message, ctx.list_key, list_domain)
    if tlp_label_value(ctx.label) == "RED":
        return _empty_form(message_id, date, RED_REASON, ())
    in_reply_to, references = _archived_ancestors(message, ctx, list_domain, message_id)

    subject = archive_subject(header_text(message, "Subject"), matcher, ctx.participants)
    walk = walk_message(message)
    texts = _TextBuilder(matcher, ctx, walk)
    layout = Layout()
    texts.add_entity(walk.root, layout, header=None)
    attachments, placeholders, attachment_flags = _archive_attachments(walk, matcher)
    layout.trailer.extend(texts.redact_line(line) for line in [*walk.placeholders, *placeholders])
    text = join_layout(layout)

    flags = [*walk.flags, *subject.flags, *texts.flags, *attachment_flags]
    hold_reasons = list(walk.hold_reasons)
    if _has_registry_term(matcher, text) or _has_registry_term(matcher, subject.text):
        hold_reasons.append(LEFTOVER_REASON)
        flags.append(Flag(FlagKind.SCRUB_ERROR, "registry term left after scrubbing"))

    headers = _archive_headers(ctx, subject.text, date, message_id, in_reply_to, references)
    data = _serialise(headers, text, attachments)
    return ArchiveForm(
        message=data,
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
        subject=subject.text,
        date=date,
        text=text,
        attachments=tuple(attachments),
        flags=_unique(flags),
        hold_reason="; ".join(hold_reasons) or None,
    )


def archive_form_or_hold(
    message_bytes: bytes, matcher: RegistryMatcher, ctx: ArchiveContext
) -> ArchiveForm:
    """`archive_form` of raw bytes that never raises (decision 5, case 64)."""
    try:
        message = message_from_bytes(message_bytes, policy=policy.default)
    except Exception as error:  # fail closed: every error means "hold, archive nothing"
        return _failed(error, ctx)
    return parsed_archive_form_or_hold(message, matcher, ctx)


def parsed_archive_form_or_hold(
    message: Message, matcher: RegistryMatcher, ctx: ArchiveContext
) -> ArchiveForm:
    """The same for a message already parsed (with `policy.default`); never raises.

    On any failure the form is empty and held; the reason names the kind of
    error only, since an exception's text may quote the post.
    """
    try:
        return archive_form(message, matcher, ctx)
    except Exception as error:  # fail closed: every error means "hold, archive nothing"
        return _failed(error, ctx)


def _failed(error: Exception, ctx: ArchiveContext) -> ArchiveForm:
    reason = f"{FAILED_REASON} ({type(error).__name__})"
    flag = Flag(FlagKind.SCRUB_ERROR, type(error).__name__)
    return _empty_form("", _safe_date(ctx), reason, (flag,))


def archive_date(received_at: datetime, rounding: Literal["hour", "day"]) -> datetime:
    """List receipt time in UTC, rounded down (§2.1 Date: no zone, no seconds)."""
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        raise ValueError("received_at must be timezone-aware")
    utc = received_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return utc.replace(hour=0) if rounding == "day" else utc


def tlp_label_value(label: str) -> str:
    """`TLP:AMBER+STRICT` → `AMBER+STRICT`, the value of the archive form's TLP field."""
    value = label.strip().upper()
    return value.removeprefix("TLP:").strip()


def strip_our_urls(text: str, prefixes: tuple[str, ...]) -> str:
    """Remove our own links quoted back (§2.5): they carry per-recipient tokens.

    A link counts as ours when it starts with one of `prefixes` (with or
    without its scheme) or carries one percent-encoded, as a link wrapper does.
    """
    if not prefixes:
        return text
    plain = [prefix.lower() for prefix in prefixes]
    bare = [prefix.split("://", 1)[-1] for prefix in plain]
    encoded = [quote(prefix, safe="").lower() for prefix in plain]

    def ours(found: re.Match[str]) -> str:
        url = found.group("url").lower()
        if any(url.startswith(prefix) for prefix in plain):
            return ""
        if any(url.split("://", 1)[-1].startswith(prefix) for prefix in bare):
            return ""
        if any(code in url for code in encoded):
            return ""
        return found.group(0)

    return _LINK.sub(ours, text)


_LINK = re.compile(r"<?(?P<url>(?:[a-z][a-z0-9+.-]*://|www\.)[^\s<>\"'\]\)]+)>?", re.IGNORECASE)


@dataclass(slots=True)
class _TextBuilder:
    """Turns the walk's entities into the archive text, piece by piece."""

    matcher: RegistryMatcher
    ctx: ArchiveContext
    walk: Walk
    flags: list[Flag] = field(default_factory=list)
    _nested_count: int = 0

    def add_entity(self, entity: Entity, layout: Layout, *, header: Block | None) -> None:
        where = "body" if header is None else f"forwarded-{self._nested_count}"
        own = self.scrubbed_layout(self.joined_text(entity.texts), where=where)
        if header is None:
            layout.main = own.main
        else:
            layout.blocks.append(replace(header, body=own.main))
        layout.blocks.extend(own.blocks)
        layout.trailer.extend(own.trailer)
        for nested in entity.nested:
            self._nested_count += 1
            lines, flags = nested_header_lines(
                nested, self.matcher, self.ctx.participants, round_date=self.round_date
            )
            self.flags.extend(flags)
            lines = [self.redact_line(line) for line in lines]
            block = Block(marker_of(nested.kind), tuple(line for line in lines if line))
            self.add_entity(nested.body, layout, header=block)

    def joined_text(self, pieces: list[TextPiece]) -> str:
        texts = []
        for piece in pieces:
            text = html_to_text(piece.text) if piece.kind == "html" else piece.text
            text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
            if text.strip():
                texts.append(text.strip("\n"))
        return "\n\n".join(texts)

    def scrubbed_layout(self, text: str, *, where: str) -> Layout:
        """Scrub one text: our artefacts out, then each piece of its layout."""
        armour = strip_inline_pgp(text)
        if armour.encrypted:
            self.walk.encrypted()
        if armour.keys_removed and KEY_PLACEHOLDER not in self.walk.placeholders:
            self.walk.placeholders.append(KEY_PLACEHOLDER)
        text = strip_our_urls(tlp.strip_banners(armour.text), self.ctx.our_url_prefixes)
        pieces = split_layout(text)
        return Layout(
            main=self.scrub(pieces.main, where=where),
            blocks=[
                Block(
                    block.marker,
                    tuple(line for line in map(self.redact_line, block.header_lines) if line),
                    self.scrub(block.body, where=where),
                )
                for block in pieces.blocks
            ],
            trailer=[line for line in map(self.redact_line, pieces.trailer) if line],
        )

    def scrub(self, text: str, *, where: str) -> str:
        if not text.strip():
            return ""
        scrubbed = scrub_text(text, self.matcher, self.ctx.participants, where=where)
        self.flags.extend(scrubbed.flags)
        # The scrubber unwraps link wrappers, which may uncover one of our links.
        return strip_our_urls(scrubbed.text, self.ctx.our_url_prefixes).strip()

    def redact_line(self, line: str) -> str:
        line = strip_our_urls(line, self.ctx.our_url_prefixes)
        redacted = self.matcher.redact(line, self.ctx.participants, where="forwarded-headers")
        self.flags.extend(redacted.flags)
        return tidy_line(redacted.text)

    def round_date(self, value: datetime) -> datetime:
        return archive_date(value, self.ctx.date_rounding)


def _archive_attachments(
    walk: Walk, matcher: RegistryMatcher
) -> tuple[list[ArchivedAttachment], list[str], list[Flag]]:
    """Clean every attachment candidate; number the kept ones 1, 2, … in order.

    Numbers count kept files only, so archiving the archive form again gives
    the same names; a dropped file's flags are renamed to say so.
    """
    kept: list[ArchivedAttachment] = []
    placeholders: list[str] = []
    flags: list[Flag] = []
    removed = 0
    for piece in walk.attachments:
        where = f"attachment-{len(kept) + 1}"
        cleaned = clean_attachment(piece.data, piece.declared_type, matcher, where=where)
        content_type = cleaned.content_type.strip().lower()
        if cleaned.data is not None and content_type not in _NEVER_ATTACHED:
            if not _MIME_TYPE.match(content_type):
                content_type = "application/octet-stream"
            extension = _EXTENSION.sub("", cleaned.extension.lower())[:10] or "bin"
            kept.append(ArchivedAttachment(f"{where}.{extension}", content_type, cleaned.data))
            flags.extend(cleaned.flags)
            continue
        removed += 1
        flags.extend(
            replace(flag, where=f"removed-attachment-{removed}") if flag.where == where else flag
            for flag in cleaned.flags
        )
        if cleaned.placeholder:
            placeholders.append(cleaned.placeholder)
    return kept, placeholders, flags


def _has_registry_term(matcher: RegistryMatcher, text: str) -> bool:
    return any(hit.action == HitAction.REDACT for hit in matcher.find(text))


def _raw_header_values(message: Message, name: str) -> list[str]:
    return [
        " ".join(str(value).split())
        for header_name, value in message.raw_items()
        if header_name.lower() == name.lower()
    ]


def _archive_message_id(message: Message, list_key: bytes, list_domain: str) -> str:
    """Keyed id of the post (§5.2); posts without one are keyed on their bytes."""
    values = _raw_header_values(message, "Message-ID")
    original = normalise_message_id(values[0]) if values else ""
    if not original:
        original = "sha256:" + hashlib.sha256(_raw_bytes(message)).hexdigest()
    return keyed_message_id(list_key, original, list_domain)


def _raw_bytes(message: Message) -> bytes:
    """The post's bytes as the parser saw them, for keying a post without a Message-ID."""
    for generator_policy in (policy.compat32, message.policy):
        try:
            return message.as_bytes(policy=generator_policy)
        except Exception:  # generators fail on some broken trees; fall through
            continue
    return _structure_bytes(message)


def _structure_bytes(message: Message) -> bytes:
    """A deterministic serialisation of a tree the generators cannot write."""
    pieces = [f"{name}: {value}" for name, value in message.raw_items()]
    payload = message.get_payload()
    if isinstance(payload, list):
        pieces.extend(_structure_bytes(part).decode("utf-8", "surrogatepass") for part in payload)
    else:
        pieces.append(str(payload))
    return "\n".join(pieces).encode("utf-8", "surrogatepass")


def _archived_ancestors(
    message: Message, ctx: ArchiveContext, list_domain: str, own_id: str
) -> tuple[str | None, tuple[str, ...]]:
    """Keyed ids of archived ancestors, oldest first, and the nearest one.

    RFC 5322 §3.6.4: References lists ancestors oldest first, In-Reply-To the
    parent. Ids of posts that were not archived (RED parents, off-list mail)
    are dropped, so nothing dangles and nothing points outside the archive.
    """

    def keyed(original: str) -> str:
        return keyed_message_id(ctx.list_key, original, list_domain)

    references = referenced_ids(_raw_header_values(message, "References"))
    parents = referenced_ids(_raw_header_values(message, "In-Reply-To"))
    chain = [*references, *(parent for parent in parents if parent not in references)]
    archived = [
        key
        for key in dict.fromkeys(keyed(original) for original in chain)
        if key in ctx.archived_references and key != own_id
    ]
    nearest = next((keyed(p) for p in reversed(parents) if keyed(p) in archived), None)
    if nearest is None and archived:
        nearest = archived[-1]
    return nearest, tuple(archived)


def _archive_headers(
    ctx: ArchiveContext,
    subject: str,
    date: datetime,
    message_id: str,
    in_reply_to: str | None,
    references: tuple[str, ...],
) -> list[tuple[str, object]]:
    label = ANONYMOUS_LABEL
    if ctx.author_key is not None:
        label = ctx.participants.get(ctx.author_key, ANONYMOUS_LABEL)
    sender_name, sender_domain = PARTICIPANT_ADDRESS.split("@")
    list_user, _, list_domain = ctx.list_address.rpartition("@")
    headers: list[tuple[str, object]] = [
        ("From", Address(display_name=label, username=sender_name, domain=sender_domain)),
        ("To", Address(display_name=ctx.list_name, username=list_user, domain=list_domain)),
        ("Subject", subject),
        ("Date", format_datetime(date)),
        ("Message-ID", message_id),
    ]
    if in_reply_to:
        headers.append(("In-Reply-To", in_reply_to))
    if references:
        headers.append(("References", " ".join(references)))
    headers.append(("TLP", tlp_label_value(ctx.label)))
    return headers


def _serialise(
    headers: list[tuple[str, object]], text: str, attachments: list[ArchivedAttachment]
) -> bytes:
    message = EmailMessage(policy=policy.default)
    for name, value in headers:
        message[name] = value
    message.set_content(text, charset="utf-8")
    for attachment in attachments:
        maintype, subtype = attachment.content_type.split("/", 1)
        message.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    for part in message.iter_parts():
        del part["MIME-Version"]  # only the message itself says which MIME it speaks
    boundary = None
    if attachments:
        # A boundary from the content, not from randomness or the original
        # (whose boundary can name an Exchange host, §2.1).
        # The message id is hashed in too, so two posts never share a boundary.
        digest = hashlib.sha256(str(headers).encode("utf-8", "surrogatepass"))
        digest.update(text.encode("utf-8", "surrogatepass"))
        for attachment in attachments:
            digest.update(attachment.data)
        boundary = "=_archive_" + digest.hexdigest()[:40]
        message.set_boundary(boundary)
    data = message.as_bytes()
    _check_allowlist(data, boundary)
    return data


_ALLOWED_TOP = frozenset(name.lower() for name in ARCHIVE_HEADERS)
_ALLOWED_PART = frozenset(name.lower() for name in PART_HEADERS)


def _check_allowlist(data: bytes, boundary: str | None) -> None:
    """Fail closed if the generator ever wrote a field outside the allowlist.

    Reads the header blocks as written, the message's and each part's (found
    by the boundary chosen above), without parsing the bodies: re-parsing a
    form with a 10 MB scan in it cost four times its size in memory.
    """
    _check_fields(_header_block(data, 0), _ALLOWED_TOP)
    if boundary is None:
        return
    delimiter = b"\n--" + boundary.encode("ascii")
    start = data.find(delimiter)
    while start != -1:
        after = start + len(delimiter)
        if data.startswith(b"--", after):  # the close delimiter
            return
        line_end = data.find(b"\n", after)
        if line_end == -1:
            raise ValueError("archive form part has no header block")
        block = _header_block(data, line_end + 1)
        _check_fields(block, _ALLOWED_PART)
        # One level of parts is all the form has: a part that nests more is refused.
        if re.search(rb"(?im)^content-type:\s*(multipart|message)/", block):
            raise ValueError("archive form part nests other parts")
        start = data.find(delimiter, line_end)
    raise ValueError("archive form has no close delimiter")


def _header_block(data: bytes, offset: int) -> bytes:
    if data.startswith(b"\n", offset):
        return b""
    end = data.find(b"\n\n", offset)
    if end == -1:
        raise ValueError("archive form has a header block without an end")
    return data[offset:end]


def _check_fields(block: bytes, allowed: frozenset[str]) -> None:
    for line in block.split(b"\n"):
        if line[:1] in (b" ", b"\t"):
            continue  # a folded continuation of the field above
        name, colon, _ = line.partition(b":")
        if not colon or name.decode("ascii", "replace").strip().lower() not in allowed:
            raise ValueError("archive form has a header outside the allowlist")


def _empty_form(
    message_id: str, date: datetime, reason: str, flags: tuple[Flag, ...]
) -> ArchiveForm:
    return ArchiveForm(
        message=b"",
        message_id=message_id,
        in_reply_to=None,
        references=(),
        subject="",
        date=date,
        text="",
        attachments=(),
        flags=flags,
        hold_reason=reason,
    )


def _safe_date(ctx: ArchiveContext) -> datetime:
    try:
        return archive_date(ctx.received_at, ctx.date_rounding)
    except (ValueError, TypeError, AttributeError, OverflowError):
        return datetime(1970, 1, 1, tzinfo=UTC)


def _unique(flags: list[Flag]) -> tuple[Flag, ...]:
    return tuple(dict.fromkeys(flags))
