"""The web's own tables: sign-in links, sessions, rate-limit records.

Only digests are stored (keyed HMAC, `listserv.keys`): a copy of the database
cannot be used to sign in, to take over a session, or to learn which client
addresses asked for links. The life of a sign-in:

    WebSignInToken  issued ──► used          (POST on the link's page)
                          └──► expired       (15 minutes; pruned later)
    WebSession      created ──► ended        (sign-out deletes the row)
                           └──► expired      (pruned later)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from listserv.models import UtcDateTime, utcnow


def _time(*, nullable: bool = False, index: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    return Field(
        default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False, index=index)
    )


class WebSignInToken(SQLModel, table=True):
    """A one-time sign-in link: single use, expires after 15 minutes."""

    __tablename__ = "web_signin_token"

    id: int | None = Field(default=None, primary_key=True)
    token_digest: str = Field(sa_column=Column(Text, unique=True, nullable=False))
    email: str  # the normalised address it was mailed to
    next_path: str = "/"  # where the member was going (a local path)
    created_at: datetime = _time()
    expires_at: datetime = _time(index=True)
    used_at: datetime | None = _time(nullable=True)


class WebSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds the secret; the row its digest."""

    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    session_digest: str = Field(sa_column=Column(Text, unique=True, nullable=False))
    email: str
    created_at: datetime = _time()
    expires_at: datetime = _time(index=True)


class WebRateEvent(SQLModel, table=True):
    """One counted request in a rate-limit bucket (a digest of address or client)."""

    __tablename__ = "web_rate_event"
    __table_args__ = (Index("ix_web_rate_event_bucket_at", "bucket", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    bucket: str
    at: datetime = _time(index=True)
