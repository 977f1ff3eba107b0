"""The values registry matching deals in: hits, policies, findings, replacements.

`filters.matching` re-exports the public ones (`Hit`, `HitKind`, `HitAction`,
`Redacted` and the replacement texts); the rest are shared by the modules the
matcher is built from:

- compiling a registry: `filters.registry_terms` (tables and tries), with
  `filters.name_forms`, `filters.domain_forms` and `filters.alias_kinds`;
- scanning a text: `filters.term_scan` (registry terms),
  `filters.generic_patterns` (addresses, hosts, IPs, ASNs, key ids) and
  `filters.phone_patterns`;
- deciding: `filters.match_resolution` (overlaps, merges, replacement texts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from filters.flags import Flag, FlagKind


class HitKind(StrEnum):
    PERSON = "person"  # a member's name, name variant or nickname
    ADDRESS = "address"  # a member's e-mail address or its local part
    ORGANISATION = "organisation"  # a member organisation's name or short form
    DOMAIN = "domain"  # a member organisation's domain, URL or host under it
    ALIAS = "alias"  # any other registered alias (phone, fingerprint, ASN, prefix)
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


# Replacement texts. None of them contains a registry term, and all of them
# are masked before a text is scanned, so a second pass leaves them alone.
PARTICIPANT = "[participant]"
MEMBER_ORGANISATION = "[member organisation]"
MEMBER_LINK = "[member organisation link]"
REDACTED_ALIAS = "[redacted]"
PHONE = "[phone]"
LINK_REMOVED = "[link removed]"

REPLACEMENT_BY_KIND = {
    HitKind.ORGANISATION: MEMBER_ORGANISATION,
    HitKind.DOMAIN: MEMBER_LINK,
    HitKind.ALIAS: REDACTED_ALIAS,
    HitKind.PHONE: PHONE,
}
PLACEHOLDERS = re.compile(
    r"\[(?:participant|member organisation(?: link)?|redacted|phone|link removed)\]"
    r"|\bParticipant [A-Z]{1,3}\b"
)


class Policy(IntEnum):
    """How a term's hit is treated; when terms coincide the higher value wins."""

    FLAG_ONLY = 1  # a first name shorter than 4 letters: flag in every form
    QUIET = 2  # redact when capitalised, ignore otherwise (short surnames, skeletons)
    ACRONYM = 3  # redact when upper case and one word, flag otherwise
    CAPITALISED = 4  # redact when capitalised, flag otherwise (first names)
    STRONG = 5  # redact in any case


# When two findings of the same length compete, or two identities register
# the same term, the higher rank decides what it is.
KIND_RANK = {
    HitKind.PERSON: 6,
    HitKind.ADDRESS: 5,
    HitKind.ORGANISATION: 4,
    HitKind.DOMAIN: 3,
    HitKind.ALIAS: 2,
    HitKind.PHONE: 1,
}


@dataclass(slots=True)
class Finding:
    """One candidate span in the original text, before overlaps are resolved."""

    start: int
    end: int
    action: HitAction
    kind: HitKind | None  # None: a rewritten link or a generic (non-registry) flag
    keys: frozenset[str] = frozenset()
    replacement: str | None = None  # fixed text; else derived from kind and keys
    inner_url: str | None = None  # an unwrapped link: its target, redacted in turn
    flag_kind: FlagKind | None = None
    flag_detail_is_text: bool = False  # detail = the (redacted) span; else its position
    oracle_term: bool = False  # a registry term the oracle would count

    @property
    def length(self) -> int:
        return self.end - self.start


def kept_and_flagged(start: int, end: int, flag_kind: FlagKind) -> Finding:
    """A generic hit that is not a member's: kept in the text, shown to a moderator."""
    return Finding(start, end, HitAction.FLAG, None, flag_kind=flag_kind, flag_detail_is_text=True)
