"""DKIM signature of the distribution copy (RFC 6376), once per post.

The subject tag and TLP banner break the author's signature, and From is
rewritten to the list address (filters/list_headers.py), so the list signs
as its own domain. RFC 8058 asks for List-Unsubscribe in the signed headers;
the List-* headers are signed so nobody on the way can add their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dkim

from listserv.config import Settings
from listserv.errors import ConfigError

SIGNED_HEADERS = (
    b"From",
    b"Reply-To",
    b"To",
    b"Cc",
    b"Subject",
    b"Date",
    b"Message-ID",
    b"In-Reply-To",
    b"References",
    b"MIME-Version",
    b"Content-Type",
    b"Content-Transfer-Encoding",
    b"TLP",
    b"List-Id",
    b"List-Post",
    b"List-Help",
    b"List-Unsubscribe",
    b"List-Owner",
    b"List-Archive",
    b"Archived-At",
)


@dataclass(frozen=True)
class DkimSigner:
    domain: str
    selector: str
    private_key: bytes

    @classmethod
    def from_settings(cls, settings: Settings) -> DkimSigner | None:
        if not settings.dkim.domain:
            return None
        path = settings.path(settings.dkim.private_key_file)
        try:
            key = Path(path).read_bytes()
        except OSError as error:
            raise ConfigError(f"[dkim] private_key_file {path}: {error.strerror}") from None
        if b"PRIVATE KEY" not in key:
            raise ConfigError(f"[dkim] private_key_file {path}: not a PEM private key")
        return cls(settings.dkim.domain, settings.dkim.selector, key)

    def sign(self, message: bytes) -> bytes:
        """The message with a DKIM-Signature header in front (CRLF line ends)."""
        signature = dkim.sign(
            message,
            self.selector.encode(),
            self.domain.encode(),
            self.private_key,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=list(SIGNED_HEADERS),
        )
        return signature + message
