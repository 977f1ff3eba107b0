"""Outbound delivery: the only sender of mail (STYLE: transactional outbox).

Senders (one per relay connection, `[delivery] max_connections`) take due
batches and hand each to their Transport; the relay's answer is written as
soon as the database takes it (answers that arrive together share one
transaction), so a restart resends only a batch the relay had not confirmed
or whose confirmation was not yet on disk.

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
from functools import partial

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


@dataclass(frozen=True, slots=True)
class Outcome:
    """What to write for one batch, worked out from the relay's answer."""

    batch: ClaimedBatch
    list_id: int | None
    state: BatchState
    attempts: int
    error: str
    accepted: int
    retry: tuple[str, ...]  # recipients that got a 4xx: a new batch
    retry_note: str
    failures: dict[str, tuple[int, str]]  # recipient → code, reply


class DeliveryWorker:
    """Dispatcher, senders and recorder, all on the event loop.

        dispatcher ──due batches──► ready queue ──► sender × max_connections ──► relay
                                                          │ the relay's answer
        recorder ◄─────────────────────────────────────────┘
          writes every answer waiting, in one transaction (group commit)

    A sender goes on with its next batch while the recorder writes; a batch
    stays claimed until its answer is on disk.
    """

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
        self._claimed: set[int] = set()  # in the ready queue, being sent or being recorded
        self._ready: asyncio.Queue[ClaimedBatch] = asyncio.Queue()
        self._answers: list[Outcome] = []
        self._answered = asyncio.Event()
        self._contents: dict[int, tuple[str, bytes, int | None]] = {}
        self._use_leases = not db.is_sqlite

    async def run(self, stopping: asyncio.Event) -> None:
        """Deliver until `stopping` is set; transactions under way are finished."""
        if not self._use_leases:
            await self._forget_leases()
        senders_done = asyncio.Event()
        tasks = [
            asyncio.create_task(self._dispatch(stopping), name="delivery-dispatch"),
            asyncio.create_task(self._recorder(senders_done), name="delivery-record"),
        ]
        senders = [
            asyncio.create_task(self._sender(stopping), name=f"delivery-send-{n}")
            for n in range(self._settings.max_connections)
        ]
        try:
            await asyncio.gather(*senders)
            senders_done.set()
            await asyncio.gather(*tasks)
        finally:
            for task in [*senders, *tasks]:
                task.cancel()

    async def _dispatch(self, stopping: asyncio.Event) -> None:
        depth = 2 * self._settings.max_connections
        while not stopping.is_set():
            if self._ready.qsize() >= depth:
                await wait_for_work(self._wake, stopping, 0.05)
                continue
            claimed = await self._claim(depth - self._ready.qsize())
            for batch in claimed:
                self._ready.put_nowait(batch)
            if not claimed:
                await wait_for_work(self._wake, stopping, IDLE_POLL_SECONDS)

    async def _sender(self, stopping: asyncio.Event) -> None:
        transport = self._transport_factory()
        try:
            while not stopping.is_set():
                try:
                    batch = await asyncio.wait_for(self._ready.get(), IDLE_POLL_SECONDS)
                except TimeoutError:
                    continue
                envelope_from, content, list_id = await self._content(batch.outbound_id)
                result = await transport.send(envelope_from, batch.recipients, content)
                self._answers.append(self._outcome(batch, result, list_id))
                self._answered.set()
        finally:
            await transport.close()

    async def _recorder(self, senders_done: asyncio.Event) -> None:
        while True:
            if not self._answers:
                if senders_done.is_set():
                    return
                self._answered.clear()
                await wait_for_work(self._answered, senders_done, IDLE_POLL_SECONDS)
                continue
            outcomes, self._answers = self._answers, []
            closed = await self._db.write(partial(self._write, outcomes=outcomes))
            for outcome in outcomes:
                self._claimed.discard(outcome.batch.id)
                self._log(outcome)
            for outbound_id in closed:
                self._contents.pop(outbound_id, None)
            if any(o.retry or o.state is BatchState.PENDING for o in outcomes):
                self._wake.set()
            self._wake.set()  # room in the ready queue

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

    async def _claim(self, limit: int) -> list[ClaimedBatch]:
        """Up to `limit` due batches nobody is working on, oldest first."""
        now = self._clock()
        due = and_(
            col(DeliveryBatch.state) == BatchState.PENDING.value,
            col(DeliveryBatch.next_attempt_at) <= now,
        )
        query = (
            select(
                DeliveryBatch.id,
                DeliveryBatch.outbound_id,
                DeliveryBatch.recipients,
                DeliveryBatch.attempts,
                DeliveryBatch.created_at,
            )
            .order_by(col(DeliveryBatch.id))
            .limit(limit)
        )
        if self._use_leases:
            query = query.where(
                due,
                or_(
                    col(DeliveryBatch.lease_until).is_(None),
                    col(DeliveryBatch.lease_until) < now,
                ),
            ).with_for_update(skip_locked=True)
            async with self._db.transaction() as session:
                rows = (await session.execute(query)).all()
                if rows:
                    await session.execute(
                        update(DeliveryBatch)
                        .where(col(DeliveryBatch.id).in_([row.id for row in rows]))
                        .values(lease_until=now + LEASE)
                    )
        else:
            # One process owns SQLite: what it holds is remembered, not written.
            if self._claimed:
                query = query.where(due, col(DeliveryBatch.id).not_in(self._claimed))
            else:
                query = query.where(due)
            async with self._db.session() as session:
                rows = (await session.execute(query)).all()
        batches = [
            ClaimedBatch(
                id=row.id,
                outbound_id=row.outbound_id,
                recipients=tuple(row.recipients.split("\n")),
                attempts=row.attempts,
                created_at=row.created_at,
            )
            for row in rows
        ]
        self._claimed.update(batch.id for batch in batches)
        return batches

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

    def _outcome(self, batch: ClaimedBatch, result: SendResult, list_id: int | None) -> Outcome:
        now = self._clock()
        give_up = now - batch.created_at >= timedelta(hours=self._settings.give_up_after_hours)
        failures: dict[str, tuple[int, str]] = dict(result.permanent)
        retry: list[str] = []
        state = BatchState.DONE
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
        return Outcome(
            batch=batch,
            list_id=list_id,
            state=state,
            attempts=batch.attempts + 1,
            error=error[:1000],
            accepted=len(result.accepted),
            retry=tuple(retry),
            retry_note="; ".join(result.temporary.values())[:1000],
            failures=failures,
        )

    def _write(self, session: Session, outcomes: list[Outcome]) -> set[int]:
        """Record the answers; the outbound messages whose last batch this was."""
        now = self._clock()
        closed: set[int] = set()
        for o in outcomes:
            values: dict[str, object] = {"attempts": o.attempts, "last_error": o.error}
            if o.state is BatchState.PENDING:
                values.update(next_attempt_at=now + self._backoff(o.attempts), lease_until=None)
            else:
                values.update(state=o.state.value, finished_at=now, lease_until=None)
            session.execute(
                update(DeliveryBatch).where(col(DeliveryBatch.id) == o.batch.id).values(**values)
            )
            if o.retry:
                session.add(
                    DeliveryBatch(
                        outbound_id=o.batch.outbound_id,
                        recipients="\n".join(o.retry),
                        attempts=o.attempts,
                        next_attempt_at=now + self._backoff(o.attempts),
                        last_error=o.retry_note,
                        created_at=o.batch.created_at,
                    )
                )
            if o.failures:
                self._record_failures(session, o.list_id, o.failures, now)
            finished = o.state is not BatchState.PENDING and not o.retry
            if finished and _close_batch(session, o.batch.outbound_id):
                closed.add(o.batch.outbound_id)
        return closed

    @staticmethod
    def _log(o: Outcome) -> None:
        pending = o.state is BatchState.PENDING
        decisions.info(
            "delivery batch=%d outbound=%d outcome=%s accepted=%d retry=%d failed=%d%s",
            o.batch.id,
            o.batch.outbound_id,
            "retry" if pending else o.state.value,
            o.accepted,
            len(o.retry) + (len(o.batch.recipients) if pending else 0),
            len(o.failures),
            f" reason={o.error!r}" if o.error else "",
        )

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
