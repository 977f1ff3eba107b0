"""Messages inside a post, and the layout of the archive text (CHATHAM_HOUSE.md §2.2).

A forwarded phishing sample is substance: its sender, Reply-To, Return-Path,
the sending host in its oldest Received lines and its subject are indicators
of compromise. The same forward names the member it was sent to and the
member's mail infrastructure. A forwarded internal mail from another member
names that member. So a nested message keeps only a few header fields, all
passed through the registry matcher:

| field | kept when the nested sender is not a member | when it is a member |
|---|---|---|
| From, Subject | yes | yes (redacted) |
| Date | as written (the sender's zone is an IOC) | UTC, rounded like the archive date |
| Sender, Reply-To, Return-Path, X-Mailer, User-Agent, X-Originating-IP | yes | no |
| Message-ID | when it has no registry term | no (a member's admin could look it up) |
| Received | the oldest hops, up to the first member host; without `for <…>` and | no |
|          | authenticated-sender comments; dates in UTC | |
| To, Cc, Bcc, anything else | no | no |

Delivery reports keep Action, Status, Diagnostic-Code, Remote-MTA and
Reporting-MTA, redacted.

The archive text is laid out as the post's own text, then one block per
nested message, then the placeholders of what was not archived:

    We see this wave since 06:00 UTC.

    ----- forwarded message -----
    From: "Billing" <billing@evil-invoice.example>
    Subject: Overdue invoice #88231

    Pay at http://evil-invoice.example/pay

    ----- not archived -----
    [attachment-2 removed from the archive: unsupported type]

`split_layout` reads that layout back, so scrubbing an archived post again
treats each piece the way the first pass did (decision 8). A look-alike typed
by a member is read the same way: the lines up to its first empty line are
registry-redacted like nested header fields, the rest is scrubbed like any text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Literal

from filters.flags import Flag
from filters.matching import RegistryMatcher
from filters.mime_parts import NestedMessage

FORWARD_MARKER = "----- forwarded message -----"
HEADERS_MARKER = "----- forwarded headers -----"
REPORT_MARKER = "----- delivery report -----"
TRAILER_MARKER = "----- not archived -----"
BLOCK_MARKERS = (FORWARD_MARKER, HEADERS_MARKER, REPORT_MARKER)

_MARKER_OF_KIND = {"message": FORWARD_MARKER, "headers": HEADERS_MARKER, "report": REPORT_MARKER}

# The oldest hops of a forwarded sample show where it came from; at most this
# many are kept when no hop names a member host.
MAX_RECEIVED_WITHOUT_MEMBER_HOP = 3

_MEMBER_FIELDS = ("From", "Subject", "Date")
_SAMPLE_FIELDS = (
    "From",
    "Sender",
    "Reply-To",
    "Return-Path",
    "Subject",
    "Date",
    "Message-ID",
    "X-Mailer",
    "User-Agent",
    "X-Originating-IP",
    "Received",
)
_REPORT_FIELDS = ("Action", "Status", "Diagnostic-Code", "Remote-MTA", "Reporting-MTA")
_SENDER_FIELDS = ("from", "sender", "reply-to", "return-path")

_SPACES = re.compile(r"\s+")
_RECEIVED_FOR = re.compile(r"\bfor\s+<?[^\s;<>]*@[^\s;<>]*>?", re.IGNORECASE)
_AUTHENTICATED = re.compile(r"\((?:authenticated|auth)[^()]*\)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Block:
    marker: str
    header_lines: tuple[str, ...]
    body: str = ""


@dataclass(slots=True)
class Layout:
    main: str = ""
    blocks: list[Block] = field(default_factory=list)
    trailer: list[str] = field(default_factory=list)


def nested_header_lines(
    nested: NestedMessage,
    matcher: RegistryMatcher,
    participants: Mapping[str, str],
    *,
    round_date: Callable[[datetime], datetime],
) -> tuple[list[str], list[Flag]]:
    """The header lines a nested message keeps, redacted, in a fixed order."""
    values: dict[str, list[str]] = {}
    for name, value in nested.headers:
        values.setdefault(name.lower(), []).append(_SPACES.sub(" ", value).strip())
    if nested.kind == "report":
        chosen = [
            (name, value) for name in _REPORT_FIELDS for value in values.get(name.lower(), [])
        ]
    else:
        senders = " ".join(v for name in _SENDER_FIELDS for v in values.get(name, []))
        from_member = bool(senders) and matcher.contains_registry_term(senders)
        chosen = _chosen_fields(values, matcher, from_member=from_member, round_date=round_date)
    lines: list[str] = []
    flags: list[Flag] = []
    for name, value in chosen:
        if not value:
            continue
        redacted = matcher.redact(f"{name}: {value}", participants, where="forwarded-headers")
        lines.append(tidy_line(redacted.text))
        flags.extend(redacted.flags)
    return lines, flags


_SAME_NAME_AND_ADDRESS = re.compile(r"(?P<name>[^<>\s][^<>]*?) <(?P=name)>")


def tidy_line(line: str) -> str:
    """One line, single-spaced; `Participant B <Participant B>` said once."""
    return _SAME_NAME_AND_ADDRESS.sub(r"\g<name>", _SPACES.sub(" ", line).strip())


def _chosen_fields(
    values: dict[str, list[str]],
    matcher: RegistryMatcher,
    *,
    from_member: bool,
    round_date: Callable[[datetime], datetime],
) -> list[tuple[str, str]]:
    chosen: list[tuple[str, str]] = []
    for name in _MEMBER_FIELDS if from_member else _SAMPLE_FIELDS:
        found = values.get(name.lower(), [])
        if name == "Received":
            chosen.extend((name, line) for line in _received_lines(found, matcher))
        elif name == "Date":
            date = found[0] if found else ""
            chosen.append((name, _member_date(date, round_date) if from_member else date))
        elif name == "Message-ID":
            if found and not matcher.contains_registry_term(found[0]):
                chosen.append((name, found[0]))
        elif found:
            chosen.append((name, found[0]))
    return chosen


def _member_date(value: str, round_date: Callable[[datetime], datetime]) -> str:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return ""
    if parsed.tzinfo is None:
        return ""
    return format_datetime(round_date(parsed))


def _received_lines(values: list[str], matcher: RegistryMatcher) -> list[str]:
    """The hops before the mail reached a member, oldest last as in the header.

    Received fields are prepended by each hop (RFC 5321 §4.4), so the last one
    is the oldest. Hops after the first member host are internal to the member.
    """
    oldest_first = list(reversed(values))
    kept: list[str] = []
    for value in oldest_first:
        kept.append(value)
        if matcher.contains_registry_term(value):
            break
    else:
        kept = kept[:MAX_RECEIVED_WITHOUT_MEMBER_HOP]
    return [_clean_received(value) for value in reversed(kept)]


def _clean_received(value: str) -> str:
    value = _AUTHENTICATED.sub("", _RECEIVED_FOR.sub("", value))
    head, separator, date = value.rpartition(";")
    if separator:
        try:
            parsed = parsedate_to_datetime(date.strip())
        except (TypeError, ValueError, IndexError):
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            value = f"{head.rstrip()}; {format_datetime(parsed.astimezone(UTC))}"
    return _SPACES.sub(" ", value).strip()


def marker_of(kind: Literal["message", "headers", "report"]) -> str:
    return _MARKER_OF_KIND[kind]


def join_layout(layout: Layout) -> str:
    pieces: list[str] = []
    if layout.main.strip():
        pieces.append(layout.main.strip())
    for block in layout.blocks:
        piece = "\n".join([block.marker, *block.header_lines])
        if block.body.strip():
            piece += "\n\n" + block.body.strip()
        pieces.append(piece)
    if layout.trailer:
        pieces.append("\n".join([TRAILER_MARKER, *layout.trailer]))
    return "\n\n".join(pieces)


def split_layout(text: str) -> Layout:
    """Read back what `join_layout` wrote (and treat a look-alike text the same way)."""
    layout = Layout()
    current: list[str] = []
    block_marker: str | None = None
    header_lines: list[str] = []
    in_headers = False
    in_trailer = False

    def close() -> None:
        body = "\n".join(current).strip()
        if block_marker is None:
            layout.main = body
        else:
            layout.blocks.append(Block(block_marker, tuple(header_lines), body))

    for line in text.split("\n"):
        if in_trailer:
            if line.strip():
                layout.trailer.append(line.strip())
            continue
        marker = line.strip()
        if marker in BLOCK_MARKERS or marker == TRAILER_MARKER:
            close()
            current, header_lines = [], []
            if marker == TRAILER_MARKER:
                in_trailer = True
                block_marker = None
                continue
            block_marker, in_headers = marker, True
            continue
        if in_headers:
            if line.strip():
                header_lines.append(_SPACES.sub(" ", line).strip())
                continue
            in_headers = False
            continue
        current.append(line)
    if not in_trailer:
        close()
    return layout
