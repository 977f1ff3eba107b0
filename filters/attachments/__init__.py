"""Attachment cleaning for the archive form (CHATHAM_HOUSE.md §2.3).

INTERFACE STUB — to be implemented. Other modules code against these names.
"""

from __future__ import annotations

from dataclasses import dataclass

from filters.flags import Flag
from filters.matching import RegistryMatcher


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
    raise NotImplementedError
