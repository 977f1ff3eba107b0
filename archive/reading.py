"""Reading the archive: thread lists, threads, posts and attachments of one list.

Every query takes a `Reader` and returns only what that reader may see
(archive/FORMAT.md "Labels and visibility"): posts of the reader's list,
never TLP:RED (the store refuses it; checked again here), and AMBER+STRICT
posts only when the reader's digest is among the post's `archive_reader`
rows. Threads are summarised from the visible posts alone, so a thread's
subject, label, size and date never come from a post the reader may not
read. Posts are found by the 26-character token of their keyed id; a token
of another list's post, or of a hidden post, finds nothing (the web answers
404, not 403).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from archive.models import ArchiveAttachment, ArchivePost, ArchiveReader, ArchiveThread

RED = "TLP:RED"
TOKEN = re.compile(r"[a-z2-7]{26}")
# Deeper replies are shown at this depth: nesting stays readable on a phone.
MAX_DEPTH = 6
# The order of strictness of the labels, to find a thread's strictest visible one.
STRICTNESS = {"TLP:CLEAR": 0, "TLP:GREEN": 1, "TLP:AMBER": 2, "TLP:AMBER+STRICT": 3}
LABEL_OF_STRICTNESS = {value: label for label, value in STRICTNESS.items()}


@dataclass(frozen=True, slots=True)
class Reader:
    """A member reading one list; `reader_digest` is HMAC(reader key, member id)."""

    list_id: int
    list_address: str
    reader_digest: str

    @property
    def list_domain(self) -> str:
        return self.list_address.rsplit("@", 1)[1]

    def keyed_id(self, token: str) -> str | None:
        """The keyed Message-ID a URL token stands for, or None if it is no token."""
        token = token.lower()
        if not TOKEN.fullmatch(token):
            return None
        return f"<{token}@archive.{self.list_domain}>"


def visible_to(reader: Reader) -> ColumnElement[bool]:
    """The condition on archive_post rows this reader may read."""
    return and_(col(ArchivePost.list_id) == reader.list_id, _readable_by(reader))


def _readable_by(reader: Reader) -> ColumnElement[bool]:
    """visible_to without the list: never RED, AMBER+STRICT only for its readers."""
    may_read_restricted = exists().where(
        col(ArchiveReader.post_id) == col(ArchivePost.id),
        col(ArchiveReader.reader_digest) == reader.reader_digest,
    )
    return and_(
        col(ArchivePost.label) != RED,
        or_(col(ArchivePost.restricted) == false(), may_read_restricted),
    )


def token_of(message_id: str) -> str:
    return message_id.strip("<>").split("@", 1)[0]


@dataclass(frozen=True, slots=True)
class ThreadSummary:
    token: str  # of the thread's first visible post: the thread page's URL
    subject: str
    label: str
    posts: int
    first_at: datetime
    last_at: datetime


@dataclass(frozen=True, slots=True)
class ThreadPage:
    threads: tuple[ThreadSummary, ...]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


STRICT = "TLP:AMBER+STRICT"
_strictness = case(STRICTNESS, value=col(ArchivePost.label), else_=STRICTNESS["TLP:AMBER"])
# Thread ids per IN (…) list: well under SQLite's limit on bound parameters.
_IN_CHUNK = 500


async def thread_page(
    session: AsyncSession, reader: Reader, *, page: int = 1, per_page: int = 50
) -> ThreadPage:
    """The list's threads with any visible post, most recent visible activity first.

    Cost follows the page, not the archive: threads are read from
    archive_thread newest activity first (its index on list_id, last_at) and
    summarised from their visible posts, in batches, until the page is
    settled. A thread's `last_at` counts every post, hidden ones too (archive.store
    keeps it), so no thread not yet read can have visible activity later than
    the last one read; once `page * per_page` summaries are later than that,
    they are the first pages exactly.
    """
    page = max(1, page)
    wanted = page * per_page
    summaries: dict[int, Any] = {}
    read = 0
    batch = wanted + per_page // 2  # a little more, for hidden and tied threads
    while True:
        recent = (
            select(col(ArchiveThread.id), col(ArchiveThread.last_at))
            .where(col(ArchiveThread.list_id) == reader.list_id)
            .order_by(col(ArchiveThread.last_at).desc(), col(ArchiveThread.id).desc())
            .limit(batch)
            .offset(read)
        )
        threads = (await session.execute(recent)).all()
        read += len(threads)
        for start in range(0, len(threads), _IN_CHUNK):
            chunk = [thread.id for thread in threads[start : start + _IN_CHUNK]]
            summaries.update(
                (row.thread_id, row) for row in await _summaries(session, reader, chunk)
            )
        if len(threads) < batch:
            break  # every thread is read
        bound = threads[-1].last_at
        if sum(1 for row in summaries.values() if row.last_at > bound) >= wanted:
            break
        batch *= 2
    ordered = sorted(summaries.values(), key=lambda row: (row.last_at, row.last_seq), reverse=True)
    shown = ordered[(page - 1) * per_page : wanted]
    firsts = await _first_posts(session, reader, [(row.thread_id, row.first_seq) for row in shown])
    threads_shown = tuple(
        ThreadSummary(
            token=token_of(firsts[row.thread_id].message_id),
            subject=firsts[row.thread_id].subject,
            label=LABEL_OF_STRICTNESS.get(int(row.strictness), "TLP:AMBER"),
            posts=int(row.posts),
            first_at=row.first_at,
            last_at=row.last_at,
        )
        for row in shown
        if row.thread_id in firsts
    )
    return ThreadPage(
        threads=threads_shown,
        total=await _visible_thread_count(session, reader),
        page=page,
        per_page=per_page,
    )


async def _summaries(
    session: AsyncSession, reader: Reader, thread_ids: Sequence[int]
) -> Sequence[Any]:
    """Per thread, its visible posts summed up; threads with none are left out."""
    result = await session.execute(
        select(
            col(ArchivePost.thread_id),
            func.count().label("posts"),
            func.min(col(ArchivePost.seq)).label("first_seq"),
            func.min(col(ArchivePost.date)).label("first_at"),
            func.max(col(ArchivePost.date)).label("last_at"),
            func.max(col(ArchivePost.seq)).label("last_seq"),
            func.max(_strictness).label("strictness"),
        )
        .where(
            col(ArchivePost.thread_id).in_(thread_ids),
            # visible_to, with `+ 0` on the list: without statistics SQLite
            # would walk all the list's posts by its list_id index rather than
            # look up this batch's threads.
            col(ArchivePost.list_id) + 0 == reader.list_id,
            _readable_by(reader),
        )
        .group_by(col(ArchivePost.thread_id))
    )
    return result.all()


async def _first_posts(
    session: AsyncSession, reader: Reader, thread_seqs: Sequence[tuple[int, int]]
) -> dict[int, Any]:
    """Subject and keyed id of each thread's first visible post, by (thread, seq)."""
    if not thread_seqs:
        return {}
    wanted = set(thread_seqs)
    # Two IN lists rather than a (thread_id, seq) row-value list, which SQLite
    # answers by scanning the table; the pairs are checked here.
    rows = await session.execute(
        select(
            col(ArchivePost.thread_id),
            col(ArchivePost.seq),
            col(ArchivePost.subject),
            col(ArchivePost.message_id),
        ).where(
            col(ArchivePost.thread_id).in_({thread for thread, _ in wanted}),
            col(ArchivePost.seq).in_({seq for _, seq in wanted}),
            col(ArchivePost.list_id) + 0 == reader.list_id,
            _readable_by(reader),
        )
    )
    return {row.thread_id: row for row in rows if (row.thread_id, row.seq) in wanted}


async def _visible_thread_count(session: AsyncSession, reader: Reader) -> int:
    """Threads of the list with a post the reader may read.

    All the list's threads, less those with no such post. A thread whose
    strictest label is below AMBER+STRICT holds no restricted post
    (archive.store keeps archive_thread.label), so all its posts are visible;
    only AMBER+STRICT threads need their posts looked at.
    """
    of_list = col(ArchiveThread.list_id) == reader.list_id
    readable_post = (
        exists()
        .where(visible_to(reader), col(ArchivePost.thread_id) == col(ArchiveThread.id))
        .correlate(ArchiveThread)
    )
    threads = select(func.count()).select_from(ArchiveThread).where(of_list)
    hidden = (
        select(func.count())
        .select_from(ArchiveThread)
        .where(of_list, col(ArchiveThread.label) == STRICT, ~readable_post)
    )
    count = await session.scalar(select(threads.scalar_subquery() - hidden.scalar_subquery()))
    return int(count or 0)


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    position: int
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True, slots=True)
class PostView:
    token: str
    thread_id: int
    subject: str
    date: datetime
    label: str
    participant: str
    text: str
    depth: int  # 0 for a thread's top-level posts
    attachments: tuple[AttachmentInfo, ...]
    replying_to: str | None = None  # the participant label of the visible parent


@dataclass(frozen=True, slots=True)
class ThreadView:
    summary: ThreadSummary
    posts: tuple[PostView, ...]  # in thread order: depth first, each level by arrival


async def _visible_post(session: AsyncSession, reader: Reader, token: str) -> ArchivePost | None:
    keyed_id = reader.keyed_id(token)
    if keyed_id is None:
        return None
    result = await session.scalars(
        select(ArchivePost).where(visible_to(reader), col(ArchivePost.message_id) == keyed_id)
    )
    return result.first()


async def _attachments(
    session: AsyncSession, post_ids: Sequence[int]
) -> dict[int, tuple[AttachmentInfo, ...]]:
    if not post_ids:
        return {}
    rows = (
        await session.execute(
            select(
                ArchiveAttachment.post_id,
                ArchiveAttachment.position,
                ArchiveAttachment.filename,
                ArchiveAttachment.content_type,
                ArchiveAttachment.size,
            )
            .where(col(ArchiveAttachment.post_id).in_(post_ids))
            .order_by(col(ArchiveAttachment.post_id), col(ArchiveAttachment.position))
        )
    ).all()
    found: dict[int, list[AttachmentInfo]] = {}
    for row in rows:
        found.setdefault(row.post_id, []).append(
            AttachmentInfo(row.position, row.filename, row.content_type, row.size)
        )
    return {post_id: tuple(items) for post_id, items in found.items()}


def _view(
    post: ArchivePost,
    depth: int,
    attachments: tuple[AttachmentInfo, ...],
    parent: ArchivePost | None = None,
) -> PostView:
    return PostView(
        token=post.token,
        thread_id=post.thread_id,
        subject=post.subject,
        date=post.date,
        label=post.label,
        participant=post.participant,
        text=post.text,
        depth=depth,
        attachments=attachments,
        replying_to=parent.participant if parent is not None else None,
    )


async def post(session: AsyncSession, reader: Reader, token: str) -> PostView | None:
    """One post by its URL token, if the reader may read it."""
    found = await _visible_post(session, reader, token)
    if found is None:
        return None
    assert found.id is not None
    attachments = await _attachments(session, [found.id])
    return _view(found, 0, attachments.get(found.id, ()))


async def thread(session: AsyncSession, reader: Reader, token: str) -> ThreadView | None:
    """The thread of the post `token`, with every post the reader may read."""
    anchor = await _visible_post(session, reader, token)
    if anchor is None:
        return None
    posts = (
        await session.scalars(
            select(ArchivePost)
            .where(visible_to(reader), col(ArchivePost.thread_id) == anchor.thread_id)
            .order_by(col(ArchivePost.seq))
        )
    ).all()
    # Parents of hidden posts are followed up to the nearest visible ancestor,
    # so a reply under a hidden post still nests where it can.
    parents = {
        row.id: row.parent_post_id
        for row in (
            await session.execute(
                select(ArchivePost.id, ArchivePost.parent_post_id).where(
                    col(ArchivePost.thread_id) == anchor.thread_id
                )
            )
        ).all()
    }
    ordered = _thread_order(posts, parents)
    attachments = await _attachments(session, [p.id for p, _, _ in ordered if p.id is not None])
    views = tuple(
        _view(p, depth, attachments.get(p.id or 0, ()), parent) for p, depth, parent in ordered
    )
    first = views[0]
    summary = ThreadSummary(
        token=first.token,
        subject=first.subject,
        label=LABEL_OF_STRICTNESS.get(
            max(STRICTNESS.get(v.label, STRICTNESS["TLP:AMBER"]) for v in views), "TLP:AMBER"
        ),
        posts=len(views),
        first_at=min(v.date for v in views),
        last_at=max(v.date for v in views),
    )
    return ThreadView(summary=summary, posts=views)


def _thread_order(
    posts: Sequence[ArchivePost], parents: dict[int | None, int | None]
) -> list[tuple[ArchivePost, int, ArchivePost | None]]:
    """Depth-first reply order: (post, depth, nearest visible parent)."""
    visible = {p.id: p for p in posts}
    children: dict[int | None, list[ArchivePost]] = {}
    for post_row in posts:  # already in arrival order
        parent = parents.get(post_row.id)
        seen: set[int | None] = set()
        while parent is not None and parent not in visible and parent not in seen:
            seen.add(parent)
            parent = parents.get(parent)
        if parent not in visible:
            parent = None
        children.setdefault(parent, []).append(post_row)
    ordered: list[tuple[ArchivePost, int, ArchivePost | None]] = []
    stack: list[tuple[ArchivePost, int, ArchivePost | None]] = [
        (child, 0, None) for child in reversed(children.get(None, []))
    ]
    while stack:
        current, depth, parent_row = stack.pop()
        ordered.append((current, depth, parent_row))
        stack.extend(
            (child, min(depth + 1, MAX_DEPTH), current)
            for child in reversed(children.get(current.id, []))
        )
    if len(ordered) < len(posts):  # a parent cycle in damaged data: show the rest flat
        placed = {id(p) for p, _, _ in ordered}
        ordered.extend((p, 0, None) for p in posts if id(p) not in placed)
    return ordered


@dataclass(frozen=True, slots=True)
class AttachmentFile:
    filename: str
    content_type: str
    data: bytes


async def attachment(
    session: AsyncSession, reader: Reader, token: str, position: int
) -> AttachmentFile | None:
    """The scrubbed attachment `position` of the post `token`, if the reader may read it."""
    found = await _visible_post(session, reader, token)
    if found is None:
        return None
    row = (
        await session.scalars(
            select(ArchiveAttachment).where(
                col(ArchiveAttachment.post_id) == found.id,
                col(ArchiveAttachment.position) == position,
            )
        )
    ).first()
    if row is None:
        return None
    return AttachmentFile(filename=row.filename, content_type=row.content_type, data=row.data)
