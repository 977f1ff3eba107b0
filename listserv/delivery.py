"""Outbound delivery: the only sender of mail (STYLE: transactional outbox).

Senders (one per relay connection, `[delivery] max_connections`) claim due
batches, hand each to their Transport, and record the relay's answer in one
transaction right after it is given, so a restart never resends a batch the
relay already took.

    pending ──send──► 250 for all ................. done
            ├───────► some recipients 5xx ......... done; failures recorded, bounce scores up
            ├───────► some recipients 4xx ......... done; those recipients move to a new batch
            ├───────► transaction 4xx, unreachable  stays pending, attempts+1, retried later
            ├───────► transaction 5xx ............. failed; failures recorded
            └───────► older than give_up_after_hours  failed; failures recorded

Backoff doubles from `retry_initial_seconds`. On SQLite one process owns
the database, so claims are kept in memory; on PostgreSQL several processes
share the work, and a claim is a lease row-locked with SKIP LOCKED.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from listserv.config import DeliverySettings
from listserv.db import Database
from listserv.models import (
    BatchState,
    DeliveryBatch,
    DeliveryFailure,
    InboundMessage,
    Member,
    OutboundMessage,
    utcnow,
)
from listserv.registry import version_bump
from listserv.transports import SendResult, Transport
from listserv.waiting import wait_for_work

log = logging.getLogger(__name__)
decisions = logging.getLogger("listserv.decision")

LEASE = timedelta(minutes=10)
IDLE_POLL_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class ClaimedBatch:
    id: int
    outbound_id: int
    recipients: tuple[str, ...]
    attempts: int
    created_at: datetime


class DeliveryWorker:
    def __init__(
        self,
        db: Database,
        settings: DeliverySettings,
        transport_factory: Callable[[], Transport],
        *,
        wake: asyncio.Event,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._db = db
        self._settings = settings
        self._transport_factory = transport_factory
        self._wake = wake
        self._clock = clock
        self._in_flight: set[int] = set()
        self._contents: dict[int, tuple[str, bytes, int | None]] = {}
        self._claim_lock = asyncio.Lock()
        self._use_leases = not db.is_sqlite

    async def run(self, stopping: asyncio.Event) -> None:
        """Deliver until `stopping` is set; a transaction under way is finished."""
        if not self._use_leases:
            await self._forget_leases()
        senders = [
            asyncio.create_task(self._sender(stopping), name=f"delivery-{n}")
            for n in range(self._settings.max_connections)
        ]
        try:
            await asyncio.gather(*senders)
        finally:
            for task in senders:
                task.cancel()

    async def _sender(self, stopping: asyncio.Event) -> None:
        transport = self._transport_factory()
        try:
            while not stopping.is_set():
                batch = await self._claim()
                if batch is None:
                    await self._idle(stopping)
                    continue
                try:
                    await self._deliver(transport, batch)
                finally:
                    self._in_flight.discard(batch.id)
        finally:
            await transport.close()

    async def _idle(self, stopping: asyncio.Event) -> None:
        await wait_for_work(self._wake, stopping, IDLE_POLL_SECONDS)

    async def _deliver(self, transport: Transport, batch: ClaimedBatch) -> None:
        envelope_from, content, list_id = await self._content(batch.outbound_id)
        result = await transport.send(envelope_from, batch.recipients, content)
        closed = await self._record(batch, result, list_id)
        if closed:
            self._contents.pop(batch.outbound_id, None)

    async def _content(self, outbound_id: int) -> tuple[str, bytes, int | None]:
        cached = self._contents.get(outbound_id)
        if cached is not None:
            return cached
        async with self._db.session() as session:
            row = (
                await session.execute(
                    select(
                        OutboundMessage.envelope_from,
                        OutboundMessage.content,
                        OutboundMessage.list_id,
                    ).where(col(OutboundMessage.id) == outbound_id)
                )
            ).one()
        envelope_from, content, list_id = row
        assert content is not None, "an open outbound message keeps its content"
        if len(self._contents) >= 8:
            self._contents.pop(next(iter(self._contents)))
        self._contents[outbound_id] = (envelope_from, content, list_id)
        return envelope_from, content, list_id

    async def _claim(self) -> ClaimedBatch | None:
        now = self._clock()
        # Without leases a claim only reads: no need to queue for the write lock.
        session_scope = self._db.transaction() if self._use_leases else self._db.session()
        async with self._claim_lock, session_scope as session:
            due = and_(
                col(DeliveryBatch.state) == BatchState.PENDING.value,
                col(DeliveryBatch.next_attempt_at) <= now,
            )
            query = select(
                DeliveryBatch.id,
                DeliveryBatch.outbound_id,
                DeliveryBatch.recipients,
                DeliveryBatch.attempts,
                DeliveryBatch.created_at,
            ).order_by(col(DeliveryBatch.id))
            if self._use_leases:
                query = query.where(
                    due,
                    or_(
                        col(DeliveryBatch.lease_until).is_(None),
                        col(DeliveryBatch.lease_until) < now,
                    ),
                ).with_for_update(skip_locked=True)
            else:
                query = query.where(due, col(DeliveryBatch.id).not_in(self._in_flight))
            row = (await session.execute(query.limit(1))).first()
            if row is None:
                return None
            batch = ClaimedBatch(
                id=row.id,
                outbound_id=row.outbound_id,
                recipients=tuple(row.recipients.split("\n")),
                attempts=row.attempts,
                created_at=row.created_at,
            )
            if self._use_leases:
                await session.execute(
                    update(DeliveryBatch)
                    .where(col(DeliveryBatch.id) == batch.id)
                    .values(lease_until=now + LEASE)
                )
            self._in_flight.add(batch.id)
            return batch

    async def _forget_leases(self) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                update(DeliveryBatch)
                .where(col(DeliveryBatch.lease_until).is_not(None))
                .values(lease_until=None)
            )

    def _backoff(self, attempts: int) -> timedelta:
        seconds = self._settings.retry_initial_seconds * 2 ** max(attempts - 1, 0)
        return timedelta(seconds=min(seconds, 6 * 3600))

    async def _record(self, batch: ClaimedBatch, result: SendResult, list_id: int | None) -> bool:
        """Store the relay's answer; True when the outbound message is finished."""
        now = self._clock()
        give_up = now - batch.created_at >= timedelta(hours=self._settings.give_up_after_hours)
        failures: dict[str, tuple[int, str]] = dict(result.permanent)
        retry: list[str] = []
        state = BatchState.DONE
        attempts = batch.attempts + 1
        error = ""
        failure = result.failure
        if failure is not None:
            error = f"{failure.code} {failure.text}".strip()
            if failure.permanent or give_up:
                state = BatchState.FAILED
                failures = {r: (failure.code or 450, failure.text) for r in batch.recipients}
            else:
                state = BatchState.PENDING
        elif result.temporary:
            if give_up:
                failures.update({r: (450, text) for r, text in result.temporary.items()})
            else:
                retry = list(result.temporary)

        def write(session: Session) -> bool:
            values: dict[str, object] = {"attempts": attempts, "last_error": error[:1000]}
            if state is BatchState.PENDING:
                values.update(next_attempt_at=now + self._backoff(attempts), lease_until=None)
            else:
                values.update(state=state.value, finished_at=now, lease_until=None)
            session.execute(
                update(DeliveryBatch).where(col(DeliveryBatch.id) == batch.id).values(**values)
            )
            if retry:
                session.add(
                    DeliveryBatch(
                        outbound_id=batch.outbound_id,
                        recipients="\n".join(retry),
                        attempts=attempts,
                        next_attempt_at=now + self._backoff(attempts),
                        last_error="; ".join(result.temporary.values())[:1000],
                        created_at=batch.created_at,
                    )
                )
            if failures:
                self._record_failures(session, list_id, failures, now)
            if state is not BatchState.PENDING and not retry:
                return _close_batch(session, batch.outbound_id)
            return False

        closed = await self._db.write(write)
        decisions.info(
            "delivery batch=%d outbound=%d outcome=%s accepted=%d retry=%d failed=%d%s",
            batch.id,
            batch.outbound_id,
            "retry" if state is BatchState.PENDING else state.value,
            len(result.accepted),
            len(retry) + (len(batch.recipients) if state is BatchState.PENDING else 0),
            len(failures),
            f" reason={error!r}" if error else "",
        )
        if retry or state is BatchState.PENDING:
            self._wake.set()
        return closed

    def _record_failures(
        self,
        session: Session,
        list_id: int | None,
        failures: dict[str, tuple[int, str]],
        now: datetime,
    ) -> None:
        session.add_all(
            DeliveryFailure(list_id=list_id, address=a, code=code, reason=text[:500], at=now)
            for a, (code, text) in failures.items()
        )
        if list_id is None:
            return
        addresses = list(failures)
        session.execute(
            update(Member)
            .where(col(Member.list_id) == list_id, col(Member.email).in_(addresses))
            .values(bounce_score=Member.bounce_score + 1)
        )
        threshold = self._settings.bounce_score_threshold
        if threshold:
            disabled = session.execute(
                update(Member)
                .where(
                    col(Member.list_id) == list_id,
                    col(Member.email).in_(addresses),
                    col(Member.bounce_score) >= threshold,
                    col(Member.delivery_enabled).is_(True),
                )
                .values(delivery_enabled=False)
            )
            if disabled.rowcount:  # type: ignore[attr-defined]
                session.execute(version_bump())


def _close_batch(session: Session, outbound_id: int) -> bool:
    """Count one batch of the outbound message as finished; drop its content at zero."""
    session.execute(
        update(OutboundMessage)
        .where(col(OutboundMessage.id) == outbound_id)
        .values(batches_open=OutboundMessage.batches_open - 1)
    )
    row = (
        session.execute(
            select(OutboundMessage.batches_open, OutboundMessage.inbound_id).where(
                col(OutboundMessage.id) == outbound_id
            )
        )
    ).one()
    if row.batches_open > 0:
        return False
    session.execute(
        update(OutboundMessage).where(col(OutboundMessage.id) == outbound_id).values(content=None)
    )
    if row.inbound_id is not None:
        release_raw(session, row.inbound_id)
    return True


def release_raw(session: Session, inbound_id: int) -> None:
    """Delete a post's raw bytes once it is delivered and no review needs them.

    CHATHAM_HOUSE decision 5: the attributed original must not outlive its use.
    """
    open_copies = session.scalar(
        select(func.count())
        .select_from(OutboundMessage)
        .where(
            col(OutboundMessage.inbound_id) == inbound_id,
            col(OutboundMessage.batches_open) > 0,
            col(OutboundMessage.kind) == "post",
        )
    )
    if open_copies:
        return
    session.execute(
        update(InboundMessage)
        .where(
            col(InboundMessage.id) == inbound_id,
            col(InboundMessage.review_pending).is_(False),
            col(InboundMessage.state) == "accepted",
        )
        .values(raw=None)
    )


def split_batches(recipients: Sequence[str], size: int) -> list[list[str]]:
    """Recipients grouped by domain (relays handle one domain per queue) in batches."""
    ordered = sorted(dict.fromkeys(recipients), key=lambda a: (a.rsplit("@", 1)[-1], a))
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]
