"""The archive form of a post: a new message built from an allowlist.

INTERFACE STUB — to be implemented. The pipeline codes against these names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Literal

from filters.flags import Flag
from filters.matching import RegistryMatcher


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


def archive_form(message: EmailMessage, matcher: RegistryMatcher, ctx: ArchiveContext) -> ArchiveForm:
    raise NotImplementedError
