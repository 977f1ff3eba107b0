"""The server's secret and the keys derived from it (CHATHAM_HOUSE.md §5.2, 5.3).

One random secret lives in `[security] secret_key_file` (created by `init`,
mode 0600). Every purpose gets its own key through HKDF (RFC 5869), so a key
that leaks for one purpose (say, sign-in tokens) reveals nothing about
another (the archive's pseudonymous ids).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from listserv.errors import ConfigError

SECRET_BYTES = 32


class Keys:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < SECRET_BYTES:
            raise ValueError("the secret must be at least 32 bytes")
        self._secret = secret

    @classmethod
    def load(cls, path: Path) -> Keys:
        try:
            text = path.read_text().strip()
        except FileNotFoundError:
            raise ConfigError(f"{path}: no secret key; run `listserv init` first") from None
        try:
            return cls(bytes.fromhex(text))
        except ValueError:
            raise ConfigError(f"{path}: not a listserv secret key (64 hex digits)") from None

    @classmethod
    def create(cls, path: Path) -> bool:
        """Write a new secret unless one exists; True when one was written."""
        if path.exists():
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_hex(SECRET_BYTES) + "\n")
        return True

    def derive(self, purpose: str, *context: str) -> bytes:
        info = "|".join((purpose, *context)).encode()
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(self._secret)

    def archive_id_key(self, list_address: str) -> bytes:
        return self.derive("archive-id", list_address)

    def participant_key(self, list_address: str, thread_root: str) -> bytes:
        return self.derive("thread-participant", list_address, thread_root)

    def reader_key(self, list_address: str) -> bytes:
        return self.derive("archive-reader", list_address)


def keyed_digest(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
