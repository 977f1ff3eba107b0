"""The queue of committed messages, as the pipeline takes from it.

    queued ──claim──► being processed ──set_state()──► accepted | held | rejected | discarded
                          └──pause()──► queued again after RETRY_PAUSE

On SQLite one process owns the database, so a claim is a read and the
pipeline remembers what it holds. On PostgreSQL several processes share the
queue: a claim takes the row with `FOR UPDATE SKIP LOCKED` and leases it, so
no two processes work on one message and a crashed process's claims expire.
Either way the final state change is conditional on the row still being
queued, so a message is never decided twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlmodel import col

from filters.tlp import Tlp, parse_label
from listserv.db import Database
from listserv.models import InboundMessage, InboundState

LEASE = timedelta(minutes=5)
RETRY_PAUSE = timedelta(seconds=30)


class Superseded(Exception):
    """The message was decided elsewhere while we worked on it."""


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    list_id: int
    kind: str
    detail: str
    mail_from: str
    raw: bytes
    received_at: datetime
    approved: bool = False  # a moderator approved it after it was held


class InboundQueue:
    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._clock = clock
        self._leases = not db.is_sqlite
        self._paused: dict[int, float] = {}  # SQLite: id → monotonic time it may run again

    async def forget_leases(self) -> None:
        """SQLite: claims of a process that died are void (this process owns the file)."""
        if self._leases:
            return
        async with self._db.transaction() as session:
            await session.execute(
                update(InboundMessage)
                .where(
                    col(InboundMessage.state) == InboundState.QUEUED.value,
                    col(InboundMessage.lease_until).is_not(None),
                )
                .values(lease_until=None)
            )

    async def claim(self) -> Claimed | None:
        """The oldest queued message nobody else is working on."""
        now = self._clock()
        query = (
            select(
                InboundMessage.id,
                InboundMessage.list_id,
                InboundMessage.kind,
                InboundMessage.detail,
                InboundMessage.mail_from,
                InboundMessage.raw,
                InboundMessage.received_at,
                InboundMessage.moderation_reason,
            )
            .where(col(InboundMessage.state) == InboundState.QUEUED.value)
            .order_by(col(InboundMessage.id))
            .limit(1)
        )
        if not self._leases:
            waiting = self._still_paused()
            if waiting:
                query = query.where(col(InboundMessage.id).not_in(waiting))
            async with self._db.session() as session:
                row = (await session.execute(query)).first()
        else:
            async with self._db.transaction() as session:
                query = query.where(
                    or_(
                        col(InboundMessage.lease_until).is_(None),
                        col(InboundMessage.lease_until) < now,
                    )
                ).with_for_update(skip_locked=True)
                row = (await session.execute(query)).first()
                if row is not None:
                    await session.execute(
                        update(InboundMessage)
                        .where(col(InboundMessage.id) == row.id)
                        .values(lease_until=now + LEASE)
                    )
        if row is None:
            return None
        return Claimed(
            id=row.id,
            list_id=row.list_id,
            kind=row.kind,
            detail=row.detail,
            mail_from=row.mail_from,
            raw=row.raw or b"",
            received_at=row.received_at,
            approved=row.moderation_reason == "approved",
        )

    def _still_paused(self) -> list[int]:
        now = time.monotonic()
        for inbound_id in [i for i, until in self._paused.items() if until <= now]:
            del self._paused[inbound_id]
        return list(self._paused)

    async def pause(self, inbound_id: int) -> None:
        """Try this message again after RETRY_PAUSE (its processing raised)."""
        if not self._leases:
            self._paused[inbound_id] = time.monotonic() + RETRY_PAUSE.total_seconds()
            return
        async with self._db.transaction() as session:
            await session.execute(
                update(InboundMessage)
                .where(col(InboundMessage.id) == inbound_id)
                .values(lease_until=self._clock() + RETRY_PAUSE)
            )

    def set_state(
        self,
        session: Session,
        inbound_id: int,
        state: InboundState,
        reasons: str,
        *,
        label: Tlp | None = None,
        keyed_id: str | None = None,
        author_member_id: int | None = None,
        review_pending: bool = False,
        keep_raw: bool = False,
        extra: dict[str, object] | None = None,
    ) -> None:
        """Decide a queued message in the caller's write transaction, or raise Superseded."""
        values: dict[str, object] = {
            "state": state.value,
            "reasons": reasons,
            "decided_at": self._clock(),
            "lease_until": None,
            "review_pending": review_pending,
        }
        if label is not None:
            values["label"] = label.label
        if keyed_id is not None:
            values["keyed_id"] = keyed_id
        if author_member_id is not None:
            values["author_member_id"] = author_member_id
        values.update(extra or {})
        if state is InboundState.HELD:
            values.setdefault("held_at", values["decided_at"])
        if state in (InboundState.REJECTED, InboundState.DISCARDED) or (
            not keep_raw and state is not InboundState.HELD
        ):
            values["raw"] = None
        result = session.execute(
            update(InboundMessage)
            .where(
                col(InboundMessage.id) == inbound_id,
                col(InboundMessage.state) == InboundState.QUEUED.value,
            )
            .values(**values)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Superseded(inbound_id)
        self._paused.pop(inbound_id, None)

    @staticmethod
    def drop_raw(session: Session, inbound_id: int) -> None:
        session.execute(
            update(InboundMessage).where(col(InboundMessage.id) == inbound_id).values(raw=None)
        )


async def parent_label(
    session: AsyncSession, list_id: int, references: tuple[str, ...]
) -> Tlp | None:
    """The strictest label among the list's accepted posts that a post answers."""
    if not references:
        return None
    labels = (
        await session.scalars(
            select(InboundMessage.label).where(
                col(InboundMessage.list_id) == list_id,
                col(InboundMessage.keyed_id).in_(references),
                col(InboundMessage.state) == InboundState.ACCEPTED.value,
            )
        )
    ).all()
    parsed = [label for text in labels if text and (label := parse_label(text)) is not None]
    return max(parsed, default=None)
