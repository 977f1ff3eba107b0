"""Writing archive forms: thread placement, participants, readers, holds.

The rules are in archive/FORMAT.md. `place()` reads what the archive knows
about a post's keyed ids before it is scrubbed (the scrubber needs the
thread's participants); `store()` and `hold()` write in the caller's
transaction, the one that records the post's acceptance (a blocking Session:
see listserv.db.Database.write).
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlmodel import col

from archive.models import (
    ArchiveAttachment,
    ArchiveHold,
    ArchiveMessageIndex,
    ArchiveParticipant,
    ArchivePost,
    ArchiveReader,
    ArchiveSequence,
    ArchiveThread,
)
from filters.deattribute import ArchiveForm
from filters.tlp import Tlp, parse_label


class RedRefused(ValueError):
    """TLP:RED never enters the archive (CHATHAM_HOUSE decision 6)."""


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a post will go, read before it is scrubbed."""

    list_id: int
    message_id: str  # the post's keyed id
    references: tuple[str, ...]  # keyed ids it cites, oldest first, In-Reply-To last
    thread_id: int | None  # None: the post starts a new thread
    root_id: str  # keyed id of the thread's root (post or ghost)
    archived_references: frozenset[str]  # cited ids that are archived posts
    participants: dict[str, str] = field(default_factory=dict)  # digest → label
    already_archived: bool = False


def participant_label(index: int) -> str:
    """A, B, …, Z, AA, AB, … for the index-th poster of a thread."""
    letters = string.ascii_uppercase
    name = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        name = letters[remainder] + name
    return f"Participant {name}"


def next_label(participants: dict[str, str]) -> str:
    return participant_label(len(participants))


async def place(
    session: AsyncSession, list_id: int, message_id: str, references: Sequence[str]
) -> Placement:
    cited = [r for r in dict.fromkeys(references) if r != message_id]
    ids = [*cited, message_id]
    rows = (
        await session.execute(
            select(
                ArchiveMessageIndex.keyed_id,
                ArchiveMessageIndex.thread_id,
                ArchiveMessageIndex.post_id,
            ).where(
                col(ArchiveMessageIndex.list_id) == list_id,
                col(ArchiveMessageIndex.keyed_id).in_(ids),
            )
        )
    ).all()
    known = {row.keyed_id: row for row in rows}
    archived = frozenset(r for r in cited if r in known and known[r].post_id is not None)
    own = known.get(message_id)
    already = own is not None and own.post_id is not None
    thread_id: int | None = None
    for reference in reversed(cited):
        if reference in known:
            thread_id = known[reference].thread_id
            break
    if thread_id is None and own is not None:
        thread_id = own.thread_id
    if thread_id is None:
        return Placement(list_id, message_id, tuple(cited), None, message_id, archived, {}, already)
    root_id = await session.scalar(
        select(ArchiveThread.root_id).where(col(ArchiveThread.id) == thread_id)
    )
    participants = {
        row.member_digest: row.label
        for row in (
            await session.execute(
                select(ArchiveParticipant.member_digest, ArchiveParticipant.label).where(
                    col(ArchiveParticipant.thread_id) == thread_id
                )
            )
        ).all()
    }
    return Placement(
        list_id,
        message_id,
        tuple(cited),
        thread_id,
        str(root_id),
        archived,
        participants,
        already,
    )


@dataclass(frozen=True, slots=True)
class NewPost:
    placement: Placement
    form: ArchiveForm
    label: Tlp
    author_digest: str | None  # None: not a member, "A participant"
    author_label: str
    reader_digests: tuple[str, ...] = ()  # AMBER+STRICT: the members at posting time


def store(session: Session, post: NewPost) -> ArchivePost:
    """Write one archive form; the caller's transaction makes it durable."""
    if post.label is Tlp.RED:
        raise RedRefused("TLP:RED posts are never archived")
    if post.form.hold_reason is not None:
        raise ValueError("a held archive form is never stored")
    placement = post.placement
    thread_id = placement.thread_id
    form = post.form
    if thread_id is None:
        thread = ArchiveThread(
            list_id=placement.list_id,
            root_id=placement.root_id,
            subject=form.subject,
            label=post.label.label,
            first_at=form.date,
            last_at=form.date,
        )
        session.add(thread)
        session.flush()
        assert thread.id is not None
        thread_id = thread.id
    seq = _next_seq(session, placement.list_id)
    parent_post_id = None
    if form.in_reply_to is not None:
        parent_post_id = session.scalar(
            select(ArchiveMessageIndex.post_id).where(
                col(ArchiveMessageIndex.list_id) == placement.list_id,
                col(ArchiveMessageIndex.keyed_id) == form.in_reply_to,
            )
        )
    row = ArchivePost(
        list_id=placement.list_id,
        thread_id=thread_id,
        seq=seq,
        message_id=form.message_id,
        parent_post_id=parent_post_id,
        in_reply_to=form.in_reply_to,
        references=list(form.references),
        subject=form.subject,
        date=form.date,
        label=post.label.label,
        participant=post.author_label,
        text=form.text,
        form=form.message,
        flags=[str(flag) for flag in form.flags],
        restricted=post.label is Tlp.AMBER_STRICT,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    session.add_all(
        ArchiveAttachment(
            post_id=row.id,
            position=position,
            filename=attachment.filename,
            content_type=attachment.content_type,
            size=len(attachment.data),
            data=attachment.data,
        )
        for position, attachment in enumerate(form.attachments, start=1)
    )
    _index(session, placement, thread_id, row.id)
    if post.author_digest is not None and post.author_digest not in placement.participants:
        session.add(
            ArchiveParticipant(
                thread_id=thread_id, member_digest=post.author_digest, label=post.author_label
            )
        )
    if post.reader_digests:
        session.execute(
            insert(ArchiveReader),
            [{"post_id": row.id, "reader_digest": d} for d in dict.fromkeys(post.reader_digests)],
        )
    _touch_thread(session, thread_id, post.label, form.date)
    session.flush()
    return row


def _next_seq(session: Session, list_id: int) -> int:
    """The list's next post number, from its counter row (made on first use)."""
    seq = session.scalar(
        update(ArchiveSequence)
        .where(col(ArchiveSequence.list_id) == list_id)
        .values(last_seq=ArchiveSequence.last_seq + 1)
        .returning(ArchiveSequence.last_seq)
    )
    if seq is None:
        session.add(ArchiveSequence(list_id=list_id, last_seq=1))
        session.flush()
        return 1
    return int(seq)


def _index(session: Session, placement: Placement, thread_id: int, post_id: int) -> None:
    known = set(
        (
            session.scalars(
                select(ArchiveMessageIndex.keyed_id).where(
                    col(ArchiveMessageIndex.list_id) == placement.list_id,
                    col(ArchiveMessageIndex.keyed_id).in_(
                        [*placement.references, placement.message_id]
                    ),
                )
            )
        ).all()
    )
    if placement.message_id in known:
        session.execute(
            update(ArchiveMessageIndex)
            .where(
                col(ArchiveMessageIndex.list_id) == placement.list_id,
                col(ArchiveMessageIndex.keyed_id) == placement.message_id,
            )
            .values(post_id=post_id, thread_id=thread_id)
        )
    else:
        session.add(
            ArchiveMessageIndex(
                list_id=placement.list_id,
                keyed_id=placement.message_id,
                thread_id=thread_id,
                post_id=post_id,
            )
        )
    session.add_all(
        ArchiveMessageIndex(list_id=placement.list_id, keyed_id=ghost, thread_id=thread_id)
        for ghost in placement.references
        if ghost not in known
    )


def _touch_thread(session: Session, thread_id: int, label: Tlp, date: datetime) -> None:
    thread = session.get(ArchiveThread, thread_id)
    assert thread is not None
    current = parse_label(thread.label) or Tlp.CLEAR
    thread.label = max(current, label).label
    thread.post_count += 1
    thread.last_at = max(thread.last_at, date)
    thread.first_at = min(thread.first_at, date)
    session.add(thread)


def hold(session: Session, list_id: int, inbound_id: int, reason: str) -> ArchiveHold:
    record = ArchiveHold(list_id=list_id, inbound_id=inbound_id, reason=reason[:500])
    session.add(record)
    session.flush()
    return record


async def post_count(session: AsyncSession, list_id: int) -> int:
    count = await session.scalar(
        select(func.count()).select_from(ArchivePost).where(col(ArchivePost.list_id) == list_id)
    )
    return int(count or 0)


async def posts_in_order(session: AsyncSession, list_id: int) -> Iterable[ArchivePost]:
    result = await session.scalars(
        select(ArchivePost)
        .where(col(ArchivePost.list_id) == list_id)
        .order_by(col(ArchivePost.seq))
    )
    return result.all()
