"""Secrets, digests, CSRF tokens, cookies and the headers every response carries.

Secrets (sign-in link tokens, session ids, pre-session ids) are 256-bit
random values that exist only in the mail or the browser; the database keeps
their keyed digests (`listserv.keys.keyed_digest` with a per-purpose key).

CSRF: every form carries a token derived from the browser's session secret
(signed in) or from a pre-session cookie (the sign-in forms), so a page on
another site cannot produce it. SameSite=Lax cookies are a second line.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from listserv.keys import Keys, keyed_digest

# The strict policy of the issue: nothing but our own stylesheet and images,
# forms post only to us, no framing, no <base>. There is no script at all.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# Downloads are never rendered as a page of ours, even if a browser tried.
DOWNLOAD_POLICY = CONTENT_SECURITY_POLICY + "; sandbox"

SECRET_BYTES = 32


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def tokens_equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


@dataclass(frozen=True, slots=True)
class Digests:
    """Per-purpose keys (HKDF of the server secret), so one leak reveals no other."""

    signin: bytes
    session: bytes
    csrf: bytes
    rate: bytes

    @classmethod
    def of(cls, keys: Keys) -> Digests:
        return cls(
            signin=keys.derive("web-signin-link"),
            session=keys.derive("web-session"),
            csrf=keys.derive("web-csrf"),
            rate=keys.derive("web-rate-limit"),
        )

    def of_signin_token(self, token: str) -> str:
        return keyed_digest(self.signin, token)

    def of_session(self, secret: str) -> str:
        return keyed_digest(self.session, secret)

    def of_rate_bucket(self, kind: str, value: str) -> str:
        return keyed_digest(self.rate, f"{kind}|{value}")

    def csrf_for_session(self, session_secret: str) -> str:
        return keyed_digest(self.csrf, "session|" + session_secret)

    def csrf_for_presession(self, presession_secret: str) -> str:
        return keyed_digest(self.csrf, "pre-session|" + presession_secret)


@dataclass(frozen=True, slots=True)
class CookieNames:
    """`__Host-` names where the cookie is Secure: bound to our host and path `/`."""

    session: str
    presession: str
    secure: bool

    @classmethod
    def for_base_url(cls, base_url: str) -> CookieNames:
        secure = base_url.lower().startswith("https://")
        prefix = "__Host-" if secure else ""
        return cls(
            session=f"{prefix}listserv_session",
            presession=f"{prefix}listserv_presession",
            secure=secure,
        )


class SecurityHeaders:
    """ASGI middleware adding the security headers to every response.

    A route may set its own Content-Security-Policy (downloads add `sandbox`);
    everything else is fixed. Pages are `no-store`: archive content must not
    linger in shared caches or the back-button cache of a shared computer.
    """

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.fixed: list[tuple[bytes, bytes]] = [
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-content-type-options", b"nosniff"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"cross-origin-resource-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
        ]
        if https:
            self.fixed.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_static = str(scope.get("path", "")).startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() not in {name for name, _ in self.fixed}
                ]
                names = {name.lower() for name, _ in headers}
                headers.extend(self.fixed)
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))
                if b"cache-control" not in names:
                    cache = b"public, max-age=3600" if is_static else b"no-store"
                    headers.append((b"cache-control", cache))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
