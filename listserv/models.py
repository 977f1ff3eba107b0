"""The database tables of the server: registry, queue, delivery.

The archive's own tables live in `archive/models.py`. Schema changes go through
Alembic (`listserv/migrations`); `SQLModel.metadata` is what migrations are
checked against.

The life of a post in rows:

    InboundMessage  queued ──► accepted ──► (raw deleted when delivered and reviewed)
                          ├──► held ──► queued (approved) ──► accepted
                          │         ├──► rejected | expired (raw deleted after retention)
                          ├──► rejected
                          └──► discarded
    OutboundMessage (one rendered copy) ──► DeliveryBatch × ⌈recipients / batch size⌉
    DeliveryBatch   pending ──► done | failed   (a 4xx reschedules it while pending)
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, LargeBinary, Text, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps are written in UTC and always read back timezone-aware.

    SQLite has no time zone type and returns naive values; PostgreSQL keeps
    them. Either way the application sees aware UTC datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _now_column() -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


def _optional_time() -> Any:
    return Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


class Role(StrEnum):
    MEMBER = "member"
    MODERATOR = "moderator"
    OWNER = "owner"


class NonMemberPolicy(StrEnum):
    HOLD = "hold"
    REJECT = "reject"
    DISCARD = "discard"


class RedPolicy(StrEnum):
    ALLOW = "allow"
    REFUSE = "refuse"


class InboundState(StrEnum):
    QUEUED = "queued"
    ACCEPTED = "accepted"
    HELD = "held"
    REJECTED = "rejected"
    DISCARDED = "discarded"
    EXPIRED = "expired"  # held, and no moderator decided in time


class BatchState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class MailingList(SQLModel, table=True):
    __tablename__ = "mailing_list"

    id: int | None = Field(default=None, primary_key=True)
    address: str = Field(sa_column=Column(Text, unique=True, nullable=False))
    name: str
    tlp_floor: str = "AMBER"  # a filters.tlp.Tlp member name
    nonmember_policy: str = NonMemberPolicy.HOLD.value
    red_policy: str = RedPolicy.ALLOW.value
    subject_prefix: str | None = None
    archive_date_rounding: str = "hour"  # "hour" or "day"
    # Moderation (listserv/moderation.py): what holds a post besides non-membership.
    first_post_moderated: bool = False  # a new member's first post waits for a moderator
    soft_size_limit: int | None = None  # bytes; larger posts are held
    allowed_attachment_types: list[str] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )  # MIME types or "type/*"; None allows every type
    require_authentication: bool = False  # hold posts whose sender fails DKIM/DMARC
    token_expiry_days: int = 14  # one-mail approval links expire after this
    held_retention_days: int = 30  # bodies of rejected and expired posts are deleted after this
    created_at: datetime = _now_column()


class Member(SQLModel, table=True):
    __tablename__ = "member"
    __table_args__ = (UniqueConstraint("list_id", "email"),)

    id: int | None = Field(default=None, primary_key=True)
    list_id: int = Field(foreign_key="mailing_list.id", index=True, ondelete="CASCADE")
    email: str  # normalised, lower case
    name: str = ""
    organisation: str = ""
    org_domains: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    role: str = Role.MEMBER.value
    delivery_enabled: bool = True
    moderated: bool = False  # every post of this member waits for a moderator
    posts_accepted: int = 0  # for the first-post rule
    bounce_score: int = 0
    joined_at: datetime = _now_column()


class RegistryState(SQLModel, table=True):
    """One row whose version rises with every change to lists or members.

    Caches of the registry (the intake's member lookups, the compiled
    redaction matcher) compare it instead of reloading everything.
    """

    __tablename__ = "registry_state"

    id: int = Field(default=1, primary_key=True)
    version: int = 0


class InboundMessage(SQLModel, table=True):
    __tablename__ = "inbound_message"
    __table_args__ = (Index("ix_inbound_state_id", "state", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    list_id: int = Field(foreign_key="mailing_list.id", index=True, ondelete="CASCADE")
    kind: str = "post"  # which of the list's addresses it came to: listserv.intake.AddressKind
    detail: str = ""  # the part after "+" in a sub-address, e.g. a moderation token
    mail_from: str  # the envelope sender, "" for the null sender
    raw: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    size: int
    received_at: datetime = _now_column()
    state: str = InboundState.QUEUED.value
    reasons: str = ""  # space-separated reason codes
    label: str | None = None  # resolved TLP label, "TLP:AMBER"
    keyed_id: str | None = Field(default=None, index=True)  # archive id of its Message-ID
    author_member_id: int | None = None
    # The archive copy waits for a moderator (fail closed): keep the raw bytes.
    review_pending: bool = False
    decided_at: datetime | None = _optional_time()
    lease_until: datetime | None = _optional_time()
    # Moderation records: kept after the body is deleted (who decided, when, why).
    moderated_by: str | None = None
    moderation_reason: str = ""
    moderation_via: str | None = None  # "mail", "web" or "cli"
    held_at: datetime | None = _optional_time()
    bytes_deleted_at: datetime | None = _optional_time()
    # What the archive would show, computed when the post was held (scrubbed text only).
    preview_text: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    preview_flags: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )


class OutboundMessage(SQLModel, table=True):
    """One rendered mail we send: a post's distribution copy or a notice."""

    __tablename__ = "outbound_message"

    id: int | None = Field(default=None, primary_key=True)
    inbound_id: int | None = Field(default=None, foreign_key="inbound_message.id", index=True)
    list_id: int | None = Field(default=None, foreign_key="mailing_list.id", ondelete="CASCADE")
    kind: str  # "post" or "notice"
    envelope_from: str
    content: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    batches_open: int = 0
    created_at: datetime = _now_column()


class DeliveryBatch(SQLModel, table=True):
    """Up to `max_recipients_per_transaction` recipients of one outbound mail."""

    __tablename__ = "delivery_batch"
    __table_args__ = (Index("ix_batch_due", "state", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    outbound_id: int = Field(foreign_key="outbound_message.id", index=True, ondelete="CASCADE")
    recipients: str = Field(sa_column=Column(Text, nullable=False))  # newline-separated
    state: str = BatchState.PENDING.value
    attempts: int = 0
    next_attempt_at: datetime = _now_column()
    lease_until: datetime | None = _optional_time()
    last_error: str = ""
    created_at: datetime = _now_column()
    finished_at: datetime | None = _optional_time()


class ModerationToken(SQLModel, table=True):
    """A one-mail approval or rejection: single use, one held post, expires.

    Only a digest of the token is stored; the token itself exists only in the
    moderator request mail (LIST-approve+TOKEN@DOMAIN).
    """

    __tablename__ = "moderation_token"

    id: int | None = Field(default=None, primary_key=True)
    inbound_id: int = Field(foreign_key="inbound_message.id", index=True, ondelete="CASCADE")
    action: str  # "approve" or "reject"
    token_digest: str = Field(sa_column=Column(Text, unique=True, nullable=False))
    expires_at: datetime = _now_column()
    used_at: datetime | None = _optional_time()


class NoticeLog(SQLModel, table=True):
    """When a notice of a kind last went to an address, for rate limits."""

    __tablename__ = "notice_log"

    address: str = Field(primary_key=True)
    kind: str = Field(primary_key=True)  # "held", …
    sent_at: datetime = _now_column()


class DeliveryFailure(SQLModel, table=True):
    """A permanent failure for one recipient: what raises a member's bounce score."""

    __tablename__ = "delivery_failure"

    id: int | None = Field(default=None, primary_key=True)
    list_id: int | None = Field(default=None, foreign_key="mailing_list.id", ondelete="CASCADE")
    address: str
    code: int
    reason: str = ""
    at: datetime = _now_column()
