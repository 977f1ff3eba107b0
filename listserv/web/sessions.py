"""Sign-in by mailed one-time link, and the sessions it opens.

    POST /signin ──► request_link() ──► (known address) token row + notice, one transaction
                                   └──► (unknown address) the same statements, rolled back
    GET  /signin/link/T ──► link_is_usable()      shows a button; mail scanners only GET
    POST /signin/link/T ──► consume_link() ──► session row; the cookie holds its secret
    POST /signout       ──► end_session()  ──► the row is deleted: the cookie is worthless

Timing and answers do not tell whether an address is a member: both paths
count the same rate-limit buckets, run the same query, insert the token and
queue the notice inside a savepoint; only then is the savepoint released
(member) or rolled back (not a member).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from listserv.db import Database
from listserv.directory import ListView
from listserv.models import MailingList, Member
from listserv.notices import build_notice, enqueue_notice
from listserv.web import ratelimit
from listserv.web.models import WebSession, WebSignInToken
from listserv.web.security import Digests, new_secret

SIGNIN_LINK_LIFETIME = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(days=7)
# Expired and used links are kept a day (for the "already used" answer), then pruned.
SIGNIN_LINK_RETENTION = timedelta(days=1)

# A local path to return to after sign-in: no scheme, no host, no "//".
_LOCAL_PATH = re.compile(r"/(?!/)[A-Za-z0-9._~!$&'()*+,;=:@%/-]{0,300}")


def safe_next_path(candidate: str | None) -> str:
    """`candidate` if it is a path on this site, else "/" (no open redirect)."""
    if candidate and _LOCAL_PATH.fullmatch(candidate) and "\\" not in candidate:
        return candidate
    return "/"


class LinkRequest(StrEnum):
    ACCEPTED = "accepted"  # the same answer whether or not the address is a member
    LIMITED = "limited"


@dataclass(frozen=True, slots=True)
class LinkSettings:
    base_url: str
    limits: ratelimit.WebLimits
    # Called after a link mail is committed to the outbox: wakes the delivery
    # worker, which otherwise finds the notice at its next poll.
    on_queued: Callable[[], None] | None = None


@dataclass(frozen=True, slots=True)
class NewSession:
    secret: str  # goes into the cookie, never into the database
    email: str
    next_path: str


@dataclass(frozen=True, slots=True)
class SignedIn:
    email: str
    secret: str  # the cookie's value, from which the CSRF token is derived


def signin_notice_body(base_url: str, link: str) -> str:
    minutes = int(SIGNIN_LINK_LIFETIME.total_seconds() // 60)
    return (
        f"Someone, probably you, asked to sign in to the mailing list archive at\n"
        f"{base_url}.\n\n"
        f"Open this link within {minutes} minutes to sign in. It works once:\n\n"
        f"{link}\n\n"
        "If you did not ask for it, ignore this mail: nobody can sign in without the link.\n"
    )


async def request_link(
    db: Database,
    digests: Digests,
    settings: LinkSettings,
    *,
    email: str,
    client: str,
    next_path: str,
    now: datetime,
) -> LinkRequest:
    """Mail a sign-in link if `email` is a member of any list; rate-limited either way."""
    limits = settings.limits
    client_bucket = digests.of_rate_bucket("client", client)
    address_bucket = digests.of_rate_bucket("address", email)
    async with db.transaction() as session:
        if await ratelimit.exceeded(session, client_bucket, limits.requests_per_client, now):
            return LinkRequest.LIMITED
        ratelimit.record(session, client_bucket, now)
        # Counted for unknown addresses too: a 429 must not say "this one is a member".
        if await ratelimit.exceeded(session, address_bucket, limits.links_per_address, now):
            return LinkRequest.LIMITED
        ratelimit.record(session, address_bucket, now)
        await _prune(session, limits, now)
        mailing_list, is_member = await _first_list_of(session, email)
        if mailing_list is None:  # no lists at all: nothing could be mailed
            return LinkRequest.ACCEPTED
        savepoint = await session.begin_nested()
        token = new_secret()
        session.add(
            WebSignInToken(
                token_digest=digests.of_signin_token(token),
                email=email,
                next_path=safe_next_path(next_path),
                created_at=now,
                expires_at=now + SIGNIN_LINK_LIFETIME,
            )
        )
        base_url = settings.base_url.rstrip("/")
        view = ListView.of(mailing_list)
        notice = build_notice(
            view,
            to=email,
            subject="Your sign-in link for the list archive",
            body=signin_notice_body(base_url, f"{base_url}/signin/link/{token}"),
            auto_submitted="auto-generated",
        )
        await enqueue_notice(session, view, notice, email)
        await session.flush()
        if is_member:
            await savepoint.commit()
        else:
            await savepoint.rollback()
    if is_member and settings.on_queued is not None:
        settings.on_queued()
    return LinkRequest.ACCEPTED


async def _first_list_of(session: AsyncSession, email: str) -> tuple[MailingList | None, bool]:
    """The first list `email` belongs to; else any list (for the rolled-back path)."""
    membership = (
        select(MailingList, col(Member.id).is_not(None))
        .outerjoin(
            Member, (col(Member.list_id) == col(MailingList.id)) & (col(Member.email) == email)
        )
        .order_by(col(Member.id).is_(None), col(MailingList.id))
        .limit(1)
    )
    row = (await session.execute(membership)).first()
    if row is None:
        return None, False
    return row[0], bool(row[1])


async def _prune(session: AsyncSession, limits: ratelimit.WebLimits, now: datetime) -> None:
    await ratelimit.prune(session, limits, now)
    await session.execute(
        delete(WebSignInToken).where(col(WebSignInToken.expires_at) < now - SIGNIN_LINK_RETENTION)
    )
    await session.execute(delete(WebSession).where(col(WebSession.expires_at) < now))


async def client_limited(
    db: Database, digests: Digests, limits: ratelimit.WebLimits, *, client: str, now: datetime
) -> bool:
    """Count one request of `client` (link confirmations); True when over the limit."""
    bucket = digests.of_rate_bucket("client", client)
    async with db.transaction() as session:
        if await ratelimit.exceeded(session, bucket, limits.requests_per_client, now):
            return True
        ratelimit.record(session, bucket, now)
    return False


async def link_is_usable(db: Database, digests: Digests, token: str, now: datetime) -> bool:
    async with db.session() as session:
        found = await session.scalar(
            select(
                exists().where(
                    col(WebSignInToken.token_digest) == digests.of_signin_token(token),
                    col(WebSignInToken.used_at).is_(None),
                    col(WebSignInToken.expires_at) > now,
                )
            )
        )
    return bool(found)


async def consume_link(
    db: Database, digests: Digests, token: str, now: datetime
) -> NewSession | None:
    """Use the link once and open a session; None if it expired, was used or is unknown."""
    digest = digests.of_signin_token(token)
    async with db.transaction() as session:
        row = await session.scalar(
            select(WebSignInToken).where(col(WebSignInToken.token_digest) == digest)
        )
        if row is None or row.used_at is not None or row.expires_at <= now:
            return None
        # The conditional update makes two simultaneous uses end in one session.
        used = await session.execute(
            update(WebSignInToken)
            .where(col(WebSignInToken.id) == row.id, col(WebSignInToken.used_at).is_(None))
            .values(used_at=now)
        )
        if used.rowcount != 1:  # type: ignore[attr-defined]
            return None
        still_member = await session.scalar(select(exists().where(col(Member.email) == row.email)))
        if not still_member:
            return None
        secret = new_secret()
        session.add(
            WebSession(
                session_digest=digests.of_session(secret),
                email=row.email,
                created_at=now,
                expires_at=now + SESSION_LIFETIME,
            )
        )
    return NewSession(secret=secret, email=row.email, next_path=safe_next_path(row.next_path))


async def find_session(
    db: Database, digests: Digests, secret: str, now: datetime
) -> SignedIn | None:
    async with db.session() as session:
        email = await session.scalar(
            select(WebSession.email).where(
                col(WebSession.session_digest) == digests.of_session(secret),
                col(WebSession.expires_at) > now,
            )
        )
    return None if email is None else SignedIn(email=email, secret=secret)


async def end_session(db: Database, digests: Digests, secret: str) -> None:
    async with db.transaction() as session:
        await session.execute(
            delete(WebSession).where(col(WebSession.session_digest) == digests.of_session(secret))
        )
