"""What the member registry knows about people, as plain data for the filters.

The registry drives redaction (CHATHAM_HOUSE.md, decision 3): every name,
address, organisation and organisation domain a member has registered is
removed from the archive form wherever it appears. The server builds a
`Registry` from its database at the edge and hands it to the pure filters.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Identity:
    """One member as the scrubber sees them.

    `key` is an opaque, stable id (the server uses the member row id); filters
    use it only to look up a thread pseudonym, never to print it.
    """

    key: str
    names: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    organisation: str = ""
    org_domains: tuple[str, ...] = ()
    # Nicknames, transliterations, organisation short forms, brand names, ASNs,
    # phone numbers, PGP fingerprints: anything else that points at this member.
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Registry:
    identities: tuple[Identity, ...] = ()

    def fingerprint(self) -> str:
        """A digest that changes whenever any identity changes, for caches."""
        digest = hashlib.sha256()
        for identity in self.identities:
            digest.update(repr(identity).encode())
        return digest.hexdigest()

    def by_key(self, key: str) -> Identity | None:
        for identity in self.identities:
            if identity.key == key:
                return identity
        return None
