"""What a type cleaner hands back, and how it says no.

Each cleaner (`pdf`, `office`, `odf`, `images`, `text`) is a pure function
`bytes -> CleanedFile`. It either returns the rewritten bytes together with
every text it saw inside them (for the registry scan in `clean_attachment`),
or raises `Refused` with one of the generic `Reason`s. Any other exception is
a bug or a malformed file; `clean_attachment` turns it into "could not be
cleaned". Reasons never contain registry terms: they are fixed strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from filters.flags import Flag


class Reason(StrEnum):
    """Why an attachment was left out; printed in the archive's placeholder line."""

    TOO_LARGE = "too large"
    ENCRYPTED = "encrypted"
    UNSUPPORTED = "unsupported type"
    CONTENT_HIT = "names a participant or organisation"
    FAILED = "could not be cleaned"


class Refused(Exception):
    """A cleaner declines a file; `clean_attachment` leaves it out."""

    def __init__(self, reason: Reason, detail: str = "") -> None:
        super().__init__(reason.value if not detail else f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class CleanedFile:
    data: bytes
    # Every text inside the cleaned file that a reader or a tool could see,
    # for the registry scan: document text, attribute values, part names.
    texts: tuple[str, ...] = ()
    flags: tuple[Flag, ...] = field(default=())
