"""Group commit: concurrent DATA commands share one durable transaction.

Each accepted message waits until the transaction holding its row is on disk
(SQLite WAL with synchronous=FULL, or PostgreSQL's commit), and only then
does its client get `250`. While one batch is being committed, the next one
gathers, so under load the cost of an fsync is shared by every message that
arrived during the previous one, and a lone message never waits for company.

    intake handler ──append──► pending ──► committer: INSERT … ; COMMIT ──► futures resolved
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session

from listserv.db import Database
from listserv.models import InboundMessage, InboundState

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    list_id: int
    kind: str
    detail: str
    mail_from: str
    raw: bytes
    received_at: datetime


class IntakeQueue:
    def __init__(self, db: Database, *, on_commit: asyncio.Event) -> None:
        self._db = db
        self._on_commit = on_commit
        self._pending: list[tuple[list[QueuedMessage], asyncio.Future[list[int]]]] = []
        self._wake = asyncio.Event()
        self._closed = False

    async def commit(self, messages: list[QueuedMessage]) -> list[int]:
        """Store the messages durably; returns their row ids once committed."""
        if self._closed:
            raise RuntimeError("the intake queue is closed")
        future: asyncio.Future[list[int]] = asyncio.get_running_loop().create_future()
        self._pending.append((messages, future))
        self._wake.set()
        return await future

    async def run(self) -> None:
        """Commit whatever is pending, batch after batch, until closed and drained."""
        while True:
            if not self._pending:
                if self._closed:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            batch, self._pending = self._pending, []
            try:
                ids = await self._insert([m for messages, _ in batch for m in messages])
            except Exception as error:
                log.exception("intake commit failed for %d messages", len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            position = 0
            for messages, future in batch:
                if not future.done():
                    future.set_result(ids[position : position + len(messages)])
                position += len(messages)
            self._on_commit.set()

    def close(self) -> None:
        """Take no new messages; run() returns once the pending ones are committed."""
        self._closed = True
        self._wake.set()

    async def _insert(self, messages: list[QueuedMessage]) -> list[int]:
        rows = [
            {
                "list_id": m.list_id,
                "kind": m.kind,
                "detail": m.detail,
                "mail_from": m.mail_from,
                "raw": m.raw,
                "size": len(m.raw),
                "received_at": m.received_at,
                "state": InboundState.QUEUED.value,
                "reasons": "",
                "review_pending": False,
            }
            for m in messages
        ]
        statement = insert(InboundMessage).returning(
            InboundMessage.id,  # type: ignore[arg-type]
            sort_by_parameter_order=True,
        )

        def insert_rows(session: Session) -> list[int]:
            return [int(row[0]) for row in session.execute(statement, rows).all()]

        return await self._db.write(insert_rows, urgent=True)
