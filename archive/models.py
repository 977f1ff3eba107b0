"""The archive's tables (see archive/FORMAT.md): archive forms only, never originals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from listserv.models import UtcDateTime, utcnow


def _time(*, nullable: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    return Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


class ArchiveThread(SQLModel, table=True):
    __tablename__ = "archive_thread"
    __table_args__ = (
        Index("ix_archive_thread_recent", "list_id", "last_at"),
        Index("ix_archive_thread_label", "list_id", "label"),
    )

    id: int | None = Field(default=None, primary_key=True)
    list_id: int = Field(foreign_key="mailing_list.id", ondelete="CASCADE")
    root_id: str  # keyed id of the root post or ghost
    subject: str = ""
    label: str = "TLP:AMBER"  # the strictest label of its posts
    first_at: datetime = _time()
    last_at: datetime = _time()
    post_count: int = 0


class ArchivePost(SQLModel, table=True):
    __tablename__ = "archive_post"
    __table_args__ = (
        UniqueConstraint("list_id", "message_id"),
        Index("ix_archive_post_thread", "thread_id", "seq"),
    )

    id: int | None = Field(default=None, primary_key=True)
    list_id: int = Field(foreign_key="mailing_list.id", ondelete="CASCADE")
    thread_id: int = Field(foreign_key="archive_thread.id", ondelete="CASCADE")
    seq: int
    message_id: str  # keyed
    parent_post_id: int | None = None
    in_reply_to: str | None = None  # keyed id of the nearest archived ancestor
    references: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    subject: str = ""
    date: datetime = _time()  # rounded UTC
    label: str = "TLP:AMBER"
    participant: str = "A participant"
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    form: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    flags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    restricted: bool = False  # AMBER+STRICT: only archive_reader rows may read it
    created_at: datetime = _time()

    @property
    def token(self) -> str:
        """The URL form of the keyed id: the 26 characters before the @."""
        return self.message_id.strip("<>").split("@", 1)[0]


class ArchiveSequence(SQLModel, table=True):
    """The last sequence number given to a post of each list."""

    __tablename__ = "archive_sequence"

    list_id: int = Field(foreign_key="mailing_list.id", primary_key=True, ondelete="CASCADE")
    last_seq: int = 0


class ArchiveAttachment(SQLModel, table=True):
    __tablename__ = "archive_attachment"

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="archive_post.id", index=True, ondelete="CASCADE")
    position: int
    filename: str
    content_type: str
    size: int
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class ArchiveMessageIndex(SQLModel, table=True):
    """Every keyed id the archive has seen: posts and ghosts (JWZ containers)."""

    __tablename__ = "archive_message_index"

    list_id: int = Field(foreign_key="mailing_list.id", primary_key=True, ondelete="CASCADE")
    keyed_id: str = Field(primary_key=True)
    thread_id: int = Field(foreign_key="archive_thread.id", index=True, ondelete="CASCADE")
    post_id: int | None = None  # None: a ghost


class ArchiveParticipant(SQLModel, table=True):
    __tablename__ = "archive_participant"
    __table_args__ = (UniqueConstraint("thread_id", "label"),)

    thread_id: int = Field(foreign_key="archive_thread.id", primary_key=True, ondelete="CASCADE")
    member_digest: str = Field(primary_key=True)  # HMAC(k_thread, member key)
    label: str


class ArchiveReader(SQLModel, table=True):
    """Who may read an AMBER+STRICT post: the members at posting time."""

    __tablename__ = "archive_reader"

    post_id: int = Field(foreign_key="archive_post.id", primary_key=True, ondelete="CASCADE")
    reader_digest: str = Field(primary_key=True)  # HMAC(k_readers, member id)


class ArchiveHold(SQLModel, table=True):
    """An archive copy that failed closed and waits for a moderator."""

    __tablename__ = "archive_hold"

    id: int | None = Field(default=None, primary_key=True)
    list_id: int = Field(foreign_key="mailing_list.id", index=True, ondelete="CASCADE")
    inbound_id: int = Field(foreign_key="inbound_message.id", index=True)
    reason: str
    state: str = "pending"  # pending, released, withheld
    created_at: datetime = _time()
    decided_at: datetime | None = _time(nullable=True)
