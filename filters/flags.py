"""Flags: what the scrubber kept but a moderator should look at.

A flag never carries a registry term (those are redacted, not flagged), so
flags may be stored next to the archive form and printed by `listserv scrub`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FlagKind(StrEnum):
    NON_MEMBER_ADDRESS = "non-member-address"  # kept: may be an indicator of compromise
    NON_MEMBER_URL = "non-member-url"
    IP_ADDRESS = "ip-address"
    ASN = "asn"
    FIRST_NAME = "first-name"  # a registered first name, alone, in an ambiguous form
    ACRONYM = "acronym"  # a short organisation form that is also an ordinary word
    UNDELIMITED_SIGNATURE = "undelimited-signature"  # a closing whose block was kept
    SCREENSHOT = "screenshot"
    ATTACHMENT_CONTENT_HIT = "attachment-content-hit"  # registry term inside a file
    ATTACHMENT_DROPPED = "attachment-dropped"  # unknown, encrypted, too large, unsafe
    ENCRYPTED = "encrypted"
    SCRUB_ERROR = "scrub-error"


@dataclass(frozen=True, slots=True)
class Flag:
    kind: FlagKind
    detail: str = ""
    where: str = ""  # "subject", "body", "attachment-2", …

    def __str__(self) -> str:
        where = f" [{self.where}]" if self.where else ""
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.kind.value}{where}{detail}"
