"""Registry matching: find every known identity in a text (CHATHAM_HOUSE.md §5.1).

INTERFACE STUB — to be implemented. Other modules code against these names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from filters.flags import Flag
from filters.identities import Registry


class HitKind(StrEnum):
    PERSON = "person"  # a member's name or name variant
    ADDRESS = "address"  # a member's e-mail address or its local part
    ORGANISATION = "organisation"  # a member organisation's name or short form
    DOMAIN = "domain"  # a member organisation's domain, URL or host under it
    ALIAS = "alias"  # any other registered alias (phone, fingerprint, ASN, nickname)
    PHONE = "phone"  # any phone number (generic pattern, always redacted)


class HitAction(StrEnum):
    REDACT = "redact"
    FLAG = "flag"


@dataclass(frozen=True, slots=True)
class Hit:
    start: int  # offsets into the ORIGINAL text given to find()
    end: int
    kind: HitKind
    action: HitAction
    identity_key: str | None  # the member it points at, when known


@dataclass(frozen=True, slots=True)
class Redacted:
    text: str
    flags: tuple[Flag, ...]


class RegistryMatcher:
    """A registry compiled once for fast, repeated matching (immutable)."""

    @classmethod
    def compile(cls, registry: Registry) -> RegistryMatcher:
        raise NotImplementedError

    def find(self, text: str) -> list[Hit]:
        raise NotImplementedError

    def identities_in(self, text: str) -> list[str]:
        """Keys of the members named in `text`, in order of first appearance."""
        raise NotImplementedError

    def redact(self, text: str, participants: Mapping[str, str], where: str = "body") -> Redacted:
        raise NotImplementedError

    def contains_registry_term(self, text: str) -> bool:
        raise NotImplementedError
